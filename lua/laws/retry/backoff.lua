--- Built-in retry policies: callable objects, accepted wherever a policy closure is.
--   policy(attempt, result, err) -> delay_seconds | nil   (attempt = attempts made so far)
-- The schedule arithmetic is in C (csrc/backoff.c); this file checks options and keeps
-- the per-call start time. laws.retry gives each call its own copy (`fork`), so one
-- policy object can serve many calls, also concurrent ones. Called directly, an object
-- restarts its clock when it sees attempt 1 (the first attempt's own duration is then
-- not counted against max_elapsed).
local core = require "laws.native"
local runtime = require "laws.runtime"

local M = {}

-- math.tointeger is Lua 5.3+; LuaJIT (OpenResty) needs the same answer for option checks
local tointeger = math.tointeger or function(v)
  if type(v) == "number" and v % 1 == 0 and v >= -2^63 and v < 2^63 then return v end
end

local Policy = {}
Policy.__index = Policy
Policy.__name = "laws.backoff"

function Policy:__call(attempt)
  if type(attempt) ~= "number" or attempt ~= attempt then
    error("laws.backoff: bad argument #1 'attempt' (number expected, got " .. tostring(attempt) .. ")", 2)
  end
  local now = runtime.now()
  if not self._start or (attempt <= 1 and not self._forked) then self._start = now end
  return self._c:next(attempt, now - self._start)
end

--- A copy for one call whose elapsed time counts from `start` (default: now).
function Policy:fork(start)
  return setmetatable({ _c = self._c:fork(), _start = start or runtime.now(), _forked = true,
                        kind = self.kind, options = self.options }, Policy)
end

function Policy:__tostring()
  local parts = {}
  for k, v in pairs(self.options) do parts[#parts + 1] = k .. "=" .. tostring(v) end
  table.sort(parts)
  return "laws.backoff." .. self.kind .. "{" .. table.concat(parts, ", ") .. "}"
end

function M.is(v) return getmetatable(v) == Policy end

local JITTERS = { none = true, full = true, equal = true, decorrelated = true }

-- Every constructor knows every backoff option, so one options table can be handed to any
-- kind (the contract does this); an option a kind has no use for is checked and ignored.
-- A name that is no backoff option at all still raises.
local OPTIONS = { base = "num", cap = "num", delay = "num", step = "num", jitter = "jitter",
                  max_attempts = "count", max_elapsed = "num", seed = "seed" }

local function check(name, opts)
  local allowed = OPTIONS
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then error("laws.backoff." .. name .. ": options must be a table", 3) end
  for k, v in pairs(opts) do
    local rule = allowed[k]
    if not rule then error("laws.backoff." .. name .. ": unknown option '" .. tostring(k) .. "'", 3) end
    local ok
    if rule == "jitter" then ok = type(v) == "string" and JITTERS[v]
    elseif rule == "count" or rule == "seed" then
      -- math.tointeger: 2^70 is integral but no C integer (the core would name the wrong argument)
      ok = type(v) == "number" and tointeger(v) ~= nil and (rule == "seed" or v >= 1)
    else ok = type(v) == "number" and v >= 0 and v == v and v < math.huge end
    if not ok then
      local want = ({ jitter = "one of none, full, equal, decorrelated", count = "an integer >= 1",
                      seed = "an integer" })[rule] or "a finite number >= 0"
      error("laws.backoff." .. name .. ": option '" .. k .. "' must be " .. want .. " (got " .. tostring(v) .. ")", 3)
    end
  end
  return opts
end

local function make(kind, base, opts, dflt_attempts)
  local copy = {}
  for k, v in pairs(opts) do copy[k] = v end
  -- with neither bound given a policy must still end: the attempt default applies
  local attempts = opts.max_attempts
  if attempts == nil and opts.max_elapsed == nil then attempts = dflt_attempts end
  local c = core.backoff_new{ kind = kind, base = base, cap = opts.cap, jitter = opts.jitter,
                              max_attempts = attempts, max_elapsed = opts.max_elapsed, seed = opts.seed }
  return setmetatable({ _c = c, kind = kind, options = copy }, Policy)
end

--- exponential{ base = 0.05, cap = 20, jitter = "full", max_attempts = 5, max_elapsed, seed }
function M.exponential(opts)
  opts = check("exponential", opts)
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  o.cap = o.cap or 20
  o.jitter = o.jitter or "full"
  return make("exponential", opts.base or 0.05, o, 5)
end

--- constant{ delay = 1, max_attempts = 3, max_elapsed, seed }
function M.constant(opts)
  opts = check("constant", opts)
  return make("constant", opts.delay or 1, opts, 3)
end

--- linear{ step = 1, cap, max_attempts = 3, max_elapsed, seed }: step x attempt
function M.linear(opts)
  opts = check("linear", opts)
  return make("linear", opts.step or 1, opts, 3)
end

-- The consistency policy: laws.retry's default, for "wait until my write is visible".
-- Exponential from 25 ms with equal jitter (each wait in [ceiling/2, ceiling], so waits
-- neither collapse to zero nor bunch up across clients), capped at 0.5 s, 30 s in all
-- (the last attempt lands on the deadline). Tuned with bench/30-consistency.sh (the figures
-- that chose it are in doc/VERIFICATION.md): a 0.5 s cap instead of 1 s cuts the p95
-- overshoot by ~40% for the same mean requests; the price is up to 2 requests/s per waiter
-- while a write stays invisible for seconds, at most ~80 requests over the full 30 s.
M.CONSISTENCY = { base = 0.025, cap = 0.5, jitter = "equal", max_elapsed = 30 }

--- consistency{ base, cap, jitter, max_elapsed, max_attempts, seed }: the default policy,
-- with any of its numbers changed.
function M.consistency(opts)
  opts = check("consistency", opts)
  local o = {}
  for k, v in pairs(M.CONSISTENCY) do o[k] = v end
  for k, v in pairs(opts) do o[k] = v end
  local p = make("exponential", o.base, o, nil)
  p.kind = "consistency"
  return p
end

return M
