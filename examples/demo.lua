--- make demo: the Connect Cases story laws exists for. Create a customer profile, create a
-- case for it, then wait until SearchCases finds the case: the search index lags behind
-- the write (eventual consistency), so the wait retries quickly, printing each retry.
--
--   make demo                        -- against the local stand-in (started here, with a lag)
--   AWS_REGION=us-east-1 LAWS_DOMAIN=<cases domain id> LAWS_TEMPLATE=<template id> \
--   LAWS_PROFILE_DOMAIN=<profiles domain> lua5.4 examples/demo.lua   -- against AWS
package.path = "lua/?.lua;lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath
local laws = require "laws"

local key = { access_key_id = "AKIDEXAMPLEDEMO", secret_access_key = "demo/secret/KEY+0123456789abcdefghijklm" }
local story = require("examples.story")("demo", key,
  -- a visibility lag like a real service's: log-normal, median 100 ms, p95 1 s
  { "--lag-median", "0.1", "--lag-p95", "1", "--seed", tostring(os.time()) },
  -- client-level retries (throttling, 5xx, resets) are printed too; secrets never are
  { on_retry = function(e)
      print(("  client retry after attempt %d: %s, waiting %.0f ms (quota left %d)"):format(
        e.attempt, tostring(e.code), e.delay * 1000, e.quota_left))
    end })
if story.endpoint then print("stand-in on " .. story.endpoint .. " (new cases become visible after a random lag)") end
local cases, profiles, check = story.cases, story.profiles, story.check
local domain, template, pdomain = story.domain, story.template, story.pdomain

for round = 1, 3 do
  print(("-- round %d"):format(round))
  local t0 = laws.runtime.now()
  local profile = check(profiles:CreateProfile{ DomainName = pdomain, FirstName = "Ada", LastName = "Lovelace" })
  print("profile created  " .. profile.ProfileId)
  check(profiles:wait("ProfileVisible", { DomainName = pdomain, ProfileId = profile.ProfileId }))
  print(("profile visible  after %.0f ms"):format((laws.runtime.now() - t0) * 1000))
  local created = check(cases:CreateCase{ domainId = domain, templateId = template, fields = {
    { id = "title", value = { stringValue = "Analytical engine jammed" } },
    { id = "customer_id", value = { stringValue = ("arn:aws:profile:%s:%s:domains/%s/profiles/%s"):format(
      cases.region, os.getenv("AWS_ACCOUNT_ID") or "123456789012", pdomain, profile.ProfileId) } } } })
  local t1 = laws.runtime.now()
  print("case created     " .. created.caseId)
  local found = check(laws.retry(function()
    return cases:SearchCases{ domainId = domain,
      filter = { field = { equalTo = { id = "case_id", value = { stringValue = created.caseId } } } } }
  end, {
    success = laws.conditions.non_empty("cases"),   -- default policy: the fast consistency wait
    on_retry = function(e)
      print(("  not in SearchCases yet (attempt %d), retrying in %.0f ms"):format(e.attempt, e.delay * 1000))
    end,
  }))
  print(("case found       %s by SearchCases %.0f ms after CreateCase"):format(
    found.cases[1].caseId, (laws.runtime.now() - t1) * 1000))
  -- read it back: GetCase is consistent by now (the search index lags more than the store)
  local case = check(cases:wait("CaseVisible", { domainId = domain, caseId = created.caseId,
                                                 fields = { { id = "title" }, { id = "customer_id" } } }))
  local shown = {}
  for _, f in ipairs(case.fields) do shown[f.id] = f.value.stringValue end
  print(("case read back   title %q, customer profile %s"):format(shown.title or "?",
    (shown.customer_id or "?"):match("profiles/(.*)$") or "?"))
end
story.close()
