-- A client's max_body (and a call's) reaches every attempt's transfer: an answer over it is
-- ResponseTooLarge, not retried, on the blocking path and inside laws.async tasks.
local laws = require "laws"
local async = require "laws.async"
local servers = require "spec.support.servers"

local srv
setup(function() srv = servers.standin{} end)

local function client(opts)
  local o = { region = "us-east-1", endpoint = srv.url, credentials = srv.credentials, retry = { max_attempts = 3 } }
  for k, v in pairs(opts or {}) do o[k] = v end
  return laws.client("connectcases", o)
end

describe("a client's max_body", function()
  it("makes a larger answer ResponseTooLarge, after one attempt", function()
    local c = client{ max_body = 8 }
    local r, err = c:ListDomains{}
    c:close()
    assert.is_nil(r)
    assert.equal("ResponseTooLarge", err and err.code, tostring(err))
    assert.equal(1, err.attempts)
  end)

  it("is replaced by a call's own max_body", function()
    local c = client{ max_body = 8 }
    local r, err = c:ListDomains({}, { max_body = 1024 * 1024 })
    c:close()
    assert.is_table(r, tostring(err))
  end)

  it("applies inside a laws.async task", function()
    local c = client{ max_body = 8 }
    local r, err
    async.run(function() r, err = c:ListDomains{} end)
    c:close()
    assert.is_nil(r)
    assert.equal("ResponseTooLarge", err and err.code, tostring(err))
  end)

  it("must be a number >= 0", function()
    assert.error_matches(function() client{ max_body = "big" } end, "max_body must be a number")
    assert.error_matches(function() client{ max_body = -1 } end, "max_body must be a finite number")
  end)
end)
