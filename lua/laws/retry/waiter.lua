--- Waiters with Smithy semantics.
--   w = laws.waiter{ operation = "GetCase" | function(client, params) -> result, err,
--                    acceptors = { { state = "success"|"failure"|"retry", matcher = M }, ... },
--                    min_delay = 0.05, max_delay = 2, max_wait = 30 }
--   M = { output = { path =, expected =, comparator = "stringEquals" | "booleanEquals" |
--                    "allStringEquals" | "anyStringEquals" } }
--     | { errorType = "ResourceNotFoundException" } | { success = true | false }
--     | { inputOutput = { path, expected, comparator } }  (path over { input =, output = })
--     | function(result, err, input) -> bool
--   result, err = w(client, params [, opts])   -- or w:wait(client, params [, opts])
-- After each call the acceptors are tried in order; the first that matches decides:
-- success returns result (and err if the acceptor matched on an error: nil, err with
-- err.waiter_state = "success"), failure returns nil, err{code = "WaiterFailure", result,
-- cause}, retry waits and calls again. No match: an error ends the wait with that error;
-- otherwise wait and retry. Past max_wait: nil, err{code = "WaiterTimeout", result, cause,
-- attempts}. opts may change min_delay / max_delay / max_wait and add on_retry, seed.
-- Delays follow Smithy: random between min_delay and min(max_delay, min_delay * 2^(n-1)),
-- shortened so the last attempt happens at the max_wait deadline. Waits go through
-- laws.runtime.sleep (they yield inside coroutine schedulers).
local core = require "laws.native"
local runtime = require "laws.runtime"
local errors = require "laws.errors"
local path = require "laws.retry.path"
local loop = require("laws.retry").loop

local M = {}
local Waiter = {}
Waiter.__index = Waiter
Waiter.__name = "laws.waiter"

local COMPARATORS = {
  stringEquals = function(v, e) return type(v) == "string" and v == e end,
  booleanEquals = function(v, e)
    if type(e) == "string" then e = (e == "true") end
    return type(v) == "boolean" and v == e
  end,
  allStringEquals = function(v, e)
    if type(v) ~= "table" or #v == 0 then return false end
    for _, x in ipairs(v) do if x ~= e then return false end end
    return true
  end,
  anyStringEquals = function(v, e)
    if type(v) ~= "table" then return false end
    for _, x in ipairs(v) do if x == e then return true end end
    return false
  end,
}
local STATES = { success = true, failure = true, retry = true }

local function callable(v)
  if type(v) == "function" then return true end
  local mt = getmetatable(v)
  return type(mt) == "table" and type(mt.__call) == "function"
end

-- Turns one acceptor's matcher into fn(result, err) -> bool, checking it on the way.
local function compile_matcher(m, i)
  local where = "laws.waiter: acceptor " .. i
  if callable(m) then return m end
  if type(m) ~= "table" then error(where .. ": matcher must be a table or a function", 4) end
  if m.output ~= nil or m.inputOutput ~= nil then
    local o, io = m.output or m.inputOutput, m.inputOutput ~= nil
    if type(o) ~= "table" or type(o.path) ~= "string" then error(where .. ": output.path (string) required", 4) end
    local cmp = COMPARATORS[o.comparator]
    if not cmp then error(where .. ": unknown comparator '" .. tostring(o.comparator) .. "'", 4) end
    local ok, f = pcall(path.compile, o.path)
    if not ok then error(where .. ": " .. tostring(f), 4) end
    local expected = o.expected
    return function(result, err, input)
      if err ~= nil or result == nil then return false end
      return cmp(path.search(o.path, io and { input = input, output = result } or result), expected)
    end
  elseif m.errorType ~= nil then
    if type(m.errorType) ~= "string" then error(where .. ": errorType must be a string", 4) end
    local want = m.errorType
    return function(_, err) return type(err) == "table" and err.code == want end
  elseif m.success ~= nil then
    if type(m.success) ~= "boolean" then error(where .. ": success must be a boolean", 4) end
    local want = m.success
    return function(_, err) return (err == nil) == want end
  end
  error(where .. ": matcher needs output, errorType, success or a function", 4)
end

local OPTIONS = { operation = true, acceptors = true, min_delay = true, max_delay = true, max_wait = true,
                  name = true, prepare = true }

local DELAY_OPTS = { "min_delay", "max_delay", "max_wait" }
local NO_OPTS = {}
local function check_delays(t, where, level)
  for _, k in ipairs(DELAY_OPTS) do
    local v = t[k]
    if v ~= nil and (type(v) ~= "number" or v ~= v or v < 0) then
      error(where .. ": option '" .. k .. "' must be a number >= 0", level)
    end
  end
end

--- Builds a waiter. `prepare(params) -> request params` (optional) lets a definition
-- take parameters the operation does not (say, the id to look for).
function M.new(def)
  if type(def) ~= "table" then error("laws.waiter: definition must be a table", 2) end
  for k in pairs(def) do
    if not OPTIONS[k] then error("laws.waiter: unknown option '" .. tostring(k) .. "'", 2) end
  end
  if type(def.operation) ~= "string" and not callable(def.operation) then
    error("laws.waiter: operation must be an operation name or a function", 2)
  end
  if type(def.acceptors) ~= "table" or #def.acceptors == 0 then
    error("laws.waiter: acceptors must be a non-empty list", 2)
  end
  check_delays(def, "laws.waiter", 3)
  local acceptors = {}
  for i, a in ipairs(def.acceptors) do
    if type(a) ~= "table" or not STATES[a.state] then
      error("laws.waiter: acceptor " .. i .. ": state must be success, failure or retry", 2)
    end
    acceptors[i] = { state = a.state, match = compile_matcher(a.matcher, i) }
  end
  local w = setmetatable({
    name = def.name, operation = def.operation, acceptors = acceptors, prepare = def.prepare,
    min_delay = def.min_delay or 0.05, max_delay = def.max_delay or 2, max_wait = def.max_wait or 30,
  }, Waiter)
  if w.max_delay < w.min_delay then error("laws.waiter: max_delay must be >= min_delay", 2) end
  return w
end

-- Smithy's delay rule on top of the schedule (csrc/backoff.c, floor jitter: random between
-- min_delay and min(max_delay, min_delay * 2^(n-1))): the last attempt happens right at
-- the deadline rather than a wait past it.
local function delay(sched, n, remaining, min_delay)
  local d = sched:next(n, 0)
  if remaining - d <= min_delay then d = remaining - min_delay end
  -- less than min_delay left: one last attempt at the deadline (never a zero wait that
  -- would spin when calls take no time)
  if d <= 0 then d = remaining end
  return d
end

local function schedule(min_d, max_d, seed)
  return core.backoff_new{ kind = "exponential", base = min_d, cap = max_d, jitter = "floor", seed = seed }
end

-- One attempt of a wait: the operation, then the acceptors decide; nil and the results
-- to return, or the delay before the next attempt.
local function wait_step(s)
  local w, req = s.waiter, s.req
  local result, err
  if type(w.operation) == "string" then
    result, err = s.client:call(w.operation, req)
  else
    result, err = w.operation(s.client, req)
  end
  local attempt = s.attempt + 1
  s.attempt = attempt
  local state
  local acceptors = w.acceptors
  for i = 1, #acceptors do
    local a = acceptors[i]
    if a.match(result, err, req) then state = a.state; break end
  end
  if state == "success" then
    if err ~= nil and type(err) == "table" then err.waiter_state = "success" end
    return nil, result, err
  elseif state == "failure" then
    return nil, nil, errors.new{ code = "WaiterFailure", attempts = attempt, result = result, cause = err,
      message = (w.name or "waiter") .. " reached a failure state" ..
                (type(err) == "table" and err.code and (" (" .. err.code .. ")") or "") }
  elseif state == nil and err ~= nil then
    if type(err) == "table" then err.attempts = attempt end
    return nil, nil, err
  end
  local remaining = s.max_wait - (runtime.now() - s.start)
  if remaining <= 0 then
    return nil, nil, errors.new{ code = "WaiterTimeout", attempts = attempt, result = result, cause = err,
      message = (w.name or "waiter") .. " did not succeed within " .. s.max_wait .. " s" }
  end
  local d = delay(s.sched, attempt, remaining, s.min_d)
  if s.on_retry then s.on_retry{ attempt = attempt, delay = d, result = result, err = err } end
  return d
end

function Waiter:wait(client, params, opts)
  if opts ~= nil and type(opts) ~= "table" then error("waiter:wait: opts must be a table", 2) end
  if opts then check_delays(opts, "waiter:wait", 3) else opts = NO_OPTS end
  local seed = opts.seed
  if seed ~= nil and not (type(seed) == "number" and seed % 1 == 0 and math.abs(seed) < 2 ^ 53) then
    error("waiter:wait: option 'seed' must be an integer", 2)
  end
  local min_d = opts.min_delay or self.min_delay
  local max_d = math.max(min_d, opts.max_delay or self.max_delay)
  local req = params
  if self.prepare then req = self.prepare(params or {}) end
  return loop(wait_step, {
    waiter = self, client = client, req = req, on_retry = opts.on_retry, attempt = 0,
    max_wait = opts.max_wait or self.max_wait, start = runtime.now(),
    min_d = min_d, sched = schedule(min_d, max_d, seed),
  })
end

Waiter.__call = Waiter.wait

-- The module of a service's waiter definitions: laws.retry.waiters.<service>.
local function defs_module(service) return "laws.retry.waiters." .. service:gsub("[^%w]", "_") end

--- The waiter definitions laws ships for a service (a table), or false when there are
-- none. Definition files are optional, so "no such file" is an answer; a file that is
-- there but does not load (a syntax error, a runtime error) raises, naming it.
local defs_of = {}  -- service -> its definitions (false: none); client:wait looks up per call
local function definitions(service)
  local defs = defs_of[service]
  if defs ~= nil then return defs end
  local name = defs_module(service)
  local ok, mod = pcall(require, name)
  if ok then
    if type(mod) ~= "table" then error("laws.waiter: " .. name .. " must return a table of waiters", 3) end
    defs = mod
  elseif type(mod) == "string" and mod:find("module '" .. name .. "' not found", 1, true) == 1 then
    defs = false
  else
    error("laws.waiter: the waiter definitions " .. name .. " do not load: " .. tostring(mod), 3)
  end
  defs_of[service] = defs
  return defs
end

--- A waiter laws defines for a service (lua/laws/retry/waiters/<service>.lua), or nil.
function M.get(service, name)
  if type(service) ~= "string" then error("laws.waiter.get: service must be a string", 2) end
  if type(name) ~= "string" then error("laws.waiter.get: name must be a string", 2) end
  local defs = definitions(service)
  if not defs or not defs[name] then return nil end
  local w = defs[name]
  if getmetatable(w) ~= Waiter then
    local def = {}
    for k, v in pairs(w) do def[k] = v end
    def.name = def.name or name
    w = M.new(def)
    defs[name] = w
  end
  return w
end

--- Names of the waiters laws defines for a service.
function M.list(service)
  if type(service) ~= "string" then error("laws.waiter.list: service must be a string", 2) end
  local names = {}
  for k in pairs(definitions(service) or {}) do names[#names + 1] = k end
  table.sort(names)
  return names
end

return setmetatable(M, { __call = function(_, def) return M.new(def) end })
