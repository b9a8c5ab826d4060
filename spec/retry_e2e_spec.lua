-- The retry engine end to end: laws.client -> laws.retry.aws / laws.retry / waiters
-- against the Connect Cases stand-in with fault injection and visibility lag, every
-- count read back from the server.
local laws = require "laws"
local core = require "laws.core"
local servers = require "spec.support.servers"

local srv, cases, profiles, domain, template

local function stats() return srv.stats() end
local function fresh_client(retry)
  return laws.client("connectcases", { region = "us-east-1", endpoint = srv.url, credentials = srv.credentials,
                                       retry = retry })
end
local function new_case(c, title)
  return assert((c or cases):CreateCase{ domainId = domain, templateId = template,
    fields = { { id = "title", value = { stringValue = title or "t" } } } })
end

setup(function()
  srv = servers.standin{}
  cases = fresh_client{ seed = 7, base = 0.005 }
  profiles = laws.client("customer-profiles", { region = "us-east-1", endpoint = srv.url, credentials = srv.credentials })
end)
teardown(function()
  if cases then cases:close() end
  if profiles then profiles:close() end
end)
before_each(function()
  srv.reset()
  local d = assert(cases:CreateDomain{ name = "retry-" .. core.uuid4() })
  domain = d.domainId
  template = assert(cases:CreateTemplate{ domainId = domain, name = "t", status = "Active" }).templateId
end)

describe("client retries against the stand-in", function()
  it("retries 503 and a connection reset before the handler, and succeeds", function()
    srv.fault{ kind = "error", op = "ListDomains", status = 503, count = 1 }
    srv.fault{ kind = "reset_before", op = "ListDomains", count = 1 }
    local events = {}
    local r = assert(cases:ListDomains({}, { on_retry = function(e) events[#events + 1] = e.code end }))
    assert.is_table(r.domains)
    assert.equal(3, stats().operations.ListDomains)
    assert.equal("ServiceUnavailableException", events[1])
  end)

  it("returns 400 ValidationException and 404 ResourceNotFoundException at once (one request each)", function()
    local _, err = cases:GetCase{ domainId = domain, caseId = "nope", fields = { { id = "status" } } }
    assert.equal("ResourceNotFoundException", err.code)
    assert.equal(1, err.attempts)
    srv.fault{ kind = "error", op = "ListDomains", status = 400, code = "ValidationException" }
    local _, err2 = cases:ListDomains{}
    assert.equal("ValidationException", err2.code)
    assert.equal(1, err2.attempts)
    assert.is_false(err2.retryable)
    local st = stats()
    assert.equal(1, st.operations.GetCase)
    assert.equal(1, st.operations.ListDomains)
  end)

  it("CreateCase with its response lost twice (reset after commit, 500 after commit) makes one case", function()
    srv.fault{ kind = "reset_after", op = "CreateCase", count = 1 }
    srv.fault{ kind = "error_after", op = "CreateCase", status = 500, count = 1 }
    local c = new_case(nil, "exactly once")
    local st = stats()
    assert.equal(3, st.operations.CreateCase)
    assert.equal(1, st.cases_created)
    assert.equal(2, st.idempotent_replays)
    local all = assert(cases:SearchCases{ domainId = domain })
    assert.equal(1, #all.cases)
    assert.equal(c.caseId, all.cases[1].caseId)
  end)

  it("a full outage: never more than max_attempts, then the quota fails calls fast; successes refill", function()
    local c = fresh_client{ seed = 1, base = 0.001 }
    srv.fault{ kind = "error", op = "ListDomains", status = 500 }
    local per_call = {}
    for i = 1, 25 do
      local before = stats().operations.ListDomains or 0
      local r, err = c:ListDomains{}
      assert.is_nil(r)
      assert.is_true(err.attempts <= 3)
      per_call[i] = (stats().operations.ListDomains or 0) - before
      assert.equal(err.attempts, per_call[i])
    end
    -- 500 tokens / (2 retries x 14) = 17 full calls; the 18th gets one retry; then fail fast
    for i = 1, 17 do assert.equal(3, per_call[i], "call " .. i) end
    assert.equal(2, per_call[18])
    for i = 19, 25 do assert.equal(1, per_call[i], "call " .. i) end
    assert.equal(17 * 3 + 2 + 7, stats().operations.ListDomains)
    assert.equal(10, c.strategy.quota:available())
    srv.clear_faults()
    for _ = 1, 4 do assert(c:ListDomains{}) end
    assert.equal(14, c.strategy.quota:available())
    srv.fault{ kind = "error", op = "ListDomains", status = 500 }
    local _, err = c:ListDomains{}
    assert.equal(2, err.attempts)   -- the refilled 14 tokens paid for one retry again
    c:close()
  end)

  it("x-amz-retry-after and Retry-After change the wait as specified (seeded jitter)", function()
    local function one(rule, seed)
      srv.reset()
      srv.fault(rule)
      local c = fresh_client{ seed = seed }
      local ev
      local t0 = core.monotonic()
      assert(c:ListDomains({}, { on_retry = function(e) ev = e end }))
      local took = core.monotonic() - t0
      c:close()
      -- the jitter this seed gives the first retry: the strategy's seeded full-jitter schedule
      local computed = core.backoff_new{ kind = "exponential", base = ev.throttling and 1 or 0.05, cap = 20,
                                         jitter = "full", seed = seed }:next(1, 0)
      return ev.delay, computed, took
    end
    local d, computed, took = one({ kind = "error", op = "ListDomains", status = 503, count = 1,
                                    x_amz_retry_after = 400 }, 3)
    assert.near(math.max(computed, 0.4), d, 1e-9)
    assert.is_true(took >= 0.4 and took < 1.5, took)
    d, computed, took = one({ kind = "error", op = "ListDomains", status = 503, count = 1, retry_after = 1 }, 3)
    assert.near(math.max(computed, 1), d, 1e-9)
    assert.is_true(took >= 1 and took < 2, took)
    d, computed = one({ kind = "error", op = "ListDomains", status = 503, count = 1, x_amz_retry_after = 0 }, 5)
    assert.near(computed, d, 1e-9)    -- a header asking for less never shortens the backoff
  end)
end)

describe("consistency waits against the stand-in's visibility lag", function()
  after_each(function() srv.lag{ fixed = 0 } end)

  it("laws.retry with the default policy finds a new case in SearchCases soon after it becomes visible", function()
    srv.lag{ fixed = 0.3 }
    local c = new_case()
    local waits = {}
    local found = assert(laws.retry(function()
      return cases:SearchCases{ domainId = domain,
        filter = { field = { equalTo = { id = "case_id", value = { stringValue = c.caseId } } } } }
    end, { success = laws.conditions.non_empty("cases"), on_retry = function(e) waits[#waits + 1] = e.delay end }))
    assert.equal(c.caseId, found.cases[1].caseId)
    local v = srv.visibility(c.caseId)
    local overshoot = v.first_seen_mono - v.visible_mono
    -- with a 0.3 s lag the wait that crosses it is at most the 5th (ceiling 0.4 s): the
    -- overshoot is bounded by that wait plus a request (naive: 0.7 s)
    assert.is_true(overshoot >= 0 and overshoot < 0.6, overshoot)
    assert.is_true(#waits >= 3 and #waits <= 12, #waits)
    assert.is_true(waits[1] < 0.1)
  end)

  it("client:wait CaseVisible and CaseSearchable; profiles:wait ProfileVisible", function()
    srv.lag{ fixed = 0.2 }
    local c = new_case()
    local got = assert(cases:wait("CaseVisible", { domainId = domain, caseId = c.caseId }))
    assert.is_table(got.fields)
    local c2 = new_case()
    local s = assert(cases:wait("CaseSearchable", { domainId = domain, caseId = c2.caseId }))
    local ids = {}
    for _, x in ipairs(s.cases) do ids[x.caseId] = true end
    assert.is_true(ids[c2.caseId])
    assert(profiles:CreateDomain{ DomainName = "people", DefaultExpirationDays = 30 })
    local p = assert(profiles:CreateProfile{ DomainName = "people", FirstName = "Ada" })
    local pr = assert(profiles:wait("ProfileVisible", { DomainName = "people", ProfileId = p.ProfileId }))
    assert.equal(p.ProfileId, pr.Items[1].ProfileId)
  end)

  it("a waiter gives up with WaiterTimeout when the lag outlasts max_wait", function()
    srv.lag{ fixed = 3 }
    local c = new_case()
    local r, err = cases:wait("CaseVisible", { domainId = domain, caseId = c.caseId }, { max_wait = 0.5 })
    assert.is_nil(r)
    assert.equal("WaiterTimeout", err.code)
    assert.equal("ResourceNotFoundException", err.cause.code)
  end)
end)

describe("adaptive mode against a throttling service", function()
  it("paces requests after the first throttle so fewer are refused than in standard mode", function()
    local function burst(mode)
      srv.reset()
      srv.fault{ kind = "throttle", op = "ListDomains", rate = 20, burst = 5 }
      local c = fresh_client{ mode = mode, seed = 2, max_attempts = 10, throttle_base = 0.02 }
      local t0 = core.monotonic()
      for _ = 1, 40 do assert(c:ListDomains{}) end
      local took = core.monotonic() - t0
      c:close()
      local st = stats()
      return (st.statuses["429"] or 0), st.operations.ListDomains, took
    end
    local refused_std = burst("standard")
    local refused_ad, total_ad = burst("adaptive")
    print(("# adaptive: %d of %d refused; standard: %d refused"):format(refused_ad, total_ad, refused_std))
    assert.is_true(refused_ad < refused_std, ("adaptive %d vs standard %d refused"):format(refused_ad, refused_std))
    assert.is_true(total_ad >= 40)
  end)
end)
