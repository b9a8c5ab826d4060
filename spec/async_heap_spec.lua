-- laws.async.heap: the timer queue (a sorted FIFO run plus a binary heap) pops in (at, seq)
-- order whatever the mix of times, skips cancelled entries, and counts the live ones.
local Heap = require "laws.async.heap"

local function drain(h, now)
  local out = {}
  while true do
    local e = h:pop_due(now)
    if not e then break end
    out[#out + 1] = e
  end
  return out
end

describe("laws.async.heap", function()
  it("pops in (at, seq) order for random mixes of increasing, equal and earlier times", function()
    math.randomseed(7)
    for round = 1, 200 do
      local h, ref = Heap.new(), {}
      local base = 0
      for i = 1, math.random(1, 60) do
        local r = math.random()
        local at
        if r < 0.4 then base = base + math.random(0, 2); at = base     -- a forward-moving clock
        elseif r < 0.6 then at = base                                 -- equal to the last
        else at = math.random(0, 40) end                              -- anywhere
        local e = h:push(at, nil, "t", i)
        ref[#ref + 1] = e
        if math.random() < 0.15 then h:cancel(ref[math.random(#ref)]) end
        if math.random() < 0.1 then drain(h, math.random(0, 20)) end  -- interleaved pops
      end
      local got = drain(h, math.huge)
      for i = 2, #got do
        local a, b = got[i - 1], got[i]
        assert.is_true(a.at < b.at or (a.at == b.at and a.seq < b.seq),
          ("round %d: %s/%s before %s/%s"):format(round, a.at, a.seq, b.at, b.seq))
      end
      for _, e in ipairs(ref) do assert.is_true(e.dead) end  -- every entry fired or was cancelled
      assert.equal(0, h.live)
      assert.is_nil(h:peek())
    end
  end)

  it("peek returns the earliest live time; pop_due leaves entries not yet due", function()
    local h = Heap.new()
    local a = h:push(5, nil, "a", 1)
    h:push(7, nil, "b", 1)   -- FIFO run: 5, 7
    h:push(3, nil, "c", 1)   -- earlier than the run's tail: the heap
    assert.equal(3, h:peek())
    assert.equal(3, h.live)
    assert.equal("c", h:pop_due(4).task)
    assert.is_nil(h:pop_due(4))
    h:cancel(a)
    h:cancel(a)              -- twice counts once
    assert.equal(1, h.live)
    assert.equal(7, h:peek())
    assert.equal("b", h:pop_due(7).task)
    assert.is_nil(h:peek())
  end)
end)
