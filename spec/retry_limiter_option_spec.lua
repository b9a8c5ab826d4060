-- The `limiter` option of laws.retry.aws: an outside rate limiter (laws.ngx.rate_limiter keeps
-- one in an ngx.shared.DICT for every nginx worker) replaces the per-client C limiter.
local aws_retry = require "laws.retry.aws"
local errors = require "laws.errors"

describe("the AWS retry strategy, limiter option", function()
  it("asks the given limiter how long to wait and tells it about throttling", function()
    local log = {}
    local limiter = {
      acquire = function(_, now) log[#log + 1] = { "acquire", type(now) }; return 0.25 end,
      update = function(_, now, throttled) log[#log + 1] = { "update", type(now), throttled } end,
    }
    local s = aws_retry.new{ mode = "adaptive", max_attempts = 3, limiter = limiter, seed = 1 }
    local call = s:start()
    assert.are.equal(0.25, call:before_attempt())
    local delay = call:after_attempt(nil, errors.new{ code = "ThrottlingException", status = 400 })
    assert.is_number(delay)
    assert.are.same({ { "acquire", "number" }, { "update", "number", true } }, log)
  end)

  it("is not used in standard mode", function()
    local used = false
    local limiter = { acquire = function() used = true; return 1 end, update = function() used = true end }
    local call = aws_retry.new{ mode = "standard", limiter = limiter }:start()
    assert.are.equal(0, call:before_attempt())
    call:after_attempt({}, nil)
    assert.is_false(used)
  end)

  it("rejects a limiter that is not a table or userdata", function()
    assert.has_error(function() aws_retry.new{ limiter = 5 } end)
  end)
end)
