-- End to end against the local Connect Cases / Customer Profiles stand-in: real signing
-- (checked by botocore in the stand-in), real libcurl, real retries, faults on the server.
local laws = require "laws"
local uuid4 = require("laws.core").uuid4
local json = require "laws.json"
local servers = require "spec.support.servers"

local KEY = { access_key_id = "AKIDCLIENTSPEC", secret_access_key = "client/spec/secret+KEY0123456789abcdefghij" }

local srv, base, cases, profiles

local function control(method, path, body)
  local res = assert(laws.http.request{ method = method, url = base .. "/_standin" .. path,
    headers = { ["Content-Type"] = "application/json" }, body = body and json.encode(body) or nil })
  assert.equal(200, res.status, res.body)
  return json.decode(res.body)
end

setup(function()
  srv = servers.standin{ key = KEY.access_key_id .. ":" .. KEY.secret_access_key }
  base = srv.url
  local opts = { region = "us-east-1", endpoint = base, credentials = KEY, retry = { seed = 7 } }
  cases = laws.client("connectcases", opts)
  profiles = laws.client("customer-profiles", opts)
end)

teardown(function()
  if cases then cases:close() end
  if profiles then profiles:close() end
end)

before_each(function() control("POST", "/reset", {}) end)

local function case_domain()
  local d = assert(cases:CreateDomain{ name = "spec-" .. uuid4() })
  local t = assert(cases:CreateTemplate{ domainId = d.domainId, name = "t", status = "Active",
                                         requiredFields = { { fieldId = "title" } } })
  return d.domainId, t.templateId
end

describe("Connect Cases and Customer Profiles through laws.client (stand-in)", function()
  it("creates a profile and a case for it, reads the case back and finds it by search", function()
    assert(profiles:CreateDomain{ DomainName = "people", DefaultExpirationDays = 30 })
    local p = assert(profiles:CreateProfile{ DomainName = "people", FirstName = "Ada", LastName = "Lovelace",
                                             PhoneNumber = "+15550100", Attributes = {} })
    assert.is_string(p.ProfileId)
    local found = assert(profiles:SearchProfiles{ DomainName = "people", KeyName = "_profileId", Values = { p.ProfileId } })
    assert.equal(1, #found.Items)
    assert.equal("Ada", found.Items[1].FirstName)

    local domain, template = case_domain()
    local arn = "arn:aws:profile:us-east-1:123456789012:domains/people/profiles/" .. p.ProfileId
    local c = assert(cases:CreateCase{ domainId = domain, templateId = template, fields = {
      { id = "title", value = { stringValue = "Printer on fire" } },
      { id = "customer_id", value = { stringValue = arn } } } })
    assert.is_string(c.caseId)
    local got = assert(cases:GetCase{ domainId = domain, caseId = c.caseId, fields = { { id = "title" }, { id = "customer_id" } } })
    local by_id = {}
    for _, f in ipairs(got.fields) do by_id[f.id] = f.value.stringValue end
    assert.equal("Printer on fire", by_id.title)
    assert.equal(arn, by_id.customer_id)
    assert.equal(template, got.templateId)
    assert.equal("{}", json.encode(got.tags))  -- an empty map stays an object
    local s = assert(cases:SearchCases{ domainId = domain, searchTerm = "Printer" })
    assert.equal(1, #s.cases)
    assert.equal(c.caseId, s.cases[1].caseId)
    local stats = control("GET", "/stats")
    assert.equal(0, stats.signature_failures_total)
  end)

  it("returns the service's errors with code, status and request id, without retrying them", function()
    local r, err = cases:GetCase{ domainId = uuid4(), caseId = uuid4(), fields = { { id = "title" } } }
    assert.is_nil(r)
    assert.equal("ResourceNotFoundException", err.code)
    assert.equal(404, err.status)
    assert.is_string(err.request_id)
    assert.equal(1, err.attempts)
    local domain, template = case_domain()
    r, err = cases:CreateCase{ domainId = domain, templateId = template, fields = { { id = "nope", value = { stringValue = "x" } } } }
    assert.is_nil(r)
    assert.equal("ValidationException", err.code)
    assert.equal(1, err.attempts)
  end)

  it("is refused with InvalidSignatureException when the secret is wrong", function()
    local bad = laws.client("connectcases", { region = "us-east-1", endpoint = base,
      credentials = { access_key_id = KEY.access_key_id, secret_access_key = "wrong/secret/0123456789abcdefghijklmnop" } })
    local r, err = bad:ListDomains{}
    assert.is_nil(r)
    assert.equal("InvalidSignatureException", err.code)
    assert.equal(403, err.status)
    assert.is_nil(tostring(err):find("wrong/secret", 1, true))
    assert.is_true(control("GET", "/stats").signature_failures_total >= 1)
  end)

  it("retries 429, 500 and a reset after commit; the retried create makes exactly one case", function()
    local domain, template = case_domain()
    control("POST", "/faults", { rules = {
      { kind = "error", op = "CreateCase", status = 429, code = "ThrottlingException", count = 1 },
      { kind = "reset_after", op = "CreateCase", count = 1 },  -- rules are tried in order
    } })
    local events = {}
    local c = assert(cases:CreateCase({ domainId = domain, templateId = template,
      fields = { { id = "title", value = { stringValue = "once" } } } },
      { retry = { max_attempts = 4, throttle_base = 0.01 }, on_retry = function(e) events[#events + 1] = e.code end }))
    -- The reset comes back to the retry loop (GOT_NOTHING on the reused connection, or
    -- RECV_ERROR): libcurl's own silent re-send is switched off for clients, so every
    -- request the server sees is an attempt the retry engine counted and re-signed.
    assert.equal("ThrottlingException", events[1])
    assert.equal(2, #events)
    assert.truthy(events[2] == "GOT_NOTHING" or events[2] == "RECV_ERROR", events[2])
    local stats = control("GET", "/stats")
    assert.equal(3, stats.operations.CreateCase)
    assert.equal(1, stats.cases_created)
    assert.equal(1, stats.idempotent_replays)
    local s = assert(cases:SearchCases{ domainId = domain })
    assert.equal(1, #s.cases)
    assert.equal(c.caseId, s.cases[1].caseId)
  end)

  it("a 500 after the write is committed is retried and still leaves one case", function()
    local domain, template = case_domain()
    control("POST", "/faults", { kind = "error_after", op = "CreateCase", status = 500, count = 1 })
    assert(cases:CreateCase{ domainId = domain, templateId = template, fields = { { id = "title", value = { stringValue = "x" } } } })
    local stats = control("GET", "/stats")
    assert.equal(2, stats.operations.CreateCase)
    assert.equal(1, stats.cases_created)
  end)

  it("gives up after max_attempts on a full outage, counted on the server", function()
    control("POST", "/faults", { kind = "error", op = "ListDomains", status = 503, code = "ServiceUnavailableException" })
    local r, err = cases:ListDomains({}, { retry = { max_attempts = 2, base = 0.001 } })
    assert.is_nil(r)
    assert.equal(503, err.status)
    assert.equal(2, err.attempts)
    assert.equal(2, control("GET", "/stats").operations.ListDomains)
  end)

  it("waits with client:wait until a lagging new case is visible (CaseVisible, CaseSearchable)", function()
    local domain, template = case_domain()
    control("POST", "/lag", { fixed = 0.3 })
    local t0 = laws.runtime.now()
    local c = assert(cases:CreateCase{ domainId = domain, templateId = template,
                                       fields = { { id = "title", value = { stringValue = "lagging" } } } })
    local r, err = cases:GetCase{ domainId = domain, caseId = c.caseId, fields = { { id = "title" } } }
    assert.is_nil(r)
    assert.equal("ResourceNotFoundException", err.code)
    local got = assert(cases:wait("CaseVisible", { domainId = domain, caseId = c.caseId }))
    assert.is_table(got.fields)
    assert.is_true(laws.runtime.now() - t0 >= 0.3)
    assert(cases:wait("CaseSearchable", { domainId = domain, caseId = c.caseId }))
    assert.has_error(function() cases:wait("CaseVisibel", {}) end)
  end)

  it("corrects its clock when the server's clock is an hour ahead", function()
    control("POST", "/config", { clock_offset = 3600 })
    local c = laws.client("connectcases", { region = "us-east-1", endpoint = base, credentials = KEY })
    local r, err = c:ListDomains{}
    assert.is_nil(err)
    assert.is_table(r.domains)
    local stats = control("GET", "/stats")
    assert.equal(1, stats.signature_failures_total)
    assert.equal(1, stats.operations.ListDomains)
    assert(c:ListDomains{})  -- the offset is kept: no second refusal
    stats = control("GET", "/stats")
    assert.equal(1, stats.signature_failures_total)
    assert.equal(2, stats.operations.ListDomains)
  end)
end)
