--- laws.async.transport: runtime.request and runtime.send inside a task, on the libcurl
-- multi driver.
-- One multi handle per process: connections and DNS cache are shared by every task.
-- Transfers in flight are limited per key (the client's http session, or opts.limit_key);
-- beyond the limit a task queues, and a finishing transfer hands its slot to the next one.
local core = require "laws.native"

local M = {}
M.default_limit = 32   -- per key, when neither set_limit nor opts.max_in_flight says otherwise

local limits = setmetatable({}, { __mode = "k" })
local DEFAULT_KEY = {}
local inst

function M.set_limit(key, n)
  if key == nil then M.default_limit = n else limits[key] = n end
end

local T = {}
T.__index = T

-- Transport errors come from the http binding as laws.errors values (laws.http installs the
-- metatable); loading laws.http here makes sure it is there before the first transfer.
require "laws.http"

local function new(sched)
  return setmetatable({
    sched = sched, multi = core.multi_new(),
    waiting = {},                                   -- transfer id -> task
    inflight = setmetatable({}, { __mode = "k" }),  -- key -> transfers in flight
    queues = setmetatable({}, { __mode = "k" }),    -- key -> { head, tail, [i] = task }
    nactive = 0, nqueued = 0,
  }, T)
end

function M.get(sched)
  inst = inst or new(sched)
  return inst
end

-- Per task, while it uses the transport (a task has one request at a time): t.xkey, the key
-- of its slot; t.xqueued, its block's token while it queues for one; t.xid, its transfer.
-- The on_cancel functions below are shared: no closure nor entry table per request.

-- on_cancel of a task woken with a slot but not yet run: give the slot back.
local function return_slot(t) inst:release(t.xkey) end

-- A slot of `key` is free: give it to the first live queued task, or count it back.
-- Queue entries of tasks cancelled while queued (xqueued cleared) are skipped.
function T:release(key)
  local q = self.queues[key]
  while q and q.head <= q.tail do
    local t = q[q.head]
    q[q.head] = nil
    q.head = q.head + 1
    local tok = t.xqueued
    if tok then
      t.xqueued = false
      self.nqueued = self.nqueued - 1
      if self.sched._wake(t, tok, 1, true) then
        -- the slot is the woken task's now; if it is cancelled before it runs, give it back
        t.on_cancel = return_slot
        return
      end
    end
  end
  self.inflight[key] = self.inflight[key] - 1
end

-- on_cancel of a queued task: its entry is dead.
local function cancel_queued(t)
  if t.xqueued then
    t.xqueued = false
    inst.nqueued = inst.nqueued - 1
  end
end

-- on_cancel of a task waiting for its transfer: the transfer leaves the multi handle now,
-- its slot goes to the next task.
local function cancel_transfer(t)
  local id = t.xid
  t.xid = false
  local self = inst
  if not id or self.waiting[id] ~= t then return end
  self.multi:cancel(id)
  self.waiting[id] = nil
  self.nactive = self.nactive - 1
  self:release(t.xkey)
end

--- Send req from task t; t yields until the response. Returns res or nil, err.
-- `req` may be a function returning the request (or nil, err): it runs once the slot is
-- ours (runtime.send), so a request that queued is built and signed just before it goes out.
function T:request(t, req, opts)
  local sched = self.sched
  local key = opts and (opts.limit_key or opts.session) or DEFAULT_KEY
  local limit = opts and opts.max_in_flight or limits[key] or M.default_limit
  local n = self.inflight[key] or 0
  if n >= limit then
    local q = self.queues[key]
    if not q then q = { head = 1, tail = 0 }; self.queues[key] = q end
    q.tail = q.tail + 1
    q[q.tail] = t
    t.xqueued = t.token + 1
    t.xkey = key
    self.nqueued = self.nqueued + 1
    -- woken by release() with the slot already ours, or with nil, err when cancelled
    local got, err = sched._block(t, cancel_queued)
    if not got then return nil, err end
  else
    self.inflight[key] = n + 1
  end
  if type(req) == "function" then
    local ok, r, err = pcall(req)
    if not ok then
      self:release(key)
      error(r, 0)
    end
    if not r then
      self:release(key)
      return nil, err
    end
    req = r
  end
  local ok, id, info = pcall(self.multi.submit, self.multi, req, opts and opts.session)
  if not ok then  -- misuse (bad request table): free the slot, then raise as the caller's error
    self:release(key)
    error(id, 3)
  end
  if not id then
    self:release(key)
    return nil, info
  end
  self.waiting[id] = t
  self.nactive = self.nactive + 1
  t.xid, t.xkey = id, key
  local r1, r2 = sched._block(t, cancel_transfer)
  t.xid = false
  return r1, r2
end

--- Wait at most `wait` seconds for transfer events; wake the tasks whose transfer ended.
function T:poll(wait)
  local multi, wake = self.multi, self.sched._wake
  multi:poll(wait)
  while true do
    local id, res, info = multi:done()
    if not id then break end
    local t = self.waiting[id]
    if t then
      self.waiting[id] = nil
      self.nactive = self.nactive - 1
      -- t blocks on this transfer (it leaves waiting[] when cancelled): its current token
      if res then wake(t, t.token, 1, res)
      else wake(t, t.token, 2, nil, info) end
      self:release(t.xkey)
    end
  end
end

-- Transfers in flight: what a poll can finish. Queued requests wait for one of those (a queue
-- with nothing in flight could never move: drive() reports it as a deadlock, not a hang).
function T:pending() return self.nactive end
function T:counts() return self.nactive, self.nqueued end
function T:timeout() return self.multi:timeout() end
function T:fds() return self.multi:fds() end

return M
