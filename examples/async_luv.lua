--- laws.async inside an existing libuv event loop (luv): the loop owns the waiting, laws only
-- says which sockets to watch (async.fds()) and when to come back (async.timeout()); every
-- event calls async.step(0), which never blocks. The same pattern fits epoll, select or any
-- reactor with "watch this fd" and "call me in N ms".
--
--   lua5.4 examples/async_luv.lua                -- against AWS
--   sh scripts/standin.sh run --lag 0.3 -- lua5.4 examples/async_luv.lua   -- local stand-in
--
-- attach(uv, async, on_empty) is also used by spec/async_loop_spec.lua.
local M = {}

--- Drive laws.async from uv's loop. Returns { sync = fn, close = fn }; call sync() after
-- spawning tasks from outside a uv callback, so the loop learns about new sockets or timers.
-- `on_empty()` (optional) runs after a turn that leaves no task: stop or close there. (A uv
-- check handle watching async.stats() is not enough: when the last task ends in a timer
-- callback, the loop next blocks in its poll phase, with nothing left to wake it, before
-- check handles run.)
function M.attach(uv, async, on_empty)
  local polls = {}          -- fd -> { handle, id, events }
  local timer = uv.new_timer()
  local sync, closed

  local function turn()
    if closed then return end  -- a callback queued in the same loop iteration as close()
    if async.step(0) == 0 and on_empty then return on_empty() end
    sync()
  end

  function sync()
    local want = {}
    for _, f in ipairs(async.fds()) do want[f.fd] = f end
    -- stop stale watchers first: an fd number may now belong to a new connection
    for fd, p in pairs(polls) do
      local f = want[fd]
      if not f or f.id ~= p.id then
        p.handle:stop()
        p.handle:close()
        polls[fd] = nil
      end
    end
    for fd, f in pairs(want) do
      local ev = (f.read and "r" or "") .. (f.write and "w" or "")
      local p = polls[fd]
      if not p then
        p = { handle = uv.new_socket_poll(fd), id = f.id }
        polls[fd] = p
      end
      if p.events ~= ev and ev ~= "" then
        p.handle:start(ev, turn)
        p.events = ev
      end
    end
    timer:stop()
    local to = async.timeout()
    if to then timer:start(math.ceil(to * 1000), 0, turn) end
  end

  local function close()
    if closed then return end
    closed = true
    for fd, p in pairs(polls) do p.handle:stop(); p.handle:close(); polls[fd] = nil end
    timer:stop()
    timer:close()
  end

  sync()
  return { sync = sync, close = close }
end

local function main()
  local uv = require "luv"
  local laws = require "laws"
  local async = require "laws.async"
  -- endpoint and credentials as every AWS SDK finds them (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...)
  local c = laws.client("connectcases", { region = os.getenv("AWS_REGION") or "us-east-1" })
  local domain = assert(c:CreateDomain{ name = "luv-" .. os.time() }).domainId
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
  local done, t0 = 0, uv.hrtime()
  for i = 1, 50 do
    async.spawn(function()
      local id, err = flow(i)
      done = done + 1
      print(("flow %2d: %s"):format(i, id and ("case " .. id .. " visible") or tostring(err)))
    end)
  end
  -- the application's own uv work goes on meanwhile
  local ticks = 0
  local tick = uv.new_timer()
  tick:start(100, 100, function() ticks = ticks + 1 end)
  local glue
  glue = M.attach(uv, async, function() tick:stop(); tick:close(); glue.close() end)
  uv.run()
  print(("%d flows in %.2f s inside uv's loop; the app's 100 ms timer ticked %d times meanwhile")
    :format(done, (uv.hrtime() - t0) / 1e9, ticks))
  c:close()
end

if arg and arg[0] and arg[0]:match("async_luv%.lua$") then main() end

return M
