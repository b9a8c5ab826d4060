-- A wait that cannot happen stops the loop that asked for it: runtime.sleep answers
-- nil, err (a cancelled task, an nginx phase that cannot yield) and the client call,
-- laws.retry and the waiter return that error instead of trying again.
local fake = require "spec.support.client_fake"
local laws = require "laws"
local runtime = require "laws.runtime"
local errors = require "laws.errors"

local function cannot_wait()
  return errors.new{ code = "Cancelled", message = "the wait cannot happen here" }
end

-- Puts in use a backend whose sleep fails (over the client_fake one, so it wins); returns
-- the list of delays asked for.
local function failing_sleep()
  local asked = {}
  local prev = runtime.use(runtime.override{ sleep = function(s) asked[#asked + 1] = s; return nil, cannot_wait() end })
  return asked, function() runtime.use(prev) end
end

describe("a sleep that fails", function()
  local rec, restore_sleep
  after_each(function()
    if restore_sleep then restore_sleep(); restore_sleep = nil end
    if rec then rec.restore(); rec = nil end
  end)

  it("ends a client call with the sleep's error before the retry is sent", function()
    rec = fake.script{ { status = 503, headers = {}, body = '{"__type":"ServiceUnavailable"}' } }
    local asked
    asked, restore_sleep = failing_sleep()
    local c = fake.client("dynamodb", { retry = { max_attempts = 5, seed = 1 } })
    local res, err = c:ListTables{}
    assert.is_nil(res)
    assert.equal("Cancelled", err and err.code, "the call went on after the failed sleep: " .. tostring(err))
    assert.equal(1, #rec.sent, "requests sent after the sleep failed: " .. #rec.sent)
    assert.equal(1, #asked)
  end)

  it("ends a client call when the rate limiter's wait before an attempt fails", function()
    rec = fake.script{ { status = 200, headers = {}, body = '{"TableNames":[]}' } }
    local asked
    asked, restore_sleep = failing_sleep()
    local limiter = { acquire = function() return 0.5 end, update = function() end }
    local c = fake.client("dynamodb", { retry = { mode = "adaptive", limiter = limiter } })
    local res, err = c:ListTables{}
    assert.is_nil(res, "the call was sent although the limiter's wait failed")
    assert.equal("Cancelled", err and err.code)
    assert.equal(0, #rec.sent)
    assert.same({ 0.5 }, asked)
  end)

  it("ends laws.retry with the sleep's error", function()
    local asked
    asked, restore_sleep = failing_sleep()
    local calls = 0
    local res, err = laws.retry(function() calls = calls + 1; return nil, "not yet" end,
                                { policy = function(n) if n < 5 then return 0.01 end end })
    assert.is_nil(res)
    assert.equal("Cancelled", errors.is(err) and err.code, tostring(err))
    assert.equal(1, calls)
    assert.equal(1, #asked)
  end)

  it("ends a waiter with the sleep's error", function()
    local asked
    asked, restore_sleep = failing_sleep()
    local w = laws.waiter{ operation = "Op", max_wait = 10, acceptors = {
      { state = "success", matcher = { success = true } },
      { state = "retry", matcher = { errorType = "ResourceNotFoundException" } },
    } }
    local calls = 0
    local client = { call = function() calls = calls + 1; return nil, errors.new{ code = "ResourceNotFoundException" } end }
    local res, err = w(client, {})
    assert.is_nil(res)
    assert.equal("Cancelled", err and err.code)
    assert.equal(1, calls)
    assert.equal(1, #asked)
  end)
end)

describe("a laws.async task cancelled while a loop waits", function()
  -- the task ends with the cancel's error and the loop makes no further attempt
  local function cancelled_during(loop)
    local attempts = 0
    local task
    laws.async.run(function()
      task = laws.async.spawn(function() return loop(function() attempts = attempts + 1 end) end)
      laws.async.sleep(0.05)
      task:cancel()
    end)
    local res, err = laws.async.wait(task)
    return res, err, attempts
  end

  it("stops laws.retry", function()
    local res, err, attempts = cancelled_during(function(count)
      return laws.retry(function() count(); return nil, "not yet" end,
                        { policy = function() return 0.2 end })
    end)
    assert.is_nil(res)
    assert.is_truthy(err)
    assert.equal(1, attempts)
  end)

  it("stops a waiter", function()
    local w = laws.waiter{ operation = "Op", min_delay = 0.2, max_delay = 0.2, max_wait = 10, acceptors = {
      { state = "retry", matcher = { errorType = "ResourceNotFoundException" } },
    } }
    local res, err, attempts = cancelled_during(function(count)
      return w({ call = function() count(); return nil, errors.new{ code = "ResourceNotFoundException" } end }, {})
    end)
    assert.is_nil(res)
    assert.is_truthy(err)
    assert.equal(1, attempts)
  end)
end)
