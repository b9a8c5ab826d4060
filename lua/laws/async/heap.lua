--- Timer queue for laws.async: entries { at = seconds, seq = n, fn = f } (or, for the common
-- "wake this task", { task = t, token = n } instead of a closure), popped in (at, seq) order.
-- Two parts: a FIFO run of entries whose `at` never decreases, and a binary min-heap for the
-- rest. Timers pushed with a time at or after the FIFO's last entry (every sleep(0) and every
-- run of equal delays: the clock only moves forward) are appended in O(1) and popped in O(1);
-- only an entry due before the FIFO's tail goes to the heap. Popping takes the smaller head of
-- the two by (at, seq), so the order is exactly that of one heap.
-- Cancelled entries are marked dead and dropped lazily when they reach a head, so cancelling
-- a timer (a task cancelled mid-sleep, a deadline that did not fire) is O(1).
local M = {}
M.__index = M
local floor = math.floor

-- fifo: the sorted run, fifo[fh..ft]; the heap lives in self[1..n]
function M.new() return setmetatable({ n = 0, seq = 0, live = 0, fifo = {}, fh = 1, ft = 0 }, M) end

-- Order: earlier `at` first; equal times fire in insertion order (smaller seq first).

-- Sifts move a hole and write the moving entry once, with `less` inlined: the heap is on
-- every sleep and transfer wake of laws.async (it was most of a task switch's CPU).
local function heap_push(self, e, at)
  local n = self.n + 1
  self.n = n
  while n > 1 do
    local p = floor(n / 2)
    local pe = self[p]
    -- e is newest (largest seq): it goes above its parent only on a strictly earlier time
    if at >= pe.at then break end
    self[n] = pe
    n = p
  end
  self[n] = e
end

function M:push(at, fn, task, token)
  local seq = self.seq + 1
  self.seq = seq
  local e = { at = at, seq = seq, fn = fn, task = task, token = token }
  local ft, fifo = self.ft, self.fifo
  if ft < self.fh or at >= fifo[ft].at then
    ft = ft + 1
    fifo[ft] = e
    self.ft = ft
  else
    heap_push(self, e, at)
  end
  self.live = self.live + 1
  return e
end

--- Mark an entry so it never fires.
function M:cancel(e)
  if e and not e.dead then
    e.dead = true
    self.live = self.live - 1
  end
end

-- Remove the heap's top. Bottom-up (Floyd): the hole left at the top sinks to a leaf along
-- the smaller children (one comparison a level), then the last entry rises from there (it
-- came from the bottom, so it rarely rises far). Half the comparisons of a plain sift-down.
local function pop_top(self)
  local n = self.n
  local top = self[1]
  local e = self[n]
  self[n] = nil
  n = n - 1
  self.n = n
  if n == 0 then return top end
  local i = 1
  while true do
    local l = 2 * i
    if l > n then break end
    local c = self[l]
    if l < n then
      local rc = self[l + 1]
      local rat, cat = rc.at, c.at
      if rat < cat or (rat == cat and rc.seq < c.seq) then c, l = rc, l + 1 end
    end
    self[i] = c
    i = l
  end
  local at, seq = e.at, e.seq
  while i > 1 do
    local p = floor(i / 2)
    local pe = self[p]
    local pat = pe.at
    if pat < at or (pat == at and pe.seq < seq) then break end
    self[i] = pe
    i = p
  end
  self[i] = e
  return top
end

local function pop_fifo(self)
  local fh, fifo = self.fh, self.fifo
  local e = fifo[fh]
  fifo[fh] = nil
  if fh == self.ft then self.fh, self.ft = 1, 0 else self.fh = fh + 1 end
  return e
end

-- The earliest live entry (not removed), or nil; `from_fifo` says which part holds it.
local function first(self)
  while self.n > 0 and self[1].dead do pop_top(self) end
  local fifo = self.fifo
  while self.fh <= self.ft and fifo[self.fh].dead do pop_fifo(self) end
  local h = self.n > 0 and self[1] or nil
  local f = self.fh <= self.ft and fifo[self.fh] or nil
  if not f then return h, false end
  if not h or f.at < h.at or (f.at == h.at and f.seq < h.seq) then return f, true end
  return h, false
end

--- Time of the earliest live entry, or nil.
function M:peek()
  local e = first(self)
  return e and e.at or nil
end

--- Remove and return the earliest live entry due at or before `now`, or nil.
function M:pop_due(now)
  local e, from_fifo = first(self)
  if not e or e.at > now then return nil end
  if from_fifo then pop_fifo(self) else pop_top(self) end
  e.dead = true
  self.live = self.live - 1
  return e
end

return M
