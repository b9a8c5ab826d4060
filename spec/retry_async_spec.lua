-- laws.retry and client retries inside laws.async tasks: the waits yield to the scheduler,
-- so concurrent consistency waits overlap instead of adding up.
local laws = require "laws"
local async = require "laws.async"
local core = require "laws.core"
local servers = require "spec.support.servers"

-- Under valgrind (scripts/test.sh sets LAWS_TIME_SCALE) every step is many times slower: the lag
-- and the wall-clock bound scale with it, or the lag would pass during the slow requests.
local scale = tonumber(os.getenv("LAWS_TIME_SCALE") or "") or 1

describe("laws.retry inside laws.async tasks", function()
  local srv, cases, domain, template
  setup(function()
    srv = servers.standin{}
    srv.reset()
    cases = laws.client("connectcases", { region = "us-east-1", endpoint = srv.url, credentials = srv.credentials,
                                          retry = { base = 0.01 } })
    domain = assert(cases:CreateDomain{ name = "async-retry" }).domainId
    template = assert(cases:CreateTemplate{ domainId = domain, name = "t", status = "Active" }).templateId
  end)
  teardown(function()
    srv.lag{ fixed = 0 }
    srv.clear_faults()
    if cases then cases:close() end
  end)

  it("30 concurrent create-then-wait flows (0.4 s lag, 503s injected) overlap", function()
    local lag = 0.4 * scale
    srv.lag{ fixed = lag }
    srv.fault{ kind = "error", op = "SearchCases", status = 503, probability = 0.2, seed = 3 }
    local n, found, retries = 30, {}, 0
    local t0 = core.monotonic()
    async.run(function()
      for i = 1, n do
        async.spawn(function()
          local c = assert(cases:CreateCase{ domainId = domain, templateId = template,
                                             fields = { { id = "title", value = { stringValue = "a" .. i } } } })
          local r = laws.retry(function()
            return cases:SearchCases{ domainId = domain,
              filter = { field = { equalTo = { id = "case_id", value = { stringValue = c.caseId } } } } }
          end, { success = laws.conditions.non_empty("cases"), on_retry = function() retries = retries + 1 end })
          if r and r.cases[1].caseId == c.caseId then found[#found + 1] = c.caseId end
        end)
      end
    end)
    local wall = core.monotonic() - t0
    assert.equal(n, #found)
    assert.is_true(retries >= n, retries)
    for _, id in ipairs(found) do   -- every flow waited through the lag: it read before visibility
      local v = srv.visibility(id)
      assert.is_true(v.reads_before_visible >= 1, id)
    end
    -- one after another the waits alone would take 30 x 0.4 = 12 s
    assert.is_true(wall >= lag and wall < 6 * scale, wall)
    local st = srv.stats()
    assert.is_true((st.faults.error or 0) > 0)   -- 503s were injected and retried by the client
    assert.equal(n, st.cases_created)
  end)

  it("a task cancelled while its client call waits out the backoff ends there: no second attempt", function()
    srv.lag{ fixed = 0 }
    srv.clear_faults()
    srv.fault{ kind = "error", op = "ListDomains", status = 503 }
    -- a seed whose first backoff (base 5 s, full jitter; stretched under valgrind) is long
    -- enough to cancel in
    local seed
    for s = 1, 100 do
      local d = core.backoff_new{ kind = "exponential", base = 5 * scale, cap = 20 * scale, jitter = "full", seed = s }:next(1, 0)
      if d > 2 * scale then seed = s; break end
    end
    local c = laws.client("connectcases", { region = "us-east-1", endpoint = srv.url, credentials = srv.credentials,
                                            retry = { base = 5 * scale, cap = 20 * scale, seed = seed, max_attempts = 3 } })
    local before = srv.stats().faults.error or 0
    local task, retried
    local t0 = core.monotonic()
    async.run(function()
      task = async.spawn(function() return c:ListDomains({}, { on_retry = function() retried = true end }) end)
      async.sleep(0.3 * scale)
      task:cancel()
    end)
    local wall = core.monotonic() - t0
    c:close()
    srv.clear_faults()
    local res, err = async.wait(task)
    assert.is_nil(res)
    -- (the cancel's code, whichever spelling laws.async gives it)
    assert.equal("cancelled", err and tostring(err.code):lower(), tostring(err))
    assert.is_true(retried, "the call never reached its backoff")
    assert.equal(1, (srv.stats().faults.error or 0) - before, "attempts made after the cancel")
    assert.is_true(wall < 2 * scale, ("the run waited %.1f s: the backoff went on after the cancel"):format(wall))
  end)
end)
