-- laws.async scheduler: tasks, timers, wait/gather, errors, cancellation, deadlines, step().
-- No network here: sleeps are timers, so every figure is about the scheduler itself.
local async = require "laws.async"
local runtime = require "laws.runtime"
local core = require "laws.core"

describe("laws.async scheduler", function()
  it("uses the C monotonic clock (not CPU time) for its timers", function()
    assert.is_function(core.monotonic)
    local a = runtime.now()
    core.sleep(0.02)
    assert.is_true(runtime.now() - a >= 0.019)
  end)

  it("run returns the task's results after its children end", function()
    local log = {}
    local r, e = async.run(function(x)
      async.spawn(function() async.sleep(0.03); log[#log + 1] = "child" end)
      log[#log + 1] = "parent"
      return x * 2, "second"
    end, 21)
    assert.equal(42, r)
    assert.equal("second", e)
    assert.same({ "parent", "child" }, log)
  end)

  it("fires timers in deadline order, overlapping the sleeps", function()
    local order = {}
    local t0 = runtime.now()
    async.run(function()
      for _, d in ipairs({ 0.06, 0.02, 0.04, 0.0 }) do
        async.spawn(function() runtime.sleep(d); order[#order + 1] = d end)
      end
    end)
    local wall = runtime.now() - t0
    assert.same({ 0.0, 0.02, 0.04, 0.06 }, order)
    assert.is_true(wall >= 0.059, "slept at least the longest timer")
    assert.is_true(wall < 0.5, "sleeps overlapped (wall " .. wall .. ")")
  end)

  it("runtime.sleep inside a task yields; outside it blocks as before", function()
    local ran_between = false
    async.run(function()
      local a = async.spawn(function() runtime.sleep(0.05) end)
      async.spawn(function() ran_between = true end)
      async.wait(a)
    end)
    assert.is_true(ran_between)
    local t0 = runtime.now()
    runtime.sleep(0.02)
    assert.is_true(runtime.now() - t0 >= 0.019)
  end)

  it("wait and gather return results and errors per task", function()
    local res, errs = async.run(function()
      local ts = {}
      for i = 1, 5 do
        ts[i] = async.spawn(function()
          async.sleep(0.001 * (6 - i))
          if i == 3 then return nil, "no" end
          return i * 10
        end)
      end
      return async.gather(ts)
    end)
    assert.same({ 10, 20, nil, 40, 50 }, res)
    assert.equal("no", errs[3])
    assert.is_nil(errs[1])
  end)

  it("wait from outside any task drives the scheduler", function()
    local t = async.spawn(function() async.sleep(0.01); return "done" end)
    assert.equal("done", async.wait(t))
  end)

  it("a task that raises ends with TaskError; the others carry on", function()
    local finished = 0
    local bad
    async.run(function()
      bad = async.spawn(function() async.sleep(0.01); error("boom") end)
      for _ = 1, 10 do
        async.spawn(function() async.sleep(0.02); finished = finished + 1 end)
      end
    end)
    assert.equal(10, finished)
    local r, err = async.wait(bad)
    assert.is_nil(r)
    assert.equal("TaskError", err.code)
    assert.matches("boom", err.message)
    assert.matches("traceback", err.message)
  end)

  it("cancel ends a sleeping task: its sleep answers nil, Cancelled at once, wait returns that error, its timer never fires", function()
    local slept
    local r, err, waited
    async.run(function()
      local t = async.spawn(function()
        local ok, e = async.sleep(5)
        slept = { ok = ok, err = e }
        return "ignored: a cancelled task's result is its error"
      end)
      async.sleep(0.01)
      local c0 = runtime.now()
      assert.is_true(t:cancel())
      waited = runtime.now() - c0
      assert.is_false(t:cancel())
      r, err = async.wait(t)
    end)
    assert.is_table(slept, "the cancelled sleep never returned")
    assert.is_nil(slept.ok)
    assert.equal("Cancelled", slept.err and slept.err.code)
    assert.is_true(waited < 0.5, "cancel took " .. waited .. " s")
    assert.is_nil(r)
    assert.equal("Cancelled", err.code)
    assert.equal(0, async.stats().timers)
  end)

  it("a cancelled task's runtime.sleep and laws.retry stop with the error; a wait after it parks for good", function()
    local retry = require "laws.retry"
    local got, after
    local t = async.spawn(function()
      local r, e = retry(function() return nil, "not yet" end, { policy = function() return 0.05 end })
      got = { r = r, err = e }
      runtime.sleep(10)       -- cancelled: never returns, the task is dropped
      after = true
    end)
    async.step(0.01)
    assert.is_nil(got)
    t:cancel()
    assert.is_table(got, "laws.retry did not return in the cancelled task")
    assert.is_nil(got.r)
    assert.equal("Cancelled", got.err and got.err.code)
    assert.is_nil(after)
    assert.equal(0, async.stats().timers)
  end)

  it("requiring laws.async changes nothing outside its tasks: calls there take the blocking backend", function()
    assert.equal(runtime.blocking, runtime.backend())
    local seen
    async.run(function() seen = runtime.backend() end)
    assert.equal(async.backend, seen)
    assert.equal(runtime.blocking, runtime.backend())
    -- a sleep outside any task never enters laws.async's code
    local entered = 0
    local sleep = async.backend.sleep
    async.backend.sleep = function(s) entered = entered + 1; return sleep(s) end
    local ok = runtime.sleep(0.001)
    async.step(0)
    runtime.sleep(0.001)
    async.backend.sleep = sleep
    assert.is_true(ok)
    assert.equal(0, entered)
  end)

  it("a task can cancel itself", function()
    local after = false
    local t
    t = async.spawn(function()
      async.sleep(0.001)
      t:cancel()
      after = true
    end)
    local r, err = async.wait(t)
    assert.is_nil(r)
    assert.equal("Cancelled", err.code)
    assert.is_false(after)
  end)

  -- to-be-closed variables exist from Lua 5.4 only (LuaJIT has no coroutine.close)
  if coroutine.close then
    it("runs a cancelled task's to-be-closed variables (Lua 5.4)", function()
      local chunk = load([[
        local async, flag = ...
        return async.spawn(function()
          local guard <close> = setmetatable({}, { __close = function() flag.closed = true end })
          async.sleep(10)
        end)
      ]])
      local flag = {}
      local t = chunk(async, flag)
      async.step(0)
      assert.is_nil(flag.closed)
      t:cancel()
      assert.is_true(flag.closed)
    end)
  end

  it("a deadline cancels a task with DeadlineExceeded, on time", function()
    local t0 = runtime.now()
    local t = async.spawn(function() async.sleep(5) return "late" end):set_deadline(0.05)
    local quick = async.spawn(function() async.sleep(0.01) return "ok" end):set_deadline(1)
    local r, err = async.wait(t)
    local wall = runtime.now() - t0
    assert.is_nil(r)
    assert.equal("DeadlineExceeded", err.code)
    assert.is_true(wall >= 0.049 and wall < 0.5, "deadline wall " .. wall)
    assert.equal("ok", async.wait(quick))
  end)

  it("a plain coroutine.yield inside a task lets the others run", function()
    local log = {}
    async.run(function()
      async.spawn(function() log[#log + 1] = "a1"; coroutine.yield(); log[#log + 1] = "a2" end)
      async.spawn(function() log[#log + 1] = "b1" end)
    end)
    assert.same({ "a1", "b1", "a2" }, log)
  end)

  it("step(max_wait) never blocks longer than asked", function()
    local t = async.spawn(function() async.sleep(0.3) end)
    local worst = 0
    for _ = 1, 5 do
      local a = runtime.now()
      async.step(0.02)
      worst = math.max(worst, runtime.now() - a)
    end
    local a = runtime.now()
    async.step(0)
    local zero = runtime.now() - a
    -- generous bounds: on a loaded machine the process itself may wait for a CPU
    assert.is_true(worst < 0.02 + 0.05, "step(0.02) took " .. worst)
    assert.is_true(zero < 0.05, "step(0) took " .. zero)
    t:cancel()
  end)

  it("step(budget) resumes no task once the budget is spent", function()
    local ran = 0
    for _ = 1, 200 do
      async.spawn(function()
        local a = os.clock()
        while os.clock() - a < 0.001 do end  -- 1 ms of CPU each
        ran = ran + 1
      end)
    end
    async.step(0.01)
    local first = ran
    while async.stats().tasks > 0 do async.step(0.01) end
    assert.equal(200, ran)
    -- each task holds the CPU 1 ms: the budget has room for 10, and no task starts after it
    assert.is_true(first >= 1 and first <= 10, "first step ran " .. first .. " tasks")
  end)

  it("step returns early when a timer is due before max_wait", function()
    local fired = false
    async.spawn(function() async.sleep(0.01); fired = true end)
    local a = runtime.now()
    while not fired and runtime.now() - a < 1 do async.step(0.5) end
    local took = runtime.now() - a
    assert.is_true(fired)
    assert.is_true(took < 0.2, "took " .. took)
  end)

  it("an idle wait uses no CPU (no busy waiting)", function()
    local c0, w0 = os.clock(), runtime.now()
    async.run(function()
      for _ = 1, 3 do async.spawn(function() async.sleep(0.3) end) end
    end)
    local cpu, wall = os.clock() - c0, runtime.now() - w0
    assert.is_true(wall >= 0.29)
    local scale = tonumber(os.getenv("LAWS_TIME_SCALE") or "") or 1  -- stretched under valgrind
    assert.is_true(cpu < 0.03 * scale, ("CPU %.4f s over a %.3f s idle wait"):format(cpu, wall))
  end)

  it("timeout() reports the next timer for external loops", function()
    assert.is_nil(async.timeout())
    local t = async.spawn(function() async.sleep(0.2) end)
    assert.equal(0, async.timeout())  -- ready to start
    async.step(0)
    local to = async.timeout()
    assert.is_true(to > 0.1 and to <= 0.2, "timeout " .. tostring(to))
    t:cancel()
    assert.is_nil(async.timeout())
  end)

  it("detects a deadlock instead of hanging", function()
    local a, b
    a = async.spawn(function() async.sleep(0); return async.wait(b) end)
    b = async.spawn(function() async.sleep(0); return async.wait(a) end)
    assert.has_error(function() async.wait(a) end)
    a:cancel(); b:cancel()
  end)

  it("raises on misuse, naming the argument", function()
    assert.has_error(function() async.spawn(42) end, "bad argument #1 to 'spawn' (function expected, got number)")
    assert.has_error(function() async.wait({}) end)
    assert.has_error(function() async.step(-1) end)
    assert.has_error(function() async.gather("x") end)
    local r, err = async.run(function() async.step(0) end)
    assert.is_nil(r)
    assert.matches("called from inside a task", err.message)
  end)
end)
