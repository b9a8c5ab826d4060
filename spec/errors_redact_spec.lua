-- Redaction of secrets in the forms a server echoes them (percent-encoded as in a presigned
-- URL's canonical request, form-encoded, '+' read back as a space), and the cap on message
-- length (a 50 MB error body must not become a 50 MB tostring(err)).
local errors = require "laws.errors"
local fake = require "spec.support.client_fake"

local TOKEN = "IQoJb3JpZ2luX2VjE/redact+spec/Token==//AbC+xyz"
local SPACED = "pass word/with+all=kinds"
errors.register_secret(TOKEN)
errors.register_secret(SPACED)

local function pct(s, keep_slash, lower)
  local r = s:gsub(keep_slash and "[^%w%-%._~/]" or "[^%w%-%._~]", function(c)
    return (lower and "%%%02x" or "%%%02X"):format(c:byte())
  end)
  return r
end

local function leaks(text)
  local forms = {
    TOKEN, pct(TOKEN), pct(TOKEN, true), pct(TOKEN, false, true), pct(TOKEN, true, true),
    (pct(TOKEN):gsub("%%", "%%25")), (TOKEN:gsub("%+", " ")),
    SPACED, pct(SPACED), (pct((SPACED:gsub(" ", "\0"))):gsub("%%00", "+")), (SPACED:gsub("%+", " ")),
  }
  for _, f in ipairs(forms) do
    if text:find(f, 1, true) then return f end
  end
  -- and no long piece of the token's own characters either
  if text:find("IQoJb3JpZ2luX2VjE", 1, true) then return "IQoJb3JpZ2luX2VjE" end
  return nil
end

describe("a secret echoed by a server", function()
  it("is redacted percent-encoded (upper or lower hex, '/' encoded or not, encoded twice)", function()
    for _, form in ipairs{ pct(TOKEN), pct(TOKEN, true), pct(TOKEN, false, true), pct(TOKEN, true, true),
                           (pct(TOKEN):gsub("%%", "%%25")) } do
      local e = errors.new{ code = "SignatureDoesNotMatch", message = "canonical request: X-Amz-Security-Token=" .. form .. "&x=1" }
      assert.is_nil(leaks(e.message), "leaked in message: " .. e.message)
      assert.is_nil(leaks(tostring(e)), "leaked in tostring: " .. tostring(e))
      assert.matches("X-Amz-Security-Token=<redacted>&x=1", e.message, 1, true)
    end
  end)

  it("is redacted form-encoded ('+' for space) and with its '+' read back as a space", function()
    local form = pct((SPACED:gsub(" ", "\0"))):gsub("%%00", "+")
    assert.equal("pass+word%2Fwith%2Ball%3Dkinds", form)
    local e = errors.new{ code = "X", message = "body: Token=" .. form .. " and " .. TOKEN:gsub("%+", " ") }
    assert.equal("body: Token=<redacted> and <redacted>", e.message)
  end)

  it("is redacted in the request id and headers kept on the error, in any of those forms", function()
    local e = errors.new{ code = "X", request_id = "rid-" .. pct(TOKEN),
                          headers = { ["x-echo"] = pct(TOKEN, true, true), ["x-list"] = { "a", pct(TOKEN) } } }
    assert.equal("rid-<redacted>", e.request_id)
    assert.equal("<redacted>", e.headers["x-echo"])
    assert.equal("<redacted>", e.headers["x-list"][2])
    assert.is_nil(leaks(tostring(e)))
  end)

  it("is redacted from a message set after the error was made, when printed", function()
    local e = errors.new{ code = "X", message = "m" }
    e.message = "later: " .. pct(TOKEN, false, true)
    assert.equal("X: later: <redacted>", tostring(e))
  end)

  it("in a 403 answer to a client call never reaches the error or its tostring", function()
    local canonical = "GET\n/\nX-Amz-Credential=AKIDREDACT%2F20260101%2Fus-east-1%2Fcases%2Faws4_request"
      .. "&X-Amz-Security-Token=" .. pct(TOKEN) .. "\nhost:cases\n"
    local rec = fake.script{ { status = 403, headers = { ["x-amzn-errortype"] = "InvalidSignatureException",
      ["x-amzn-requestid"] = "r-" .. pct(TOKEN, true) },
      body = require("cjson").encode{ message = "The request signature we calculated does not match. "
        .. "The Canonical String for this request should have been\n'" .. canonical .. "'" } } }
    local c = fake.client("connectcases", { credentials = { access_key_id = "AKIDREDACT",
      secret_access_key = "redact/spec/secret+KEY0123456789", session_token = TOKEN }, retry = { max_attempts = 1 } })
    local r, err = c:ListDomains{}
    rec.restore()
    assert.is_nil(r)
    assert.equal("InvalidSignatureException", err.code)
    assert.is_nil(leaks(err.message), err.message)
    assert.is_nil(leaks(tostring(err)), tostring(err))
    assert.matches("X-Amz-Security-Token=<redacted>", tostring(err), 1, true)
  end)
end)

describe("an error message", function()
  local max = errors.MAX_MESSAGE

  it("is capped, with a marker saying how much was cut", function()
    local big = string.rep("0123456789", 5 * 1024 * 1024)  -- 50 MiB
    local e = errors.new{ code = "HTTP500", message = big, status = 500 }
    assert.is_true(#e.message <= max, "message is " .. #e.message .. " bytes")
    assert.matches(("message cut: %d of its %d bytes not shown"):format(#big - (max - 96), #big), e.message, 1, true)
    local s = tostring(e)
    assert.is_true(#s <= max + 100, "tostring is " .. #s .. " bytes")
    -- printing again does not cut again
    local _, markers = s:gsub("message cut", "")
    assert.equal(1, markers)
    assert.is_true(max >= 1024 and max <= 4096)
  end)

  it("set huge after the error was made is capped when printed", function()
    local e = errors.new{ code = "X" }
    e.message = string.rep("y", 10 * 1024 * 1024)
    assert.is_true(#tostring(e) <= max + 100)
  end)

  it("never shows part of a secret the cut goes through", function()
    for shift = 1, 20 do
      local msg = string.rep("-", max - 96 - shift) .. pct(TOKEN) .. string.rep("+", 5000)
      local e = errors.new{ code = "X", message = msg }
      assert.is_nil(e.message:find("IQoJb3", 1, true), "part of the token shown at shift " .. shift)
      assert.is_nil(e.message:find("%-IQ"), "part of the token shown at shift " .. shift)
    end
    -- nor a secret wholly inside the part kept
    local e = errors.new{ code = "X", message = "a " .. TOKEN .. string.rep("z", 3 * max) }
    assert.matches("^a <redacted>zzz", e.message)
  end)
end)
