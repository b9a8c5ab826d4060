--- laws.client(service, opts) / laws.client{ model = "service-2.json", ... }: AWS service
-- clients driven by operation tables. One call: validate and serialise once, then per
-- attempt get credentials, sign afresh, send through laws.runtime, parse, and let
-- laws.retry.aws (the AWS retry strategy) decide whether and when to try again.
local errors = require "laws.errors"
local runtime = require "laws.runtime"
local model = require "laws.model"
local endpoints = require "laws.endpoints"
local common = require "laws.protocol.common"
local skew = require "laws.retry.skew"
local aws_retry = require "laws.retry.aws"
local retry_loop = require("laws.retry").loop
local uuid4 = require("laws.native").uuid4   -- v4 UUIDs from the OS's randomness

local M = {}

local PROTOCOLS = {
  ["rest-json"] = "laws.protocol.rest_json",
  json = "laws.protocol.json",
  query = "laws.protocol.query",
}

local CLIENT_OPTS = { region = 1, endpoint = 1, credentials = 1, profile = 1, retry = 1, timeout = 1,
                      connect_timeout = 1, model = 1, service = 1, use_fips = 1, use_dualstack = 1,
                      on_retry = 1, user_agent = 1, max_in_flight = 1, config_file = 1, credentials_file = 1,
                      max_body = 1 }
local CALL_OPTS = { retry = 1, timeout = 1, connect_timeout = 1, on_retry = 1, max_body = 1 }
local TIMEOUT_OPTS = { "timeout", "connect_timeout", "max_body" }
-- calls without options share this table: none made per call (bench/25-client.sh)
local NO_OPTS = setmetatable({}, { __newindex = function() error("laws.client: internal: shared empty table written", 2) end })

local function check_opts(t, allowed, where, level)
  for k in pairs(t) do
    if not allowed[k] then
      local names = {}
      for n in pairs(allowed) do names[#names + 1] = n end
      local hint = model.closest(tostring(k), names, 1)
      error(where .. ": unknown option '" .. tostring(k) .. "' (did you mean '" .. hint[1] .. "'?)", level or 3)
    end
  end
end

local Client = {}
local retry_opts

local function unknown_op(self, name)
  local hint = model.closest(tostring(name), self.model.names, 3)
  return "laws.client: " .. self.service .. " has no operation '" .. tostring(name) .. "' (closest: "
    .. table.concat(hint, ", ") .. ")"
end

local meta
local function op_function(name)
  return function(self, params, opts)
    if getmetatable(self) ~= meta then
      error("laws.client: call operations with a colon: client:" .. name .. "(params)", 2)
    end
    return Client.call(self, name, params, opts)  -- not self:call: that would go through __index
  end
end

-- Fields a client may leave nil (read on every call: answered here without a pattern match;
-- bench/25-client.sh).
local OPTIONAL_FIELDS = { timeout = true, connect_timeout = true, max_body = true, on_retry = true, max_in_flight = true,
                          session = true, request_opts = true }

meta = {
  __name = "laws.client",
  __index = function(self, k)
    local v = Client[k]
    if v ~= nil or OPTIONAL_FIELDS[k] then return v end
    if type(k) == "string" and self.model.ops[k] then
      local f = op_function(k)
      rawset(self, k, f)
      return f
    end
    if type(k) == "string" and k:match("^%u") then
      return function() error(unknown_op(self, k), 2) end  -- client:Typo(...) names the closest operations
    end
  end,
  __tostring = function(self) return "laws.client(" .. self.service .. ", " .. self.region .. ")" end,
}

--- Create a client. `service` names a built-in service; or pass one table with `model`.
function M.new(service, opts)
  if type(service) == "table" and opts == nil then opts, service = service, service.service end
  opts = opts or {}
  if type(opts) ~= "table" then error("laws.client: opts must be a table", 2) end
  check_opts(opts, CLIENT_OPTS, "laws.client")
  local m
  if opts.model ~= nil then
    if type(opts.model) ~= "string" then error("laws.client: model must be a path to a service-2.json", 2) end
    m = model.file(opts.model)
  else
    if type(service) ~= "string" then error("laws.client: service (string) or { model = path } expected", 2) end
    m = model.service(service)
  end
  local proto_mod = PROTOCOLS[m.protocol]
  if not proto_mod then
    error("laws.client: protocol '" .. tostring(m.protocol) .. "' of " .. tostring(m.source)
          .. " is not supported (rest-json, json, query are)", 2)
  end
  for _, k in ipairs{ "region", "endpoint", "profile", "config_file", "credentials_file" } do
    if opts[k] ~= nil and type(opts[k]) ~= "string" then
      error("laws.client: " .. k .. " must be a string, got " .. type(opts[k]), 2)
    end
  end
  local region = endpoints.region(opts)
  if not region then error("laws.client: no region (set opts.region, AWS_REGION or AWS_DEFAULT_REGION)", 2) end
  local url, uerr = endpoints.resolve(m.meta, region, opts)
  if not url then error("laws.client: " .. uerr, 2) end
  for _, k in ipairs{ "timeout", "connect_timeout", "max_in_flight", "max_body" } do
    if opts[k] ~= nil and type(opts[k]) ~= "number" then error("laws.client: " .. k .. " must be a number", 2) end
    -- checked here, not at the first call: laws.http would raise on every call instead
    if opts[k] ~= nil and not (opts[k] >= 0 and opts[k] < math.huge) then
      error("laws.client: " .. k .. " must be a finite number >= 0, got " .. tostring(opts[k]), 2)
    end
  end
  if opts.on_retry ~= nil and type(opts.on_retry) ~= "function" then error("laws.client: on_retry must be a function", 2) end
  if opts.retry ~= nil and type(opts.retry) ~= "table" then error("laws.client: retry must be a table", 2) end
  local self = setmetatable({
    service = service or m.meta.endpointPrefix, model = m, proto = require(proto_mod),
    region = region, endpoint = url, signing_name = m.meta.signingName or m.meta.endpointPrefix,
    credentials = require("laws.credentials").resolve(opts),
    strategy = aws_retry.new(retry_opts(opts), opts),
    timeout = opts.timeout, connect_timeout = opts.connect_timeout, max_body = opts.max_body,
    on_retry = opts.on_retry,
    max_in_flight = opts.max_in_flight,  -- laws.async: transfers of this client in flight at once
    user_agent = opts.user_agent or ("laws/0.1 " .. _VERSION:gsub(" ", "/")),
    clock_offset = 0, sign_opts = {},
  }, meta)
  return self
end

-- The client's retry options: opts.retry plus the client-wide on_retry hook (the profile
-- and config files reach the strategy as its `where`).
retry_opts = function(opts)
  local r = {}
  for k, v in pairs(opts.retry or {}) do r[k] = v end
  if opts.on_retry and r.on_retry == nil then r.on_retry = opts.on_retry end
  return r
end

local function http_session(self)
  if self.session == nil then
    -- resend = false: libcurl would silently send a request again when a reused keep-alive
    -- connection dies before the answer; the retry engine must see (count, re-sign, pay
    -- quota for) every attempt instead, so such a failure comes back as GOT_NOTHING.
    self.session = require("laws.http").session{ resend = false }
  end
  return self.session or nil
end

function Client:close()
  if self.session and self.session.close then self.session:close() end
  self.session = false
end

-- Per input shape, once: the names of its idempotency-token members (most have none), so a
-- call does not walk its input's members (bench/25-client.sh).
local token_members, tokens_of = model.per_shape(function(input)
  local list = {}
  for _, name in ipairs(input.order) do
    if input.members[name].idempotencyToken then list[#list + 1] = name end
  end
  return list
end)

-- Fill idempotency tokens once per logical call; a caller's token is kept.
local function fill_tokens(op, params)
  local input = op.input
  if not input then return params end
  local copy
  local names = token_members[input] or tokens_of(input)
  for i = 1, #names do
    local name = names[i]
    if params[name] == nil then
      if not copy then
        copy = {}
        for k, v in pairs(params) do copy[k] = v end
      end
      copy[name] = uuid4()
    end
  end
  return copy or params
end

local function response_error(self, res)
  local f = self.proto.parse_error(res)
  local code = f.code
  if not code and not (res.body or ""):find("%S") then
    -- An empty answer: the service's modelled error for this status, if exactly one.
    local found
    for name, sh in pairs(self.model.errors) do
      if type(sh.error) == "table" and sh.error.httpStatusCode == res.status and name == sh.name then
        found = found == nil and name or false
      end
    end
    code = found or nil
  end
  -- Not from the service proper (a proxy's HTML page, a cut-off body): name it by status.
  code = code or ("HTTP" .. tostring(res.status))
  local e = errors.new{ code = code, message = f.message or ("HTTP status " .. tostring(res.status)),
                        status = res.status, request_id = f.request_id, headers = res.headers or {} }
  local sh = self.model.errors[code]
  if sh and sh.retryable then
    e.modeled_retryable = true
    if sh.retryable.throttling then e.modeled_throttling = true end
  end
  return e
end

local sigv4  -- loaded on first use; .sign looked up per call (specs and tools wrap it)
--- Sign one attempt with the current clock offset. `req` is the call's own request (made
-- once per call; the loop sets its amz-sdk-request header per attempt). The signer
-- answers a new table with its own headers, so what one attempt sent is never changed by
-- the next; unsigned, a copy is sent for the same reason.
local function signed_request(self, req, creds)
  local signed
  if creds then   -- false: `credentials = false`, an unsigned call (STS AssumeRoleWithWebIdentity)
    sigv4 = sigv4 or require("laws.sigv4")
    -- one options table per client (sign() runs to its end without yielding): none made
    -- per attempt (bench/25-client.sh)
    local o = self.sign_opts
    o.service, o.region = self.signing_name, self.region
    o.time = math.floor(runtime.time() + self.clock_offset)
    local serr
    signed, serr = sigv4.sign(req, creds, o)
    if not signed then return nil, serr end
  else
    local headers = {}
    for k, v in pairs(req.headers) do headers[k] = v end
    signed = { method = req.method, url = req.url, headers = headers, body = req.body }
  end
  -- `signed` is a table of our own (built above or by the signer): it is the request sent
  signed.timeout, signed.connect_timeout, signed.max_body = req.timeout, req.connect_timeout, req.max_body
  return signed
end

local function attempt(self, op, req, creds)
  local session = rawget(self, "session")  -- false: none (nil: not looked for yet)
  if session == nil then session = http_session(self) else session = session or nil end
  -- client fields that may be nil are read with rawget: a nil field goes through __index
  -- reused while session and limit stay the same: none made per attempt (bench/25-client.sh)
  local ropts = rawget(self, "request_opts")
  local limit = rawget(self, "max_in_flight")
  if not ropts or ropts.session ~= session or ropts.max_in_flight ~= limit then
    ropts = { session = session, max_in_flight = limit }
    self.request_opts = ropts
  end
  -- built (and signed, with the clock of that moment) once a transfer slot is free
  local res, terr = runtime.send(function() return signed_request(self, req, creds) end, ropts)
  if not res then
    if not errors.is(terr) then terr = errors.new{ code = "TransportError", message = tostring(terr), transport = true } end
    return nil, terr
  end
  if res.status >= 200 and res.status < 300 then
    local result, perr = self.proto.parse(op, res)
    if result then return result, nil, res end
    return nil, errors.new{ code = "ResponseParseError", message = "could not parse the answer: " .. tostring(perr),
                            status = res.status, request_id = common.request_id(res.headers), headers = res.headers or {} }, res
  end
  return nil, response_error(self, res), res
end

-- Raises at the level of Client:call's caller.
local function check_call_opts(opname, call_opts)
  if type(call_opts) ~= "table" then error("laws.client: call options must be a table", 3) end
  if next(call_opts) == nil then return end
  check_opts(call_opts, CALL_OPTS, "laws.client: " .. opname, 4)
  if call_opts.retry ~= nil and type(call_opts.retry) ~= "table" then error("laws.client: option 'retry' must be a table", 3) end
  if call_opts.on_retry ~= nil and type(call_opts.on_retry) ~= "function" then
    error("laws.client: option 'on_retry' must be a function", 3)
  end
  for _, k in ipairs(TIMEOUT_OPTS) do
    if call_opts[k] ~= nil and type(call_opts[k]) ~= "number" then error("laws.client: option '" .. k .. "' must be a number", 3) end
  end
end

-- One attempt of a call, run by laws.retry's loop with the strategy's call object as its
-- state (rc.client, rc.op, rc.req set by Client:call): nil and the results to return, or
-- the seconds to wait first (the adaptive limiter's wait, the backoff before a retry).
local function call_step(rc)
  if rc.admitted then
    rc.admitted = false            -- the limiter's wait for this attempt is over
  else
    local wait = rc:before_attempt()
    if wait and wait > 0 then rc.admitted = true; return wait end
  end
  local self, op, req = rc.client, rc.op, rc.req
  -- false: sent unsigned (`credentials = false`, or an operation AWS serves without auth)
  local creds, cerr = false, nil
  -- the attempt's timeout bounds fetching its credentials too
  if self.credentials and not op.unsigned then
    local t = req.timeout
    creds, cerr = self.credentials:get(t and { timeout = t } or nil)
  end
  if creds == nil then
    if not errors.is(cerr) then cerr = errors.new{ code = "CredentialsError", message = tostring(cerr) } end
    cerr.attempts = rc.attempt
    return nil, nil, cerr
  end
  req.headers["amz-sdk-request"] = rc:request_header()
  local result, err, res = attempt(self, op, req, creds)
  if not err then
    rc:after_attempt(result, nil)
    return nil, result
  end
  if not rc.skew_fixed and res then
    local offset = skew.correction(err, res.headers, runtime.time() + self.clock_offset)
    if offset then
      -- The request was fine, our clock was not: the strategy retries at once, free of quota.
      self.clock_offset = self.clock_offset + offset
      err.clock_skew_corrected = true
      rc.skew_fixed = true
    end
  end
  local delay = rc:after_attempt(nil, err)
  err.attempts = rc.attempt
  if delay == nil then return nil, nil, err end
  return delay
end

--- Call an operation by name. Returns result or nil, err (err.attempts set).
function Client:call(opname, params, call_opts)
  if getmetatable(self) ~= meta then error("laws.client: call it as client:call(op, params)", 2) end
  local op = type(opname) == "string" and self.model.ops[opname]
  if not op then error(unknown_op(self, opname), 2) end
  if params == nil then params = {} end
  if type(params) ~= "table" then error("laws.client: " .. opname .. ": params must be a table, got " .. type(params), 2) end
  if not call_opts then
    call_opts = NO_OPTS
  else
    check_call_opts(opname, call_opts)
  end
  params = fill_tokens(op, params)
  common.validate(params, op.input, opname)
  local req = self.proto.build(op, params, self.model.meta)
  local query, headers = req.query, req.headers
  headers["User-Agent"] = self.user_agent
  headers["amz-sdk-invocation-id"] = uuid4()
  -- build's answer { method, path, query, headers, body } becomes the request to sign and
  -- send: a url in place of path and query, plus this call's timeouts
  req.url = self.endpoint .. req.path .. (#query > 0 and ("?" .. table.concat(query, "&")) or "")
  req.path, req.query = nil, nil
  req.timeout = call_opts.timeout or rawget(self, "timeout")
  req.connect_timeout = call_opts.connect_timeout or rawget(self, "connect_timeout")
  req.max_body = call_opts.max_body or rawget(self, "max_body")

  local per_call = nil  -- nil: the strategy's own settings
  if call_opts.retry or call_opts.on_retry then
    per_call = {}
    for k, v in pairs(call_opts.retry or NO_OPTS) do per_call[k] = v end
    if call_opts.on_retry then per_call.on_retry = call_opts.on_retry end
  end
  local rcall = self.strategy:start(per_call)
  rcall.client, rcall.op, rcall.req = self, op, req
  return retry_loop(call_step, rcall)
end

--- Wait with a waiter laws defines (laws.waiter): e.g. "CaseVisible".
local waiter  -- laws.waiter, loaded on the first wait
function Client:wait(name, params, opts)
  waiter = waiter or require "laws.retry.waiter"
  local w = type(name) == "string" and waiter.get(self.service, name)
  if not w then
    local names = waiter.list(self.service)
    error("laws.client: " .. self.service .. " has no waiter '" .. tostring(name) .. "' (has: "
          .. (#names > 0 and table.concat(names, ", ") or "none") .. ")", 2)
  end
  if params ~= nil and type(params) ~= "table" then
    error("laws.client: wait " .. name .. ": params must be a table, got " .. type(params), 2)
  end
  return w:wait(self, params, opts)
end

return setmetatable(M, { __call = function(_, service, opts) return M.new(service, opts) end })
