--- Client-call retries the AWS way: standard (default), adaptive and legacy modes.
-- The client's call loop asks this module two questions per attempt and does the
-- waiting itself (through laws.runtime, so it may yield):
--
--   local s = aws.new{ mode = "standard", max_attempts = 3 }   -- one per client
--   local call = s:start()                  -- one per logical call (per-call overrides: s:start{...})
--   local wait = call:before_attempt()      -- seconds to wait first (adaptive limiter), usually 0
--   local delay, event = call:after_attempt(res, err)  -- nil: stop; number: sleep, re-sign, retry
--
-- Standard mode (the AWS SDKs' "standard" retry behaviour): 3 attempts; full-jitter
-- exponential backoff, base 50 ms (1 s for throttling errors), cap 20 s; the retry quota
-- (500 tokens; a throttling retry costs 5, another retry 14; a first-try success refills 1,
-- a success after retries gives back what the call took); x-amz-retry-after (ms) and
-- Retry-After (s) honoured as max(computed, min(header, computed + 5 s)).
-- Adaptive mode = standard + the CUBIC client-side rate limiter (csrc/ratelimiter.c).
-- Legacy mode = botocore's legacy handler (botocore/data/_retry.json __default__):
-- 5 attempts, delay rand() * 2^(attempt-1) s, no quota, no cap (at most 8 s before the
-- 5th attempt), the same error classification plus HTTP 509.
local core = require "laws.native"
local runtime = require "laws.runtime"
local config = require "laws.config"

local M = {}

local THROTTLING = {
  Throttling = true, ThrottlingException = true, ThrottledException = true,
  RequestThrottledException = true, TooManyRequestsException = true,
  ProvisionedThroughputExceededException = true, TransactionInProgressException = true,
  RequestLimitExceeded = true, BandwidthLimitExceeded = true, LimitExceededException = true,
  RequestThrottled = true, SlowDown = true, EC2ThrottledException = true,
}
local TRANSIENT = { RequestTimeout = true, RequestTimeoutException = true, PriorRequestNotComplete = true }
local TRANSIENT_STATUS = { [500] = true, [502] = true, [503] = true, [504] = true }
-- libcurl failures where the request may be sent again: the connection broke or timed
-- out. TLS verification failures and malformed URLs are not here: retrying cannot help.
local TRANSPORT = {
  COULDNT_CONNECT = true, COULDNT_RESOLVE_HOST = true, COULDNT_RESOLVE_PROXY = true,
  OPERATION_TIMEDOUT = true, RECV_ERROR = true, SEND_ERROR = true, GOT_NOTHING = true,
  PARTIAL_FILE = true, SSL_CONNECT_ERROR = true, HTTP2 = true, HTTP2_STREAM = true,
}

local MODES = { standard = true, adaptive = true, legacy = true }
local DEFAULT_ATTEMPTS = { standard = 3, adaptive = 3, legacy = 5 }
local BASE, THROTTLE_BASE, CAP = 0.05, 1, 20
local QUOTA_CAPACITY, THROTTLE_COST, RETRY_COST, NO_RETRY_REFILL = 500, 5, 14, 1
local RETRY_AFTER_SLACK = 5

--- Classifies an error: returns retryable (bool), throttling (bool).
function M.classify(err)
  if err == nil then return false, false end
  if type(err) ~= "table" then return false, false end
  local code, status = err.code, err.status
  if THROTTLING[code] or status == 429 or err.modeled_throttling then return true, true end
  if err.transport then return TRANSPORT[code] == true, false end
  if TRANSIENT[code] or TRANSIENT_STATUS[status] or err.modeled_retryable then return true, false end
  return false, false
end

-- Header-demanded wait in seconds, or nil. x-amz-retry-after is in milliseconds;
-- Retry-After in (integer or decimal) seconds. An HTTP-date Retry-After is ignored.
local function header_wait(err)
  local h = type(err) == "table" and err.headers
  if type(h) ~= "table" then return nil end
  local ms = tonumber(h["x-amz-retry-after"])
  if ms and ms >= 0 then return ms / 1000 end
  local s = tonumber(h["retry-after"])
  if s and s >= 0 then return s end
  return nil
end

--- The retry-after rule: max(computed, min(header, computed + 5 s)).
function M.apply_retry_after(computed, header)
  if not header then return computed end
  return math.max(computed, math.min(header, computed + RETRY_AFTER_SLACK))
end

-- Process-wide objects for `shared = true`, made on first use.
local shared = {}

local MAX_ATTEMPTS = 1e9  -- "no practical limit"; keeps the count an integer for %d

local function env_settings()
  local t = {}
  local mode, n = config.getenv("AWS_RETRY_MODE"), config.getenv("AWS_MAX_ATTEMPTS")
  if mode then t.mode = mode end
  if n then t.max_attempts = tonumber(n) end
  return t
end

-- The shared config file's retry_mode / max_attempts, from the profile laws.config selects
-- (option, AWS_PROFILE, AWS_DEFAULT_PROFILE, default) in the files it selects (config_file,
-- AWS_CONFIG_FILE, ~/.aws/config). A missing profile or an unreadable file gives no
-- settings here: the credentials chain reports those.
local function file_settings(where)
  local p = config.profile(config.profile_name(where), where)
  if not p then return {} end
  return { mode = p.retry_mode, max_attempts = tonumber(p.max_attempts) }
end

local OPTIONS = {
  mode = "string", max_attempts = "number", shared = "boolean", quota = "table|userdata", limiter = "table|userdata",
  seed = "number", profile = "string", on_retry = "function",
  base = "number", throttle_base = "number", cap = "number",
}

local function check_options(opts, where)
  if opts == nil then return {} end
  if type(opts) ~= "table" then error(where .. ": options must be a table", 3) end
  for k, v in pairs(opts) do
    local want = OPTIONS[k]
    if not want then error(where .. ": unknown option '" .. tostring(k) .. "'", 3) end
    if not want:find(type(v), 1, true) then
      error(where .. ": option '" .. k .. "' must be a " .. want .. ", got " .. type(v), 3)
    end
  end
  if opts.seed ~= nil and not (opts.seed % 1 == 0 and math.abs(opts.seed) < 2 ^ 53) then
    error(where .. ": seed must be an integer", 3)
  end
  for _, k in ipairs{ "base", "throttle_base", "cap" } do
    local v = opts[k]
    -- a cap of 0 would be "no cap" to the C schedule: a cap must be a delay
    if v ~= nil and not (v >= 0 and v < math.huge and (k ~= "cap" or v > 0)) then
      error(where .. ": option '" .. k .. "' must be a finite number " .. (k == "cap" and "> 0" or ">= 0")
            .. ", got " .. tostring(v), 3)
    end
  end
  if opts.mode ~= nil and not MODES[opts.mode] then
    error(where .. ": mode must be standard, adaptive or legacy, got '" .. opts.mode .. "'", 3)
  end
  -- an upper bound too: 1e30 is integral, but the amz-sdk-request header prints it with %d
  if opts.max_attempts ~= nil and not (opts.max_attempts >= 1 and opts.max_attempts <= MAX_ATTEMPTS
                                       and opts.max_attempts % 1 == 0) then
    error(where .. ": max_attempts must be an integer >= 1", 3)
  end
  return opts
end

local Strategy = {}
Strategy.__index = Strategy

--- A retry strategy for one client. Settings, first found wins: opts, AWS_RETRY_MODE /
-- AWS_MAX_ATTEMPTS, the config file's retry_mode / max_attempts, the mode's default.
-- opts.shared = true: quota and rate limiter are the process's, not this client's.
-- opts.quota: any object with acquire/release/available (e.g. an ngx.shared.DICT quota).
-- `where` (optional): the client's { profile, config_file, credentials_file }, so the
-- config file is the one (and the profile the one) its credentials come from;
-- opts.profile wins over where.profile.
function M.new(opts, where)
  opts = check_options(opts, "laws.retry.aws.new")
  if where ~= nil and type(where) ~= "table" then error("laws.retry.aws.new: where must be a table", 2) end
  local files = { profile = opts.profile or where and where.profile,
                  config_file = where and where.config_file, credentials_file = where and where.credentials_file }
  local env, file = env_settings(), file_settings(files)
  local mode = opts.mode or env.mode or file.mode or "standard"
  if not MODES[mode] then mode = "standard" end  -- a bad env/file value must not break every call
  local n = opts.max_attempts or env.max_attempts or file.max_attempts or DEFAULT_ATTEMPTS[mode]
  -- AWS_MAX_ATTEMPTS / max_attempts may say anything ("nan", "1e400"): out of range is the default
  if not n or not (n >= 1 and n <= MAX_ATTEMPTS) then n = DEFAULT_ATTEMPTS[mode] end
  local s = setmetatable({
    mode = mode, max_attempts = math.floor(n), on_retry = opts.on_retry,
    base = opts.base or BASE, throttle_base = opts.throttle_base or THROTTLE_BASE, cap = opts.cap or CAP,
    seed = opts.seed, schedules = {},
  }, Strategy)
  if opts.quota then
    s.quota = opts.quota
  elseif opts.shared then
    shared.quota = shared.quota or core.quota_new(QUOTA_CAPACITY)
    s.quota = shared.quota
  else
    s.quota = core.quota_new(QUOTA_CAPACITY)
  end
  s.shared = opts.shared
  s._limiter = opts.limiter -- e.g. laws.ngx.rate_limiter: acquire(now) -> wait, update(now, throttled)
  return s
end

-- The CUBIC limiter is made on first need: a standard-mode client never pays for it.
function Strategy:limiter()
  if not self._limiter then
    if self.shared then
      shared.limiter = shared.limiter or core.ratelimiter_new(runtime.now())
      self._limiter = shared.limiter
    else
      self._limiter = core.ratelimiter_new(runtime.now())
    end
  end
  return self._limiter
end

local Call = {}
Call.__index = Call

--- Starts one logical call. opts (optional) overrides mode / max_attempts for this call.
-- Calls without options share NO_OPTS: nothing to make or check (bench/25-client.sh).
local NO_OPTS = setmetatable({}, { __newindex = function() error("laws.retry.aws: internal: shared empty table written", 2) end })

function Strategy:start(opts)
  if opts == nil then opts = NO_OPTS else opts = check_options(opts, "laws.retry.aws: start") end
  local mode = opts.mode or self.mode
  -- the caller's loop keeps its per-call state in this table (client, op, req): made with
  -- those slots, it is never resized on the way (bench/25-client.sh, LuaJIT)
  return setmetatable({
    strategy = self, mode = mode, attempt = 0,
    max_attempts = opts.max_attempts or (opts.mode and DEFAULT_ATTEMPTS[mode]) or self.max_attempts,
    acquired = 0, on_retry = opts.on_retry or false,
    client = false, op = false, req = false, admitted = false, skew_fixed = false,
  }, Call)
end

--- Before each attempt (the first included): seconds to wait first. Counts the attempt.
function Call:before_attempt()
  self.attempt = self.attempt + 1
  if self.mode ~= "adaptive" then return 0 end
  return self.strategy:limiter():acquire(runtime.now())
end

--- The amz-sdk-request header value for the current attempt.
-- The usual values, made once: [max_attempts][attempt] -> header (small counts only), no
-- string.format per attempt (bench/25-client.sh).
local sdk_request = setmetatable({}, { __index = function(t, max)
  local row = {}
  for i = 1, max do row[i] = ("attempt=%d; max=%d"):format(i, max) end
  t[max] = row
  return row
end })
local CACHED_MAX = 10

function Call:request_header()
  local n, max = self.attempt, self.max_attempts
  if max <= CACHED_MAX and n >= 1 and n <= max then return sdk_request[max][n] end
  return ("attempt=%d; max=%d"):format(n, max)
end

-- The delays come from csrc/backoff.c (the one backoff implementation): full-jitter
-- exponential schedules, one per base, made on a strategy's first retry of that kind.
function Strategy:schedule(which)
  local sched = self.schedules[which]
  if not sched then
    local base, cap = self.base, self.cap
    if which == "throttle" then base = self.throttle_base
    elseif which == "legacy" then base, cap = 1, nil end   -- rand() * 2^(n-1), no cap
    sched = core.backoff_new{ kind = "exponential", base = base, cap = cap, jitter = "full", seed = self.seed }
    self.schedules[which] = sched
  end
  return sched
end

function Call:backoff(throttling)
  local which = self.mode == "legacy" and "legacy" or (throttling and "throttle" or "base")
  return self.strategy:schedule(which):next(self.attempt, 0)
end

--- After each attempt. Returns nil when the call is over (success or give up), or the
-- delay before the next attempt and an event table { attempt, delay, code, throttling,
-- quota_left, err } for on_retry hooks. Marks err.retryable, err.throttling, err.attempts
-- and, when the quota refused the retry, err.quota_exhausted = true.
function Call:after_attempt(res, err) -- luacheck: ignore res
  local s = self.strategy
  if err == nil then  -- success (the common case): refill the quota, feed the limiter
    local mode = self.mode
    if mode == "adaptive" then s:limiter():update(runtime.now(), false) end
    if mode ~= "legacy" then s.quota:release(self.acquired > 0 and self.acquired or NO_RETRY_REFILL) end
    self.acquired = 0
    return nil
  end
  local retryable, throttling = M.classify(err)
  -- botocore's legacy _retry.json also retries HTTP 509 ("limit_exceeded")
  if self.mode == "legacy" and not retryable and type(err) == "table" and err.status == 509 then
    retryable = true
  end
  if self.mode == "adaptive" then s:limiter():update(runtime.now(), throttling) end
  local skew = false
  if type(err) == "table" then
    err.attempts = self.attempt
    err.throttling = throttling
    -- a clock-skew correction makes the same request valid now: retry it at once, and
    -- free of quota (only once per call, so a server with a wrong clock cannot loop us)
    if err.clock_skew_corrected and not self.skew_retried then
      retryable, skew = true, true
      self.skew_retried = true
    end
    err.retryable = retryable
  end
  if not retryable or self.attempt >= self.max_attempts then return nil end
  local delay = 0
  if not skew then
    if self.mode ~= "legacy" then
      local cost = throttling and THROTTLE_COST or RETRY_COST
      if not s.quota:acquire(cost) then
        if type(err) == "table" then err.quota_exhausted = true end
        return nil
      end
      self.acquired = self.acquired + cost
    end
    delay = M.apply_retry_after(self:backoff(throttling), header_wait(err))
  end
  local event = {
    attempt = self.attempt, delay = delay, code = type(err) == "table" and err.code or nil,
    throttling = throttling, quota_left = s.quota:available(), err = err,
  }
  if s.on_retry then s.on_retry(event) end
  if self.on_retry then self.on_retry(event) end
  return delay, event
end

return M
