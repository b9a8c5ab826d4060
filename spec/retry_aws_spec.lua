local rs = require "laws.retry.aws"
local errors = require "laws.errors"
local fake_clock = require "spec.support.fake_clock"

local function E(t) return errors.new(t) end
local function throttle() return E{ code = "ThrottlingException", status = 400 } end
local function s500() return E{ code = "InternalServerError", status = 500 } end

-- runs one call through the strategy with the given attempt outcomes; returns the
-- delays asked for, the final outcome and the call
local function run(s, outcomes, opts)
  local call = s:start(opts)
  local delays = {}
  for _, o in ipairs(outcomes) do
    call:before_attempt()
    local d = call:after_attempt(o.res, o.err)
    if d == nil then return delays, o, call end
    delays[#delays + 1] = d
  end
  return delays, nil, call
end

describe("the AWS retry strategy, classification", function()
  it("retries the transient and throttling errors of the AWS SDKs", function()
    for _, c in ipairs{ "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
        "SlowDown", "EC2ThrottledException" } do
      local r, t = rs.classify(E{ code = c, status = 400 })
      assert.is_true(r and t, c)
    end
    assert.same({ true, true }, { rs.classify(E{ code = "Whatever", status = 429 }) })
    for _, c in ipairs{ "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete" } do
      assert.same({ true, false }, { rs.classify(E{ code = c, status = 400 }) }, c)
    end
    for _, st in ipairs{ 500, 502, 503, 504 } do
      assert.same({ true, false }, { rs.classify(E{ code = "X", status = st }) }, st)
    end
    for _, c in ipairs{ "COULDNT_CONNECT", "OPERATION_TIMEDOUT", "RECV_ERROR", "SEND_ERROR", "GOT_NOTHING" } do
      assert.same({ true, false }, { rs.classify(E{ code = c, transport = true }) }, c)
    end
    assert.same({ true, false }, { rs.classify(E{ code = "Custom", status = 400, modeled_retryable = true }) })
  end)

  it("does not retry validation, access, not-found, conflict, TLS verification", function()
    for _, e in ipairs{ E{ code = "ValidationException", status = 400 }, E{ code = "AccessDeniedException", status = 403 },
        E{ code = "ResourceNotFoundException", status = 404 }, E{ code = "ConflictException", status = 409 },
        E{ code = "PEER_FAILED_VERIFICATION", transport = true }, E{ code = "X", status = 501 } } do
      assert.same({ false, false }, { rs.classify(e) }, e.code)
    end
    assert.same({ false, false }, { rs.classify(nil) })
  end)
end)

describe("the AWS retry strategy, standard mode", function()
  local clock
  before_each(function() clock = fake_clock() end)
  after_each(function() clock.restore() end)

  it("makes 3 attempts by default, with full-jitter delays (base 50 ms; 1 s when throttled)", function()
    local s = rs.new{ seed = 1 }
    assert.equal("standard", s.mode)
    local delays, final = run(s, { { err = s500() }, { err = s500() }, { err = s500() }, { res = 1 } })
    assert.equal(2, #delays)
    assert.equal(3, final.err.attempts)
    assert.is_true(delays[1] <= 0.05 and delays[2] <= 0.1)
    local many = {}
    for i = 1, 200 do
      local d = run(rs.new{ seed = i }, { { err = throttle() }, { res = 1 } })
      many[i] = d[1]
      assert.is_true(d[1] >= 0 and d[1] <= 1)
    end
    table.sort(many)
    assert.is_true(many[100] > 0.3 and many[100] < 0.7, many[100])  -- uniform on [0, 1): median ~0.5
  end)

  it("caps a delay at 20 s", function()
    local s = rs.new{ seed = 2, max_attempts = 30 }
    local outcomes = {}
    for i = 1, 30 do outcomes[i] = { err = throttle() } end
    local delays = run(s, outcomes)
    local big = 0
    for _, d in ipairs(delays) do assert.is_true(d <= 20); big = math.max(big, d) end
    assert.is_true(big > 10)
  end)

  it("stops at once on errors that are not retryable and marks the error", function()
    local s = rs.new{}
    local delays, final = run(s, { { err = E{ code = "ValidationException", status = 400 } }, { res = 1 } })
    assert.same({}, delays)
    assert.is_false(final.err.retryable)
    assert.equal(1, final.err.attempts)
  end)

  it("honours x-amz-retry-after (ms) and Retry-After (s) as max(computed, min(header, computed + 5))", function()
    local function first_delay(headers, seed)
      local d = run(rs.new{ seed = seed }, { { err = E{ code = "X", status = 503, headers = headers } }, { res = 1 } })
      return d[1]
    end
    local computed = first_delay(nil, 11)
    assert.is_true(computed < 0.05)
    assert.near(1.5, first_delay({ ["x-amz-retry-after"] = "1500" }, 11), 1e-9)
    assert.near(2, first_delay({ ["retry-after"] = "2" }, 11), 1e-9)
    assert.near(computed + 5, first_delay({ ["retry-after"] = "60" }, 11), 1e-9)     -- bounded above
    assert.near(computed, first_delay({ ["x-amz-retry-after"] = "0" }, 11), 1e-9)    -- never below computed
    assert.near(0.25, first_delay({ ["x-amz-retry-after"] = "250", ["retry-after"] = "9" }, 11), 1e-9)
    assert.near(computed, first_delay({ ["retry-after"] = "Wed, 21 Oct 2015 07:28:00 GMT" }, 11), 1e-9)
    assert.equal(6, rs.apply_retry_after(1, 100)); assert.equal(3, rs.apply_retry_after(3, 1))
  end)

  it("draws 5 (throttling) or 14 (other) from the quota and fails fast when it is empty", function()
    local s = rs.new{ seed = 1, max_attempts = 1000 }
    local _, _, call = run(s, { { err = throttle() }, { err = s500() } })
    assert.equal(500 - 5 - 14, s.quota:available())
    assert.equal(19, call.acquired)
    local outcomes = {}
    for i = 1, 100 do outcomes[i] = { err = s500() } end
    local delays, final = run(s, outcomes)
    assert.equal(34, #delays)              -- 481 / 14 = 34 retries, then the quota says no
    assert.is_true(final.err.quota_exhausted)
    assert.equal(481 - 34 * 14, s.quota:available())
    local d2, f2 = run(s, { { err = s500() }, { res = 1 } })
    assert.same({}, d2)                    -- fail fast: no retry at all
    assert.is_true(f2.err.quota_exhausted)
    assert.is_true(f2.err.retryable)
  end)

  it("refills 1 on a first-try success and gives back what a call took after retries", function()
    local s = rs.new{ seed = 1 }
    s.quota:acquire(100)
    run(s, { { res = 1 } })
    assert.equal(401, s.quota:available())
    run(s, { { err = s500() }, { err = throttle() }, { res = 1 } })
    assert.equal(401, s.quota:available())  -- took 19, gave 19 back
    run(s, { { err = s500() }, { err = s500() }, { err = s500() } })
    assert.equal(401 - 28, s.quota:available())  -- a failed call keeps what it took
  end)

  it("retries a clock-skew corrected error once, at once and free of quota", function()
    local s = rs.new{}
    local skew = E{ code = "InvalidSignatureException", status = 403, clock_skew_corrected = true }
    local delays, final = run(s, { { err = skew }, { err = E{ code = "InvalidSignatureException", status = 403,
                                                                clock_skew_corrected = true } } })
    assert.same({ 0 }, delays)
    assert.equal(2, final.err.attempts)
    assert.equal(500, s.quota:available())
  end)

  it("gives on_retry events with attempt, delay, code and quota left", function()
    local events = {}
    local s = rs.new{ seed = 1, on_retry = function(e) events[#events + 1] = e end }
    local per_call = {}
    run(s, { { err = throttle() }, { res = 1 } }, { on_retry = function(e) per_call[#per_call + 1] = e end })
    assert.equal(1, #events); assert.equal(events[1], per_call[1])
    assert.equal(1, events[1].attempt); assert.equal("ThrottlingException", events[1].code)
    assert.equal(495, events[1].quota_left); assert.is_true(events[1].throttling)
  end)

  it("gives the amz-sdk-request header value", function()
    local call = rs.new{ max_attempts = 4 }:start()
    call:before_attempt()
    assert.equal("attempt=1; max=4", call:request_header())
    call:after_attempt(nil, s500()); call:before_attempt()
    assert.equal("attempt=2; max=4", call:request_header())
  end)

  it("shares the quota per client by default, per process with shared = true, or takes one given", function()
    local a, b = rs.new{}, rs.new{}
    assert.are_not.equal(a.quota, b.quota)
    local c, d = rs.new{ shared = true }, rs.new{ shared = true }
    assert.equal(c.quota, d.quota)
    local taken = {}
    local q = { acquire = function(_, n) taken[#taken + 1] = n; return true end, release = function() end,
                available = function() return 42 end }
    local e = rs.new{ quota = q }
    run(e, { { err = throttle() }, { res = 1 } })
    assert.same({ 5 }, taken)
  end)

  it("per-call options change max_attempts and mode", function()
    local s = rs.new{ max_attempts = 2 }
    local delays = run(s, { { err = s500() }, { err = s500() }, { err = s500() }, { err = s500() } }, { max_attempts = 4 })
    assert.equal(3, #delays)
    local call = s:start{ mode = "legacy" }
    assert.equal(5, call.max_attempts)
  end)

  it("raises on bad options", function()
    assert.error_matches(function() rs.new{ mode = "fast" } end, "mode must be standard, adaptive or legacy")
    assert.error_matches(function() rs.new{ max_attempts = 0 } end, "max_attempts must be an integer")
    assert.error_matches(function() rs.new{ retries = 2 } end, "unknown option 'retries'")
    assert.error_matches(function() rs.new{ cap = 0 } end, "option 'cap' must be a finite number > 0")
    assert.error_matches(function() rs.new{ base = -1 } end, "option 'base' must be a finite number >= 0")
    assert.error_matches(function() rs.new{ throttle_base = 0 / 0 } end, "option 'throttle_base' must be")
    assert.error_matches(function() rs.new{ seed = 1.5 } end, "seed must be an integer")
    assert.error_matches(function() rs.new{ max_attempts = "3" } end, "option 'max_attempts' must be a number")
  end)
end)

describe("the AWS retry strategy, legacy mode", function()
  it("makes 5 attempts, delay rand * 2^(n-1), and uses no quota", function()
    local s = rs.new{ mode = "legacy", seed = 3 }
    local outcomes = {}
    for i = 1, 6 do outcomes[i] = { err = s500() } end
    local delays, final = run(s, outcomes)
    assert.equal(4, #delays)
    assert.equal(5, final.err.attempts)
    for i, d in ipairs(delays) do assert.is_true(d >= 0 and d < 2 ^ (i - 1)) end
    assert.equal(500, s.quota:available())
    local d509 = run(s, { { err = E{ code = "BandwidthLimit", status = 509 } }, { res = 1 } })
    assert.equal(1, #d509)
    assert.same({}, (run(rs.new{}, { { err = E{ code = "BandwidthLimit", status = 509 } }, { res = 1 } })))
  end)
end)

describe("the AWS retry strategy, adaptive mode", function()
  local clock
  before_each(function() clock = fake_clock() end)
  after_each(function() clock.restore() end)

  it("sends freely until throttled, then paces sends with the CUBIC limiter", function()
    local s = rs.new{ mode = "adaptive", seed = 1, max_attempts = 2 }
    for _ = 1, 40 do   -- 20 requests/s succeed
      local call = s:start()
      assert.equal(0, call:before_attempt())
      call:after_attempt({}, nil)
      clock.advance(0.05)
    end
    local st = s:limiter():state()
    assert.is_false(st.enabled)
    assert.is_true(st.measured_rate > 15 and st.measured_rate < 25, st.measured_rate)
    local call = s:start()
    call:before_attempt()
    call:after_attempt(nil, throttle())
    st = s:limiter():state()
    assert.is_true(st.enabled)
    assert.near(0.7 * st.measured_rate, st.max_rate, st.measured_rate * 0.2)
    local waits = {}
    for i = 1, 30 do waits[i] = s:start():before_attempt() end
    assert.is_true(waits[30] > 0.8, waits[30])      -- 30 sends at once at ~14/s: the last waits ~1-2 s
    assert.near(1 / st.fill_rate, waits[30] - waits[29], 1e-6)
  end)
end)

describe("the AWS retry strategy, configuration", function()
  local function with_env(env, code)
    local cmd = ("%s LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='%s/?.so;;' %s -e %q"):format(
      env, os.getenv("LAWS_BUILD") or "build", os.getenv("LAWS_LUA") or "lua5.4", code)
    local p = io.popen(cmd)
    local out = p:read("*a")
    p:close()
    return out
  end

  it("reads AWS_RETRY_MODE and AWS_MAX_ATTEMPTS; options win", function()
    local code = [[local s=require'laws.retry.aws'.new{} local t=require'laws.retry.aws'.new{max_attempts=2}
      io.write(s.mode,' ',s.max_attempts,' ',t.max_attempts)]]
    assert.equal("adaptive 7 2", with_env("AWS_RETRY_MODE=adaptive AWS_MAX_ATTEMPTS=7", code))
    assert.equal("legacy 5 2", with_env("AWS_RETRY_MODE=legacy", code))
    assert.equal("standard 3 2", with_env("AWS_RETRY_MODE=bogus", code))
  end)

  it("reads retry_mode / max_attempts from the shared config file (real laws.config)", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write("[default]\nretry_mode = legacy\n\n[profile fast]\nretry_mode = adaptive\nmax_attempts = 9\n")
    f:close()
    local code = [[local rs=require'laws.retry.aws' local a=rs.new{} local b=rs.new{profile='fast'}
      io.write(a.mode,' ',a.max_attempts,' ',b.mode,' ',b.max_attempts)]]
    local env = "AWS_CONFIG_FILE=" .. path .. " AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_RETRY_MODE= AWS_MAX_ATTEMPTS="
    local out = with_env(env, code)
    local out2 = with_env(env .. " AWS_MAX_ATTEMPTS=4", code)
    os.remove(path)
    assert.equal("legacy 5 adaptive 9", out)
    assert.equal("legacy 4 adaptive 4", out2)   -- the environment beats the file
  end)

  it("reads the profile AWS_DEFAULT_PROFILE names, as the credentials do", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write("[default]\nretry_mode = legacy\n\n[profile fast]\nretry_mode = adaptive\nmax_attempts = 9\n")
    f:close()
    local code = [[local s=require'laws.retry.aws'.new{} io.write(s.mode,' ',s.max_attempts)]]
    local out = with_env("AWS_CONFIG_FILE=" .. path .. " AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_RETRY_MODE= "
                         .. "AWS_MAX_ATTEMPTS= AWS_PROFILE= AWS_DEFAULT_PROFILE=fast", code)
    os.remove(path)
    assert.equal("adaptive 9", out, "AWS_DEFAULT_PROFILE did not reach the retry settings")
  end)

  it("reads the client's config_file and profile options", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write("[profile fast]\nretry_mode = adaptive\nmax_attempts = 9\n"
            .. "aws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = notreallysecret\n")
    f:close()
    local code = ([[local c=require'laws'.client('dynamodb',{region='us-east-1',config_file=%q,profile='fast'})
      io.write(c.strategy.mode,' ',c.strategy.max_attempts)]]):format(path)
    local out = with_env("AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_RETRY_MODE= "
                         .. "AWS_MAX_ATTEMPTS= AWS_PROFILE= AWS_DEFAULT_PROFILE=", code)
    os.remove(path)
    assert.equal("adaptive 9", out, "the client's config_file did not reach the retry settings")
  end)
end)
