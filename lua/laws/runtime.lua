--- The clock, sleep and HTTP of the world laws runs in, behind ONE backend table.
-- Three backends exist:
--   * blocking (runtime.blocking): the C core's monotonic clock, nanosleep and libcurl;
--   * laws.async's, in use while its scheduler resumes tasks: inside a task it yields to the
--     scheduler, anywhere else it hands the call to the blocking backend (one hop);
--   * OpenResty's (laws.ngx), in use from the start when laws loads under ngx_lua (below).
-- Requiring a module never changes the backend; nothing else in laws calls a clock, a sleep
-- or a transport directly.
local core = require "laws.native"

local M = {}

local FIELDS = { "now", "time", "sleep", "request", "send", "wait", "wake" }

-- send over a given request function: build, then request
local function send_over(request)
  return function(build, opts)
    local req, err = build()
    if not req then return nil, err end
    return request(req, opts)
  end
end

local blocking = {}
M.blocking = blocking

--- Monotonic seconds (float).
blocking.now = core.monotonic
--- Wall-clock epoch seconds (float), used for signing and credential expiry.
blocking.time = core.wall_time

function blocking.sleep(s)
  if s > 0 then core.sleep(s) end
  return true
end

local http -- laws.http, loaded on the first request
function blocking.request(req, opts)
  local session = opts and opts.session
  if session then return session:request(req) end
  http = http or require "laws.http"
  return http.request(req)
end


-- Nobody else runs while this thread blocks: the event is set by the caller's own code (or
-- never), so a short poll is all it takes.
function blocking.wait(event, timeout)
  local deadline = core.monotonic() + (timeout or math.huge)
  while not event.done do
    if core.monotonic() >= deadline then return false end
    core.sleep(0.002)
  end
  return true
end

function blocking.wake() end

blocking.send = send_over(blocking.request)

local backend = blocking

local function check_backend(b, fname)
  if type(b) ~= "table" then
    error(("bad argument #1 to '%s' (backend table expected, got %s)"):format(fname, type(b)), 3)
  end
  for _, k in ipairs(FIELDS) do
    if type(b[k]) ~= "function" then
      error(("bad argument #1 to '%s' (backend has no function '%s')"):format(fname, k), 3)
    end
  end
end

--- Make `b` the backend (a table with now, time, sleep, request, send, wait, wake). Returns
-- the backend it replaces, to put back with another use().
function M.use(b)
  check_backend(b, "use")
  local prev = backend
  backend = b
  return prev
end

--- The backend in use.
function M.backend() return backend end

--- A new backend: the one in use, with the functions of `fields` in place of its own (for
-- specs and benches: a fake clock, a scripted transport). Functions are copied, not
-- chained: a call reaches the given function or the one in use at creation, directly. A
-- given `request` without a `send` also serves send (build, then that request).
function M.override(fields)
  if type(fields) ~= "table" then
    error("bad argument #1 to 'override' (table expected, got " .. type(fields) .. ")", 2)
  end
  local b = {}
  for _, k in ipairs(FIELDS) do b[k] = backend[k] end
  for k, v in pairs(fields) do
    if b[k] == nil then error("bad argument #1 to 'override' (unknown function '" .. tostring(k) .. "')", 2) end
    if type(v) ~= "function" then error("bad argument #1 to 'override' (" .. k .. " must be a function)", 2) end
    b[k] = v
  end
  if fields.request and not fields.send then b.send = send_over(fields.request) end
  return b
end

--- Monotonic seconds (float).
function M.now() return backend.now() end

--- Wall-clock epoch seconds (float), used for signing and credential expiry.
function M.time() return backend.time() end

--- Wait `s` seconds: true, or nil, err when the wait cannot happen (a cancelled task, an
-- nginx phase that cannot wait); every loop that sleeps stops with that error.
function M.sleep(s) return backend.sleep(s) end

--- Send one HTTP request: `req` as for laws.http.request; `opts.session` an optional
-- laws.http session. Returns res or nil, err.
function M.request(req, opts) return backend.request(req, opts) end

--- Send the request `build()` returns (req, or nil, err) once it can go out. Under
-- laws.async a task at its client's in-flight limit queues *before* build() runs, so the
-- request is built and signed when a transfer slot is free: a queued call never holds a
-- signature going stale (SigV4 allows 5 minutes of skew) nor a signed copy of its request.
function M.send(build, opts) return backend.send(build, opts) end

--- Park the caller until `event.done` is true or `timeout` seconds passed: true when done,
-- false on timeout, nil, err when the caller cannot wait (a cancelled task).
function M.wait(event, timeout) return backend.wait(event, timeout) end

--- Wake whoever waits on `event` (call after setting event.done = true).
function M.wake(event) return backend.wake(event) end

-- Under ngx_lua the OpenResty backend is the one in use from the start, so `require "laws"`
-- is all it takes inside nginx (cosockets, ngx.sleep, a clear error in phases that cannot
-- yield, blocking in the master's init phase).
if type(ngx) == "table" and type(ngx.get_phase) == "function" then -- luacheck: ignore
  backend = require("laws.ngx").backend(blocking)
end

return M
