--- The first half of the Connect Cases story: create a customer profile, create a case
-- for it, read the case back.
--
--   lua5.4 examples/create_case.lua                  -- against AWS (LAWS_DOMAIN, ... below)
--   sh scripts/standin.sh run lua5.4 examples/create_case.lua   -- against the local stand-in
local laws = require "laws"

-- Endpoint, credentials and region are found as every AWS SDK finds them (AWS_ENDPOINT_URL,
-- AWS_PROFILE, AWS_ACCESS_KEY_ID, ...). LAWS_DOMAIN / LAWS_TEMPLATE name a cases domain and
-- template, LAWS_PROFILE_DOMAIN a profiles domain; unset, they are created here.
local opts = { region = os.getenv("AWS_REGION") or "us-east-1" }
local cases = laws.client("connectcases", opts)
local profiles = laws.client("customer-profiles", opts)

-- a failed step ends the example with the error (laws errors never show a secret)
local function check(res, err)
  if not res then error(tostring(err), 2) end
  return res
end

local domain, template = os.getenv("LAWS_DOMAIN"), os.getenv("LAWS_TEMPLATE")
if not domain then
  domain = check(cases:CreateDomain{ name = "story-" .. os.time() }).domainId
  template = check(cases:CreateTemplate{ domainId = domain, name = "support", status = "Active",
                                         requiredFields = { { fieldId = "title" } } }).templateId
end
local pdomain = os.getenv("LAWS_PROFILE_DOMAIN")
if not pdomain then
  pdomain = "story-people-" .. os.time()
  check(profiles:CreateDomain{ DomainName = pdomain, DefaultExpirationDays = 365 })
end

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
cases:close()
profiles:close()
