--- The swap point between laws and the world it runs in: clock, sleep and HTTP.
-- Plain Lua uses the C core (monotonic clock, nanosleep, libcurl). laws.async and the
-- OpenResty glue install their own functions here (yielding sleep, cosocket or multi
-- transport); nothing else in laws calls a clock, a sleep or a transport directly.
local M = {}

local core_ok, core = pcall(require, "laws.native")
if not core_ok then core = {} end

local hooks = {}

--- Install hooks: { now = fn, time = fn, sleep = fn, request = fn(req, opts) }.
-- A hook set to false is removed. Returns the previous hooks so a caller can restore them.
function M.install(t)
  local prev = {}
  for k, v in pairs(t) do
    prev[k] = hooks[k] or false
    hooks[k] = v or nil
  end
  return prev
end

--- Monotonic seconds (float).
function M.now()
  if hooks.now then return hooks.now() end
  if core.monotonic then return core.monotonic() end
  return os.clock()
end

--- Wall-clock epoch seconds (float), used for signing and credential expiry.
function M.time()
  if hooks.time then return hooks.time() end
  if core.wall_time then return core.wall_time() end
  return os.time()
end

-- What sleep, request, wait and wake do with no hook installed. A hook that handles only
-- some callers (laws.async: only its tasks) hands the others to the hook it replaced or,
-- when there was none, to these.
local default = {}
M.default = default

function default.sleep(s)
  if s <= 0 then return true end
  if core.sleep then core.sleep(s); return true end
  local t = os.time() + math.ceil(s)
  while os.time() < t do end
  return true
end

function default.request(req, opts)
  local session = opts and opts.session
  if session then return session:request(req) end
  return require("laws.http").request(req)
end

-- polls with M.sleep (not default.sleep): it yields under any scheduler's sleep hook
function default.wait(event, timeout)
  local deadline = M.now() + (timeout or math.huge)
  while not event.done do
    if M.now() >= deadline then return false end
    M.sleep(0.002)
  end
  return true
end

function default.wake() end

--- Wait `s` seconds: true, or nil, err when the wait cannot happen (a cancelled task, an
-- nginx phase that cannot wait); every loop that sleeps stops with that error.
-- Yields instead of blocking when a scheduler installed a hook.
function M.sleep(s)
  if hooks.sleep then return hooks.sleep(s) end
  return default.sleep(s)
end

--- Send one HTTP request: `req` as for laws.http.request; `opts.session` an optional
-- laws.http session. Returns res or nil, err.
function M.request(req, opts)
  if hooks.request then return hooks.request(req, opts) end
  return default.request(req, opts)
end

--- Send the request `build()` returns (req, or nil, err) once it can go out. Under
-- laws.async a task at its client's in-flight limit queues *before* build() runs, so the
-- request is built and signed when a transfer slot is free: a queued call never holds a
-- signature going stale (SigV4 allows 5 minutes of skew) nor a signed copy of its request.
-- Without a `send` hook: build() now, then request() (whatever hook that has).
function M.send(build, opts)
  if hooks.send then return hooks.send(build, opts) end
  return default.send(build, opts)
end

function default.send(build, opts)
  local req, err = build()
  if not req then return nil, err end
  return M.request(req, opts)
end

--- Park the caller until `event.done` is true or `timeout` seconds passed; true when done.
-- A scheduler installs `wait`/`wake` hooks to park tasks; the default polls.
function M.wait(event, timeout)
  if hooks.wait then return hooks.wait(event, timeout) end
  return default.wait(event, timeout)
end

--- Wake whoever waits on `event` (call after setting event.done = true).
function M.wake(event)
  if hooks.wake then return hooks.wake(event) end
end

-- Under nginx's lua module: cosocket HTTP and ngx.sleep in request/timer phases, a clear
-- error where nginx cannot yield (lua/laws/ngx.lua). runtime.install can still override.
if type(ngx) == "table" and type(ngx.get_phase) == "function" then -- luacheck: ignore
  package.loaded["laws.runtime"] = M
  require("laws.ngx").install(nil, M)
end

return M
