--- laws.async: many laws calls from one thread, as coroutines ("tasks").
-- Inside a task, laws.runtime's sleep becomes a timer and its request a transfer on the
-- libcurl multi driver; the task yields until either is done, so client calls, laws.retry
-- waits and waiter waits need no change. Outside a task both behave as before (blocking).
-- The loop that resumes tasks lives here, in Lua: C only reports finished transfers.
local runtime = require "laws.runtime"
local errors = require "laws.errors"
local Heap = require "laws.async.heap"

local M = {}
local unpack = table.unpack or unpack
local pack = table.pack or function(...) return { n = select("#", ...), ... } end
local huge, max, min = math.huge, math.max, math.min

local BLOCK = {}        -- yielded by block(): the task waits for wake()
local timers = Heap.new()
local ready, rhead, rtail = {}, 1, 0
local by_co = setmetatable({}, { __mode = "k" })  -- coroutine -> task
local live = 0          -- tasks not done
local io                -- laws.async.transport, loaded on first transfer

local Task = {}
Task.__index = Task
Task.__name = "laws.async.task"

local function now() return runtime.now() end

local function current_task()
  local co = coroutine.running()
  return co and by_co[co] or nil
end
M.current = current_task

local function push_ready(t)
  rtail = rtail + 1
  ready[rtail] = t
end

local function new_group() return { live = 0, waiters = {} } end
local default_group = new_group()

--- Suspend the running task `t` until wake(t, token, ...) with the token returned here
-- (t.token after the call). `on_cancel` undoes whatever would wake it (timer, transfer).
local function block(t, on_cancel)
  t.token = t.token + 1
  t.status = "waiting"
  t.on_cancel = on_cancel
  return coroutine.yield(BLOCK)
end

local NOARGS = { n = 0 }  -- shared, never written

local function wake(t, token, ...)
  if t.status ~= "waiting" or t.token ~= token then return false end
  t.status = "ready"
  t.on_cancel = nil
  t.args = select("#", ...) == 0 and NOARGS or pack(...)
  push_ready(t)
  return true
end
M._block, M._wake = block, wake   -- for laws.async.transport

local function wake_all(list)
  for i = 1, #list do
    local w = list[i]
    wake(w[1], w[2])
  end
end

local function finish(t, vals)
  t.status = "done"
  t.results = vals
  t.on_cancel = nil
  t.args = nil
  if t.deadline_timer then timers:cancel(t.deadline_timer); t.deadline_timer = nil end
  live = live - 1
  local waiters = t.waiters
  t.waiters = nil
  wake_all(waiters)
  local g = t.group
  g.live = g.live - 1
  if g.live == 0 then
    local gw = g.waiters
    g.waiters = {}
    wake_all(gw)
  end
end

local function task_error(t, e)
  if errors.is(e) then return e end  -- a task may end itself with a laws error (self-cancel)
  -- .cause keeps what was raised (an error table stays a table the caller can inspect)
  return errors.new{ code = "TASK_ERROR", message = debug.traceback(t.co, tostring(e)),
                     cause = errors.redact(e) }
end

local function resumed(t, ok, a, ...)
  if t.status == "done" then return end
  if coroutine.status(t.co) == "dead" then
    by_co[t.co] = nil
    if ok then finish(t, pack(a, ...))
    else finish(t, { n = 2, nil, task_error(t, a) }) end
  elseif a ~= BLOCK then
    -- a plain coroutine.yield() in task code: give the others a turn, then go on
    t.status = "ready"
    t.args = NOARGS
    push_ready(t)
  end
end

local function resume(t)
  local args = t.args
  t.args = nil
  t.status = "running"
  t.on_cancel = nil  -- whatever it held while ready (a transfer slot) its own code owns now
  resumed(t, coroutine.resume(t.co, unpack(args, 1, args.n)))
end

-- Resume the tasks that were ready when called; tasks made ready meanwhile wait a turn,
-- so a task that keeps yielding cannot starve timers and transfers. With `until_t`, stop
-- once that time has passed (after one task at least): step(budget) keeps a game frame's
-- pace even when a thousand tasks wake at once; the rest run on the next step.
local function run_ready(until_t)
  local last = rtail
  local n = 0
  while rhead <= last do
    local t = ready[rhead]
    ready[rhead] = nil
    rhead = rhead + 1
    if t.status == "ready" then
      resume(t)
      n = n + 1
      if until_t and n % 8 == 0 and now() >= until_t then break end
    end
  end
  if rhead > rtail then ready, rhead, rtail = {}, 1, 0 end
end

local function fire_timers()
  local t = now()
  while true do
    local e = timers:pop_due(t)
    if not e then break end
    if e.fn then e.fn() else wake(e.task, e.token) end
  end
end

local function spawn_in(group, fn, ...)
  local f = fn
  if type(fn) ~= "function" then
    local mt = getmetatable(fn)
    if not (mt and mt.__call) then error("bad argument #1 to 'spawn' (function expected, got " .. type(fn) .. ")", 3) end
    f = function(...) return fn(...) end
  end
  local t = setmetatable({ status = "ready", group = group, token = 0, waiters = {}, args = pack(...) }, Task)
  t.co = coroutine.create(f)
  by_co[t.co] = t
  group.live = group.live + 1
  live = live + 1
  push_ready(t)
  return t
end

--- Start `fn(...)` as a task; returns the task. It runs on the next scheduler turn.
function M.spawn(fn, ...)
  local cur = current_task()
  return spawn_in(cur and cur.group or default_group, fn, ...)
end

local function check_task(t, fname, i)
  if getmetatable(t) ~= Task then
    error(("bad argument #%d to '%s' (laws.async task expected, got %s)"):format(i or 1, fname, type(t)), 3)
  end
end

--- Cancel a task: its pending sleep or transfer is dropped (the transfer removed from the
-- multi handle), and wait() on it returns nil, err (default code CANCELLED). A task that
-- cancels itself ends at once. Returns false when the task had already ended.
function Task:cancel(err)
  check_task(self, "cancel")
  if self.status == "done" then return false end
  err = err or errors.new{ code = "CANCELLED", message = "task cancelled" }
  if self.status == "running" then error(err, 0) end
  local undo = self.on_cancel
  self.on_cancel = nil
  if undo then undo(self) end
  by_co[self.co] = nil
  finish(self, { n = 2, nil, err })
  -- Lua 5.4: run the task's pending to-be-closed variables now
  if coroutine.close then coroutine.close(self.co) end
  return true
end

--- Cancel the task with code DEADLINE_EXCEEDED unless it ends within `seconds` from now.
-- A later call replaces the deadline; nil removes it. Returns the task.
function Task:set_deadline(seconds)
  check_task(self, "set_deadline")
  if seconds ~= nil and type(seconds) ~= "number" then
    error("bad argument #1 to 'set_deadline' (number expected, got " .. type(seconds) .. ")", 2)
  end
  if self.deadline_timer then timers:cancel(self.deadline_timer); self.deadline_timer = nil end
  if seconds and self.status ~= "done" then
    self.deadline_timer = timers:push(now() + seconds, function()
      self.deadline_timer = nil
      self:cancel(errors.new{ code = "DEADLINE_EXCEEDED",
                              message = ("task deadline of %.3f s exceeded"):format(seconds) })
    end)
  end
  return self
end

function Task:status_name() return self.status end
function Task:done() return self.status == "done" end
function Task:__tostring() return "laws.async.task (" .. self.status .. ")" end

local function io_pending() return io and io:pending() > 0 end

-- Wait at most `wait` seconds for something to happen: a transfer event, or the clock.
local base_sleep
local function idle(wait)
  if io then return io:poll(wait) end
  if wait > 0 then base_sleep(wait) end
end

--- One scheduler turn: resume ready tasks, fire due timers, poll transfers. Waits for
-- transfer events at most `max_wait` seconds (default 0) and less when a timer is due
-- sooner or a task is ready; stops resuming tasks once max_wait has passed (tasks run
-- until they yield, so a turn can exceed it by one batch of 8 task slices). Returns the
-- number of tasks not yet done.
function M.step(max_wait)
  if max_wait == nil then max_wait = 0 end
  if type(max_wait) ~= "number" or max_wait ~= max_wait or max_wait < 0 then
    error("bad argument #1 to 'step' (non-negative number expected)", 2)
  end
  if current_task() then error("laws.async.step: called from inside a task", 2) end
  local t0 = now()
  local until_t = max_wait < huge and t0 + max_wait or nil
  fire_timers()
  run_ready(until_t)
  local wait = 0
  if rhead > rtail then
    wait = max(0, t0 + max_wait - now())
    local nt = timers:peek()
    if nt then wait = min(wait, max(0, nt - now())) end
  end
  if wait == huge and not io_pending() then
    return live  -- nothing can ever happen: the caller (drive) reports the deadlock
  end
  if wait > 0 or io_pending() then idle(wait) end
  fire_timers()
  run_ready(until_t)
  return live
end

local function drive(done, what)
  while not done() do
    if rhead > rtail and not timers:peek() and not io_pending() then
      error("laws.async: deadlock in " .. what .. ": tasks wait for each other and nothing else is pending", 3)
    end
    M.step(huge)
  end
end

--- Result of a task: blocks (outside a task: runs the scheduler) until the task ends,
-- then returns what its function returned (result, err), or nil, err if it raised or
-- was cancelled.
function M.wait(t)
  check_task(t, "wait")
  if t.status ~= "done" then
    local cur = current_task()
    if cur then
      if cur == t then error("laws.async.wait: a task cannot wait for itself", 2) end
      t.waiters[#t.waiters + 1] = { cur, cur.token + 1 }
      block(cur)
    else
      drive(function() return t.status == "done" end, "wait")
    end
  end
  return unpack(t.results, 1, t.results.n)
end

--- Wait for every task of the list. Returns results, errs: results[i] and errs[i] are
-- the first two values of task i (either may be nil).
function M.gather(tasks)
  if type(tasks) ~= "table" then error("bad argument #1 to 'gather' (table expected, got " .. type(tasks) .. ")", 2) end
  for i = 1, #tasks do check_task(tasks[i], "gather", 1) end
  local results, errs = {}, {}
  for i = 1, #tasks do
    local r, e = M.wait(tasks[i])
    results[i], errs[i] = r, e
  end
  return results, errs
end

--- Run fn(...) as a task and return when it and every task spawned from it (and from
-- those) have ended. Returns what fn returned (or nil, err).
function M.run(fn, ...)
  local g = new_group()
  local t = spawn_in(g, fn, ...)
  local cur = current_task()
  if cur then
    while g.live > 0 do
      g.waiters[#g.waiters + 1] = { cur, cur.token + 1 }
      block(cur)
    end
  else
    drive(function() return g.live == 0 end, "run")
  end
  return unpack(t.results, 1, t.results.n)
end

local function cancel_timer(t) timers:cancel(t.timer) end

--- Sleep inside a task: a timer, not a blocking call.
function M.sleep(s)
  if type(s) ~= "number" then error("bad argument #1 to 'sleep' (number expected, got " .. type(s) .. ")", 2) end
  local t = current_task()
  if not t then return base_sleep(s) end
  if s ~= s or s <= 0 then s = 0 end
  t.timer = timers:push(now() + s, nil, t, t.token + 1)
  block(t, cancel_timer)
  t.timer = nil
end

--- For external event loops: seconds until step() should be called again (0: now), or
-- nil when no timer is needed (nothing pending, or transfers that wait on fds() only).
function M.timeout()
  if rhead <= rtail then return 0 end
  local w
  local nt = timers:peek()
  if nt then w = max(0, nt - now()) end
  if io_pending() then
    local it = io:timeout()
    if it and (not w or it < w) then w = it end
  end
  return w
end

--- For external event loops: the sockets libcurl waits on, as a list of
-- { fd = n, read = bool, write = bool, id = n } (id changes when an fd number is reused by a
-- new connection: re-register it). Call step(0) when one is ready or timeout() elapsed.
function M.fds()
  if not io then return {} end
  return io:fds()
end

--- Number of tasks not done, and transfers in flight / queued.
function M.stats()
  local s = { tasks = live, ready = rtail - rhead + 1, timers = timers.live }
  if io then s.transfers, s.queued = io:counts() end
  return s
end

--- Limit the transfers in flight for requests sent with this key (a laws.http session or
-- any value a client passes as `opts.limit_key`); beyond it requests queue. nil key: default
-- for every key without its own limit.
function M.set_limit(key, n)
  if type(n) ~= "number" or n < 1 then error("bad argument #2 to 'set_limit' (positive number expected)", 2) end
  require("laws.async.transport").set_limit(key, n)
end

-- Hooks into laws.runtime: yield inside a task, behave as before outside one.
local core_ok, core = pcall(require, "laws.core")
if not core_ok then core = {} end
--- runtime.wait inside a task: park until wake(event) (or `timeout` s); true when done.
-- Used by the credential providers' single-flight refresh: one task fetches, the others wait.
local function event_wait(event, timeout)
  local t = current_task()
  if not t then return M._prev_wait(event, timeout) end
  if event.done then return true end
  local list = event._laws_async_waiters
  if not list then list = {}; event._laws_async_waiters = list end
  local tok = t.token + 1
  list[#list + 1] = { t, tok }
  local e
  if timeout and timeout < huge then
    e = timers:push(now() + timeout, function() wake(t, tok, false) end)
  end
  local r = block(t, function() if e then timers:cancel(e) end end)
  if e then timers:cancel(e) end
  if r == false then return event.done == true end
  return true
end

local function event_wake(event)
  local list = event._laws_async_waiters
  if list then
    event._laws_async_waiters = nil
    for i = 1, #list do wake(list[i][1], list[i][2], true) end
  end
  return M._prev_wake(event)
end

local prev = runtime.install{ sleep = M.sleep, wait = event_wait, wake = event_wake,
  request = function(req, opts)
    local t = current_task()
    if t then
      io = io or require("laws.async.transport").get(M)
      return io:request(t, req, opts)
    end
    return M._prev_request(req, opts)
  end,
  -- runtime.send: the slot first, then build() (the transport calls it), then the transfer
  send = function(build, opts)
    local t = current_task()
    if t then
      io = io or require("laws.async.transport").get(M)
      return io:request(t, build, opts)
    end
    return M._prev_send(build, opts)
  end }

-- Outside a task: what the replaced hooks (or runtime's defaults) did before, unchanged.
local fallback = runtime.default
base_sleep = function(s) return (prev.sleep or fallback.sleep)(s) end
function M._prev_request(req, opts) return (prev.request or fallback.request)(req, opts) end
function M._prev_send(build, opts)
  if prev.send then return prev.send(build, opts) end
  local req, err = build()
  if not req then return nil, err end
  return M._prev_request(req, opts)
end
function M._prev_wait(event, timeout) return (prev.wait or fallback.wait)(event, timeout) end
function M._prev_wake(event) return (prev.wake or fallback.wake)(event) end

-- step()/timeout() need the transport even before the first request (fds for an idle loop
-- are empty, but the idle wait uses its poll, a single syscall instead of a sleep).
if core.multi_new then io = require("laws.async.transport").get(M) end

return M
