-- Hostile policies and odd numbers for laws.retry, laws.backoff and the client retry strategy:
-- each is refused with a message naming it, or falls back to the default, never a hang, an
-- infinite sleep or an internal error.
local retry = require "laws.retry"
local backoff = require "laws.retry.backoff"
local runtime = require "laws.runtime"
local retry_strategy = require "laws.retry.aws"
local fakeenv = require "spec.support.fakeenv"

describe("laws.retry with a hostile policy", function()
  local slept, prev
  before_each(function()
    slept = {}
    prev = runtime.use(runtime.override{ sleep = function(s) slept[#slept + 1] = s; return true end })
  end)
  after_each(function() runtime.use(prev) end)

  local function failing() return nil, "nope" end

  it("raises on an infinite delay instead of sleeping forever", function()
    local ok, e = pcall(retry, failing, { policy = function(a) if a < 3 then return math.huge end end })
    assert.is_false(ok)
    assert.matches("policy returned inf", tostring(e))
    assert.same({}, slept)
  end)

  for name, v in pairs{ negative = -1, NaN = 0 / 0, string = "0.1", boolean = false } do
    it("raises on a " .. name .. " delay, naming what the policy returned", function()
      local ok, e = pcall(retry, failing, { policy = function() return v end })
      assert.is_false(ok)
      assert.matches("policy returned", tostring(e))
      assert.same({}, slept)
    end)
  end

  it("passes an error raised by on_retry through unchanged", function()
    local boom = { code = "Mine" }
    local ok, e = pcall(retry, failing, { policy = function(a) if a < 2 then return 0 end end,
                                          on_retry = function() error(boom) end })
    assert.is_false(ok)
    assert.equal(boom, e)
  end)
end)

describe("laws.backoff given odd numbers", function()
  it("names the 'seed' option when it is integral but no C integer", function()
    local ok, e = pcall(backoff.exponential, { seed = 2 ^ 70 })
    assert.is_false(ok)
    assert.matches("laws.backoff.exponential: option 'seed' must be an integer", tostring(e))
  end)

  it("names the 'max_attempts' option when it is beyond any integer", function()
    local ok, e = pcall(backoff.constant, { max_attempts = 1e300 })
    assert.is_false(ok)
    assert.matches("option 'max_attempts'", tostring(e))
  end)

  it("raises naming 'attempt' when called with NaN", function()
    local p = backoff.exponential{ seed = 1 }
    local ok, e = pcall(p, 0 / 0)
    assert.is_false(ok)
    assert.matches("'attempt'", tostring(e))
  end)

  it("never answers an infinite delay when base * attempt overflows", function()
    local p = backoff.linear{ step = 1e308, max_attempts = 100 }
    for a = 1, 60 do
      local d = p(a)
      assert.is_true(d < math.huge, "attempt " .. a .. " gave " .. tostring(d))
    end
    local e = backoff.exponential{ base = 1e308, cap = 0, jitter = "none", max_attempts = 100, seed = 1 }
    assert.is_true(e(50) < math.huge)
  end)

  it("answers huge, negative and infinite attempt counts without a C cast of them", function()
    -- run under check-asan with float-cast-overflow, a C cast of these was undefined behaviour
    local p = backoff.exponential{ max_attempts = 2 ^ 53, seed = 3 }
    assert.is_number(p(-1e300))
    assert.is_nil(p(math.huge))
    assert.is_nil(p(2 ^ 62))
  end)
end)

describe("client retry settings out of range", function()
  after_each(function() fakeenv.restore() end)

  it("raises naming max_attempts for an integral value too big to print", function()
    local ok, e = pcall(retry_strategy.new, { max_attempts = 1e30 })
    assert.is_false(ok)
    assert.matches("max_attempts must be an integer >= 1", tostring(e))
  end)

  for _, v in ipairs{ "1e400", "nan", "1e30", "-3" } do
    it("falls back to the default for AWS_MAX_ATTEMPTS=" .. v, function()
      fakeenv.set{ AWS_MAX_ATTEMPTS = v, AWS_CONFIG_FILE = "/nonexistent", AWS_SHARED_CREDENTIALS_FILE = "/nonexistent" }
      local s = retry_strategy.new()
      local call = s:start()
      call:before_attempt()
      assert.equal("attempt=1; max=3", call:request_header())
    end)
  end
end)
