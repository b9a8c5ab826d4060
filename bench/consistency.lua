-- Consistency benchmark: create a case, then wait until SearchCases (filtered by the
-- case id) returns it, against the stand-in whose visibility lag for each new case is
-- drawn from a log-normal distribution (median 100 ms, p95 1 s). Compares laws.retry's
-- default policy with the naive policy (3 calls, waiting 1 s then 2 s) in the same run.
--   lua5.4 bench/consistency.lua [runs=300] [concurrency=16]
-- Waits run concurrently as coroutines under a small scheduler here (sleeps yield
-- through laws.runtime), so the naive policy's seconds-long waits do not take an hour.
-- HTTP calls still block, so a coroutine can be resumed a little late: the scheduler's
-- lateness is measured and printed, and it affects both policies alike.
-- Overshoot = moment the response that showed the case arrived (client CLOCK_MONOTONIC)
-- minus the moment the stand-in made it visible (its CLOCK_MONOTONIC, same machine).
local laws = require "laws"
local core = require "laws.core"
local runtime = require "laws.runtime"
local servers = require "spec.support.servers"

local RUNS = tonumber(arg[1]) or 300
local CONC = tonumber(arg[2]) or 16

local srv = servers.standin{ lag = { median = 0.1, p95 = 1.0 }, seed = 42 }
local client = laws.client("connectcases", { region = "us-east-1", endpoint = srv.url, credentials = srv.credentials })

-- scheduler: tasks sleep by yielding their wake-up time
local late = { n = 0, sum = 0, max = 0 }
runtime.use(runtime.override{ sleep = function(s) coroutine.yield(core.monotonic() + s); return true end })

local function run_all(make_task, n)
  local tasks, started, done = {}, 0, 0
  local function start()
    started = started + 1
    tasks[#tasks + 1] = { co = coroutine.create(make_task), wake = core.monotonic() }
  end
  for _ = 1, math.min(CONC, n) do start() end
  while #tasks > 0 do
    local bi = 1
    for i = 2, #tasks do if tasks[i].wake < tasks[bi].wake then bi = i end end
    local t = tasks[bi]
    local now = core.monotonic()
    if t.wake > now then core.sleep(t.wake - now); now = core.monotonic() end
    local l = now - t.wake
    if l > 0 then late.n = late.n + 1; late.sum = late.sum + l; late.max = math.max(late.max, l) end
    local ok, wake = coroutine.resume(t.co)
    if not ok then error(wake) end
    if coroutine.status(t.co) == "dead" then
      table.remove(tasks, bi)
      done = done + 1
      if started < n then start() end
    else
      t.wake = wake
    end
  end
end

local function setup_domain()
  local d = assert(client:CreateDomain{ name = "bench-" .. core.uuid4() })
  local t = assert(client:CreateTemplate{ domainId = d.domainId, name = "t", status = "Active" })
  return d.domainId, t.templateId
end

-- one policy: RUNS create-then-wait flows; returns per-run records
local function bench(name, policy, deadline_of)
  srv.lag{ median = 0.1, p95 = 1.0, seed = 42 }  -- same lag sequence for every policy
  local domain, template = setup_domain()
  local runs = {}
  run_all(function()
    local c = assert(client:CreateCase{ domainId = domain, templateId = template,
      fields = { { id = "title", value = { stringValue = name } } } })
    local r = { id = c.caseId, calls = 0, wait_start = core.monotonic() }
    runs[#runs + 1] = r
    local res = laws.retry(function()
      r.calls = r.calls + 1
      r.last_call = core.monotonic()
      local out, err = client:SearchCases{ domainId = domain,
        filter = { field = { equalTo = { id = "case_id", value = { stringValue = c.caseId } } } } }
      if out and #out.cases > 0 then r.seen = core.monotonic() end
      return out, err
    end, { success = laws.conditions.non_empty("cases"), policy = policy })
    r.found = res ~= nil
    r.deadline = deadline_of(r)
  end, RUNS)
  local vis = srv.control("GET", "/visibility")
  local by_id = {}
  for _, v in ipairs(vis.records or vis) do by_id[v.id or v.caseId or v.case_id] = v end
  for _, r in ipairs(runs) do
    local v = by_id[r.id] or srv.visibility(r.id)
    r.visible = v.visible_mono
    r.lag = v.lag
  end
  return runs
end

local function pct(sorted, p)
  if #sorted == 0 then return 0 / 0 end
  local i = math.max(1, math.min(#sorted, math.ceil(p * #sorted)))
  return sorted[i]
end

local function report(name, runs)
  local over, calls, lags, gave_up, bad = {}, 0, {}, 0, 0
  for _, r in ipairs(runs) do
    calls = calls + r.calls
    lags[#lags + 1] = r.lag
    if r.found then over[#over + 1] = r.seen - r.visible
    else
      gave_up = gave_up + 1
      -- a give-up is a failure of the policy if the case was visible before its deadline
      if r.visible < r.deadline then bad = bad + 1 end
    end
  end
  table.sort(over); table.sort(lags)
  print(("%-22s runs %d  overshoot median %7.1f ms  p95 %7.1f ms  max %7.1f ms  requests/wait %5.2f"
         .. "  gave up %d (visible before deadline: %d)"):format(name, #runs, pct(over, 0.5) * 1e3,
         pct(over, 0.95) * 1e3, pct(over, 1) * 1e3, calls / #runs, gave_up, bad))
  return { median = pct(over, 0.5), p95 = pct(over, 0.95), mean_calls = calls / #runs, bad = bad, lags = lags }
end

print(("stand-in lag: log-normal, median 100 ms, p95 1 s (seed 42); %d create-then-wait runs per policy, %d at a time")
  :format(RUNS, CONC))
local results = {}
local policies = {
  { "default (consistency)", nil, function(r) return r.wait_start + laws.backoff.CONSISTENCY.max_elapsed end },
  { "naive 1 s, 2 s", function(attempt) if attempt < 3 then return attempt * 1.0 end end,
    function(r) return r.last_call end },
}
if os.getenv("CONSISTENCY_CANDIDATES") then
  for _, c in ipairs{ { 0.01, 1, "equal" }, { 0.025, 1, "full" }, { 0.05, 1, "equal" }, { 0.025, 0.5, "equal" },
                      { 0.025, 0.7, "equal" }, { 0.025, 1, "decorrelated" } } do
    local p = laws.backoff.exponential{ base = c[1], cap = c[2], jitter = c[3], max_elapsed = 30 }
    policies[#policies + 1] = { ("exp %g/%g/%s"):format(c[1], c[2], c[3]), p,
                                function(r) return r.wait_start + 30 end }
  end
end
for _, p in ipairs(policies) do
  local runs = bench(p[1], p[2], p[3])
  results[p[1]] = report(p[1], runs)
  if not results.lags then
    local l = results[p[1]].lags
    print(("  measured lag of the cases: median %.0f ms, p95 %.0f ms, max %.0f ms")
      :format(pct(l, 0.5) * 1e3, pct(l, 0.95) * 1e3, pct(l, 1) * 1e3))
    results.lags = true
  end
end
print(("scheduler lateness (resumed after due): mean %.2f ms, max %.1f ms over %d resumes")
  :format(late.n > 0 and late.sum / late.n * 1e3 or 0, late.max * 1e3, late.n))
local d, n = results["default (consistency)"], results["naive 1 s, 2 s"]
print(("default vs naive: median overshoot %.1f%% of naive's (target <= 10%%), %.2f requests/wait (target <= 10),"
       .. " %d premature give-ups (target 0)"):format(d.median / n.median * 100, d.mean_calls, d.bad))
client:close()
srv.stop()
