--- make demo: the Connect Cases story laws exists for. Create a customer profile, create a
-- case for it, then wait until SearchCases finds the case: the search index lags behind
-- the write (eventual consistency), so the wait retries quickly, printing each retry.
--
--   make demo                        -- against the local stand-in, started with a visibility lag
--   lua5.4 examples/demo.lua         -- against AWS (LAWS_DOMAIN, ... below)
local laws = require "laws"

-- Endpoint, credentials and region are found as every AWS SDK finds them (AWS_ENDPOINT_URL,
-- AWS_PROFILE, AWS_ACCESS_KEY_ID, ...). LAWS_DOMAIN / LAWS_TEMPLATE name a cases domain and
-- template, LAWS_PROFILE_DOMAIN a profiles domain; unset, they are created here.
local opts = { region = os.getenv("AWS_REGION") or "us-east-1",
  -- client-level retries (throttling, 5xx, resets) are printed too; secrets never are
  on_retry = function(e)
    print(("  client retry after attempt %d: %s, waiting %.0f ms (quota left %d)"):format(
      e.attempt, tostring(e.code), e.delay * 1000, e.quota_left))
  end }
local cases = laws.client("connectcases", opts)
local profiles = laws.client("customer-profiles", opts)

-- a failed step ends the example with the error (laws errors never show a secret)
local function check(res, err)
  if not res then error(tostring(err), 2) end
  return res
end

local domain, template = os.getenv("LAWS_DOMAIN"), os.getenv("LAWS_TEMPLATE")
if not domain then
  domain = check(cases:CreateDomain{ name = "demo-" .. os.time() }).domainId
  template = check(cases:CreateTemplate{ domainId = domain, name = "support", status = "Active",
                                         requiredFields = { { fieldId = "title" } } }).templateId
end
local pdomain = os.getenv("LAWS_PROFILE_DOMAIN")
if not pdomain then
  pdomain = "demo-people-" .. os.time()
  check(profiles:CreateDomain{ DomainName = pdomain, DefaultExpirationDays = 365 })
end
if os.getenv("AWS_ENDPOINT_URL") then print("endpoint " .. os.getenv("AWS_ENDPOINT_URL")) end

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
cases:close()
profiles:close()
