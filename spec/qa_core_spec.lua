-- QA: the C bindings fed hostile values, and laws.async keeping what a task raised.
local core = require "laws.core"
local sigv4 = require "laws.sigv4"
local async = require "laws.async"

describe("qa: multi transfer ids", function()
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

describe("qa: sigv4 values that end up in headers or the scope", function()
  local req = { method = "GET", url = "https://example.com/" }
  local opts = { service = "s", region = "us-east-1", time = 1764153000 }
  local function creds(t)
    local c = { access_key_id = "AKIDQA", secret_access_key = "qa-secret-0123456789" }
    for k, v in pairs(t) do c[k] = v end
    return c
  end

  for field, c in pairs{
    access_key_id = creds{ access_key_id = "AKID\r\nX-Injected: 1" },
    session_token = creds{ session_token = "tok-0123456789\r\nX-Injected: 1" },
  } do
    it("raises on CR/LF in credentials." .. field .. " without echoing it", function()
      local ok, e = pcall(sigv4.sign, req, c, opts)
      assert.is_false(ok)
      assert.matches("credentials." .. field .. " contains a control character", tostring(e))
      assert.is_nil(tostring(e):find("Injected", 1, true))
    end)
  end

  for _, k in ipairs{ "service", "region" } do
    it("raises on a newline or '/' in options." .. k, function()
      for _, bad in ipairs{ "us\neast", "a/b" } do
        local o = { service = "s", region = "us-east-1", time = 1764153000 }
        o[k] = bad
        local ok, e = pcall(sigv4.sign, req, creds{}, o)
        assert.is_false(ok)
        assert.matches("options." .. k .. " contains", tostring(e))
      end
    end)
  end

  it("still signs a session token with every printable character", function()
    local signed = assert(sigv4.sign(req, creds{ session_token = "A+/=b c~!" }, opts))
    assert.equal("A+/=b c~!", signed.headers["X-Amz-Security-Token"])
  end)
end)

describe("qa: laws.async keeps what a task raised", function()
  it("a table raised by a task is err.cause, not only 'table: 0x...' text", function()
    local raised = { code = "Mine", detail = 42 }
    local res, err = async.run(function() error(raised) end)
    assert.is_nil(res)
    assert.equal("TASK_ERROR", err.code)
    assert.equal(raised, err.cause)
  end)

  it("a string raised keeps its text in err.cause", function()
    local _, err = async.run(function() error("plain words", 0) end)
    assert.equal("plain words", err.cause)
  end)
end)
