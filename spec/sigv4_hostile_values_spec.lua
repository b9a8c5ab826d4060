-- laws.sigv4 refuses values that would end up in a header or the scope with a control
-- character or a '/' in them, without echoing the value.
local sigv4 = require "laws.sigv4"

describe("sigv4 values that end up in headers or the scope", function()
  local req = { method = "GET", url = "https://example.com/" }
  local opts = { service = "s", region = "us-east-1", time = 1764153000 }
  local function creds(t)
    local c = { access_key_id = "AKIDSPEC", secret_access_key = "spec-secret-0123456789" }
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
