-- laws.async driven by someone else's loop: libuv (luv) watching async.fds() and timing
-- async.timeout(), calling step(0) on events (examples/async_luv.lua), and a game loop that
-- calls step(budget) once per frame (examples/async_game_loop.lua).
local proc = require "spec.support.proc"
local async = require "laws.async"
local runtime = require "laws.runtime"

local uv_ok, uv = pcall(require, "luv")
local glue = require "examples.async_luv"
local game = require "examples.async_game_loop"

local srv, base

describe("laws.async in an external loop", function()
  setup(function()
    srv = proc.start({ "python3", "spec/support/async_httpd.py" }, { name = "async_httpd" })
    base = "http://127.0.0.1:" .. srv.port
  end)
  teardown(function() srv.stop() end)

  it("exposes the sockets libcurl waits on while transfers run", function()
    local seen
    local scale = tonumber(os.getenv("LAWS_TIME_SCALE") or "") or 1  -- stretched under valgrind
    async.run(function()
      local t = async.spawn(function() return runtime.request({ url = base .. "/delay?ms=" .. 300 * scale }) end)
      async.spawn(function()
        async.sleep(0.1 * scale)
        seen = async.fds()
      end)
      async.wait(t)
    end)
    assert.equal(1, #seen)
    assert.is_number(seen[1].fd)
    assert.is_true(seen[1].read)
    assert.is_number(seen[1].id)
  end)

  it("runs tasks inside a luv loop (lua-luv) without busy waiting", function()
    assert(uv_ok, "lua-luv is needed (scripts/deps.sh installs it): " .. tostring(uv))
    local ok, turns = 0, 0
    for i = 1, 40 do
      async.spawn(function()
        if i % 2 == 0 then async.sleep(0.05) end
        local res = runtime.request({ url = base .. "/delay?ms=200" })
        if res and res.status == 200 then ok = ok + 1 end
      end)
    end
    local real_step = async.step
    async.step = function(w) turns = turns + 1; return real_step(w) end
    local c0, t0 = os.clock(), runtime.now()
    local g
    g = glue.attach(uv, async, function() g.close() end)
    uv.run()
    async.step = real_step
    local wall, cpu = runtime.now() - t0, os.clock() - c0
    assert.equal(40, ok)
    local scale = tonumber(os.getenv("LAWS_TIME_SCALE") or "") or 1  -- stretched under valgrind
    assert.is_true(wall >= 0.2 and wall < 2 * scale, "wall " .. wall)
    -- event driven: a few turns per transfer, not a spin (a spin would do thousands)
    assert.is_true(turns < 400, "step called " .. turns .. " times")
    assert.is_true(cpu < 0.3 * scale, "cpu " .. cpu)
  end)

  it("runs tasks from a game loop that gives step() the rest of each frame", function()
    -- (LAWS_TIME_SCALE: the valgrind run, where everything is many times slower, stretches it)
    local scale = tonumber(os.getenv("LAWS_TIME_SCALE") or "") or 1
    local r = game.run{ url = base .. "/delay?ms=150", requests = 30, fps = 60, seconds = 0.6 * scale }
    assert.equal(30, r.ok)
    -- frames kept their pace: step() never ate much more than the frame's budget (generous
    -- bound: the machine is shared, a descheduled process overruns a frame by itself)
    assert.is_true(r.worst_frame < 1 / 60 + 0.1 * scale, "worst frame " .. r.worst_frame)
    assert.is_true(r.frames >= 30, "frames " .. r.frames)
  end)
end)
