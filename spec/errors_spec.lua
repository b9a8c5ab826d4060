local errors = require "laws.errors"

describe("laws.errors", function()
  it("builds an error whose tostring names code, message, status and attempts", function()
    local e = errors.new{ code = "ThrottlingException", message = "Rate exceeded", status = 429,
                          request_id = "abc-1", attempts = 3 }
    local s = tostring(e)
    assert.matches("^ThrottlingException: Rate exceeded", s)
    assert.matches("status 429", s, 1, true)
    assert.matches("request id abc%-1", s)
    assert.matches("attempts 3", s)
    assert.is_true(errors.is(e))
    assert.is_false(errors.is({ code = "X" }))
  end)

  it("requires a string code", function()
    assert.has_error(function() errors.new{ message = "no code" } end)
    assert.has_error(function() errors.new("x") end)
  end)

  it("redacts registered secrets from messages and tostring", function()
    local secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY-errors-spec"
    errors.register_secret(secret)
    local e = errors.new{ code = "X", message = "the server echoed " .. secret .. " twice: " .. secret }
    assert.is_nil(tostring(e):find(secret, 1, true))
    assert.is_nil(e.message:find(secret, 1, true))
    assert.matches("<redacted>", tostring(e), 1, true)
  end)
end)
