--- Timer heap for laws.async: a binary min-heap of entries { at = seconds, seq = n, fn = f }
-- (or, for the common "wake this task", { task = t, token = n } instead of a closure).
-- Cancelled entries are marked dead and dropped lazily when they reach the top, so cancelling
-- a timer (a task cancelled mid-sleep, a deadline that did not fire) is O(1).
local M = {}
M.__index = M
local floor = math.floor

function M.new() return setmetatable({ n = 0, seq = 0, live = 0 }, M) end

-- Order: earlier `at` first; equal times fire in insertion order (smaller seq first).

-- Sifts move a hole and write the moving entry once, with `less` inlined: the heap is on
-- every sleep and transfer wake of laws.async (it was most of a task switch's CPU).
function M:push(at, fn, task, token)
  local seq = self.seq + 1
  self.seq = seq
  local e = { at = at, seq = seq, fn = fn, task = task, token = token }
  local n = self.n + 1
  self.n = n
  while n > 1 do
    local p = floor(n / 2)
    local pe = self[p]
    local pat = pe.at
    -- e is newest (largest seq): it goes above its parent only on a strictly earlier time
    if at >= pat then break end
    self[n] = pe
    n = p
  end
  self[n] = e
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

local function pop_top(self)
  local n = self.n
  local top = self[1]
  local e = self[n]
  self[n] = nil
  n = n - 1
  self.n = n
  if n == 0 then return top end
  local at, seq = e.at, e.seq
  local i = 1
  while true do
    local l = 2 * i
    if l > n then break end
    local c = self[l]
    local r = l + 1
    if r <= n then
      local rc = self[r]
      if rc.at < c.at or (rc.at == c.at and rc.seq < c.seq) then c, l = rc, r end
    end
    -- stop when e is not after the smaller child
    if at < c.at or (at == c.at and seq < c.seq) then break end
    self[i] = c
    i = l
  end
  self[i] = e
  return top
end

local function drop_dead(self)
  while self.n > 0 and self[1].dead do pop_top(self) end
end

--- Time of the earliest live entry, or nil.
function M:peek()
  drop_dead(self)
  return self.n > 0 and self[1].at or nil
end

--- Remove and return the earliest live entry due at or before `now`, or nil.
function M:pop_due(now)
  drop_dead(self)
  if self.n == 0 or self[1].at > now then return nil end
  local e = pop_top(self)
  e.dead = true
  self.live = self.live - 1
  return e
end

return M
