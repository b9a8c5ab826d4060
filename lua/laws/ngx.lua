--- laws inside nginx/OpenResty: the OpenResty backend of laws.runtime, which laws.runtime
-- puts in use by itself when it loads under ngx_lua (`require "laws"` is all it takes):
--   * HTTP goes over cosockets (laws.transport.cosocket), waits use ngx.sleep, so a worker
--     keeps serving other requests while one waits;
--   * in the master's init phase (init_by_lua*) nothing can yield and no request is being
--     served, so it hands calls to the blocking backend (libcurl, nanosleep) there;
--   * in every other phase without cosockets (init_worker, set, header/body filters, log,
--     balancer) HTTP and waits return a clear `NgxPhase` error instead of blocking the
--     worker or dying with "attempt to yield across C-call boundary".
-- Also: configure() sets the cosocket transport's options, quota() keeps the AWS retry
-- quota in an ngx.shared.DICT (one budget for every worker), credentials() wraps a provider
-- in laws.credentials' single-flight refresh.
local errors = require "laws.errors"

local M = {}
local ngx = ngx -- luacheck: ignore

-- Phases where cosockets and ngx.sleep work (ngx_lua's "yieldable" contexts).
M.yieldable = {
  rewrite = true, server_rewrite = true, access = true, content = true, timer = true,
  ssl_cert = true, ssl_session_fetch = true, ssl_client_hello = true, preread = true,
}
-- Phases where blocking is harmless: the master before it forks, nothing is served yet.
M.blocking_ok = { init = true }

local function phase()
  return ngx.get_phase and ngx.get_phase() or "content"
end
M.phase = phase

local function phase_error(what, p)
  return nil, errors.new{
    code = "NgxPhase", retryable = false,
    message = ("laws cannot %s in nginx phase '%s': it has no cosockets and blocking would stall " ..
      "the worker; do it from a request phase or a timer (ngx.timer.at(0, fn))"):format(what, p),
  }
end

-- Options of the cosocket transport (pool_size, keepalive_timeout, ssl_verify, server_name,
-- timeout, connect_timeout), read on every request.
local transport_opts = {}

--- Set the cosocket transport's options for the requests that follow (nil: the defaults).
function M.configure(opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #1 to 'configure' (table expected, got " .. type(opts) .. ")", 2)
  end
  transport_opts = opts or {}
end

-- Delays below ngx.sleep's 1 ms resolution round up to it: ngx.sleep(0) and ngx.sleep(< 1 ms)
-- warn "ngx.sleep(0) called without delayed events patch, this will hurt performance" on
-- every call in a stock OpenResty, and a full-jitter retry policy draws such delays.
local MIN_SLEEP = 0.001

--- The OpenResty backend for laws.runtime; `blocking` is the backend it hands calls to in
-- the master's init phase.
function M.backend(blocking)
  local cosocket = require "laws.transport.cosocket"
  local b = {}

  -- Elapsed time from the C core's monotonic clock (a vDSO read, never blocks); ngx.now()
  -- is cached per event-loop turn and would miss time spent signing.
  b.now = blocking.now
  function b.time() return ngx.now() end

  function b.request(req, ropts)
    local p = phase()
    if M.yieldable[p] then return cosocket.request(req, transport_opts) end
    if M.blocking_ok[p] then return blocking.request(req, ropts) end
    return phase_error("send an HTTP request", p)
  end

  function b.send(build, ropts)
    local req, err = build()
    if not req then return nil, err end
    return b.request(req, ropts)
  end

  function b.sleep(s)
    if s <= 0 or s ~= s then return true end
    local p = phase()
    if M.yieldable[p] then
      ngx.sleep(s < MIN_SLEEP and MIN_SLEEP or s)
      return true
    end
    if M.blocking_ok[p] then return blocking.sleep(s) end
    return phase_error("wait", p)
  end

  -- runtime.wait/wake (single-flight credential refresh): an ngx.semaphore on the event.
  function b.wait(event, timeout)
    if event.done then return true end
    local p = phase()
    if not M.yieldable[p] then
      if M.blocking_ok[p] then return blocking.wait(event, timeout) end
      return phase_error("wait", p)
    end
    local sema = event._ngx_sema
    if not sema then
      sema = assert(require("ngx.semaphore").new(0))
      event._ngx_sema = sema
    end
    ngx.update_time()
    local deadline = ngx.now() + (timeout or 1e9)
    while not event.done do
      -- ngx.now() only moves when the worker turns its event loop, and sema:wait(< 1 ms)
      -- returns "timeout" without yielding: without these two, a waiter with a sliver of
      -- time left would spin forever and freeze the worker
      ngx.update_time()
      local left = deadline - ngx.now()
      if left < MIN_SLEEP then return false end
      event._ngx_waiters = (event._ngx_waiters or 0) + 1
      local ok = sema:wait(left)
      -- timed out: no longer waiting (unless a wake already counted this waiter out)
      if not ok and event._ngx_waiters > 0 then event._ngx_waiters = event._ngx_waiters - 1 end
    end
    return true
  end

  function b.wake(event)
    local sema, n = event._ngx_sema, event._ngx_waiters or 0
    if sema and n > 0 then
      event._ngx_waiters = 0
      sema:post(n)
    end
  end

  return b
end

local function shared_dict(dict, who)
  if type(dict) == "string" then
    local d = ngx.shared[dict]
    if not d then error(who .. ": no lua_shared_dict named '" .. dict .. "'", 3) end
    return d
  end
  if type(dict) ~= "table" and type(dict) ~= "userdata" then error(who .. ": dict expected", 3) end
  return dict
end

--- Retry quota in a shared dict: the interface of the C token bucket (doc/INTERNALS.md),
-- `acquire(cost) -> bool`, `release(amount)`, `available() -> n`, with every worker
-- drawing from one budget. Updates are single atomic dict:incr calls, so no lock.
-- dict: an ngx.shared.DICT or its name; opts.key (default "laws:quota"), opts.capacity
-- (default 500, the AWS SDK's initial retry quota).
function M.quota(dict, opts)
  opts = opts or {}
  dict = shared_dict(dict, "laws.ngx.quota")
  local key = opts.key or "laws:quota"
  local cap = opts.capacity or 500
  assert(type(cap) == "number" and cap >= 0, "laws.ngx.quota: capacity must be a non-negative number")
  local q = { key = key, capacity = cap, dict = dict }

  function q.acquire(_, cost)
    local v, err = dict:incr(key, -cost, cap)
    if not v then return nil, err end
    if v < 0 then -- not enough: give the tokens back, the caller must not retry
      dict:incr(key, cost, cap)
      return false
    end
    return true
  end

  function q.release(_, amount)
    if not amount or amount <= 0 then return end
    local v = dict:incr(key, amount, cap)
    -- Above capacity: take back this release's own share of the excess only, so two
    -- releases racing at the cap cannot push the budget below it.
    if v and v > cap then dict:incr(key, -math.min(amount, v - cap)) end
  end

  function q.available()
    local v = dict:get(key)
    if v == nil then return cap end
    return v < 0 and 0 or v
  end

  function q.reset() dict:set(key, cap) end
  return q
end

--- The adaptive retry mode's CUBIC rate limiter shared by every worker: the C core's
-- limiter (the math stays in C) whose state lives in the dict between calls, updated under
-- a short dict lock. Interface of the C object: `acquire(now) -> seconds to wait`,
-- `update(now, throttled)`, `state()`. `now` is the monotonic clock, which is the same
-- in every worker. Pass it as `retry = { mode = "adaptive", limiter = ... }`.
function M.rate_limiter(dict, opts)
  dict = shared_dict(dict, "laws.ngx.rate_limiter")
  opts = opts or {}
  local core = require "laws.native"
  local key = opts.key or "laws:ratelimiter"
  local lock = key .. ":lock"
  local rl = core.ratelimiter_new(core.monotonic())
  local init = rl:dump()
  local r = { dict = dict, key = key }

  -- Held for a few microseconds; a worker dying while holding it frees it after 0.1 s.
  local function with_state(fn, ...)
    local spins = 0
    while not dict:add(lock, true, 0.1) do
      spins = spins + 1
      if M.yieldable[phase()] then ngx.sleep(0.001)
      elseif spins > 1e6 then return nil, "rate limiter lock busy" end
    end
    local s = dict:get(key)
    rl:load(s or init)
    local ok, v = pcall(fn, rl, ...)
    if ok then dict:set(key, rl:dump()) end
    dict:delete(lock)
    if not ok then error(v, 0) end
    return v
  end

  function r.acquire(_, now) return with_state(rl.acquire, now) or 0 end
  function r.update(_, now, throttled) with_state(rl.update, now, throttled) end
  function r.state() return with_state(rl.state) end
  function r.reset() dict:delete(key) end
  return r
end

--- Wrap a credentials provider (anything with :get() -> creds | nil, err) in laws.credentials'
-- caching provider: one light thread per worker refreshes while the others park on an
-- ngx.semaphore (runtime.wait/wake), and the result is reused until `refresh_window`
-- seconds (default 300; `refresh_before` is its older name) before its expiry.
-- Credentials without an expiry (static keys) are cached for good.
function M.credentials(provider, opts)
  opts = opts or {}
  return require("laws.credentials").provider("ngx", function(_, fopts) return provider:get(fopts) end,
    { refresh_window = opts.refresh_window or opts.refresh_before, wait_timeout = opts.wait_timeout })
end

return M
