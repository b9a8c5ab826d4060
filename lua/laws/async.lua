--- laws.async: many laws calls from one thread, as coroutines ("tasks").
-- While the scheduler runs tasks, laws.runtime's backend is this module's: inside a task a
-- sleep becomes a timer and a request a transfer on the libcurl multi driver, and the task
-- yields until either is done, so client calls, laws.retry waits and waiter waits need no
-- change. Anywhere else (outside a task, or between scheduler turns) calls take the blocking
-- backend. The loop that resumes tasks lives here, in Lua: C only reports finished transfers.
local runtime = require "laws.runtime"
local errors = require "laws.errors"
local Heap = require "laws.async.heap"
local transport = require "laws.async.transport"

local M = {}
local unpack = table.unpack or unpack
local pack = table.pack or function(...) return { n = select("#", ...), ... } end
local huge, max, min = math.huge, math.max, math.min

local BLOCK = {}        -- yielded by block(): the task waits for wake()
local timers = Heap.new()
-- Ready queue: slot k holds ready[4k-3..4k] = task, n, a1, a2: what the task's next resume
-- passes it (n values: a1 and a2, or when n > 2 a1 = pack(...)). Slots rhead..rtail are live.
-- Keeping the values here, not in the task, leaves no field toggling between a value and nil
-- in the task table (each such toggle can cost it a rehash once the GC clears the dead key).
local ready, rhead, rtail = {}, 1, 0
local running           -- the task being resumed (nil between tasks)
local live = 0          -- tasks not done
local co_running, co_resume, co_yield = coroutine.running, coroutine.resume, coroutine.yield
local io                -- the transport (libcurl multi driver), made when this module loads

local Task = {}
Task.__index = Task
Task.__name = "laws.async.task"

-- The backend this scheduler hands calls made outside its tasks to: the one in use when it
-- took over (the blocking backend, unless a spec put a fake clock in place).
local base = runtime.blocking
local function now() return base.now() end

local backend = {}   -- laws.runtime's backend while the scheduler runs (filled in below)
M.backend = backend

-- The scheduler takes over laws.runtime while it resumes tasks (or unwinds a cancelled one)
-- and gives it back after: outside a turn, nothing of this module is in the way.
local function enter()
  local outer, prev_base = runtime.use(backend), base
  if outer ~= backend then base = outer end
  return outer, prev_base
end
local function leave(outer, prev_base)
  runtime.use(outer)
  base = prev_base
end

-- The running task, unless the caller is a coroutine of its own inside that task (that one
-- blocks as outside any task: yielding it would hand BLOCK to the task's code).
local function current_task()
  local t = running
  if t and t.co == co_running() then return t end
  return nil
end
M.current = current_task

local function push_ready(t, n, a1, a2)
  local k = rtail + 1
  rtail = k
  k = 4 * k
  ready[k - 3], ready[k - 2], ready[k - 1], ready[k] = t, n, a1, a2
end

local function new_group() return { live = 0, waiters = {} } end
local default_group = new_group()

--- Suspend the running task `t` until wake(t, token, ...) with the token returned here
-- (t.token after the call). `on_cancel` undoes whatever would wake it (timer, transfer).
-- A cancelled task resumes with nil, err (see Task:cancel).
local function block(t, on_cancel)
  -- cancelled, its code unwinding: it waits no more, Task:cancel drops it
  if t.status == "done" then return co_yield(BLOCK) end
  t.token = t.token + 1
  t.status = "waiting"
  t.on_cancel = on_cancel or false
  return co_yield(BLOCK)
end

--- Make `t` ready if it still blocks with `token`; block() then returns n (0 to 2) values:
-- a1, a2. Fixed arity, no table: it is on every transfer completion.
local function wake(t, token, n, a1, a2)
  if t.status ~= "waiting" or t.token ~= token then return false end
  t.status = "ready"
  t.on_cancel = false
  push_ready(t, n, a1, a2)
  return true
end
M._block, M._wake = block, wake   -- for laws.async.transport

local function wake_all(list)
  for i = 1, #list do
    local w = list[i]
    wake(w[1], w[2], 0)
  end
end

local function finish(t, vals)
  t.status = "done"
  t.results = vals
  t.on_cancel = false
  if t.deadline_timer then timers:cancel(t.deadline_timer); t.deadline_timer = false end
  live = live - 1
  local waiters = t.waiters
  if waiters then
    t.waiters = false
    wake_all(waiters)
  end
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
  return errors.new{ code = "TaskError", message = debug.traceback(t.co, tostring(e)),
                     cause = errors.redact(e) }
end

-- Every task's coroutine runs body(fn, ...): its results come back packed behind DONE, so
-- what a resume returns fits resumed()'s fixed parameters (no varargs per task switch).
local DONE = {}
local function body(fn, ...) return DONE, pack(fn(...)) end

local function resumed(t, ok, a, b)
  if ok then
    if a == BLOCK then return end  -- the common case (only block() yields BLOCK)
    if t.status == "done" then return end
    if a == DONE then finish(t, b)
    else
      -- a plain coroutine.yield() in task code: give the others a turn, then go on
      t.status = "ready"
      push_ready(t, 0)
    end
  elseif t.status ~= "done" then
    finish(t, { n = 2, nil, task_error(t, a) })
  end
end

local function resume(t, n, a1, a2)
  local co = t.co
  t.status = "running"
  t.started = true
  t.on_cancel = false  -- whatever it held while ready (a transfer slot) its own code owns now
  local prev = running
  running = t
  if n == 0 then resumed(t, co_resume(co))
  elseif n == 1 then resumed(t, co_resume(co, a1))
  elseif n == 2 then resumed(t, co_resume(co, a1, a2))
  else resumed(t, co_resume(co, unpack(a1, 1, n))) end
  running = prev
end

-- Resume the tasks that were ready when called; tasks made ready meanwhile wait a turn,
-- so a task that keeps yielding cannot starve timers and transfers. With `until_t`, resume
-- none once that time has passed (but at least `least` tasks): step(budget) keeps a game
-- frame's pace even when a thousand tasks wake at once, overrunning it by one task's slice
-- at most; the rest run on the next step.
local function run_ready(until_t, least)
  local last = rtail
  local n = 0
  while rhead <= last do
    if until_t and n >= least and now() >= until_t then break end
    local k = 4 * rhead
    local t, na, a1, a2 = ready[k - 3], ready[k - 2], ready[k - 1], ready[k]
    ready[k - 3], ready[k - 1], ready[k] = nil, nil, nil
    rhead = rhead + 1
    if t.status == "ready" then
      resume(t, na, a1, a2)
      n = n + 1
    end
  end
  -- Move what is left to the front: the slots stay 1..n (the table's array part, not a
  -- hash of ever-growing keys). Tasks made ready during the run are moved once at most.
  local left = rtail - rhead
  if left >= 0 then
    local from = 4 * (rhead - 1)
    if from > 0 then
      local last4 = 4 * left + 4
      for i = 1, last4 do ready[i] = ready[from + i] end  -- (LuaJIT has no table.move)
      for i = last4 + 1, from + last4 do ready[i] = nil end
    end
  end
  rhead, rtail = 1, left + 1
end

local function fire_timers()
  if timers.live == 0 then return end  -- no clock read when no timer is set
  local t = now()
  while true do
    local e = timers:pop_due(t)
    if not e then break end
    if e.fn then e.fn() else wake(e.task, e.token, 0) end
  end
end

local function spawn_in(group, fn, ...)
  if type(fn) ~= "function" then
    local mt = getmetatable(fn)
    if not (mt and mt.__call) then error("bad argument #1 to 'spawn' (function expected, got " .. type(fn) .. ")", 3) end
  end
  -- every field the scheduler and transport use, there from the start: false, never nil,
  -- when unset (no rehash of the task table while it runs)
  local t = setmetatable({ status = "ready", group = group, token = 0, co = false, started = false,
    on_cancel = false, timer = false, deadline_timer = false, waiters = false,
    xkey = false, xid = false, xqueued = false }, Task)
  t.co = coroutine.create(body)
  group.live = group.live + 1
  live = live + 1
  local n = select("#", ...)  -- the first resume passes body fn, ...
  if n <= 1 then push_ready(t, n + 1, fn, ...) else push_ready(t, n + 1, pack(fn, ...)) end
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

--- Cancel a task: it ends at once, and wait() on it returns nil, err (default code
-- Cancelled). Its pending sleep, wait or transfer is dropped (the transfer removed from the
-- multi handle) and returns nil, err to the task's code, which runs on now until it returns
-- (so every loop that sleeps stops with that error) or waits again (then it is dropped).
-- A task that cancels itself ends at once. Returns false when the task had already ended.
function Task:cancel(err)
  check_task(self, "cancel")
  if self.status == "done" then return false end
  err = err or errors.new{ code = "Cancelled", message = "task cancelled" }
  if self.status == "running" then error(err, 0) end
  local undo = self.on_cancel
  self.on_cancel = false
  if undo then undo(self) end
  finish(self, { n = 2, nil, err })
  local co = self.co
  if self.started then
    local outer, prev_base = enter()
    local prev = running
    running = self
    co_resume(co, nil, err)   -- what it does from here on is not its result: that is err
    running = prev
    leave(outer, prev_base)
  end
  -- Lua 5.4: run the pending to-be-closed variables of a task that waits again (or never ran)
  if coroutine.close and coroutine.status(co) == "suspended" then coroutine.close(co) end
  return true
end

--- Cancel the task with code DeadlineExceeded unless it ends within `seconds` from now.
-- A later call replaces the deadline; nil removes it. Returns the task.
function Task:set_deadline(seconds)
  check_task(self, "set_deadline")
  if seconds ~= nil and type(seconds) ~= "number" then
    error("bad argument #1 to 'set_deadline' (number expected, got " .. type(seconds) .. ")", 2)
  end
  if self.deadline_timer then timers:cancel(self.deadline_timer); self.deadline_timer = false end
  if seconds and self.status ~= "done" then
    self.deadline_timer = timers:push(now() + seconds, function()
      self.deadline_timer = false
      self:cancel(errors.new{ code = "DeadlineExceeded",
                              message = ("task deadline of %.3f s exceeded"):format(seconds) })
    end)
  end
  return self
end

function Task:status_name() return self.status end
function Task:done() return self.status == "done" end
function Task:__tostring() return "laws.async.task (" .. self.status .. ")" end

local function io_pending() return io:pending() > 0 end

--- One scheduler turn: take the transfer events already there, fire due timers, resume
-- ready tasks; then, with nothing ready, wait for transfer events at most what is left of
-- `max_wait` seconds (less when a timer is due sooner) and resume the tasks they wake. No
-- task starts once max_wait has passed (one does in any case), so a turn overruns it by
-- one task's slice, or by one poll of the transfers in flight (their in-flight limit bounds
-- that). Returns the number of tasks not yet done.
local function run_turn(max_wait)
  -- drive() passes huge: no time budget, so no clock read for one
  local t0 = max_wait < huge and now() or nil
  local until_t = t0 and t0 + max_wait
  if io_pending() then io:poll(0) end
  fire_timers()
  run_ready(until_t, 1)
  if rhead <= rtail then return live end  -- more ready: next turn (transfers polled first)
  local wait = t0 and max(0, until_t - now()) or huge
  local nt = timers:peek()
  if nt then wait = min(wait, max(0, nt - now())) end
  if wait == huge and not io_pending() then
    return live  -- nothing can ever happen: the caller (drive) reports the deadlock
  end
  if wait > 0 then
    io:poll(wait)
    fire_timers()
    run_ready(until_t, 0)
  end
  return live
end

local function turn(max_wait)
  local outer, prev_base = enter()
  local n = run_turn(max_wait)
  leave(outer, prev_base)
  return n
end

function M.step(max_wait)
  if max_wait == nil then max_wait = 0 end
  if type(max_wait) ~= "number" or max_wait ~= max_wait or max_wait < 0 then
    error("bad argument #1 to 'step' (non-negative number expected)", 2)
  end
  if current_task() then error("laws.async.step: called from inside a task", 2) end
  return turn(max_wait)
end

local function drive(done, what)
  while not done() do
    if rhead > rtail and timers.live == 0 and not io_pending() then
      error("laws.async: deadlock in " .. what .. ": tasks wait for each other and nothing else is pending", 3)
    end
    turn(huge)
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
      local ws = t.waiters
      if not ws then ws = {}; t.waiters = ws end
      ws[#ws + 1] = { cur, cur.token + 1 }
      local _, err = block(cur)
      if err then return nil, err end  -- cur was cancelled
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
      local _, err = block(cur)
      if err then return nil, err end  -- cur was cancelled
    end
  else
    drive(function() return g.live == 0 end, "run")
  end
  return unpack(t.results, 1, t.results.n)
end

local function cancel_timer(t) timers:cancel(t.timer) end

--- Sleep: inside a task a timer (the task yields), elsewhere the blocking backend's sleep.
-- Returns true, or nil, err when the task is cancelled meanwhile.
function M.sleep(s)
  if type(s) ~= "number" then error("bad argument #1 to 'sleep' (number expected, got " .. type(s) .. ")", 2) end
  local t = current_task()
  if not t then return base.sleep(s) end
  if t.status == "done" then return block(t) end
  if s ~= s or s <= 0 then s = 0 end
  t.timer = timers:push(now() + s, nil, t, t.token + 1)
  local _, err = block(t, cancel_timer)
  t.timer = false
  if err then return nil, err end
  return true
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
  return io:fds()
end

--- Number of tasks not done, and transfers in flight / queued.
function M.stats()
  local s = { tasks = live, ready = rtail - rhead + 1, timers = timers.live }  -- slots
  s.transfers, s.queued = io:counts()
  return s
end

--- Limit the transfers in flight for requests sent with this key (a laws.http session or
-- any value a client passes as `opts.limit_key`); beyond it requests queue. nil key: default
-- for every key without its own limit.
function M.set_limit(key, n)
  if type(n) ~= "number" or n < 1 then error("bad argument #2 to 'set_limit' (positive number expected)", 2) end
  transport.set_limit(key, n)
end

-- laws.runtime's backend while the scheduler runs: inside a task, yield to the scheduler;
-- anywhere else, the backend the scheduler took over from (one hop).
function backend.now() return base.now() end
function backend.time() return base.time() end
backend.sleep = M.sleep

-- runtime.request (req) and runtime.send (build: the transport calls it once the task holds
-- its slot).
function backend.request(req, opts)
  local t = current_task()
  if not t then return base.request(req, opts) end
  if t.status == "done" then return block(t) end
  return io:request(t, req, opts)
end

function backend.send(build, opts)
  local t = current_task()
  if not t then return base.send(build, opts) end
  if t.status == "done" then return block(t) end
  return io:request(t, build, opts)
end

--- runtime.wait inside a task: park until wake(event) (or `timeout` s); true when done,
-- false on timeout, nil, err when the task is cancelled meanwhile. Used by the credential
-- providers' single-flight refresh: one task fetches, the others wait.
function backend.wait(event, timeout)
  local t = current_task()
  if not t then return base.wait(event, timeout) end
  if t.status == "done" then return block(t) end
  if event.done then return true end
  local list = event._laws_async_waiters
  if not list then list = {}; event._laws_async_waiters = list end
  local tok = t.token + 1
  list[#list + 1] = { t, tok }
  local e
  if timeout and timeout < huge then
    e = timers:push(now() + timeout, function() wake(t, tok, 1, false) end)
  end
  local r, err = block(t, function() if e then timers:cancel(e) end end)
  if e then timers:cancel(e) end
  if err then return nil, err end
  if r == false then return event.done == true end
  return true
end

function backend.wake(event)
  local list = event._laws_async_waiters
  if list then
    event._laws_async_waiters = nil
    for i = 1, #list do wake(list[i][1], list[i][2], 1, true) end
  end
  return base.wake(event)
end

io = transport.get(M)

return M
