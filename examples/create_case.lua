--- The first half of the Connect Cases story: create a customer profile, create a case
-- for it, read the case back.
--
--   lua5.4 examples/create_case.lua            -- against the local stand-in (started here)
--   AWS_REGION=us-east-1 LAWS_DOMAIN=<cases domain id> LAWS_TEMPLATE=<template id> \
--   LAWS_PROFILE_DOMAIN=<profiles domain> lua5.4 examples/create_case.lua   -- against AWS
--
-- Run from the repository root with LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="build/?.so;;".
package.path = "lua/?.lua;lua/?/init.lua;./?.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath
local laws = require "laws"

-- No AWS resources named: the local stand-in with its test key (examples/story.lua).
local key = { access_key_id = "AKIDEXAMPLESTORY", secret_access_key = "story/secret/KEY+0123456789abcdefghijkl" }
local story = require("examples.story")("story", key)
if story.endpoint then print("stand-in listening on " .. story.endpoint) end
local cases, profiles, check = story.cases, story.profiles, story.check
local domain, template, pdomain = story.domain, story.template, story.pdomain

local t0 = laws.runtime.now()
local profile = check(profiles:CreateProfile{ DomainName = pdomain, FirstName = "Ada", LastName = "Lovelace",
                                              EmailAddress = "ada@example.com" })
print("profile  " .. profile.ProfileId)

local customer = ("arn:aws:profile:%s:%s:domains/%s/profiles/%s"):format(
  cases.region, os.getenv("AWS_ACCOUNT_ID") or "123456789012", pdomain, profile.ProfileId)
local created = check(cases:CreateCase{ domainId = domain, templateId = template, fields = {
  { id = "title", value = { stringValue = "Analytical engine jammed" } },
  { id = "customer_id", value = { stringValue = customer } } } })
print("case     " .. created.caseId)

-- A new case may not be readable at once (eventual consistency): wait until it is.
local got = check(laws.retry(function()
  return cases:GetCase{ domainId = domain, caseId = created.caseId,
                        fields = { { id = "title" }, { id = "customer_id" }, { id = "status" } } }
end, { success = laws.conditions.found }))
for _, f in ipairs(got.fields) do
  print(("  %-12s %s"):format(f.id, f.value.stringValue or tostring(f.value.booleanValue or f.value.doubleValue)))
end
print(("profile, case and read-back in %.1f ms"):format((laws.runtime.now() - t0) * 1000))
story.close()
