local laws = require "laws"
local errors = require "laws.errors"
local runtime = require "laws.runtime"
local fake_clock = require "spec.support.fake_clock"

local function failing_then(n, value, code)
  local calls = 0
  return function()
    calls = calls + 1
    if calls <= n then return nil, errors.new{ code = code or "ResourceNotFoundException" } end
    return value
  end, function() return calls end
end

describe("laws.retry", function()
  local clock
  before_each(function() clock = fake_clock() end)
  after_each(function() clock.restore() end)

  it("retries until err == nil by default and returns the result", function()
    local fn, calls = failing_then(3, { id = 1 })
    local res, err = laws.retry(fn, { policy = function() return 0.01 end })
    assert.same({ id = 1 }, res)
    assert.is_nil(err)
    assert.equal(4, calls())
    assert.same({ 0.01, 0.01, 0.01 }, clock.sleeps)
  end)

  it("passes attempt (attempts made so far), result and err to the policy", function()
    local seen = {}
    local n = 0
    laws.retry(function() n = n + 1; return { n = n }, n < 3 and "e" or nil end, {
      success = function(res, err) return err == nil and res.n == 3 end,
      policy = function(attempt, res, err) seen[#seen + 1] = { attempt, res.n, err }; return 0 end,
    })
    assert.same({ { 1, 1, "e" }, { 2, 2, "e" } }, seen)
  end)

  it("uses the success closure, not the error, to decide", function()
    local n = 0
    local res = laws.retry(function() n = n + 1; return { cases = n >= 3 and { "c" } or {} } end,
      { success = function(r) return #r.cases > 0 end, policy = laws.backoff.constant{ delay = 0, max_attempts = 9 } })
    assert.equal(3, n)
    assert.same({ "c" }, res.cases)
  end)

  it("calls on_retry before each wait with attempt, delay, result, err", function()
    local events = {}
    local fn = failing_then(2, "ok", "Throttling")
    laws.retry(fn, { policy = function(a) return a / 10 end, on_retry = function(e) events[#events + 1] = e end })
    assert.equal(2, #events)
    assert.equal(1, events[1].attempt); assert.equal(0.1, events[1].delay)
    assert.equal("Throttling", events[2].err.code); assert.equal(0.2, events[2].delay)
  end)

  it("giving up after an error returns that last error with attempts", function()
    local fn = failing_then(100)
    local res, err = laws.retry(fn, { policy = laws.backoff.constant{ delay = 0.1, max_attempts = 4 } })
    assert.is_nil(res)
    assert.equal("ResourceNotFoundException", err.code)
    assert.equal(4, err.attempts)
    assert.is_true(err.retry_exhausted)
  end)

  it("giving up on an unmet condition returns ConditionNotMet with the last result", function()
    local res, err = laws.retry(function() return { cases = {} } end,
      { success = function(r) return #r.cases > 0 end, policy = laws.backoff.linear{ step = 0.1, max_attempts = 3 } })
    assert.is_nil(res)
    assert.equal("ConditionNotMet", err.code)
    assert.equal(3, err.attempts)
    assert.same({ cases = {} }, err.result)
    assert.matches("ConditionNotMet", tostring(err))
  end)

  it("default policy is the consistency policy: short first wait, capped, gives up at 30 s", function()
    local fn, calls = failing_then(1e9)
    local res, err = laws.retry(function() clock.advance(0.002); return fn() end)
    assert.is_nil(res)
    assert.equal(calls(), err.attempts)
    assert.is_true(clock.sleeps[1] < 0.1 and clock.sleeps[1] >= 0.01)
    for _, d in ipairs(clock.sleeps) do assert.is_true(d <= 0.5) end
    assert.is_true(clock.t - 1000 >= 30 and clock.t - 1000 < 30.01, clock.t - 1000)
    -- capped at 0.5 s with equal jitter: waits of 0.25-0.5 s, so 60-120 calls in 30 s
    assert.is_true(calls() > 60 and calls() < 125, calls())
  end)

  it("a shared policy object gives each call its own elapsed-time budget", function()
    local p = laws.backoff.exponential{ base = 1, cap = 1, jitter = "none", max_elapsed = 3 }
    local _, e1 = laws.retry(failing_then(100), { policy = p })
    local _, e2 = laws.retry(failing_then(100), { policy = p })
    assert.equal(4, e1.attempts); assert.equal(4, e2.attempts)
  end)

  it("runs inside a coroutine whose fn, success and policy yield, resumed to completion", function()
    clock.restore()
    local sleeps = {}
    local prev = runtime.use(runtime.override{
      sleep = function(s) sleeps[#sleeps + 1] = s; coroutine.yield("sleep", s); return true end })
    local n = 0
    local co = coroutine.create(function()
      return laws.retry(function() n = n + 1; coroutine.yield("fn"); return n end, {
        success = function(r) coroutine.yield("success"); return r >= 3 end,
        policy = function(a) coroutine.yield("policy"); return a * 0.01 end,
      })
    end)
    local trace, results = {}, nil
    while coroutine.status(co) ~= "dead" do
      local r = { coroutine.resume(co) }
      assert.is_true(r[1], r[2])
      if coroutine.status(co) == "dead" then results = r else trace[#trace + 1] = r[2] end
    end
    runtime.use(prev)
    assert.same({ "fn", "success", "policy", "sleep", "fn", "success", "policy", "sleep", "fn", "success" }, trace)
    assert.equal(3, results[2])
    assert.same({ 0.01, 0.02 }, sleeps)
    clock = fake_clock()
  end)

  it("accepts callable tables as fn, success and policy", function()
    local fn = setmetatable({}, { __call = function() return 7 end })
    local ok = setmetatable({}, { __call = function(_, r) return r == 7 end })
    assert.equal(7, laws.retry(fn, { success = ok }))
  end)

  it("raises on misuse, naming the argument", function()
    assert.error_matches(function() laws.retry(nil) end, "bad argument #1 'fn'")
    assert.error_matches(function() laws.retry(print, 3) end, "bad argument #2")
    assert.error_matches(function() laws.retry(print, { sucess = print }) end, "unknown option 'sucess'")
    assert.error_matches(function() laws.retry(print, { policy = 3 }) end, "option 'policy' must be callable")
    assert.error_matches(function()
      laws.retry(function() return nil, "e" end, { policy = function() return "soon" end })
    end, 'policy returned a string %("soon"%)')
    assert.error_matches(function()
      laws.retry(function() return nil, "e" end, { policy = function() return -1 end })
    end, "policy returned %-1")
  end)

  it("names the type of a delay that is no number, so a string that looks like one is not taken for it", function()
    local function message(v)
      local ok, e = pcall(laws.retry, function() return nil, "e" end, { policy = function() return v end })
      assert.is_false(ok)
      return tostring(e)
    end
    assert.matches('policy returned a string ("0.01"); a finite delay in seconds >= 0 or nil expected',
                   message("0.01"), 1, true)
    assert.matches("policy returned a boolean (true)", message(true), 1, true)
    assert.matches("policy returned a table;", message({}), 1, true)
    assert.matches("policy returned inf;", message(math.huge), 1, true)
  end)
end)
