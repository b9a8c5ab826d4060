-- laws.client, laws.config and laws.credentials called the wrong way: options of the wrong
-- type or range raise at construction naming the option (not an "attempt to index" from deep
-- inside, nor a raise on every later call), and methods called without self say how to call them.
local laws = require "laws"

local creds = { access_key_id = "AKIDSPEC", secret_access_key = "spec-secret-not-real" }

local function raises(pattern, opts)
  opts.credentials = opts.credentials or creds
  local ok, e = pcall(laws.client, "dynamodb", opts)
  assert.is_false(ok, "expected a raise")
  assert.matches(pattern, tostring(e))
  assert.is_nil(tostring(e):find("attempt to", 1, true))
end

describe("laws.client options of the wrong type or range", function()
  it("names a region that is no string", function()
    raises("laws.client: region must be a string, got number", { region = 5 })
    raises("laws.client: region must be a string, got table", { region = {} })
  end)

  it("names an endpoint that is no string", function()
    raises("laws.client: endpoint must be a string, got number", { region = "us-east-1", endpoint = 5 })
  end)

  it("names a profile that is no string", function()
    raises("laws.client: profile must be a string, got boolean", { region = "us-east-1", profile = true })
  end)

  for _, k in ipairs{ "timeout", "connect_timeout" } do
    for _, v in ipairs{ -1, 0 / 0, math.huge } do
      it("rejects " .. k .. " = " .. tostring(v) .. " at construction", function()
        raises("laws.client: " .. k .. " must be a finite number >= 0", { region = "us-east-1", [k] = v })
      end)
    end
  end

  it("still takes good values", function()
    local c = laws.client("dynamodb", { region = "us-east-1", endpoint = "http://127.0.0.1:1",
                                       timeout = 0.5, connect_timeout = 0, credentials = creds })
    assert.equal("laws.client(dynamodb, us-east-1)", tostring(c))
  end)
end)

describe("client and credentials methods called the wrong way", function()
  it("c:wait with params that are no table names them (not 'for iterator')", function()
    local c = laws.client("connectcases", { region = "us-east-1", endpoint = "http://127.0.0.1:1",
                                           credentials = creds })
    local ok, e = pcall(c.wait, c, "CaseVisible", "case-1")
    assert.is_false(ok)
    assert.matches("params must be a table, got string", tostring(e))
  end)

  it("provider.get() and chain.get() without self say how to call them", function()
    local credentials = require "laws.credentials"
    local p = credentials.static(creds)
    local ok, e = pcall(p.get)
    assert.is_false(ok)
    assert.matches("call it as provider:get%(%)", tostring(e))
    local ch = credentials.chain{ p }
    ok, e = pcall(ch.get)
    assert.is_false(ok)
    assert.matches("call it as chain:get%(%)", tostring(e))
  end)
end)

describe("laws.config and laws.credentials option tables", function()
  local config = require "laws.config"
  local credentials = require "laws.credentials"
  local cases = {
    { "config.load(5)", function() return config.load(5) end, "options must be a table" },
    { "config.load('x')", function() return config.load("x") end, "options must be a table" },
    { "config.load{config_file = 5}", function() return config.load{ config_file = 5 } end,
      "option 'config_file' must be a string" },
    { "config.get('region', 5)", function() return config.get("region", 5) end, "options must be a table" },
    { "config.region('x')", function() return config.region("x") end, "options must be a table" },
    { "config.parse(nil)", function() return config.parse(nil) end, "text must be a string" },
    { "credentials.resolve(5)", function() return credentials.resolve(5) end, "options must be a table" },
    { "credentials.default_chain(5)", function() return credentials.default_chain(5) end, "options must be a table" },
    { "client config_file = 5", function()
        return laws.client("sts", { region = "us-east-1", config_file = 5, credentials = creds }) end,
      "config_file must be a string" },
  }
  for _, c in ipairs(cases) do
    it(c[1] .. " raises naming the fault", function()
      local ok, e = pcall(c[2])
      assert.is_false(ok)
      assert.matches(c[3], tostring(e), 1, true)
      assert.is_nil(tostring(e):find("attempt to", 1, true))
    end)
  end
end)
