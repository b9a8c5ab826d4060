--- laws.async from a game loop: each frame does the game's work, then hands what is left of
-- the frame to async.step(budget), which never blocks longer than that. AWS calls made from
-- tasks (client calls, laws.retry waits, waiter waits) advance a little every frame and never
-- stall the loop, even during a second of backoff.
--
--   lua5.4 examples/async_game_loop.lua           -- against AWS
--   sh scripts/standin.sh run --lag 0.5 -- lua5.4 examples/async_game_loop.lua   -- local stand-in
--
-- run{...} is also used by spec/async_loop_spec.lua.
local M = {}

--- Frame loop at `fps` for at least `seconds`, then until every task ended. `work(frame)` is
-- the game's own per-frame work (optional). Returns { frames, worst_frame (s) }.
function M.loop(o)
  local async = require "laws.async"
  local runtime = require "laws.runtime"
  local frame = 1 / o.fps
  local start = runtime.now()
  local frames, worst = 0, 0
  local frame_end = start
  while runtime.now() - start < o.seconds or async.stats().tasks > 0 do
    local f0 = runtime.now()
    frame_end = frame_end + frame
    if frame_end < f0 then frame_end = f0 + frame end  -- fell behind: do not try to catch up
    frames = frames + 1
    if o.work then o.work(frames) end
    -- the rest of the frame belongs to laws: step() returns early on events, so loop
    repeat
      async.step(math.max(0, frame_end - runtime.now()))
    until runtime.now() >= frame_end
    worst = math.max(worst, runtime.now() - f0)
  end
  return { frames = frames, worst_frame = worst }
end

--- `requests` GETs of `url` from tasks, driven by a frame loop. Returns loop figures + ok.
function M.run(o)
  local async = require "laws.async"
  local runtime = require "laws.runtime"
  local ok = 0
  for _ = 1, o.requests do
    async.spawn(function()
      local res = runtime.request({ url = o.url })
      if res and res.status == 200 then ok = ok + 1 end
    end)
  end
  local r = M.loop(o)
  r.ok = ok
  return r
end

local function main()
  local laws = require "laws"
  local async = require "laws.async"
  -- endpoint and credentials as every AWS SDK finds them (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...)
  local c = laws.client("connectcases", { region = os.getenv("AWS_REGION") or "us-east-1" })
  local domain = assert(c:CreateDomain{ name = "game-" .. os.time() }).domainId
  local template = assert(c:CreateTemplate{ domainId = domain, name = "t", status = "Active",
                                            requiredFields = { { fieldId = "title" } } }).templateId
  -- one flow: CreateCase, then wait until GetCase finds it (eventual consistency)
  local function flow(i)
    local created, err = c:CreateCase{ domainId = domain, templateId = template,
                                       fields = { { id = "title", value = { stringValue = "case " .. i } } } }
    if not created then return nil, err end
    local ok, werr = c:wait("CaseVisible", { domainId = domain, caseId = created.caseId })
    if not ok then return nil, werr end
    return created.caseId
  end
  local visible = 0
  for i = 1, 100 do
    async.spawn(function() if flow(i) then visible = visible + 1 end end)
  end
  local r = M.loop{ fps = 60, seconds = 1, work = function(n)
    if n % 30 == 0 then print(("frame %4d: %3d of 100 cases visible, %d transfers in flight")
      :format(n, visible, async.stats().transfers or 0)) end
  end }
  print(("%d frames, worst frame %.1f ms (budget %.1f ms); %d cases created and visible")
    :format(r.frames, r.worst_frame * 1e3, 1e3 / 60, visible))
  c:close()
end

if arg and arg[0] and arg[0]:match("async_game_loop%.lua$") then main() end

return M
