--- laws.retry(fn, { success, policy, on_retry }): call fn until success(result, err)
-- holds or the policy says stop. Also the one retry loop (`loop`) laws.retry, the waiters
-- and client calls run on.
--
-- The loop is plain Lua and waits through laws.runtime.sleep, so fn, success, policy and
-- on_retry may all yield (coroutines, laws.async tasks, OpenResty cosockets).
--
-- Returns: on success, what fn returned (result, err). When the policy gives up:
--   * the last attempt failed (err ~= nil): nil, err -- that last error, with
--     err.attempts = attempts made and err.retry_exhausted = true;
--   * the last attempt succeeded but the condition did not hold: nil, an error with code
--     "ConditionNotMet", .result = the last result, .attempts.
-- A wait that cannot happen (runtime.sleep answers nil, err) ends the loop with that err.
local runtime = require "laws.runtime"
local backoff = require "laws.retry.backoff"
local errors = require "laws.errors"

local M = {}

--- The retry loop: step(state) answers the seconds to wait before the next step, or
-- nil and the two values to return. A failed wait ends the loop with its error.
local function loop(step, state)
  while true do
    local delay, a, b = step(state)
    if delay == nil then return a, b end
    if delay > 0 then
      local ok, serr = runtime.sleep(delay)
      if not ok then return nil, serr end
    end
  end
end
M.loop = loop

local function callable(v)
  if type(v) == "function" then return true end
  local mt = getmetatable(v)
  return type(mt) == "table" and type(mt.__call) == "function"
end

local function default_success(_, err) return err == nil end

-- What a policy returned, for the misuse message: the type, and the value when short.
local function describe(v)
  if type(v) == "number" then return tostring(v) end
  if type(v) == "string" then
    return ("a string (%q)"):format(#v > 40 and v:sub(1, 40) .. "..." or v)
  end
  if type(v) == "boolean" then return "a boolean (" .. tostring(v) .. ")" end
  return "a " .. type(v)
end

-- One attempt of laws.retry: fn, the condition, the policy.
local function retry_step(s)
  local result, err = s.fn()
  local attempt = s.attempt + 1
  s.attempt = attempt
  if s.success(result, err) then return nil, result, err end
  local delay = s.policy(attempt, result, err)
  if delay == nil then
    if err ~= nil then
      if type(err) == "table" then err.attempts = attempt; err.retry_exhausted = true end
      return nil, nil, err
    end
    return nil, nil, errors.new{ code = "ConditionNotMet", attempts = attempt, result = result,
                                 message = "the success condition did not hold after " .. attempt .. " attempts" }
  end
  -- inf would sleep ~forever (runtime sleeps clamp, they do not fail): misuse too
  if type(delay) ~= "number" or delay ~= delay or delay < 0 or delay == math.huge then
    error("laws.retry: policy returned " .. describe(delay) .. "; a finite delay in seconds >= 0 or nil expected")
  end
  if s.on_retry then s.on_retry{ attempt = attempt, delay = delay, result = result, err = err } end
  return delay
end

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
  local policy = opts.policy or backoff.consistency()
  -- a built-in policy gets per-call state (its clock starts before the first attempt)
  if backoff.is(policy) then policy = policy:fork(runtime.now()) end
  return loop(retry_step, { fn = fn, success = opts.success or default_success, policy = policy,
                            on_retry = opts.on_retry, attempt = 0 })
end

return setmetatable(M, { __call = function(_, ...) return retry(...) end })
