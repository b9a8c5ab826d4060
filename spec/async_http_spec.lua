-- laws.async transfers: runtime.request inside tasks goes through the libcurl multi driver.
-- Against a local threaded HTTP/1.1 server (spec/support/async_httpd.py) that answers after
-- a requested delay and counts how many requests it served at once.
local proc = require "spec.support.proc"
local async = require "laws.async"
local runtime = require "laws.runtime"

local srv, base

local function count()
  -- outside a task: the blocking path, unchanged by laws.async
  local res
  async.run(function() res = runtime.request({ url = base .. "/count" }) end)
  local served, peak = res.body:match("(%d+) (%d+)")
  return tonumber(served), tonumber(peak)
end

describe("laws.async transfers", function()
  setup(function()
    srv = proc.start({ "python3", "spec/support/async_httpd.py" }, { name = "async_httpd" })
    base = "http://127.0.0.1:" .. srv.port
  end)
  teardown(function() srv.stop() end)

  it("runs 300 requests concurrently from one thread", function()
    local n, ok = 300, 0
    local t0 = runtime.now()
    local opts = { limit_key = {}, max_in_flight = n }  -- above the default limit
    async.run(function()
      for i = 1, n do
        async.spawn(function()
          local res, err = runtime.request({ method = "POST", url = base .. "/delay?ms=300",
                                             headers = { ["X-Seq"] = tostring(i) }, body = "x" }, opts)
          assert(res, tostring(err))
          if res.status == 200 and tonumber(res.body) then ok = ok + 1 end
        end)
      end
    end)
    local wall = runtime.now() - t0
    local _, peak = count()
    assert.equal(n, ok)
    -- one after another this would take 90 s
    assert.is_true(wall < 5, "wall " .. wall)
    assert.is_true(peak >= 100, "server saw at most " .. peak .. " requests at once")
    assert.equal(0, async.stats().transfers)
  end)

  it("returns response headers lower-cased, repeats joined", function()
    local res = async.run(function() return runtime.request({ url = base .. "/delay?ms=0" }) end)
    assert.equal(200, res.status)
    assert.equal("a, b", res.headers["x-test"])
    assert.equal("text/plain", res.headers["content-type"])
  end)

  it("limits transfers in flight per key and queues the rest", function()
    local key = {}
    local _, peak0 = count()
    assert.is_true(peak0 >= 0)
    local max_queued = 0
    local done = 0
    async.run(function()
      for _ = 1, 40 do
        async.spawn(function()
          local res = runtime.request({ url = base .. "/delay?ms=50" }, { limit_key = key, max_in_flight = 5 })
          if res and res.status == 200 then done = done + 1 end
        end)
      end
      async.spawn(function()
        for _ = 1, 20 do
          local s = async.stats()
          max_queued = math.max(max_queued, s.queued)
          assert(s.transfers <= 5, "in flight " .. s.transfers)
          async.sleep(0.01)
        end
      end)
    end)
    assert.equal(40, done)
    assert.is_true(max_queued >= 30, "queued " .. max_queued)
  end)

  it("a cancelled transfer leaves the multi handle at once and frees its slot", function()
    local key = {}
    local t0 = runtime.now()
    local slow, fast
    async.run(function()
      slow = async.spawn(function()
        return runtime.request({ url = base .. "/delay?ms=3000" }, { limit_key = key, max_in_flight = 1 })
      end)
      fast = async.spawn(function()
        return runtime.request({ url = base .. "/delay?ms=0" }, { limit_key = key, max_in_flight = 1 })
      end)
      async.sleep(0.1)
      assert.equal(1, async.stats().transfers)
      assert.equal(1, async.stats().queued)
      slow:cancel()
      assert.equal(0, async.stats().transfers)
    end)
    local wall = runtime.now() - t0
    local r, err = async.wait(slow)
    assert.is_nil(r)
    assert.equal("Cancelled", err.code)
    local res = async.wait(fast)
    assert.equal(200, res.status)
    assert.is_true(wall < 1.5, "wall " .. wall)
  end)

  it("a task cancelled after it was handed a slot, before it ran, gives the slot back", function()
    local key = {}
    local opts = { limit_key = key, max_in_flight = 1 }
    local b, c
    async.run(function()
      async.spawn(function()
        runtime.request({ url = base .. "/delay?ms=100" }, opts)
        -- b was queued and got our slot at this very turn; it has not run yet
        assert.is_true(b:cancel())
      end)
      b = async.spawn(function() return runtime.request({ url = base .. "/delay?ms=0" }, opts) end)
      c = async.spawn(function() return runtime.request({ url = base .. "/delay?ms=0" }, opts) end)
    end)
    local _, err = async.wait(b)
    assert.equal("Cancelled", err.code)
    assert.equal(200, async.wait(c).status)
    local s = async.stats()
    assert.equal(0, s.transfers)
    assert.equal(0, s.queued)
    -- and the key's slot is free again
    local res = async.run(function() return runtime.request({ url = base .. "/delay?ms=0" }, opts) end)
    assert.equal(200, res.status)
  end)

  it("a malformed request inside a task raises and does not keep its slot", function()
    local opts = { limit_key = {}, max_in_flight = 1 }
    local r, err = async.run(function() return runtime.request({ url = base, bogus = 1 }, opts) end)
    assert.is_nil(r)
    assert.matches("bogus", err.message)
    local res = async.run(function() return runtime.request({ url = base .. "/delay?ms=0" }, opts) end)
    assert.equal(200, res.status)
  end)

  it("runtime.send builds a queued request only once its slot is free", function()
    local opts = { limit_key = {}, max_in_flight = 1 }
    local first_done, built_at, builds = nil, nil, 0
    async.run(function()
      async.spawn(function()
        local res = runtime.send(function() builds = builds + 1; return { url = base .. "/delay?ms=300" } end, opts)
        assert.equal(200, res.status)
        first_done = runtime.now()
      end)
      async.spawn(function()
        local res = runtime.send(function()
          builds = builds + 1
          built_at = runtime.now()
          return { url = base .. "/delay?ms=0" }
        end, opts)
        assert.equal(200, res.status)
      end)
    end)
    assert.equal(2, builds)
    -- the second request was built (and would have been signed) after the first one ended,
    -- not when it queued ~300 ms earlier
    assert.is_true(built_at >= first_done, ("built %.3f, first done %.3f"):format(built_at, first_done))
  end)

  it("runtime.send: a build that fails or raises gives its slot back", function()
    local opts = { limit_key = {}, max_in_flight = 1 }
    local r, err = async.run(function()
      return runtime.send(function() return nil, "no request today" end, opts)
    end)
    assert.is_nil(r)
    assert.equal("no request today", err)
    local r2, err2 = async.run(function()
      return runtime.send(function() error("build blew up", 0) end, opts)
    end)
    assert.is_nil(r2)
    assert.matches("build blew up", err2.message)
    -- the one slot is free: this would queue for ever otherwise (drive() reports a deadlock)
    local res = async.run(function()
      return runtime.send(function() return { url = base .. "/delay?ms=0" } end, opts)
    end)
    assert.equal(200, res.status)
    assert.equal(0, async.stats().queued)
  end)

  it("runtime.send outside a task builds and sends at once (blocking)", function()
    local res = runtime.send(function() return { url = base .. "/delay?ms=0" } end)
    assert.equal(200, res.status)
    local r, err = runtime.send(function() return nil, "nope" end)
    assert.is_nil(r)
    assert.equal("nope", err)
  end)

  it("a deadline cancels a task in the middle of a transfer", function()
    local t0 = runtime.now()
    local t = async.spawn(function() return runtime.request({ url = base .. "/delay?ms=3000" }) end)
    t:set_deadline(0.2)
    local r, err = async.wait(t)
    local wall = runtime.now() - t0
    assert.is_nil(r)
    assert.equal("DeadlineExceeded", err.code)
    assert.is_true(wall >= 0.19 and wall < 1, "wall " .. wall)
    assert.equal(0, async.stats().transfers)
  end)

  it("a transport error or a raising task does not disturb the other tasks", function()
    local ok, codes = 0, {}
    async.run(function()
      for i = 1, 30 do
        async.spawn(function()
          if i % 10 == 1 then
            local _, err = runtime.request({ url = "http://127.0.0.1:1/", connect_timeout = 1 })
            codes[#codes + 1] = err and err.code
          elseif i % 10 == 2 then
            runtime.request({ url = base .. "/delay?ms=20" })
            error("task " .. i .. " fails after its request")
          else
            local res = runtime.request({ url = base .. "/delay?ms=50" })
            if res and res.status == 200 then ok = ok + 1 end
          end
        end)
      end
    end)
    assert.equal(24, ok)
    assert.same({ "COULDNT_CONNECT", "COULDNT_CONNECT", "COULDNT_CONNECT" }, codes)
  end)

  it("idle while transfers are pending costs almost no CPU", function()
    local c0 = os.clock()
    async.run(function()
      for _ = 1, 20 do async.spawn(function() runtime.request({ url = base .. "/delay?ms=500" }) end) end
    end)
    local cpu = os.clock() - c0
    assert.is_true(cpu < 0.1, ("CPU %.4f s for 20 transfers over 0.5 s"):format(cpu))
  end)

  it("transfer sockets do not leak into child processes (close-on-exec)", function()
    local leaked, fd
    async.run(function()
      local t = async.spawn(function() return runtime.request({ url = base .. "/delay?ms=300" }) end)
      async.spawn(function()
        async.sleep(0.1)
        fd = async.fds()[1].fd
        local p = io.popen("ls /proc/self/fd")
        local list = p:read("*a")
        p:close()
        leaked = (" " .. list:gsub("\n", " ")):find(" " .. fd .. " ", 1, true) ~= nil
      end)
      async.wait(t)
    end)
    assert.is_number(fd)
    assert.is_false(leaked)
  end)

  it("raises on a malformed request", function()
    local r, err = async.run(function() return runtime.request({ url = base, headers = { ["Bad\nName"] = "x" } }) end)
    assert.is_nil(r)
    assert.equal("TaskError", err.code)
    assert.matches("header", err.message)
  end)
end)
