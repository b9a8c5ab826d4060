-- laws.core's multi handle: transfer ids outside the int range never alias a live transfer.
local core = require "laws.core"

describe("multi transfer ids", function()
  it("cancel(id + 2^32) does not cancel transfer id (int truncation)", function()
    local m = core.multi_new()
    local id = m:submit{ url = "http://127.0.0.1:1/", connect_timeout = 1 }
    assert.is_number(id)
    assert.is_false(m:cancel(id + 2 ^ 32))
    assert.is_false(m:cancel(-id))
    assert.equal(1, m:count())
    assert.is_true(m:cancel(id))
    m:close()
  end)
end)
