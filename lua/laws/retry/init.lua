--- laws.retry(fn, { success, policy, on_retry }): call fn until success(result, err)
-- holds or the policy says stop.
--
-- The loop is plain Lua and waits through laws.runtime.sleep, so fn, success, policy and
-- on_retry may all yield (coroutines, laws.async tasks, OpenResty cosockets).
--
-- Returns: on success, what fn returned (result, err). When the policy gives up:
--   * the last attempt failed (err ~= nil): nil, err -- that last error, with
--     err.attempts = attempts made and err.retry_exhausted = true;
--   * the last attempt succeeded but the condition did not hold: nil, an error with code
--     "ConditionNotMet", .result = the last result, .attempts.
local runtime = require "laws.runtime"
local backoff = require "laws.retry.backoff"
local errors = require "laws.errors"

local function callable(v)
  if type(v) == "function" then return true end
  local mt = getmetatable(v)
  return type(mt) == "table" and type(mt.__call) == "function"
end

local function default_success(_, err) return err == nil end

local OPTIONS = { success = true, policy = true, on_retry = true }

local function retry(fn, opts)
  if not callable(fn) then error("laws.retry: bad argument #1 'fn' (function expected, got " .. type(fn) .. ")", 2) end
  if opts ~= nil and type(opts) ~= "table" then
    error("laws.retry: bad argument #2 'options' (table expected, got " .. type(opts) .. ")", 2)
  end
  opts = opts or {}
  for k, v in pairs(opts) do
    if not OPTIONS[k] then error("laws.retry: unknown option '" .. tostring(k) .. "'", 2) end
    if not callable(v) then error("laws.retry: option '" .. k .. "' must be callable, got " .. type(v), 2) end
  end
  local success = opts.success or default_success
  local policy = opts.policy or backoff.consistency()
  local start = runtime.now()
  -- a built-in policy gets per-call state (its clock starts before the first attempt)
  if backoff.is(policy) then policy = policy:fork(start) end
  local on_retry = opts.on_retry
  local attempt = 0
  while true do
    local result, err = fn()
    attempt = attempt + 1
    if success(result, err) then return result, err end
    local delay = policy(attempt, result, err)
    if delay == nil then
      if err ~= nil then
        if type(err) == "table" then err.attempts = attempt; err.retry_exhausted = true end
        return nil, err
      end
      return nil, errors.new{ code = "ConditionNotMet", attempts = attempt, result = result,
                              message = "the success condition did not hold after " .. attempt .. " attempts" }
    end
    -- inf would sleep ~forever (runtime sleeps clamp, they do not fail): misuse too
    if type(delay) ~= "number" or delay ~= delay or delay < 0 or delay == math.huge then
      error("laws.retry: policy returned " .. tostring(delay) .. " (a finite delay in seconds >= 0 or nil expected)")
    end
    if on_retry then on_retry{ attempt = attempt, delay = delay, result = result, err = err } end
    -- nil, err: this runtime cannot wait here (nginx phase without yields): stop, say why
    local slept, serr = runtime.sleep(delay)
    if slept == nil and serr ~= nil then return nil, serr end
  end
end

return setmetatable({ retry = retry }, { __call = function(_, ...) return retry(...) end })
