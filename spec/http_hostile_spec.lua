-- The libcurl transport against servers that misbehave (spec/support/rawhttpd.py writes the raw
-- bytes), on both paths: a blocking session and the multi driver behind laws.async.
--  * the path goes out byte for byte as signed (no dot-segment removal);
--  * every request is bounded in time (request, session or process default);
--  * a response body is capped (max_body): ResponseTooLarge, memory stays bounded;
--  * an unsolicited response on an idle keep-alive connection is not taken as the next answer;
--  * errors never carry the Authorization header or the session token.
local http = require "laws.http"
local core = require "laws.core"
local proc = require "spec.support.proc"
local aws_retry = require "laws.retry.aws"

local srv, tls, base, full_url, tls_base, cert
local now = core.monotonic
local MiB = 1024 * 1024
-- Under AddressSanitizer (preloaded by the sanitizer run) a realloc'ed block stays in quarantine
-- and memory has a shadow: growing a buffer to the cap peaks at about twice the cap plus 1/8.
local ALLOC_FACTOR = (os.getenv("LD_PRELOAD") or ""):find("asan", 1, true) and 2.5 or 1

setup(function()
  srv = proc.start({ "python3", "spec/support/rawhttpd.py" }, { name = "rawhttpd" })
  base = "http://127.0.0.1:" .. srv.port
  full_url = "http://127.0.0.1:" .. assert(srv.ready:match("^%d+ (%d+)"), srv.ready) .. "/"
  tls = proc.start({ "python3", "spec/support/rawhttpd.py", "--tls" }, { name = "rawhttpd --tls" })
  tls_base = "https://localhost:" .. tls.port
  cert = assert(tls.ready:match("^%d+ %d+ (%S+)"), tls.ready)
end)

teardown(function()
  srv.stop()
  tls.stop()
end)

-- Descriptors this process has open (Linux).
local function nfds()
  local p = assert(io.popen("ls /proc/" .. proc.pid .. "/fd"))
  local n = select(2, p:read("*a"):gsub("\n", ""))
  p:close()
  return n
end

-- Peak resident memory of this process since the last reset, in bytes (Linux).
local function reset_peak()
  local f = assert(io.open("/proc/self/clear_refs", "w"))
  f:write("5")
  f:close()
end
local function peak()
  local f = assert(io.open("/proc/self/status"))
  local kb = f:read("*a"):match("VmHWM:%s*(%d+)")
  f:close()
  return tonumber(kb) * 1024
end

-- Restores the process-wide defaults whatever the test did.
local function with_defaults(d, fn)
  local saved = http.defaults()
  http.defaults(d)
  local ok, e = pcall(fn)
  http.defaults(saved)
  if not ok then error(e, 0) end
end

-- The two paths, each as a "client" with request(req), strays() and close().
local function blocking(sopts)
  local s = http.session(sopts)
  return {
    request = function(_, req) return s:request(req) end,
    strays = function() return s:strays() end,
    close = function() s:close() end,
  }
end

local function multi(sopts)
  local m = core.multi_new()
  local s = sopts and http.session(sopts)
  return {
    -- bounded: a transfer still running after `limit` seconds is cancelled and reported
    request = function(_, req, limit)
      local id, err = m:submit(req, s)
      if not id then return nil, err end
      local t0 = now()
      while now() - t0 < (limit or 30) do
        m:poll(0.02)
        local i, r, e = m:done()
        if i == id then return r, e end
      end
      m:cancel(id)
      return nil, { code = "still running", message = "no end after " .. (limit or 30) .. " s" }
    end,
    strays = function() return m:strays() end,
    close = function()
      m:close()
      if s then s:close() end
    end,
  }
end

local function timed(c, req, limit)
  local t0 = now()
  local res, err = c:request(req, limit)
  return res, err, now() - t0
end

for _, path in ipairs{ { "blocking session", blocking }, { "multi driver", multi } } do
  local name, open = path[1], path[2]

  describe("on the " .. name, function()
    it("the path goes out byte for byte: /x/./y/../z%2F.. is not normalised", function()
      local c = open()
      for _, p in ipairs{ "/line/x/./y/../z%2F..", "/line/a/../..", "/line/./%2e%2E/b/." } do
        local res, err = c:request{ url = base .. p }
        assert.is_table(res, tostring(err))
        assert.equal(p, res.body, "the server received another target")
      end
      c:close()
    end)

    it("a request with a short timeout to a server that never answers ends within it", function()
      local c = open()
      local res, err, dt = timed(c, { url = base .. "/silent", timeout = 0.3 }, 10)
      c:close()
      assert.is_nil(res)
      assert.equal("OPERATION_TIMEDOUT", err.code, err.message)
      assert.is_true(dt >= 0.25 and dt < 3, "ended after " .. dt .. " s")
    end)

    it("a request with no timeout of its own ends at the process default (laws.http.defaults)", function()
      with_defaults({ timeout = 0.3 }, function()
        local c = open()
        local res, err, dt = timed(c, { url = base .. "/silent" }, 10)
        c:close()
        assert.is_nil(res)
        assert.equal("OPERATION_TIMEDOUT", err.code, err.message)
        assert.is_true(dt >= 0.25 and dt < 3, "ended after " .. dt .. " s")
      end)
    end)

    it("a session's timeout comes before the process default", function()
      with_defaults({ timeout = 30 }, function()
        local c = open{ timeout = 0.3 }
        local _, err, dt = timed(c, { url = base .. "/silent" }, 10)
        c:close()
        assert.equal("OPERATION_TIMEDOUT", err.code, err.message)
        assert.is_true(dt < 3, "ended after " .. dt .. " s")
      end)
    end)

    it("a connect that never completes ends at the default connect_timeout", function()
      with_defaults({ connect_timeout = 0.3 }, function()
        local c = open()
        local res, err, dt = timed(c, { url = full_url }, 10)
        c:close()
        assert.is_nil(res)
        assert.equal("OPERATION_TIMEDOUT", err.code, err.message)
        assert.is_true(dt >= 0.25 and dt < 3, "ended after " .. dt .. " s")
      end)
    end)

    it("an answer announcing 2 GB fails at once with ResponseTooLarge, memory bounded", function()
      local c = open()
      reset_peak()
      local before = peak()
      local res, err, dt = timed(c, { url = base .. "/huge", timeout = 20 }, 30)
      local grew = peak() - before
      assert.is_nil(res)
      assert.equal("ResponseTooLarge", err.code, err.message)
      assert.is_truthy(err.message:find("max_body", 1, true), err.message)
      assert.is_truthy(err.message:find(tostring(core.http_limits.max_body), 1, true), err.message)
      assert.is_false((aws_retry.classify(err)))
      assert.is_true(dt < 3, "took " .. dt .. " s")
      assert.is_true(grew < 16 * MiB, "peak RSS grew by " .. grew .. " bytes")
      -- the connection was given up, the client still works
      assert.equal("/line/next", assert(c:request{ url = base .. "/line/next" }).body)
      c:close()
    end)

    it("a chunked body growing past the default cap is stopped; memory stays under the cap", function()
      local c = open()
      reset_peak()
      local before = peak()
      local res, err, dt = timed(c, { url = base .. "/endless?chunked=1", timeout = 10 }, 30)
      local grew = peak() - before
      c:close()
      assert.is_nil(res)
      assert.equal("ResponseTooLarge", err.code, err.message)
      assert.is_true(dt < 10, "took " .. dt .. " s")
      local bound = core.http_limits.max_body * ALLOC_FACTOR + 16 * MiB
      assert.is_true(grew < bound, "peak RSS grew by " .. grew .. " bytes (bound " .. bound .. ")")
    end)

    it("a body until close is capped by the session's max_body", function()
      local c = open{ max_body = MiB }
      local res, err = c:request({ url = base .. "/endless", timeout = 10 }, 30)
      c:close()
      assert.is_nil(res)
      assert.equal("ResponseTooLarge", err.code, err.message)
      assert.is_truthy(err.message:find(tostring(MiB), 1, true), err.message)
    end)

    it("max_body is inclusive: a body of exactly max_body bytes is answered, one more is not", function()
      local c = open()
      local p = "/line/exact"
      assert.equal(p, assert(c:request{ url = base .. p, max_body = #p }).body)
      local _, err = c:request{ url = base .. p, max_body = #p - 1 }
      assert.equal("ResponseTooLarge", err and err.code)
      -- a larger cap than the default is taken too
      assert.equal(p, assert(c:request{ url = base .. p, max_body = 2 * core.http_limits.max_body }).body)
      c:close()
    end)

    it("a HEAD answer announcing 2 GB is not a body: answered", function()
      local c = open()
      local res, err = c:request{ method = "HEAD", url = base .. "/huge" }
      c:close()
      assert.is_table(res, tostring(err))
      assert.equal(200, res.status)
      assert.equal("2147483648", res.headers["content-length"])
      assert.equal("", res.body)
    end)

    local function strays(url, sopts)
      local fds0 = nfds()
      local c = open(sopts)
      for i = 1, 6 do
        local res, err = c:request{ url = url .. "/stray?delay=0.02&id=" .. i }
        assert.is_table(res, tostring(err))
        assert.equal("id=" .. i, res.body, "request " .. i .. " got another request's answer")
        core.sleep(0.1) -- the stray response is on the idle connection by now
      end
      assert.is_true(c:strays() >= 5, "connections given up: " .. c:strays())
      c:close()
      assert.equal(fds0, nfds(), "descriptors left open")
    end

    it("an unsolicited response after each answer is never taken for the next one", function()
      strays(base)
    end)

    it("the same over TLS", function()
      strays(tls_base, { ca_file = cert })
    end)

    it("an unsolicited response in the same write as the answer: libcurl drops the connection", function()
      local c = open()
      for i = 1, 4 do
        local res, err = c:request{ url = base .. "/stray?delay=0&id=" .. i }
        assert.is_table(res, tostring(err))
        assert.equal("id=" .. i, res.body, "request " .. i .. " got another request's answer")
        core.sleep(0.05)
      end
      c:close()
    end)

    it("errors carry neither the Authorization header nor the session token", function()
      local c = open()
      local token = "FQoGZXIvYXdzEXAMPLETOKENxyzzy0123456789"
      local auth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/s3/aws4_request, "
        .. "SignedHeaders=host, Signature=0123456789abcdef0123456789abcdef"
      local headers = { Authorization = auth, ["X-Amz-Security-Token"] = token }
      for _, req in ipairs{
        { url = base .. "/silent", timeout = 0.2, headers = headers },
        { url = base .. "/huge", headers = headers },
        { url = base .. "/endless", max_body = 1000, headers = headers },
        { url = full_url, connect_timeout = 0.2, headers = headers },
      } do
        local _, err = c:request(req)
        assert.is_table(err)
        for _, s in ipairs{ tostring(err), err.message } do
          assert.is_nil(s:find(token, 1, true), s)
          assert.is_nil(s:find("Signature=", 1, true), s)
          assert.is_nil(s:find("AKIDEXAMPLE", 1, true), s)
        end
      end
      c:close()
    end)
  end)
end

describe("the stray-response check on the multi driver", function()
  -- A transfer whose answer has arrived but not been read yet (the multi is not polled) has a
  -- readable socket, just like an idle connection with a stray response: a check made for a
  -- new transfer must leave it alone, whether the transfer opened its connection or reused one.
  local function run(m, ids, limit)
    local got, t0 = {}, now()
    while now() - t0 < limit do
      m:poll(0.02)
      while true do
        local id, res, err = m:done()
        if not id then break end
        got[id] = res or err
      end
      local all = true
      for _, id in ipairs(ids) do all = all and got[id] ~= nil end
      if all then return got end
    end
    return got
  end

  it("never takes the connection of a running transfer whose answer waits unread", function()
    local m = core.multi_new()
    -- warm one connection, so the next transfer reuses it
    local w = assert(m:submit{ url = base .. "/stray?id=w" })
    assert.equal("id=w", run(m, { w }, 10)[w].body)
    local a = assert(m:submit{ url = base .. "/stray?wait=0.1&id=a" })
    local t0 = now()
    while now() - t0 < 0.05 do m:poll(0.01) end  -- a's request goes out on the reused connection
    core.sleep(0.4)                                -- a's answer arrives; nobody reads it yet
    local b = assert(m:submit{ url = base .. "/stray?id=b" })  -- checks the idle connections
    local got = run(m, { a, b }, 10)
    assert.equal(0, m:strays())
    m:close()
    assert.equal("id=a", got[a] and got[a].body, tostring(got[a] and (got[a].message or got[a].body)))
    assert.equal("id=b", got[b] and got[b].body)
  end)

  it("nor the fresh connection of a running transfer", function()
    local m = core.multi_new()
    local a = assert(m:submit{ url = base .. "/stray?wait=0.1&id=a" })
    local t0 = now()
    while now() - t0 < 0.05 do m:poll(0.01) end
    core.sleep(0.4)
    local b = assert(m:submit{ url = base .. "/stray?id=b" })
    local got = run(m, { a, b }, 10)
    assert.equal(0, m:strays())
    m:close()
    assert.equal("id=a", got[a] and got[a].body, tostring(got[a] and (got[a].message or got[a].body)))
    assert.equal("id=b", got[b] and got[b].body)
  end)
end)

describe("request defaults", function()
  it("laws.http.defaults() reports core.http_limits, and setting one updates both", function()
    local d = http.defaults()
    assert.same(core.http_limits, d)
    with_defaults({ max_body = 12345 }, function()
      assert.equal(12345, http.defaults().max_body)
      assert.equal(12345, core.http_limits.max_body)
      assert.equal(d.timeout, core.http_limits.timeout)
    end)
    assert.same(d, http.defaults())
  end)

  it("with nothing set, a connect is bounded by core.http_limits.connect_timeout", function()
    local c = multi()
    local limit = core.http_limits.connect_timeout
    local res, err, dt = timed(c, { url = full_url }, limit + 5)
    c:close()
    assert.is_nil(res)
    assert.equal("OPERATION_TIMEDOUT", err.code, err.message)
    assert.is_true(dt >= limit - 0.5 and dt < limit + 3, "ended after " .. dt .. " s")
  end)

  it("timeout = 0 is the explicit way to say no bound: the transfer is still running", function()
    with_defaults({ timeout = 0.2 }, function()
      local c = multi()
      local res, err = c:request({ url = base .. "/silent", timeout = 0 }, 1)
      c:close()
      assert.is_nil(res)
      assert.equal("still running", err.code)
    end)
  end)

  it("misuse raises: bad max_body, unknown default", function()
    for _, v in ipairs{ 0, -1, 1.5, "1" } do
      assert.has_error(function() http.request{ url = base .. "/line/x", max_body = v } end)
      assert.has_error(function() http.session{ max_body = v } end)
    end
    assert.has_error(function() http.defaults{ max_bodies = 1 } end, "unknown default 'max_bodies' (timeout, connect_timeout, max_body)")
    assert.has_error(function() http.defaults(5) end)
  end)
end)

describe("laws.async", function()
  it("a ResponseTooLarge reaches the task as nil, err", function()
    local async = require "laws.async"
    local runtime = require "laws.runtime"
    local res, err = async.run(function() return runtime.request{ url = base .. "/huge", timeout = 20 } end)
    assert.is_nil(res)
    assert.equal("ResponseTooLarge", err and err.code)
  end)
end)
