-- What tasks share: one credential refresh for all of them (single flight over runtime.wait /
-- runtime.wake), and one client's retry quota, with retry delays as timers.
local servers = require "spec.support.servers"
local async = require "laws.async"
local runtime = require "laws.runtime"
local credentials = require "laws.credentials"
local laws = require "laws"

describe("laws.async: shared state across tasks", function()
  it("credential refresh is one fetch for 50 concurrent tasks, the others park", function()
    local fetches, concurrent, peak = 0, 0, 0
    local p = credentials.provider("slow-test", function()
      fetches = fetches + 1
      concurrent = concurrent + 1
      peak = math.max(peak, concurrent)
      runtime.sleep(0.1)            -- a slow endpoint: yields inside a task
      concurrent = concurrent - 1
      return { access_key_id = "AKIDASYNCTEST", secret_access_key = "async/secret/key/0123456789",
               expiration = runtime.time() + 3600 }
    end)
    local got = {}
    local t0, c0 = runtime.now(), os.clock()
    async.run(function()
      for i = 1, 50 do
        async.spawn(function() got[i] = assert(p:get()).access_key_id end)
      end
    end)
    local wall, cpu = runtime.now() - t0, os.clock() - c0
    assert.equal(1, fetches)
    assert.equal(1, peak)
    for i = 1, 50 do assert.equal("AKIDASYNCTEST", got[i]) end
    -- LAWS_TIME_SCALE: the valgrind run, where everything is many times slower, stretches the bounds
    local scale = tonumber(os.getenv("LAWS_TIME_SCALE") or "") or 1
    assert.is_true(wall >= 0.09 and wall < 1 * scale, "wall " .. wall)
    -- parked, not polling every 2 ms
    assert.is_true(cpu < 0.05 * scale, "cpu " .. cpu)
  end)

  it("a waiting task gives up after the provider's wait timeout", function()
    local p = credentials.provider("stuck-test", function()
      runtime.sleep(0.5)
      return { access_key_id = "AKIDSTUCK", secret_access_key = "stuck/secret/key/0123456789" }
    end, { wait_timeout = 0.05 })
    local fetches_seen
    async.run(function()
      async.spawn(function() assert(p:get()) end)
      async.spawn(function()
        async.sleep(0.01)
        -- the refresh is still running after 0.05 s: this task takes over with its own fetch
        assert(p:get())
        fetches_seen = p:fetch_count()
      end)
    end)
    assert.equal(2, fetches_seen)
  end)

  describe("with the stand-in", function()
    local srv, endpoint
    setup(function()
      srv = servers.standin{ fresh = true }
      endpoint = srv.url
    end)
    teardown(function() srv.stop() end)

    it("retries of 40 tasks draw on the client's one quota and wait as timers", function()
      local acquired, max_out, out = 0, 0, 0
      local core = require "laws.core"
      local real = core.quota_new(5000)
      local quota = {
        acquire = function(_, cost)
          local ok = real:acquire(cost)
          if ok then acquired = acquired + 1; out = out + 1; max_out = math.max(max_out, out) end
          return ok
        end,
        release = function(_, amount) out = math.max(0, out - 1); return real:release(amount) end,
        available = function() return real:available() end,
      }
      local c = laws.client("connectcases", { region = "us-east-1", endpoint = endpoint,
        credentials = { access_key_id = "AKIDSTANDIN", secret_access_key = "standin/secret/KEY+0123456789abcdefghijklmn" },
        retry = { quota = quota } })
      local d = assert(c:CreateDomain{ name = "quota-" .. tostring(os.time()) })
      srv.must("POST", "/faults", { kind = "error", op = "GetDomain", status = 500, count = 40 })
      local ok = 0
      local t0 = runtime.now()
      async.run(function()
        for _ = 1, 40 do
          async.spawn(function()
            local r = c:GetDomain{ domainId = d.domainId }
            if r and r.domainId == d.domainId then ok = ok + 1 end
          end)
        end
      end)
      local wall = runtime.now() - t0
      assert.equal(40, ok)
      -- at least one retry each (a retry may meet one of the 40 faults too), all from one quota
      assert.is_true(acquired >= 40, "acquired " .. acquired)
      assert.is_true(max_out > 1, "retries overlapped: " .. max_out)
      assert.equal(5000, real:available()) -- every success paid its retries back
      -- backoff sleeps overlapped: 40 one after another would sum to about a second or more
      assert.is_true(wall < 3, "wall " .. wall)
    end)

    it("an exhausted quota stops the retries of every task sharing the client", function()
      local core = require "laws.core"
      local quota = core.quota_new(14 * 10)   -- room for 10 retries (14 tokens each, standard mode)
      local c = laws.client("connectcases", { region = "us-east-1", endpoint = endpoint,
        credentials = { access_key_id = "AKIDSTANDIN", secret_access_key = "standin/secret/KEY+0123456789abcdefghijklmn" },
        retry = { quota = quota } })
      local d = assert(c:CreateDomain{ name = "quota2-" .. tostring(os.time()) })
      srv.must("POST", "/faults", { kind = "error", op = "GetDomain", status = 500 })  -- every GetDomain fails
      local exhausted, retried_out = 0, 0
      async.run(function()
        for _ = 1, 30 do
          async.spawn(function()
            local _, err = c:GetDomain{ domainId = d.domainId }
            if err.quota_exhausted then exhausted = exhausted + 1 else retried_out = retried_out + 1 end
          end)
        end
      end)
      srv.must("DELETE", "/faults")
      -- 10 retries in all were allowed, across the 30 tasks; the rest were refused
      assert.equal(30, exhausted + retried_out)
      assert.is_true(exhausted >= 20, "refused by the quota: " .. exhausted)
      assert.is_true(quota:available() < 14)
    end)
  end)
end)
