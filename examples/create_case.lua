--- The first half of the Connect Cases story: create a customer profile, create a case
-- for it, read the case back.
--
--   lua5.4 examples/create_case.lua            -- against the local stand-in (started here)
--   AWS_REGION=us-east-1 LAWS_DOMAIN=<cases domain id> LAWS_TEMPLATE=<template id> \
--   LAWS_PROFILE_DOMAIN=<profiles domain> lua5.4 examples/create_case.lua   -- against AWS
--
-- Run from the repository root with LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="build/?.so;;".
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = "build/?.so;" .. package.cpath
local laws = require "laws"

local opts = { region = os.getenv("AWS_REGION") or "us-east-1" }
local standin
if not os.getenv("LAWS_DOMAIN") then
  -- No AWS resources named: start the local stand-in and use its test key.
  package.path = package.path .. ";./?.lua"
  local key = { access_key_id = "AKIDEXAMPLESTORY", secret_access_key = "story/secret/KEY+0123456789abcdefghijkl" }
  standin = require("spec.support.proc").start(
    { "python3", "spec/support/standin.py", "--key", key.access_key_id .. ":" .. key.secret_access_key }, { name = "standin" })
  opts.endpoint, opts.credentials = "http://127.0.0.1:" .. standin.port, key
  print("stand-in listening on " .. opts.endpoint)
end

local function check(res, err)
  if not res then
    if standin then standin.stop() end
    error(tostring(err), 2)
  end
  return res
end

local cases = laws.client("connectcases", opts)
local profiles = laws.client("customer-profiles", opts)

local domain, template = os.getenv("LAWS_DOMAIN"), os.getenv("LAWS_TEMPLATE")
local pdomain = os.getenv("LAWS_PROFILE_DOMAIN") or "story-people"
if standin then
  domain = check(cases:CreateDomain{ name = "story" }).domainId
  template = check(cases:CreateTemplate{ domainId = domain, name = "support", status = "Active",
                                         requiredFields = { { fieldId = "title" } } }).templateId
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
cases:close(); profiles:close()
if standin then standin.stop() end
