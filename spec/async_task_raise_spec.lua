-- laws.async keeps what a task raised (a table or a string) in err.cause.
local async = require "laws.async"

describe("laws.async keeps what a task raised", function()
  it("a table raised by a task is err.cause, not only 'table: 0x...' text", function()
    local raised = { code = "Mine", detail = 42 }
    local res, err = async.run(function() error(raised) end)
    assert.is_nil(res)
    assert.equal("TaskError", err.code)
    assert.equal(raised, err.cause)
  end)

  it("a string raised keeps its text in err.cause", function()
    local _, err = async.run(function() error("plain words", 0) end)
    assert.equal("plain words", err.cause)
  end)
end)
