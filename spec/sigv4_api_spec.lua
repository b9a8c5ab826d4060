-- laws.sigv4 public behaviour: the signed request, options, validation of bad input.
local sigv4 = require "laws.sigv4"
local core = require "laws.core"
local runtime = require "laws.runtime"

local SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
local TOKEN = "SESSIONTOKEN/never+in=errors"
local T = 1440938160

local function creds(t)
  local c = { access_key_id = "AKIDEXAMPLE", secret_access_key = SECRET }
  for k, v in pairs(t or {}) do c[k] = v end
  return c
end
local function opts(t)
  local o = { service = "service", region = "us-east-1", time = T }
  for k, v in pairs(t or {}) do o[k] = v end
  return o
end
local function req(t)
  local r = { method = "GET", url = "https://example.amazonaws.com/" }
  for k, v in pairs(t or {}) do r[k] = v end
  return r
end

-- raises, the message contains `needle`, and never a secret
local function raises(needle, fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected an error mentioning " .. needle)
  err = tostring(err)
  assert.is_truthy(err:find(needle, 1, true), "message '" .. err .. "' should mention " .. needle)
  assert.is_falsy(err:find(SECRET, 1, true), "the secret key leaked into: " .. err)
  assert.is_falsy(err:find(TOKEN, 1, true), "the session token leaked into: " .. err)
end

describe("laws.sigv4.sign", function()
  it("returns a new request table and leaves the caller's untouched", function()
    local headers = { ["Content-Type"] = "application/json", ["X-Multi"] = { "a", "b" } }
    local r = req{ method = "POST", headers = headers, body = "{}", timeout = 5 }
    local signed, d = sigv4.sign(r, creds{ session_token = TOKEN }, opts())
    assert.are_not.equal(r, signed)
    assert.are_not.equal(headers, signed.headers)
    assert.are_not.equal(headers["X-Multi"], signed.headers["X-Multi"])
    assert.are.same({ "a", "b" }, signed.headers["X-Multi"])
    assert.is_nil(headers.Authorization)
    assert.are.equal("POST", signed.method)
    assert.are.equal("{}", signed.body)
    assert.are.equal(5, signed.timeout)
    assert.are.equal(r.url, signed.url)
    assert.are.equal("example.amazonaws.com", signed.headers.Host)
    assert.are.equal("20150830T123600Z", signed.headers["X-Amz-Date"])
    assert.are.equal(TOKEN, signed.headers["X-Amz-Security-Token"])
    assert.matches("^AWS4%-HMAC%-SHA256 Credential=AKIDEXAMPLE/20150830/us%-east%-1/service/aws4_request, "
      .. "SignedHeaders=content%-type;host;x%-amz%-date;x%-amz%-security%-token;x%-multi, Signature=%x+$",
      signed.headers.Authorization)
    assert.matches("\nx%-multi:a,b\n", d.canonical_request)
    assert.are.equal(64, #d.signature)
  end)

  it("reads a request and credentials given through __index as it reads plain tables", function()
    local plain = req{ method = "POST", headers = { ["Content-Type"] = "text/plain" }, body = "x" }
    local proxy = setmetatable({}, { __index = plain })
    local cproxy = setmetatable({}, { __index = creds{ session_token = TOKEN } })
    local a, da = sigv4.sign(plain, creds{ session_token = TOKEN }, opts())
    local b, db = sigv4.sign(proxy, cproxy, opts())
    assert.are.equal(da.canonical_request, db.canonical_request)
    assert.are.equal(a.headers.Authorization, b.headers.Authorization)
    assert.are.equal(TOKEN, b.headers["X-Amz-Security-Token"])
    assert.are.equal("text/plain", b.headers["Content-Type"])
  end)

  it("gives each signature its own Host and X-Amz-Date, however the previous one ended", function()
    local one = sigv4.sign(req{ url = "https://one.example.com/" }, creds(), opts())
    local two = sigv4.sign(req{ url = "https://two.example.com:8443/" }, creds(), opts{ time = T + 1 })
    local three = sigv4.sign(req{ url = "https://one.example.com/" }, creds(), opts())
    assert.are.equal("one.example.com", one.headers.Host)
    assert.are.equal("two.example.com:8443", two.headers.Host)
    assert.are.equal("20150830T123601Z", two.headers["X-Amz-Date"])
    assert.are.equal("one.example.com", three.headers.Host)
    assert.are.equal("20150830T123600Z", three.headers["X-Amz-Date"])
  end)

  it("drops every value of a replaced header given as a list, and keeps the other lists", function()
    local r = req{ headers = { ["x-amz-date"] = { "old", "older" }, ["X-Multi"] = { "a", "b" }, Authorization = "x" } }
    local signed, d = sigv4.sign(r, creds(), opts())
    assert.are.equal("20150830T123600Z", signed.headers["X-Amz-Date"])
    assert.is_nil(signed.headers["x-amz-date"])
    assert.are.same({ "a", "b" }, signed.headers["X-Multi"])
    assert.are.same({ "old", "older" }, r.headers["x-amz-date"])
    assert.is_falsy(d.canonical_request:find("old", 1, true))
    local n = 0
    for k in pairs(signed.headers) do if k:lower() == "authorization" then n = n + 1 end end
    assert.are.equal(1, n)
  end)

  it("re-signing a signed request replaces the old signature headers", function()
    local first = sigv4.sign(req(), creds(), opts())
    local again, d = sigv4.sign(first, creds(), opts{ time = T + 3600 })
    assert.are.equal("20150830T133600Z", again.headers["X-Amz-Date"])
    assert.matches("\nhost;x%-amz%-date\n", d.canonical_request)
    assert.are_not.equal(first.headers.Authorization, again.headers.Authorization)
    local n = 0
    for k in pairs(again.headers) do if k:lower() == "authorization" then n = n + 1 end end
    assert.are.equal(1, n)
  end)

  it("defaults the time to laws.runtime.time()", function()
    local prev = runtime.use(runtime.override{ time = function() return T + 0.75 end })
    local ok, signed = pcall(sigv4.sign, req(), creds(), { service = "s", region = "r" })
    runtime.use(prev)
    assert.is_true(ok, signed)
    assert.are.equal("20150830T123600Z", signed.headers["X-Amz-Date"])
  end)

  it("payload options: body hash, UNSIGNED-PAYLOAD, a given hash, x-amz-content-sha256", function()
    local _, d = sigv4.sign(req{ body = "abc" }, creds(), opts())
    assert.matches("\n" .. core.sha256_hex("abc") .. "$", d.canonical_request)
    _, d = sigv4.sign(req{ body = "abc" }, creds(), opts{ payload = "UNSIGNED-PAYLOAD" })
    assert.matches("\nUNSIGNED%-PAYLOAD$", d.canonical_request)
    local h = core.sha256_hex("other")
    local signed
    signed, d = sigv4.sign(req{ body = "abc" }, creds(), opts{ payload = h, content_sha256_header = true })
    assert.matches("\n" .. h .. "$", d.canonical_request)
    assert.are.equal(h, signed.headers["X-Amz-Content-Sha256"])
    assert.matches("x%-amz%-content%-sha256:" .. h, d.canonical_request)
  end)

  it("S3 mode: no path normalisation, single encoding", function()
    local r = req{ url = "https://b.s3.amazonaws.com/a//b/../c%3Dd e" }
    local _, d = sigv4.sign(r, creds(), opts{ normalize_path = false, double_encode = false })
    assert.matches("^GET\n/a//b/../c%%3Dd%%20e\n", d.canonical_request)
    _, d = sigv4.sign(r, creds(), opts())
    assert.matches("^GET\n/a/c%%253Dd%%20e\n", d.canonical_request)
  end)

  it("omit_session_token adds the token unsigned", function()
    local signed, d = sigv4.sign(req(), creds{ session_token = TOKEN }, opts{ omit_session_token = true })
    assert.are.equal(TOKEN, signed.headers["X-Amz-Security-Token"])
    assert.is_falsy(d.canonical_request:find("security", 1, true))
  end)

  it("details and canonical() never show the session token (header and query mode)", function()
    local tok = TOKEN .. "/+=x"
    local _, d = sigv4.sign(req(), creds{ session_token = tok }, opts())
    local _, dq = sigv4.presign(req(), creds{ session_token = tok }, opts{ expires = 60 })
    local c = sigv4.canonical(req(), creds{ session_token = tok }, opts())
    for _, s in ipairs{ d.canonical_request, dq.canonical_request, c } do
      assert.is_nil(s:find(tok, 1, true))
      assert.is_nil(s:find("%2F%2B%3Dx", 1, true))
      assert.truthy(s:find(sigv4.TOKEN_MARKER, 1, true))
    end
    assert.is_nil(d.string_to_sign:find(tok, 1, true))
  end)

  it("hides each new session token in query mode, not only the first one seen", function()
    -- the URI-encoded form of the last token is remembered (encoding is slow): a rotated
    -- token must not slip through with the old one's encoding
    for i, tok in ipairs{ "first/+token=", "second/=token+", "first/+token=" } do
      local _, dq = sigv4.presign(req(), creds{ session_token = tok }, opts{ expires = 60 })
      local enc = tok:gsub("[^%w%-%._~]", function(ch) return ("%%%02X"):format(ch:byte()) end)
      assert.is_nil(dq.canonical_request:find(enc, 1, true), "token " .. i)
      assert.truthy(dq.canonical_request:find(sigv4.TOKEN_MARKER, 1, true))
    end
  end)

  it("builds details only when read, and they stay those of their own signature", function()
    local r1, r2 = req{ headers = { A = "1" } }, req{ url = "https://example.amazonaws.com/other", headers = { B = "2" } }
    local _, d1 = sigv4.sign(r1, creds{ session_token = TOKEN }, opts())
    -- nothing built yet: no field is in the table, and what is there shows no secret
    assert.is_nil(rawget(d1, "canonical_request"))
    assert.is_nil(rawget(d1, "string_to_sign"))
    assert.is_nil(rawget(d1, "signature"))
    for k, v in pairs(d1) do
      assert.is_falsy(tostring(k):find(TOKEN, 1, true))
      assert.is_falsy(tostring(v):find(TOKEN, 1, true))
    end
    local s2, d2 = sigv4.sign(r2, creds(), opts{ region = "eu-west-1" })  -- reuses the signer's buffers
    local c1, sts1 = sigv4.canonical(r1, creds{ session_token = TOKEN }, opts())
    assert.are.equal(c1, d1.canonical_request)
    assert.are.equal(sts1, d1.string_to_sign)
    assert.matches("^%x+$", d1.signature)
    assert.are_not.equal(d1.signature, d2.signature)
    assert.matches("Signature=" .. d2.signature .. "$", s2.headers.Authorization)
    assert.is_string(rawget(d1, "canonical_request"))   -- filled in once read
    for k, v in pairs(d1) do
      assert.is_string(k)
      assert.is_falsy(v:find(TOKEN, 1, true))
    end
  end)

  it("canonical() gives what sign() hashes, without signing", function()
    local r = req{ headers = { A = "1" } }
    local c, sts = sigv4.canonical(r, creds{ session_token = TOKEN }, opts())
    local _, d = sigv4.sign(r, creds{ session_token = TOKEN }, opts())
    assert.are.equal(d.canonical_request, c)
    assert.are.equal(d.string_to_sign, sts)
  end)

  it("SigV4a: region set header, credential scope without region, verifiable signature", function()
    local signed, d = sigv4.sign(req(), creds(), opts{ algorithm = "AWS4-ECDSA-P256-SHA256", region_set = "*" })
    assert.are.equal("*", signed.headers["X-Amz-Region-Set"])
    assert.matches("Credential=AKIDEXAMPLE/20150830/service/aws4_request,", signed.headers.Authorization)
    local x, y = core.sigv4a_pubkey("AKIDEXAMPLE", SECRET)
    assert.is_true(core.sigv4a_verify(x, y, d.string_to_sign, d.signature))
    local url = sigv4.presign(req(), creds(), opts{ algorithm = "AWS4-ECDSA-P256-SHA256" })
    assert.matches("X%-Amz%-Region%-Set=us%-east%-1", url)
  end)

  it("more headers than the binding's stack arrays hold", function()
    local h = {}
    for i = 1, 50 do h["X-H" .. i] = (i % 3 == 0) and { "a" .. i, "b" .. i } or ("v" .. i) end
    local signed, d = sigv4.sign(req{ headers = h }, creds(), opts())
    local n = 0
    for _ in pairs(signed.headers) do n = n + 1 end
    assert.are.equal(53, n) -- 50 + Host, X-Amz-Date, Authorization
    assert.are.same({ "a3", "b3" }, signed.headers["X-H3"])
    assert.matches("\nx%-h3:a3,b3\n", d.canonical_request)
    assert.matches("\nx%-h50:v50\n", d.canonical_request)
    local _, lines = d.canonical_request:gsub("\n", "")
    assert.are.equal(3 + 52 + 2, lines) -- after method, path, query; 52 header lines; blank; signed list
  end)

  it("answers nil, err with code SigningFailed when the core cannot sign (OpenSSL, memory)", function()
    -- a core whose signer fails as OpenSSL or malloc would: laws.sigv4 loaded afresh over it
    local saved = {}
    for _, m in ipairs{ "laws.core", "laws.native", "laws.sigv4" } do saved[m] = package.loaded[m] end
    local fake = setmetatable({
      sigv4_sign = function() return nil, "OpenSSL failure while signing" end,
    }, { __index = core })
    package.loaded["laws.core"], package.loaded["laws.native"], package.loaded["laws.sigv4"] = fake, nil, nil
    local ok, fresh = pcall(require, "laws.sigv4")
    for m, v in pairs(saved) do package.loaded[m] = v end
    assert(ok, fresh)
    for _, call in ipairs{ fresh.sign, fresh.presign } do
      local signed, err = call(req(), creds(), opts())
      assert.is_nil(signed)
      assert.are.equal("SigningFailed", err.code)
      assert.matches("OpenSSL failure while signing", tostring(err))
    end
  end)

  it("keeps a small signing-key cache", function()
    for i = 1, 40 do sigv4.sign(req(), creds(), opts{ region = "r" .. i }) end
    local n = core.sigv4_cached_keys()
    assert.is_true(n >= 1 and n <= 8, "cached keys: " .. n)
  end)
end)

describe("laws.sigv4.presign", function()
  it("equals sign{presign = true}.url, which adds no Authorization header", function()
    local r = req{ headers = { ["X-Amz-Date"] = "19990101T000000Z", Accept = "*/*" } }
    local url, d = sigv4.presign(r, creds(), opts{ expires = 120 })
    local signed, d2 = sigv4.sign(r, creds(), opts{ presign = true, expires = 120 })
    assert.are.equal(url, signed.url)
    assert.are.equal(d.signature, d2.signature)
    assert.is_nil(signed.headers.Authorization)
    assert.is_nil(signed.headers["X-Amz-Date"], "the date lives in the query; the stale header is dropped")
    assert.are.equal("*/*", signed.headers.Accept)
    assert.matches("&X%-Amz%-SignedHeaders=accept%%3Bhost&", url)
  end)

  it("puts the signature in the query, keeping the existing query", function()
    local url = sigv4.presign(req{ url = "https://example.amazonaws.com/p?b=2&a=1" },
      creds{ session_token = TOKEN }, opts{ expires = 60 })
    assert.matches("^https://example%.amazonaws%.com/p%?b=2&a=1&X%-Amz%-Algorithm=AWS4%-HMAC%-SHA256&", url)
    assert.matches("&X%-Amz%-Expires=60&", url)
    assert.matches("&X%-Amz%-Security%-Token=SESSIONTOKEN%%2Fnever%%2Bin%%3Derrors&", url)
    assert.matches("&X%-Amz%-Signature=%x+$", url)
  end)
end)

describe("laws.sigv4 rejects bad input, naming the field", function()
  it("missing or wrong arguments", function()
    raises("request must be a table", sigv4.sign, nil, creds(), opts())
    raises("credentials must be a table", sigv4.sign, req(), nil, opts())
    raises("options must be a table", sigv4.sign, req(), creds(), nil)
    raises("credentials.access_key_id", sigv4.sign, req(), { secret_access_key = SECRET }, opts())
    raises("credentials.secret_access_key", sigv4.sign, req(), { access_key_id = "A" }, opts())
    raises("credentials.secret_access_key", sigv4.sign, req(), creds{ secret_access_key = 42 }, opts())
    raises("credentials.session_token", sigv4.sign, req(), creds{ session_token = true }, opts())
    raises("options.service", sigv4.sign, req(), creds{ session_token = TOKEN }, { region = "r", time = T })
    raises("options.region", sigv4.sign, req(), creds{ session_token = TOKEN }, { service = "s", time = T })
    raises("request.method", sigv4.sign, { url = "https://h/" }, creds(), opts())
    raises("request.method", sigv4.sign, req{ method = "GET /x HTTP/1.1\r\nX:" }, creds(), opts())
  end)

  it("URLs without scheme or host", function()
    raises("request.url", sigv4.sign, req{ url = "example.amazonaws.com/" }, creds(), opts())
    raises("no scheme", sigv4.sign, req{ url = "/just/a/path" }, creds(), opts())
    raises("no host", sigv4.sign, req{ url = "https:///path" }, creds(), opts())
    raises("no host", sigv4.sign, req{ url = "https://" }, creds(), opts())
    raises("request.url", sigv4.sign, req{ url = "https://h/\r\nX: y" }, creds(), opts())
    raises("request.url", sigv4.sign, req{ url = 7 }, creds(), opts())
  end)

  it("header injection: CR, LF or NUL in a header name or value", function()
    for _, bad in ipairs({ "a\r\nX-Evil: 1", "a\nb", "a\rb", "a\0b", "value1\n  value2" }) do
      raises('request.headers["X-Test"]', sigv4.sign, req{ headers = { ["X-Test"] = bad } }, creds(), opts())
      raises('request.headers["X-Test"]', sigv4.presign, req{ headers = { ["X-Test"] = { "ok", bad } } }, creds(), opts())
    end
    for _, bad in ipairs({ "X-Evil\r\nA", "A\nB", "A\0B", "A B", "A:B", "" }) do
      raises("header name", sigv4.sign, req{ headers = { [bad] = "v" } }, creds(), opts())
    end
    raises('request.headers["X"]', sigv4.sign, req{ headers = { X = 1 } }, creds(), opts())
    raises("request.headers", sigv4.sign, req{ headers = { "positional" } }, creds(), opts())
    raises("request.headers must be a table", sigv4.sign, req{ headers = "Host: x" }, creds(), opts())
  end)

  it("errors point at the caller's line and name the function", function()
    local ok, err = pcall(function() sigv4.presign(req{ url = "nohost" }, creds(), opts()) end)
    assert.is_false(ok)
    assert.matches("^spec/sigv4_api_spec%.lua:%d+: laws%.sigv4%.presign: request%.url", err)
    ok, err = pcall(function() sigv4.sign(req(), creds(), "opts") end)
    assert.is_false(ok)
    assert.matches("^spec/sigv4_api_spec%.lua:%d+: laws%.sigv4%.sign: options must be a table", err)
  end)

  it("non-string body", function()
    raises("request.body must be a string", sigv4.sign, req{ body = { 1, 2 } }, creds(), opts())
    raises("request.body must be a string", sigv4.sign, req{ body = 12 }, creds(), opts())
  end)

  it("unknown options and wrong option types", function()
    raises("unknown option 'regoin'", sigv4.sign, req(), creds(), opts{ regoin = "us-east-1" })
    raises("options.presign must be a boolean", sigv4.sign, req(), creds(), opts{ presign = "yes" })
    raises("options.expires must be a number", sigv4.sign, req(), creds(), opts{ expires = "900" })
    raises("options.expires must be 1..604800", sigv4.presign, req(), creds(), opts{ expires = 0 })
    raises("options.expires must be 1..604800", sigv4.presign, req(), creds(), opts{ expires = 604801 })
    raises("options.time", sigv4.sign, req(), creds(), opts{ time = -1 })
    raises("options.time", sigv4.sign, req(), creds(), opts{ time = 1e300 })
    raises("options.time must be a number", sigv4.sign, req(), creds(), opts{ time = "now" })
    raises("options.algorithm", sigv4.sign, req(), creds(), opts{ algorithm = "AWS4-HMAC-SHA1" })
    raises("options.payload", sigv4.sign, req(), creds(), opts{ payload = "not-a-hash" })
    raises("options.payload", sigv4.sign, req(), creds(), opts{ payload = string.rep("A", 64) })
    raises("options.service must not be empty", sigv4.sign, req(), creds(), opts{ service = "" })
  end)
end)

describe("laws.core hash helpers", function()
  it("sha256_hex, hmac_sha256, hex (RFC 4231 case 2, FIPS 180-2)", function()
    assert.are.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", core.sha256_hex("abc"))
    assert.are.equal("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
      core.hmac_sha256("Jefe", "what do ya want for nothing?", "hex"))
    local raw = core.hmac_sha256("Jefe", "what do ya want for nothing?")
    assert.are.equal(32, #raw)
    assert.are.equal(core.hmac_sha256("Jefe", "what do ya want for nothing?", "hex"), core.hex(raw))
    assert.are.equal("00ff10", core.hex("\0\255\16"))
    assert.are.equal("", core.hex(""))
    assert.has_error(function() core.hmac_sha256("k", "d", "base64") end)
    assert.has_error(function() core.sha256_hex(nil) end)
  end)
end)
