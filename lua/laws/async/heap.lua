--- Timer heap for laws.async: a binary min-heap of entries { at = seconds, seq = n, fn = f }
-- (or, for the common "wake this task", { task = t, token = n } instead of a closure).
-- Cancelled entries are marked dead and dropped lazily when they reach the top, so cancelling
-- a timer (a task cancelled mid-sleep, a deadline that did not fire) is O(1).
local M = {}
M.__index = M

function M.new() return setmetatable({ n = 0, seq = 0, live = 0 }, M) end

local function less(a, b)
  if a.at ~= b.at then return a.at < b.at end
  return a.seq < b.seq  -- equal times fire in insertion order
end

function M:push(at, fn, task, token)
  self.seq = self.seq + 1
  local e = { at = at, seq = self.seq, fn = fn, task = task, token = token }
  local n = self.n + 1
  self.n = n
  self[n] = e
  while n > 1 do
    local p = math.floor(n / 2)
    if not less(self[n], self[p]) then break end
    self[n], self[p] = self[p], self[n]
    n = p
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

local function pop_top(self)
  local n = self.n
  local top = self[1]
  self[1] = self[n]
  self[n] = nil
  n = n - 1
  self.n = n
  local i = 1
  while true do
    local l, r, m = 2 * i, 2 * i + 1, i
    if l <= n and less(self[l], self[m]) then m = l end
    if r <= n and less(self[r], self[m]) then m = r end
    if m == i then break end
    self[i], self[m] = self[m], self[i]
    i = m
  end
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
