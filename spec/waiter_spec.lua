local laws = require "laws"
local waiter = require "laws.retry.waiter"
local path = require "laws.retry.path"
local errors = require "laws.errors"
local conditions = require "laws.retry.conditions"
local fake_clock = require "spec.support.fake_clock"

-- a client whose answers come from a script; records the calls
local function scripted(answers)
  local c = { calls = {} }
  function c:call(op, params)
    self.calls[#self.calls + 1] = { op = op, params = params }
    local a = answers[math.min(#self.calls, #answers)]
    if type(a) == "function" then return a(op, params) end
    return a[1], a[2]
  end
  return c
end
local function nf() return errors.new{ code = "ResourceNotFoundException", status = 404 } end

describe("waiter paths (JMESPath subset)", function()
  local doc = { a = { b = 1, list = { { x = "s1" }, { x = "s2" }, { y = 3 } } }, cases = {}, t = true,
                nested = { { v = { 1, 2 } }, { v = { 3 } } } }
  it("evaluates fields, indexes, projections, length and comparisons", function()
    assert.equal(1, path.search("a.b", doc))
    assert.equal("s2", path.search("a.list[1].x", doc))
    assert.equal("s2", path.search("a.list[-2].x", doc))
    assert.same({ "s1", "s2" }, path.search("a.list[].x", doc))
    assert.same({ "s1", "s2" }, path.search("a.list[*].x", doc))
    assert.same({ 1, 2, 3 }, path.search("nested[].v[]", doc))
    assert.equal(3, path.search("length(a.list)", doc))
    assert.is_false(path.search("length(cases) > `0`", doc))
    assert.is_true(path.search("a.b == `1`", doc))
    assert.is_true(path.search("a.list[0].x == 's1'", doc))
    assert.is_true(path.search("t == `true`", doc))
    assert.is_nil(path.search("a.missing.deeper", doc))
  end)
  it("raises on paths outside the subset", function()
    assert.has_error(function() path.compile("a | b") end)
    assert.has_error(function() path.compile("a[") end)
  end)
end)

describe("laws.waiter", function()
  local clock
  before_each(function() clock = fake_clock() end)
  after_each(function() clock.restore() end)

  it("retries until an output matcher says success", function()
    local w = laws.waiter{ operation = "DescribeThing", acceptors = {
      { state = "success", matcher = { output = { path = "Thing.Status", expected = "READY", comparator = "stringEquals" } } },
      { state = "failure", matcher = { output = { path = "Thing.Status", expected = "FAILED", comparator = "stringEquals" } } },
    } }
    local c = scripted{ { { Thing = { Status = "CREATING" } } }, { { Thing = { Status = "CREATING" } } },
                        { { Thing = { Status = "READY" } } } }
    local res, err = w(c, { Id = "x" })
    assert.is_nil(err)
    assert.equal("READY", res.Thing.Status)
    assert.equal(3, #c.calls)
    assert.equal("DescribeThing", c.calls[1].op); assert.same({ Id = "x" }, c.calls[1].params)
    assert.equal(2, #clock.sleeps)
  end)

  it("stops with WaiterFailure when a failure acceptor matches", function()
    local w = laws.waiter{ operation = "D", acceptors = {
      { state = "success", matcher = { output = { path = "s", expected = "ok", comparator = "stringEquals" } } },
      { state = "failure", matcher = { output = { path = "s", expected = "bad", comparator = "stringEquals" } } },
    } }
    local res, err = w:wait(scripted{ { { s = "wip" } }, { { s = "bad" } } }, {})
    assert.is_nil(res)
    assert.equal("WaiterFailure", err.code)
    assert.equal(2, err.attempts)
    assert.same({ s = "bad" }, err.result)
  end)

  it("an error no acceptor matches ends the wait with that error; a matched one retries", function()
    local w = laws.waiter{ operation = "GetCase", acceptors = {
      { state = "success", matcher = { success = true } },
      { state = "retry", matcher = { errorType = "ResourceNotFoundException" } },
    } }
    local res, err = w(scripted{ { nil, nf() }, { nil, errors.new{ code = "AccessDeniedException" } } }, {})
    assert.is_nil(res)
    assert.equal("AccessDeniedException", err.code)
    assert.equal(2, err.attempts)
    local ok = w(scripted{ { nil, nf() }, { nil, nf() }, { { id = 1 } } }, {})
    assert.same({ id = 1 }, ok)
  end)

  it("supports all comparators and inputOutput paths", function()
    local function check(matcher, answer, input)
      local w = laws.waiter{ operation = "Op", acceptors = { { state = "success", matcher = matcher } }, max_wait = 1 }
      local _, err = w(scripted{ { answer } }, input or {})
      return err == nil
    end
    local items = { Items = { { S = "a" }, { S = "a" } } }
    assert.is_true(check({ output = { path = "Items[].S", expected = "a", comparator = "allStringEquals" } }, items))
    assert.is_false(check({ output = { path = "Items[].S", expected = "a", comparator = "allStringEquals" } }, { Items = {} }))
    assert.is_true(check({ output = { path = "Items[].S", expected = "a", comparator = "anyStringEquals" } },
                         { Items = { { S = "b" }, { S = "a" } } }))
    assert.is_true(check({ output = { path = "length(Items) > `1`", expected = true, comparator = "booleanEquals" } }, items))
    assert.is_true(check({ output = { path = "length(Items) > `1`", expected = "true", comparator = "booleanEquals" } }, items))
    assert.is_true(check({ inputOutput = { path = "output.Id == input.Id", expected = true, comparator = "booleanEquals" } },
                         { Id = "z" }, { Id = "z" }))
  end)

  it("accepts closures as matchers, given result, err and input", function()
    local w = laws.waiter{ operation = "Op", acceptors = {
      { state = "success", matcher = function(res, err, input) return err == nil and res.n == input.want end },
    } }
    local n = 0
    local c = scripted{ function() n = n + 1; return { n = n } end }
    local res = w(c, { want = 4 })
    assert.equal(4, res.n)
  end)

  it("Smithy delays: between min_delay and the doubling ceiling, capped by max_delay", function()
    local w = laws.waiter{ operation = "Op", min_delay = 0.05, max_delay = 2, max_wait = 1000, acceptors = {
      { state = "success", matcher = { output = { path = "ok", expected = true, comparator = "booleanEquals" } } },
    } }
    local n = 0
    local c = scripted{ function() n = n + 1; return { ok = n > 14 } end }
    assert(w(c, {}, { seed = 9 }))
    assert.equal(14, #clock.sleeps)
    for i, d in ipairs(clock.sleeps) do
      assert.is_true(d >= 0.05 and d <= math.min(2, 0.05 * 2 ^ (i - 1)) + 1e-12, ("wait %d was %s s"):format(i, d))
    end
    assert.is_true(clock.sleeps[14] > 1, "late waits reach towards max_delay")
  end)

  it("shortens the last wait so the last attempt lands min_delay before the deadline", function()
    local w = laws.waiter{ operation = "Op", min_delay = 0.3, max_delay = 2, max_wait = 1, acceptors = {
      { state = "success", matcher = { success = true } },
      { state = "retry", matcher = { errorType = "ResourceNotFoundException" } },
    } }
    local c = scripted{ function() clock.advance(0.6); return nil, nf() end }
    local _, err = w(c, {}, { seed = 1 })
    assert.equal("WaiterTimeout", err.code)
    -- 0.4 s left after the first call, the schedule says 0.3: 0.4 - 0.3 leaves less than
    -- min_delay, so the wait is cut to remaining - min_delay
    assert.near(0.1, clock.sleeps[1], 1e-9)
  end)

  it("times out after max_wait with WaiterTimeout carrying the last result", function()
    local w = laws.waiter{ operation = "Op", max_wait = 5, min_delay = 0.1, max_delay = 1, acceptors = {
      { state = "success", matcher = { output = { path = "ok", expected = true, comparator = "booleanEquals" } } },
    } }
    local c = scripted{ function() clock.advance(0.01); return { ok = false } end }
    local res, err = w(c, {}, { seed = 4 })
    assert.is_nil(res)
    assert.equal("WaiterTimeout", err.code)
    assert.same({ ok = false }, err.result)
    local elapsed = clock.t - 1000
    assert.is_true(elapsed >= 5 and elapsed < 5.2, elapsed)
    assert.is_true(#c.calls > 5)
    for _, d in ipairs(clock.sleeps) do assert.is_true(d <= 1) end
  end)

  it("per-wait options override the definition", function()
    local w = laws.waiter{ operation = "Op", acceptors = { { state = "success", matcher = { success = true } } } }
    local res, err = w(scripted{ { nil, nf() } }, {}, { max_wait = 0 })
    assert.is_nil(res); assert.equal("ResourceNotFoundException", err.code)
  end)

  it("raises on bad definitions", function()
    assert.error_matches(function() laws.waiter{ operation = "X", acceptors = {} } end, "acceptors")
    assert.error_matches(function() laws.waiter{ acceptors = { { state = "success", matcher = { success = true } } } } end,
                         "operation")
    assert.error_matches(function()
      laws.waiter{ operation = "X", acceptors = { { state = "done", matcher = { success = true } } } }
    end, "state must be")
    assert.error_matches(function()
      laws.waiter{ operation = "X", acceptors = { { state = "success", matcher = { output = { path = "a",
        expected = "b", comparator = "regex" } } } } }
    end, "unknown comparator")
    assert.error_matches(function()
      laws.waiter{ operation = "X", acceptors = { { state = "success", matcher = {} } } }
    end, "matcher needs")
    assert.error_matches(function() laws.waiter{ operation = "X", acceptors = { { state = "success",
      matcher = { success = true } } }, max_wait = "1" } end, "max_wait")
    assert.error_matches(function() laws.waiter{ operation = "X", acceptors = { { state = "success",
      matcher = { success = true } } }, timeout = 1 } end, "unknown option 'timeout'")
  end)
end)

describe("project waiters", function()
  local clock
  before_each(function() clock = fake_clock() end)
  after_each(function() clock.restore() end)

  it("CaseVisible: GetCase until it is found, with a default field list", function()
    local w = waiter.get("connectcases", "CaseVisible")
    assert.equal("CaseVisible", w.name)
    local c = scripted{ { nil, nf() }, { nil, nf() }, { { fields = {} } } }
    local res = w(c, { domainId = "d", caseId = "c1" })
    assert.is_table(res)
    assert.equal(3, #c.calls)
    assert.equal("GetCase", c.calls[1].op)
    assert.same({ domainId = "d", caseId = "c1", fields = { { id = "status" } } }, c.calls[1].params)
  end)

  it("CaseSearchable: SearchCases until the case id is in the results", function()
    local w = waiter.get("connectcases", "CaseSearchable")
    local c = scripted{ { { cases = {} } }, { { cases = { { caseId = "other" } } } },
                        { { cases = { { caseId = "other" }, { caseId = "c1" } } } } }
    local res = w(c, { domainId = "d", caseId = "c1" })
    assert.equal(2, #res.cases)
    assert.equal("SearchCases", c.calls[1].op)
    assert.same({ domainId = "d" }, c.calls[1].params)
  end)

  it("ProfileVisible: SearchProfiles on _profileId until Items is non-empty", function()
    local w = waiter.get("customer-profiles", "ProfileVisible")
    local c = scripted{ { { Items = {} } }, { { Items = { { ProfileId = "p" } } } } }
    local res = w(c, { DomainName = "dom", ProfileId = "p" })
    assert.equal("p", res.Items[1].ProfileId)
    assert.same({ DomainName = "dom", KeyName = "_profileId", Values = { "p" } }, c.calls[1].params)
  end)

  it("get returns nil for unknown waiters and raises on bad arguments", function()
    assert.is_nil(waiter.get("connectcases", "Nope"))
    assert.is_nil(waiter.get("nosuchservice", "CaseVisible"))
    assert.error_matches(function() waiter.get(nil, "x") end, "service must be a string")
    assert.same({ "CaseSearchable", "CaseVisible" }, waiter.list("connectcases"))
  end)

  it("tells a missing definition file (no such waiter) from a broken one (raises naming it)", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir .. "/laws/retry/waiters"))
    local f = assert(io.open(dir .. "/laws/retry/waiters/brokensvc.lua", "w"))
    f:write("return { Ready = { operation = 'Get', acceptors = {} \n")   -- a syntax error
    f:close()
    local saved = package.path
    package.path = dir .. "/?.lua;" .. saved
    local ok, e = pcall(waiter.get, "brokensvc", "Ready")
    local ok_list, e_list = pcall(waiter.list, "brokensvc")
    local missing = waiter.get("nosuchsvc", "Ready")
    package.path = saved
    os.execute("rm -rf " .. dir)
    assert.is_false(ok, "a definition file with a syntax error was taken for no waiter at all")
    assert.matches("laws.retry.waiters.brokensvc", tostring(e), 1, true)
    assert.matches("brokensvc.lua", tostring(e), 1, true)
    assert.is_false(ok_list, "waiter.list hid the broken definition file")
    assert.matches("laws.retry.waiters.brokensvc", tostring(e_list), 1, true)
    assert.is_nil(missing)
    assert.same({}, waiter.list("nosuchsvc"))
  end)
end)

describe("laws.conditions", function()
  it("found: stops on success and on errors waiting cannot fix, not on ResourceNotFound", function()
    assert.is_true(conditions.found({}, nil))
    assert.is_false(conditions.found(nil, nf()))
    assert.is_true(conditions.found(nil, errors.new{ code = "ValidationException" }))
    assert.is_false(conditions.found(nil, errors.new{ code = "ThrottlingException", retryable = true }))
  end)
  it("non_empty(member) and has(member, value)", function()
    local ne = conditions.non_empty("cases")
    assert.is_false(ne({ cases = {} })); assert.is_true(ne({ cases = { 1 } })); assert.is_false(ne({}))
    assert.is_true(conditions.non_empty("a.b")({ a = { b = { 1 } } }))
    local has = conditions.has("cases[].caseId", "c1")
    assert.is_false(has({ cases = { { caseId = "c0" } } })); assert.is_true(has({ cases = { { caseId = "c1" } } }))
    assert.error_matches(function() conditions.non_empty(3) end, "bad argument #1 'member'")
  end)
  it("work with laws.retry", function()
    local clock = fake_clock()
    local n = 0
    local res = laws.retry(function() n = n + 1; if n < 3 then return nil, nf() end return { cases = { 1 } } end,
                           { success = conditions.found })
    clock.restore()
    assert.equal(3, n)
    assert.same({ cases = { 1 } }, res)
  end)
end)
