--- HTTP/1.1 client on OpenResty cosockets (ngx.socket.tcp): the transport laws uses inside
-- nginx request and timer phases, where a blocking libcurl call would freeze the worker.
-- Same contract as laws.http.request: res = { status, headers (lower-cased), body } or
-- nil, err with a libcurl-style transport code. Connections go back to nginx's keep-alive
-- pool (setkeepalive) keyed by scheme, host, port and SNI name. TLS peers are verified
-- (sslhandshake with SNI and verify=true): nginx needs `lua_ssl_trusted_certificate`.
-- Host names need a `resolver` directive, as for any cosocket.
-- `timeout` bounds the whole attempt as libcurl's does (connect, TLS, send, headers, body):
-- every socket operation gets only what is left of it, so a peer trickling bytes cannot
-- stretch it. The target is sent byte for byte as given (it is what was signed).
local errors = require "laws.errors"
local limits = require("laws.native").http_limits

local M = {}

local ngx = ngx -- luacheck: ignore
local lower, concat, tonumber, find, sub = string.lower, table.concat, tonumber, string.find, string.sub

M.defaults = { keepalive_timeout = 60, pool_size = 32, timeout = limits.timeout,
               connect_timeout = limits.connect_timeout, max_body = limits.max_body }
M.MAX_HEAD = 256 * 1024   -- status line + headers of one answer (interim ones included)

--- Split "scheme://host[:port]/path?query". Returns scheme, host, port, target or nil, msg.
function M.parse_url(url)
  local scheme, rest = url:match("^(%a[%w+.-]*)://(.*)$")
  if not scheme then return nil, "not an absolute URL" end
  scheme = lower(scheme)
  if scheme ~= "http" and scheme ~= "https" then return nil, "unsupported scheme " .. scheme end
  local authority, target = rest:match("^([^/?#]*)(.*)$")
  target = target:gsub("#.*$", "")
  if target == "" then target = "/" elseif target:sub(1, 1) == "?" then target = "/" .. target end
  authority = authority:gsub("^.*@", "")
  local host, port = authority:match("^%[([^%]]+)%]:?(%d*)$")
  if not host then host, port = authority:match("^([^:]+):?(%d*)$") end
  if not host or host == "" then return nil, "no host in URL" end
  port = tonumber(port) or (scheme == "https" and 443 or 80)
  return scheme, host, port, target
end

local function fail(code, message, extra)
  local t = extra or {}
  t.code, t.message, t.transport = code, message, true
  if t.retryable == nil then t.retryable = true end
  return nil, errors.new(t)
end

local function io_code(msg, default)
  if msg == "timeout" then return "OPERATION_TIMEDOUT" end
  return default
end

local function connect_error(msg)
  msg = tostring(msg)
  if msg == "timeout" then return fail("OPERATION_TIMEDOUT", "connect timed out") end
  if msg:find("resolve", 1, true) or msg:find("resolver", 1, true) then
    return fail("COULDNT_RESOLVE_HOST", msg)
  end
  return fail("COULDNT_CONNECT", msg)
end

-- Header block: a header value may be a list (repeated header). Adds Host and
-- Content-Length when the caller did not.
local function request_head(method, target, host, port, scheme, headers, body)
  local lines = { method .. " " .. target .. " HTTP/1.1" }
  local have = {}
  for name, value in pairs(headers or {}) do
    if type(name) ~= "string" or name:find("[%c:]") or name == "" then
      error("laws.transport.cosocket: bad header name " .. ("%q"):format(tostring(name)), 4)
    end
    local lname = lower(name)
    have[lname] = true
    local values = type(value) == "table" and value or { value }
    for _, v in ipairs(values) do
      v = tostring(v)
      -- a CR or LF would let a value smuggle in headers or a second request
      if v:find("[\r\n]") then error("laws.transport.cosocket: header " .. name .. " has a CR or LF in its value", 4) end
      lines[#lines + 1] = name .. ": " .. v
    end
  end
  if not have.host then
    local default = (scheme == "https" and port == 443) or (scheme == "http" and port == 80)
    local h = host:find(":", 1, true) and ("[" .. host .. "]") or host
    lines[#lines + 1] = "Host: " .. h .. (default and "" or (":" .. port))
  end
  if not have["content-length"] and not have["transfer-encoding"] then
    if body ~= nil and (#body > 0 or method ~= "GET") then
      lines[#lines + 1] = "Content-Length: " .. #body
    elseif method == "POST" or method == "PUT" or method == "PATCH" then
      lines[#lines + 1] = "Content-Length: 0" -- what libcurl sends; some servers insist
    end
  end
  lines[#lines + 1] = "\r\n"
  return concat(lines, "\r\n")
end

-- Reads from a socket against the attempt's deadline: each receive may wait only for what
-- is left, whatever arrives in between (a cosocket's read timeout restarts on every byte).
-- `buf` holds what was received and not used yet.
local Reader = {}
Reader.__index = Reader

local function now()
  ngx.update_time()
  return ngx.now()
end

local function new_reader(sock, deadline)
  return setmetatable({ sock = sock, deadline = deadline, buf = "", pos = 1, got = 0 }, Reader)
end

-- Set the socket's timeouts to what is left; false when nothing is.
local function arm(sock, deadline)
  local left = math.floor((deadline - now()) * 1000)
  if left < 1 then return false end
  sock:settimeouts(left, left, left)
  return true
end

-- The next bytes from the socket (at most `n`), or nil, err ("timeout", "closed", ...).
function Reader:recv(n)
  if not arm(self.sock, self.deadline) then return nil, "timeout" end
  local data, err = self.sock:receiveany(n < 65536 and n or 65536)
  if not data then return nil, err end
  self.got = self.got + #data
  return data
end

-- What is buffered and not used yet (the buffer is then empty).
function Reader:take()
  local pos, buf = self.pos, self.buf
  self.buf, self.pos = "", 1
  return pos == 1 and buf or sub(buf, pos)
end

function Reader:line(max)
  while true do
    local e = find(self.buf, "\n", self.pos, true)
    if e then
      local line = sub(self.buf, self.pos, e - 1)
      self.pos = e + 1
      if sub(line, -1) == "\r" then line = sub(line, 1, -2) end
      return line
    end
    if #self.buf - self.pos + 1 > max then return nil, "head too large" end
    local data, err = self:recv(65536)
    if not data then return nil, err end
    self.buf, self.pos = self:take() .. data, 1
  end
end

function Reader:bytes(n)
  local have = #self.buf - self.pos + 1
  if have >= n then
    local out = sub(self.buf, self.pos, self.pos + n - 1)
    self.pos = self.pos + n
    return out
  end
  local parts = { self:take() }
  while have < n do
    local data, err = self:recv(n - have)
    if not data then return nil, err end
    parts[#parts + 1] = data
    have = have + #data
  end
  return concat(parts)
end

-- Everything until the peer closes; nil, "too large" beyond `max` bytes.
function Reader:rest(max)
  local first = self:take()
  local parts, have = { first }, #first
  while have <= max do
    local data, err = self:recv(65536)
    if not data then
      if err == "closed" then return concat(parts) end
      return nil, err
    end
    parts[#parts + 1] = data
    have = have + #data
  end
  return nil, "too large"
end

local function read_head(r, room)
  local line, err = r:line(room)
  if not line then return nil, err end
  local version, status = line:match("^HTTP/(%d%.%d) (%d%d%d)")
  if not status then return nil, "bad status line" end
  local headers = {}
  while true do
    local h, herr = r:line(room)
    if not h then return nil, herr end
    if h == "" then break end
    local name, value = h:match("^([^:]+):%s*(.-)%s*$")
    if name then
      name = lower(name)
      headers[name] = headers[name] and (headers[name] .. ", " .. value) or value
    end
  end
  return tonumber(status), headers, version
end

local function read_chunked(r, max)
  local parts, total = {}, 0
  while true do
    local line, err = r:line(1024)
    if not line then return nil, err end
    local size = tonumber(line:match("^%s*(%x+)"), 16)
    if not size then return nil, "bad chunk size" end
    if size == 0 then
      repeat -- trailers
        line, err = r:line(M.MAX_HEAD)
        if not line then return nil, err end
      until line == ""
      return concat(parts)
    end
    total = total + size
    if total > max then return nil, "too large" end
    local data
    data, err = r:bytes(size + 2)
    if not data then return nil, err end
    if sub(data, -2) ~= "\r\n" then return nil, "bad chunk end" end
    parts[#parts + 1] = sub(data, 1, -3)
  end
end

local function too_large(max)
  return nil, "ResponseTooLarge", ("the response body is larger than max_body (%d bytes)"):format(max), true
end

-- One exchange on a connected socket, all of it before `deadline`. Returns res, keepalive_ok
-- or nil, code, msg, got_bytes.
local function exchange(sock, method, head, body, max, deadline)
  if not arm(sock, deadline) then return nil, "OPERATION_TIMEDOUT", "timeout", false end
  local ok, err = sock:send(body and body ~= "" and { head, body } or head)
  if not ok then return nil, io_code(err, "SEND_ERROR"), err, false end
  local r = new_reader(sock, deadline)
  local status, headers, version
  repeat -- skip interim 1xx answers (as many as come before the deadline)
    status, headers, version = read_head(r, M.MAX_HEAD)
    if not status then
      if headers == "closed" and r.got == 0 then return nil, "GOT_NOTHING", "server closed the connection", false end
      return nil, io_code(headers, "RECV_ERROR"), "reading the head: " .. tostring(headers), r.got > 0
    end
  until status >= 200 or status == 101
  local body_out, reuse = "", true
  local te, cl, conn = headers["transfer-encoding"], headers["content-length"], lower(headers["connection"] or "")
  if method == "HEAD" or status == 204 or status == 304 then -- luacheck: ignore
  elseif te and lower(te):find("chunked", 1, true) then
    body_out, err = read_chunked(r, max)
  elseif cl then
    local n = tonumber(cl)
    if not n or n < 0 or n ~= math.floor(n) then return nil, "RECV_ERROR", "bad Content-Length", true end
    if n > max then return too_large(max) end
    if n > 0 then body_out, err = r:bytes(n) end
  else
    body_out, err = r:rest(max)
    reuse = false
  end
  if not body_out then
    if err == "too large" then return too_large(max) end
    return nil, io_code(err, "RECV_ERROR"), "reading body: " .. tostring(err), true
  end
  -- bytes past the answer: the connection is out of step, never pool it
  if r.pos <= #r.buf then reuse = false end
  if conn:find("close", 1, true) or (version == "1.0" and not conn:find("keep-alive", 1, true)) then reuse = false end
  return { status = status, headers = headers, body = body_out }, reuse
end

-- TLS handshake with verification. When the handshake completes without yielding and the
-- peer fails verification, ngx_lua 0.10.23 still answers "ok": lua-resty-core 0.1.25 then
-- trips an assert fetching the session (and with `false` for the session it would report
-- success on a connection it already closed). So ask for the session and read that assert
-- as the verification failure it is; nginx's error log has the OpenSSL reason.
local function handshake(sock, sni, verify)
  local ok, session, err = pcall(sock.sslhandshake, sock, nil, sni, verify)
  if ok then
    if session == nil and err then return nil, err end
    return true
  end
  if verify and tostring(session):find("assertion failed", 1, true) then
    return nil, "certificate verify failed (see the nginx error log for the reason)"
  end
  error(session, 0)
end

--- Send one request. `req` as for laws.http.request; `opts` may override M.defaults and set
-- `ssl_verify` (default true) and `server_name` (SNI; default the URL's host).
function M.request(req, opts)
  opts = opts or {}
  local d = M.defaults
  local scheme, host, port, target = M.parse_url(req.url or "")
  if not scheme then return fail("URL_MALFORMAT", host, { retryable = false }) end
  local method = req.method or "GET"
  local timeout = req.timeout or opts.timeout or d.timeout
  local ctimeout = req.connect_timeout or opts.connect_timeout or d.connect_timeout
  local sni = opts.server_name or host
  local verify = opts.ssl_verify ~= false
  local pool = scheme .. ":" .. host .. ":" .. port .. ":" .. sni .. (verify and "" or ":noverify")
  local head = request_head(method, target, host, port, scheme, req.headers, req.body)
  local max = req.max_body or opts.max_body or d.max_body
  local deadline = now() + timeout
  local timed_out = ("the attempt took longer than its timeout (%g s)"):format(timeout)

  for try = 1, 2 do
    local sock, err = ngx.socket.tcp()
    if not sock then return fail("FAILED_INIT", err) end
    local left = math.floor((deadline - now()) * 1000)
    if left < 1 then return fail("OPERATION_TIMEDOUT", timed_out) end
    local cms = ctimeout * 1000
    sock:settimeouts(cms < left and cms or left, left, left)
    local ok
    ok, err = sock:connect(host, port, { pool = pool, pool_size = opts.pool_size or d.pool_size })
    if not ok then return connect_error(err) end
    local reused = (sock:getreusedtimes() or 0) > 0
    if scheme == "https" and not reused then
      if not arm(sock, deadline) then sock:close(); return fail("OPERATION_TIMEDOUT", timed_out) end
      ok, err = handshake(sock, sni, verify)
      if not ok then
        sock:close()
        err = tostring(err)
        if err == "timeout" then return fail("OPERATION_TIMEDOUT", "TLS handshake timed out") end
        -- verification failures: "certificate host mismatch", "18: self-signed certificate",
        -- "20: unable to get local issuer certificate", "10: certificate has expired", ...
        if err:find("certificate", 1, true) or err:find("verify", 1, true) then
          return fail("PEER_FAILED_VERIFICATION", err, { retryable = false })
        end
        return fail("SSL_CONNECT_ERROR", err)
      end
    end
    local res, reuse, msg, got = exchange(sock, method, head, req.body, max, deadline)
    if res then
      if reuse then sock:setkeepalive((opts.keepalive_timeout or d.keepalive_timeout) * 1000,
        opts.pool_size or d.pool_size)
      else sock:close() end
      res.reused = reused
      return res
    end
    sock:close()
    if reuse == "ResponseTooLarge" then return fail(reuse, msg, { retryable = false }) end
    if reuse == "OPERATION_TIMEDOUT" then return fail(reuse, timed_out) end
    -- A pooled connection the server closed meanwhile: the request never reached it, so
    -- one fresh attempt is safe (what libcurl does for a dead reused connection too).
    if not (reused and not got and try == 1 and (reuse == "GOT_NOTHING" or reuse == "SEND_ERROR"
        or reuse == "RECV_ERROR")) then
      return fail(reuse, msg)
    end
  end
end

return M
