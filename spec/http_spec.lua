-- laws.http against spec/support/httpd.py (plain and TLS), started on loopback port 0.
local http = require "laws.http"
local errors = require "laws.errors"
local cjson = require "cjson"
local proc = require "spec.support.proc"

local plain, tls, base, cert, tls_port

local function get(path, extra)
  local req = { url = base .. path }
  for k, v in pairs(extra or {}) do req[k] = v end
  return http.request(req)
end

local function echo(req)
  req.url = req.url or base .. "/echo"
  local res, err = http.request(req)
  assert(res, tostring(err))
  assert.are.equal(200, res.status)
  return cjson.decode(res.body), res
end

-- names on the wire, lower-cased, sorted; and name -> list of values
local function wire(e)
  local names, by = {}, {}
  for _, kv in ipairs(e.headers) do
    local n = kv[1]:lower()
    if not by[n] then names[#names + 1] = n; by[n] = {} end
    table.insert(by[n], kv[2])
  end
  table.sort(names)
  return names, by
end

local function stats(s)
  local res = assert(s:request{ url = base .. "/stats" })
  return cjson.decode(res.body)
end

-- Runs a Lua snippet in a child lua (same build) with extra environment; returns its stdout.
local function child(env, code)
  local lua = os.getenv("LAWS_LUA") or "lua5.4"
  local build = os.getenv("LAWS_BUILD") or "build"
  local parts = { "env" }
  for k, v in pairs(env) do parts[#parts + 1] = proc.quote(k .. "=" .. v) end
  parts[#parts + 1] = proc.quote("LUA_PATH=lua/?.lua;lua/?/init.lua;;")
  parts[#parts + 1] = proc.quote("LUA_CPATH=" .. build .. "/?.so;;")
  parts[#parts + 1] = lua
  parts[#parts + 1] = "-e"
  parts[#parts + 1] = proc.quote(code)
  local f = assert(io.popen(table.concat(parts, " ") .. " 2>&1"))
  local out = f:read("*a")
  f:close()
  return out
end

setup(function()
  plain = proc.start({ "python3", "spec/support/httpd.py" }, { name = "httpd" })
  tls = proc.start({ "python3", "spec/support/httpd.py", "--tls" }, { name = "httpd --tls" })
  base = "http://127.0.0.1:" .. plain.port
  tls_port = tls.port
  cert = tls.ready:match("^%d+ (%S+)")
end)

teardown(function()
  plain.stop()
  tls.stop()
end)

describe("laws.http.request", function()
  it("answers status, lower-cased headers and body", function()
    local res = assert(get("/status?code=201"))
    assert.are.equal(201, res.status)
    assert.are.equal("status 201", res.body)
    assert.are.equal("text/plain", res.headers["content-type"])
    assert.are.equal("10", res.headers["content-length"])
    assert.is_nil(res.headers["Content-Type"])
  end)

  it("sends exactly the given headers (plus Host and Content-Length)", function()
    local e = echo{ method = "POST", body = '{"a":1}',
      headers = { ["Content-Type"] = "application/x-amz-json-1.0", ["X-Amz-Date"] = "20251126T000000Z",
                  ["X-Amz-Target"] = "DynamoDB_20120810.ListTables" } }
    local names, by = wire(e)
    assert.are.same({ "content-length", "content-type", "host", "x-amz-date", "x-amz-target" }, names)
    assert.are.same({ "application/x-amz-json-1.0" }, by["content-type"])
    assert.are.same({ "7" }, by["content-length"])
    assert.are.equal("POST", e.method)
    assert.are.equal('{"a":1}', e.body)
  end)

  it("sends AWS's X-Amz-*, amz-sdk-* and list headers each on a line of its own, values intact", function()
    local e = echo{ method = "POST", body = "{}",
      headers = { ["Content-Type"] = "application/json", ["Authorization"] = "AWS4-HMAC-SHA256 Credential=A/x, Signature=f",
                  ["User-Agent"] = "laws/0", ["X-Amz-Date"] = "20251126T000000Z", ["x-amz-security-token"] = "tok en",
                  ["amz-sdk-invocation-id"] = "1f0e", ["Amz-Sdk-Request"] = "attempt=1; max=3",
                  ["x-list"] = { "a", "b" }, ["X-Empty"] = "", ["X-Spaced"] = "  v  " } }
    local names, by = wire(e)
    assert.are.same({ "amz-sdk-invocation-id", "amz-sdk-request", "authorization", "content-length", "content-type",
                      "host", "user-agent", "x-amz-date", "x-amz-security-token", "x-empty", "x-list", "x-spaced" }, names)
    assert.are.same({ "20251126T000000Z" }, by["x-amz-date"])
    assert.are.same({ "tok en" }, by["x-amz-security-token"])
    assert.are.same({ "attempt=1; max=3" }, by["amz-sdk-request"])
    assert.are.same({ "a", "b" }, by["x-list"])
    assert.are.same({ "" }, by["x-empty"])
    assert.are.same({ "v  " }, by["x-spaced"])  -- as sent (the server drops leading space only)
    assert.are.equal(13, #e.headers)  -- x-list twice
  end)

  it("sends number values and more than 32 header lines (lists included) intact", function()
    local headers = { ["X-Num"] = 42, ["X-Float"] = 1.5, ["X-List"] = { "a", "b", "c" } }
    for i = 1, 40 do headers["X-H" .. i] = "v" .. i end
    local e = echo{ headers = headers }
    local _, by = wire(e)
    assert.are.same({ "42" }, by["x-num"])
    assert.are.same({ "1.5" }, by["x-float"])
    assert.are.same({ "a", "b", "c" }, by["x-list"])
    for i = 1, 40 do assert.are.same({ "v" .. i }, by["x-h" .. i]) end
    local _, few = wire(echo{ headers = { ["X-Seven"] = 7, ["X-Text"] = "t" } })
    assert.are.same({ "7" }, few["x-seven"])
    assert.are.same({ "t" }, few["x-text"])
  end)

  it("adds no Content-Type, Accept or Expect of its own, also for a 2 MB body", function()
    local body = ("x"):rep(2 * 1024 * 1024)
    local e = echo{ method = "PUT", body = body }
    local names = wire(e)
    assert.are.same({ "content-length", "host" }, names)
    assert.are.equal(#body, e.body_len)
    assert.are.equal("PUT", e.method)
  end)

  it("adds no header of its own to GET and DELETE without a body (the fast path skips the switches)", function()
    for _, m in ipairs{ "GET", "DELETE" } do
      local e = echo{ method = m }
      assert.are.same({ "host" }, (wire(e)))
      assert.are.equal(m, e.method)
    end
  end)

  it("keeps header names as given and sends repeated and empty values", function()
    local e = echo{ headers = { ["X-Camel-Case"] = "1", ["x-list"] = { "a", "b" }, ["X-Empty"] = "" } }
    local _, by = wire(e)
    assert.are.same({ "a", "b" }, by["x-list"])
    assert.are.same({ "" }, by["x-empty"])
    local seen
    for _, kv in ipairs(e.headers) do if kv[1] == "X-Camel-Case" then seen = true end end
    assert.is_true(seen)
  end)

  it("sends POST with no body as Content-Length: 0 and keeps the query string", function()
    local e = echo{ method = "POST", url = base .. "/echo?Action=GetCallerIdentity&Version=2011-06-15" }
    local names, by = wire(e)
    assert.are.same({ "content-length", "host" }, names)
    assert.are.same({ "0" }, by["content-length"])
    assert.are.equal("/echo?Action=GetCallerIdentity&Version=2011-06-15", e.path)
  end)

  it("sends a given Content-Length once", function()
    local e = echo{ method = "POST", body = "1234567", headers = { ["Content-Length"] = "7" } }
    local _, by = wire(e)
    assert.are.same({ "7" }, by["content-length"])
    assert.are.equal("1234567", e.body)
  end)

  it("sends a body with GET when one is given", function()
    local e = echo{ method = "GET", body = "q" }
    assert.are.equal("GET", e.method)
    assert.are.equal("q", e.body)
  end)

  it("supports GET, HEAD, DELETE, PATCH", function()
    assert.are.equal("GET", (echo{ method = "GET" }).method)
    assert.are.equal("DELETE", (echo{ method = "DELETE" }).method)
    assert.are.equal("PATCH", (echo{ method = "PATCH", body = "p" }).method)
    local res = assert(http.request{ method = "HEAD", url = base .. "/echo" })
    assert.are.equal(200, res.status)
    assert.are.equal("", res.body)
    -- the connection is still usable after HEAD
    assert.are.equal("GET", (echo{}).method)
  end)

  it("never follows redirects", function()
    local res = assert(get("/redirect"))
    assert.are.equal(302, res.status)
    assert.are.equal("/echo", res.headers.location)
    assert.are.equal("moved", res.body)
  end)

  it("keeps repeated response headers: joined with ', ', set-cookie with newlines", function()
    local res = assert(get("/repeat"))
    assert.are.equal("a, b", res.headers["x-multi"])
    assert.are.equal("a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT\nb=2", res.headers["set-cookie"])
  end)

  it("assembles chunked bodies", function()
    local res = assert(get("/chunked?n=30&size=1000"))
    assert.are.equal(30000, #res.body)
    assert.are.equal(("a"):rep(1000), res.body:sub(1, 1000))
    assert.are.equal(("d"):rep(1000), res.body:sub(29001))
  end)

  it("receives and sends 20 MB bodies in linear time", function()
    local n = 20 * 1024 * 1024
    local t0 = os.clock()
    local res = assert(get("/big?n=" .. n))
    assert.are.equal(n, #res.body)
    local pattern = ("0123456789abcdefghijklmnopqrstuvwxyz"):rep(1000)
    assert.are.equal(pattern:sub(1, 1000), res.body:sub(1, 1000))
    local off = 36000 * 100
    assert.are.equal(pattern:sub(1, 100), res.body:sub(off + 1, off + 100))
    local body = res.body:sub(1, n - 7) .. "the end"
    local e = echo{ method = "POST", body = body }
    assert.are.equal(n, e.body_len)
    local tmp = os.tmpname()
    local f = assert(io.open(tmp, "wb")); f:write(body); f:close()
    local p = assert(io.popen("sha256sum " .. tmp)); local sum = p:read("*a"):match("^%x+"); p:close()
    os.remove(tmp)
    assert.are.equal(sum, e.body_sha256)
    -- CPU time of this process only (the server's time is not counted): quadratic copying
    -- of 20 MB in 16 KB pieces would take minutes.
    assert.is_true(os.clock() - t0 < 10, "took " .. (os.clock() - t0) .. " s of CPU")
  end)
end)

describe("keep-alive", function()
  it("a session reuses one connection for many requests", function()
    local s = http.session()
    local before = stats(s).connections
    for _ = 1, 25 do assert.are.equal(200, (assert(s:request{ url = base .. "/echo" })).status) end
    assert(s:request{ method = "POST", url = base .. "/echo", body = "x" })
    assert.are.equal(before, stats(s).connections)
    assert.are.equal(1, s:connects())
    s:close()
  end)

  it("http.request reuses the default session's connection", function()
    local s = http.default_session()
    get("/echo")
    local c0, before = s:connects(), stats(s).connections
    for _ = 1, 10 do assert(get("/echo")) end
    assert.are.equal(before, stats(s).connections)
    assert.are.equal(c0, s:connects())
  end)

  it("reuses TLS connections too", function()
    local s = http.session{ ca_file = cert }
    for _ = 1, 5 do assert.are.equal(200, (assert(s:request{ url = "https://localhost:" .. tls_port .. "/echo" })).status) end
    assert.are.equal(1, s:connects())
    s:close()
  end)

  it("a session keeps working after a failed request", function()
    local s = http.session()
    local res, err = s:request{ url = base .. "/slow?s=2", timeout = 0.2 }
    assert.is_nil(res)
    assert.are.equal("OPERATION_TIMEDOUT", err.code)
    assert.are.equal(200, (assert(s:request{ url = base .. "/echo" })).status)
    assert.is_nil((s:request{ url = base .. "/reset" }))
    assert.are.equal(200, (assert(s:request{ url = base .. "/echo" })).status)
    s:close()
  end)

  it("a pooled handle carries nothing over from the previous request", function()
    local s = http.session()
    local function e(req)
      req.url = req.url or base .. "/echo"
      local res = assert(s:request(req))
      return cjson.decode(res.body)
    end
    local r = e{ method = "PUT", body = "abc", headers = { ["X-One"] = "1" } }
    assert.are.same({ "PUT", "abc" }, { r.method, r.body })
    r = e{}
    assert.are.same({ "GET", "" }, { r.method, r.body })
    assert.are.same({ "host" }, (wire(r)))
    assert.are.equal(200, (assert(s:request{ method = "HEAD", url = base .. "/echo" })).status)
    r = e{ method = "DELETE" }
    assert.are.same({ "DELETE", 0 }, { r.method, r.body_len })
    r = e{ method = "POST" }
    assert.are.same({ "POST", 0 }, { r.method, r.body_len })
    r = e{ method = "GET", body = "q" }
    assert.are.same({ "GET", "q" }, { r.method, r.body })
    -- a timeout does not stay on the handle
    assert.are.equal("OPERATION_TIMEDOUT", select(2, s:request{ url = base .. "/slow?s=0.6", timeout = 0.2 }).code)
    assert.are.equal(200, (assert(s:request{ url = base .. "/slow?s=0.6" })).status)
    -- nor does a ca_file
    local tls_url = "https://localhost:" .. tls_port .. "/echo"
    assert.are.equal(200, (assert(s:request{ url = tls_url, ca_file = cert })).status)
    assert.are.equal("PEER_FAILED_VERIFICATION", select(2, s:request{ url = tls_url }).code)
    s:close()
  end)

  it("two sessions do not share connections", function()
    local a, b = http.session(), http.session()
    assert(a:request{ url = base .. "/echo" })
    assert(b:request{ url = base .. "/echo" })
    assert.are.equal(1, a:connects())
    assert.are.equal(1, b:connects())
    a:close(); b:close()
  end)
end)

describe("transport errors", function()
  local function fails(code, req)
    local res, err = http.request(req)
    assert.is_nil(res)
    assert.is_true(errors.is(err), "a laws.errors value")
    assert.are.equal(code, err.code, tostring(err))
    assert.is_true(err.transport)
    assert.are.equal("number", type(err.curl_code))
    assert.is_true(#err.message > 0)
    assert.truthy(tostring(err):find(code, 1, true))
    return err
  end

  it("connection refused: COULDNT_CONNECT", function()
    local err = fails("COULDNT_CONNECT", { url = "http://127.0.0.1:1/" })
    assert.are.equal(7, err.curl_code)
  end)

  it("unknown host: COULDNT_RESOLVE_HOST", function()
    fails("COULDNT_RESOLVE_HOST", { url = "http://no-such-host.invalid/" })
  end)

  it("slow server: OPERATION_TIMEDOUT within the timeout", function()
    local t0 = os.time()
    fails("OPERATION_TIMEDOUT", { url = base .. "/slow?s=3", timeout = 0.3 })
    assert.is_true(os.time() - t0 <= 2)
  end)

  it("session timeout applies to its requests", function()
    local s = http.session{ timeout = 0.3 }
    local res, err = s:request{ url = base .. "/slow?s=3" }
    assert.is_nil(res)
    assert.are.equal("OPERATION_TIMEDOUT", err.code)
    s:close()
  end)

  it("self-signed certificate: PEER_FAILED_VERIFICATION", function()
    fails("PEER_FAILED_VERIFICATION", { url = "https://localhost:" .. tls_port .. "/echo" })
  end)

  it("with ca_file the same server works (request or session option)", function()
    local res = assert(http.request{ url = "https://localhost:" .. tls_port .. "/echo", ca_file = cert })
    assert.are.equal(200, res.status)
    local s = http.session{ ca_file = cert }
    assert.are.equal(200, (assert(s:request{ url = "https://localhost:" .. tls_port .. "/echo" })).status)
    s:close()
  end)

  it("checks the host name even with the right CA", function()
    local err = fails("PEER_FAILED_VERIFICATION", { url = "https://127.0.0.1:" .. tls_port .. "/echo", ca_file = cert })
    assert.truthy(err.message:find("127.0.0.1", 1, true))
  end)

  it("TLS to a plain HTTP server: SSL_CONNECT_ERROR", function()
    fails("SSL_CONNECT_ERROR", { url = "https://127.0.0.1:" .. plain.port .. "/echo" })
  end)

  it("connection reset before the answer: RECV_ERROR", function()
    fails("RECV_ERROR", { url = base .. "/reset" })
  end)

  it("connection reset mid-response: RECV_ERROR", function()
    fails("RECV_ERROR", { url = base .. "/reset-mid" })
  end)

  it("a malformed url: URL_MALFORMAT, returned not raised", function()
    fails("URL_MALFORMAT", { url = "http://[::1/" })
  end)

  it("other schemes are refused: UNSUPPORTED_PROTOCOL", function()
    fails("UNSUPPORTED_PROTOCOL", { url = "file:///etc/passwd" })
  end)

  it("never echoes header values (credentials) in the error", function()
    local secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    local err = fails("COULDNT_CONNECT", { url = "http://127.0.0.1:1/", headers = {
      Authorization = "AWS4-HMAC-SHA256 Signature=" .. secret, ["X-Amz-Security-Token"] = secret } })
    for k, v in pairs(err) do
      assert.is_nil(tostring(v):find(secret, 1, true), k)
    end
    assert.is_nil(tostring(err):find(secret, 1, true))
  end)

  it("a missing CA file: SSL_CACERT_BADFILE", function()
    fails("SSL_CACERT_BADFILE", { url = "https://localhost:" .. tls_port .. "/", ca_file = "/nonexistent/ca.pem" })
  end)
end)

describe("environment", function()
  it("honours AWS_CA_BUNDLE", function()
    local code = [[local r, e = require("laws.http").request{ url = "https://localhost:]] .. tls_port ..
      [[/echo" } io.write(r and r.status or e.code)]]
    assert.are.equal("200", child({ AWS_CA_BUNDLE = cert }, code))
    assert.are.equal("PEER_FAILED_VERIFICATION", child({}, code))
  end)

  it("uses http_proxy and honours NO_PROXY", function()
    local code = [[local r, e = require("laws.http").request{ url = "http://proxied.invalid/echo" }
      io.write(r and require("cjson").decode(r.body).path or e.code)]]
    local proxy = "http://127.0.0.1:" .. plain.port
    assert.are.equal("http://proxied.invalid/echo", child({ http_proxy = proxy }, code))
    assert.are.equal("COULDNT_RESOLVE_HOST", child({ http_proxy = proxy, NO_PROXY = "proxied.invalid" }, code))
  end)
end)

describe("misuse raises", function()
  local cases = {
    { "non-table request", "x", "table expected" },
    { "missing url", {}, "url missing" },
    { "url not a string", { url = 1 }, "'url' (string expected" },
    { "unknown option", { url = base, bogus = 1 }, "unknown request option 'bogus'" },
    { "headers not a table", { url = "http://x/", headers = "a" }, "'headers' (table expected" },
    { "body not a string", { url = "http://x/", body = {} }, "'body' (string expected" },
    { "timeout not a number", { url = "http://x/", timeout = "1" }, "'timeout' (number expected" },
    { "negative timeout", { url = "http://x/", connect_timeout = -1 }, "'connect_timeout'" },
    { "CR/LF in a header value", { url = "http://x/", headers = { a = "b\r\nc: d" } }, "CR, LF or NUL" },
    { "NUL in a header value", { url = "http://x/", headers = { a = "b\0" } }, "CR, LF or NUL" },
    { "LF in a listed value", { url = "http://x/", headers = { a = { "ok", "b\n" } } }, "CR, LF or NUL" },
    { "colon in a header name", { url = "http://x/", headers = { ["a:b"] = "c" } }, "bad header name" },
    { "header value a table of tables", { url = "http://x/", headers = { a = { {} } } }, "bad header 'a'" },
    { "header value boolean", { url = "http://x/", headers = { a = true } }, "bad header 'a'" },
    { "method with a space", { url = "http://x/", method = "GET /" }, "'method'" },
    { "LF in the url", { url = "http://x/\nGET" }, "'url'" },
  }
  for _, c in ipairs(cases) do
    it(c[1], function()
      local ok, msg = pcall(http.request, c[2])
      assert.is_false(ok)
      assert.truthy(tostring(msg):find(c[3], 1, true), tostring(msg))
    end)
  end

  it("bad session options", function()
    assert.has_error(function() http.session{ bogus = 1 } end)
    assert.has_error(function() http.session("x") end)
    assert.has_error(function() http.session{ timeout = "x" } end)
  end)
end)

describe("sessions", function()
  it("close is idempotent and a closed session refuses use", function()
    local s = http.session()
    assert.truthy(tostring(s):find("laws.http.session", 1, true))
    s:close()
    s:close()
    assert.truthy(tostring(s):find("closed", 1, true))
    local ok, msg = pcall(s.request, s, { url = base .. "/echo" })
    assert.is_false(ok)
    assert.truthy(tostring(msg):find("attempt to use a closed session", 1, true))
  end)

  it("is released by the garbage collector and by <close>", function()
    for _ = 1, 50 do
      local s = http.session()
      assert(s:request{ url = base .. "/echo" })
    end
    collectgarbage(); collectgarbage()
    if _VERSION == "Lua 5.4" then
      local f = assert(load([[
        local http, url = ...
        local s <close> = http.session()
        assert(s:request{ url = url })
        return s
      ]]))
      local s = f(http, base .. "/echo")
      assert.truthy(tostring(s):find("closed", 1, true))
    end
  end)
end)
