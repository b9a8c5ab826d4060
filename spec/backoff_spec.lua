local laws = require "laws"
local backoff = require "laws.retry.backoff"
local fake_clock = require "spec.support.fake_clock"

describe("laws.backoff", function()
  local clock
  before_each(function() clock = fake_clock() end)
  after_each(function() clock.restore() end)

  it("exponential without jitter doubles from base and stops at the cap", function()
    local p = backoff.exponential{ base = 0.1, cap = 0.5, jitter = "none", max_attempts = 10 }
    local got = {}
    for i = 1, 5 do got[i] = p(i) end
    assert.same({ 0.1, 0.2, 0.4, 0.5, 0.5 }, got)
  end)

  it("full jitter stays in [0, ceiling], is reproducible with a seed and varies without", function()
    local a = backoff.exponential{ base = 0.1, cap = 20, seed = 5, max_attempts = 100 }
    local b = backoff.exponential{ base = 0.1, cap = 20, seed = 5, max_attempts = 100 }
    local c = backoff.exponential{ base = 0.1, cap = 20, max_attempts = 100 }
    local same, differ = true, false
    for i = 1, 8 do
      local x, y, z = a(i), b(i), c(i)
      local ceiling = math.min(20, 0.1 * 2 ^ (i - 1))
      assert.is_true(x >= 0 and x <= ceiling)
      same = same and x == y
      differ = differ or x ~= z
    end
    assert.is_true(same)
    assert.is_true(differ)
  end)

  it("equal jitter stays in [ceiling/2, ceiling]", function()
    local p = backoff.exponential{ base = 0.2, cap = 1, jitter = "equal", seed = 1, max_attempts = 1000 }
    for i = 1, 200 do
      local ceiling = math.min(1, 0.2 * 2 ^ (math.min(i, 20) - 1))
      local d = p(math.min(i, 20))
      assert.is_true(d >= ceiling / 2 and d <= ceiling, d)
    end
  end)

  it("decorrelated jitter stays in [base, min(cap, 3 * previous)]", function()
    local p = backoff.exponential{ base = 0.05, cap = 2, jitter = "decorrelated", seed = 3, max_attempts = 1000 }
    local prev = 0.05
    for i = 1, 300 do
      local d = p(i)
      assert.is_true(d >= 0.05 and d <= 2 and d <= prev * 3 + 1e-12)
      prev = d
    end
  end)

  it("constant and linear", function()
    local c = laws.backoff.constant{ delay = 0.3, max_attempts = 3 }
    assert.equal(0.3, c(1)); assert.equal(0.3, c(2)); assert.is_nil(c(3))
    local l = laws.backoff.linear{ step = 0.5, max_attempts = 4 }
    assert.equal(0.5, l(1)); assert.equal(1.5, l(3)); assert.is_nil(l(4))
    local d = laws.backoff.constant{}
    assert.equal(1, d(1)); assert.equal(1, d(2)); assert.is_nil(d(3))  -- DESIGN defaults
  end)

  it("max_attempts counts attempts made (the first included)", function()
    local p = backoff.exponential{ max_attempts = 3 }
    assert.is_number(p(1)); assert.is_number(p(2)); assert.is_nil(p(3))
  end)

  it("max_elapsed counts time spent in the call and lands the last attempt on the deadline", function()
    local p = backoff.exponential{ base = 1, cap = 1, jitter = "none", max_elapsed = 5 }
    assert.equal(1, p(1))          -- clock starts at attempt 1
    clock.advance(3.6)             -- attempts and waits took 3.6 s
    assert.equal(1, p(2))
    clock.advance(0.9)             -- 4.5 s elapsed: the next wait is cut to 0.5 s
    assert.near(0.5, p(3), 1e-9)
    clock.advance(0.5)
    assert.is_nil(p(4))
  end)

  it("fork gives each call its own clock and state, reproducibly", function()
    local p = backoff.exponential{ base = 0.1, seed = 9, max_elapsed = 2, jitter = "decorrelated", cap = 1 }
    local f1, f2 = p:fork(clock.t - 1.5), p:fork()
    assert.is_number(f1(1))
    clock.advance(0.6)
    assert.is_nil(f1(2))           -- 2.1 s since its own start
    assert.is_number(f2(2))        -- 0.6 s since its start
    local q = backoff.exponential{ base = 0.1, seed = 9, max_elapsed = 2, jitter = "decorrelated", cap = 1 }
    assert.equal(q:fork()(1), backoff.exponential{ base = 0.1, seed = 9, max_elapsed = 2, jitter = "decorrelated",
                                                   cap = 1 }:fork()(1))
  end)

  it("is usable as the policy of laws.retry", function()
    local n = 0
    local res = laws.retry(function() n = n + 1; if n < 3 then return nil, "no" end return "yes" end,
                           { policy = laws.backoff.constant{ delay = 0.25, max_attempts = 5 } })
    assert.equal("yes", res)
    assert.same({ 0.25, 0.25 }, clock.sleeps)
  end)

  it("tostring shows the options", function()
    assert.matches("exponential{.*base=0.2", tostring(backoff.exponential{ base = 0.2 }))
  end)

  it("raises on unknown options and bad types, naming them", function()
    assert.has_error(function() backoff.exponential{ bse = 1 } end, "laws.backoff.exponential: unknown option 'bse'")
    assert.error_matches(function() backoff.exponential{ base = "1" } end, "option 'base' must be")
    assert.error_matches(function() backoff.exponential{ jitter = "half" } end, "option 'jitter' must be one of")
    assert.error_matches(function() backoff.exponential{ max_attempts = 0 } end, "max_attempts")
    assert.error_matches(function() backoff.constant{ delay = -1 } end, "option 'delay'")
    assert.error_matches(function() backoff.linear{ step = 0 / 0 } end, "option 'step'")
    assert.error_matches(function() backoff.constant(5) end, "options must be a table")
    assert.error_matches(function() backoff.constant{}("x") end, "attempt")
  end)

  it("one options table serves every kind: options a kind does not use are ignored", function()
    local shared = { base = 0.01, cap = 1, delay = 0.02, step = 0.03, max_attempts = 3 }
    assert.equal(0.02, backoff.constant(shared)(1))
    assert.equal(0.06, backoff.linear(shared)(2))
    local d = backoff.exponential(shared)(1)
    assert.is_true(d >= 0 and d <= 0.02, d)
    for _, kind in ipairs{ "exponential", "constant", "linear" } do
      assert.is_nil(backoff[kind](shared)(3))
      assert.error_matches(function() backoff[kind]{ dealy = 1 } end, "unknown option 'dealy'")
      assert.error_matches(function() backoff[kind]{ step = "1" } end, "option 'step' must be")
    end
  end)

  it("consistency policy: tens of ms first, growing, capped at 0.5 s, 30 s bound", function()
    local p = backoff.consistency{ seed = 1 }:fork()
    local first = p(1)
    assert.is_true(first >= 0.01 and first < 0.1, first)
    local n, total, biggest = 1, first, first
    clock.advance(first)
    while true do
      local d = p(n + 1)
      if not d then break end
      n = n + 1; total = total + d; biggest = math.max(biggest, d)
      clock.advance(d)
    end
    assert.is_true(biggest <= 0.5 and biggest > 0.25)
    assert.near(30, total, 1e-6)   -- last attempt lands on the 30 s deadline
  end)
end)
