-- laws.async with the rest of laws: the adaptive mode's rate limiter is one object
-- per client, shared by every laws.async task that calls through the client, and the waits it
-- asks for are timers (tasks wait side by side), against the stand-in throttling for real.
local servers = require "spec.support.servers"
local async = require "laws.async"
local runtime = require "laws.runtime"
local laws = require "laws"
local core = require "laws.core"

describe("laws.async with an adaptive-mode client", function()
  local srv, endpoint
  setup(function()
    srv = servers.standin{ fresh = true }
    endpoint = srv.url
  end)
  teardown(function() srv.stop() end)

  it("one CUBIC limiter paces the requests of 10 tasks; its waits overlap as timers", function()
    local real = core.ratelimiter_new(runtime.now())
    local tasks_seen, n_tasks, waits, waited, throttles = {}, 0, 0, 0, 0
    local limiter = {   -- the real C limiter, counting who asks and what it answers
      acquire = function(_, now)
        local co = coroutine.running()
        if not tasks_seen[co] then tasks_seen[co] = true; n_tasks = n_tasks + 1 end
        local w = real:acquire(now)
        if w > 0 then waits = waits + 1; waited = waited + w end
        return w
      end,
      update = function(_, now, throttled)
        if throttled then throttles = throttles + 1 end
        return real:update(now, throttled)
      end,
    }
    local c = laws.client("connectcases", { region = "us-east-1", endpoint = endpoint,
      credentials = { access_key_id = "AKIDSTANDIN", secret_access_key = "standin/secret/KEY+0123456789abcdefghijklmn" },
      retry = { mode = "adaptive", max_attempts = 10, limiter = limiter, seed = 3 } })
    -- warm up: the limiter measures the send rate before any throttle (from a cold start a
    -- throttle drops it to the 0.5/s floor and this spec would take many seconds)
    local w0 = runtime.now()   -- the rate is measured in half-second buckets
    async.run(function()   -- about 20 requests/s, so that a throttle brings it near 14/s
      while runtime.now() - w0 < 1.2 do assert(c:ListDomains{}); runtime.sleep(0.05) end
    end)
    tasks_seen, n_tasks = {}, 0
    assert.is_true(real:state().measured_rate > 5, "the warm-up was measured")
    -- the next two ListDomains are throttled: the limiter cuts the rate twice (to about half)
    srv.must("POST", "/faults", { kind = "error", op = "ListDomains", status = 429, code = "ThrottlingException",
      count = 2 })
    local ok, failed = 0, 0
    local t0 = runtime.now()
    async.run(function()
      for _ = 1, 10 do
        async.spawn(function()
          for _ = 1, 3 do
            if c:ListDomains{} then ok = ok + 1 else failed = failed + 1 end
          end
        end)
      end
    end)
    local wall = runtime.now() - t0
    srv.must("DELETE", "/faults")
    c:close()
    print(("# wall %.2f waited %.2f waits %d throttles %d"):format(wall, waited, waits, throttles))
    assert.equal(30, ok, failed .. " calls failed")
    assert.equal(10, n_tasks, "every task asked the one limiter")
    assert.equal(2, throttles, "the two throttled answers reached the limiter")
    assert.is_true(real:state().enabled, "a throttle switched the shared limiter on")
    assert.is_true(waits > 0, "the limiter made tasks wait")
    -- waits slept one after another (blocking) would take at least their sum
    assert.is_true(waited > wall, ("limiter waits %.2f s in all, wall %.2f s"):format(waited, wall))
  end)
end)
