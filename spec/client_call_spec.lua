-- The client call: endpoints, bad input, and the per-attempt loop (re-signing,
-- invocation id, amz-sdk-request, idempotency tokens, clock skew, hooks).
local fake = require "spec.support.client_fake"
local endpoints = require "laws.endpoints"
local laws = require "laws"
local json = require "laws.json"

local function raised(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  return err
end

local rec
after_each(function() if rec then rec.restore(); rec = nil end end)

local function with_env(env, fn)
  local config = require "laws.config"
  local orig = config.getenv
  config.getenv = function(k) return env[k] end
  local ok, err = pcall(fn)
  config.getenv = orig
  if not ok then error(err, 0) end
end

describe("endpoints", function()
  local meta = { endpointPrefix = "cases", serviceId = "ConnectCases" }
  it("builds https://<prefix>.<region>.amazonaws.com with FIPS and dual-stack switches", function()
    with_env({}, function()
      assert.equal("https://cases.us-east-1.amazonaws.com", endpoints.resolve(meta, "us-east-1", {}))
      assert.equal("https://cases-fips.us-east-1.amazonaws.com", endpoints.resolve(meta, "us-east-1", { use_fips = true }))
      assert.equal("https://cases.eu-west-1.api.aws", endpoints.resolve(meta, "eu-west-1", { use_dualstack = true }))
      assert.equal("https://cases-fips.us-west-2.api.aws", endpoints.resolve(meta, "us-west-2", { use_fips = true, use_dualstack = true }))
      assert.equal("https://cases.cn-north-1.amazonaws.com.cn", endpoints.resolve(meta, "cn-north-1", {}))
      assert.is_nil((endpoints.resolve(meta, "us-east-1/../x", {})))
    end)
    with_env({ AWS_USE_FIPS_ENDPOINT = "true", AWS_USE_DUALSTACK_ENDPOINT = "TRUE" }, function()
      assert.equal("https://cases-fips.us-east-1.api.aws", endpoints.resolve(meta, "us-east-1", {}))
      assert.equal("https://cases.us-east-1.amazonaws.com", endpoints.resolve(meta, "us-east-1", { use_fips = false,
        use_dualstack = false }))
    end)
  end)

  it("takes the endpoint option, then AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL", function()
    assert.equal("CUSTOMER_PROFILES", endpoints.env_name("Customer Profiles"))
    assert.equal("CONNECTCASES", endpoints.env_name("ConnectCases"))
    assert.equal("STS", endpoints.env_name("STS"))
    assert.equal("SOME_SERVICE_X", endpoints.env_name("some-service x"))
    with_env({ AWS_ENDPOINT_URL = "http://127.0.0.1:1", AWS_ENDPOINT_URL_CONNECTCASES = "http://127.0.0.1:2/" }, function()
      assert.equal("http://127.0.0.1:2", endpoints.resolve(meta, "us-east-1", {}))
      assert.equal("http://127.0.0.1:3", endpoints.resolve(meta, "us-east-1", { endpoint = "http://127.0.0.1:3" }))
      assert.equal("http://127.0.0.1:1", endpoints.resolve({ endpointPrefix = "profile",
        serviceId = "Customer Profiles" }, "us-east-1", {}))
    end)
    with_env({ AWS_ENDPOINT_URL = "http://127.0.0.1:1", AWS_IGNORE_CONFIGURED_ENDPOINT_URLS = "true" }, function()
      assert.equal("https://cases.us-east-1.amazonaws.com", endpoints.resolve(meta, "us-east-1", {}))
    end)
    assert.is_nil((endpoints.resolve(meta, "us-east-1", { endpoint = "ftp://x" })))
  end)

  it("takes the region from the option, AWS_REGION, AWS_DEFAULT_REGION", function()
    with_env({ AWS_REGION = "eu-west-1", AWS_DEFAULT_REGION = "eu-west-2" }, function()
      assert.equal("ap-south-1", endpoints.region{ region = "ap-south-1" })
      assert.equal("eu-west-1", endpoints.region{})
    end)
    with_env({ AWS_DEFAULT_REGION = "eu-west-2" }, function() assert.equal("eu-west-2", endpoints.region{}) end)
    with_env({}, function()   -- no HOME either: no shared config file to read a region from
      assert.is_nil(endpoints.region{})
      assert.has_error(function() laws.client("sts", { credentials = fake.creds }) end,
        "laws.client: no region (set opts.region, AWS_REGION or AWS_DEFAULT_REGION)")
    end)
  end)

  it("takes one table: laws.client{ service = ... } and laws.client{ model = path }", function()
    rec = fake.script{ { status = 200, body = "{}" } }
    local d = laws.client{ service = "dynamodb", region = "eu-north-1", credentials = fake.creds }
    assert(d:ListTables{})
    assert.equal("https://dynamodb.eu-north-1.amazonaws.com/", rec.sent[1].url)
    local m = laws.client{ model = "spec/fixtures/restjson_model.json", region = "us-east-1", credentials = fake.creds }
    assert(m:Ping())
    assert.equal("https://widgets.us-east-1.amazonaws.com/ping", rec.sent[2].url)
    assert.equal("widgetz", rec.signs[2].service)  -- signingName, not the endpoint prefix
  end)

  it("reads region, endpoint_url (services block, then profile) and FIPS from the config file", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write("[default]\nregion = eu-central-1\n\n[profile dev]\nregion = ap-southeast-2\n",
            "endpoint_url = http://127.0.0.1:7001\nservices = local\n\n",
            "[profile gov]\nregion = us-west-2\nuse_fips_endpoint = true\n\n",
            "[services local]\ndynamodb =\n  endpoint_url = http://127.0.0.1:7002\n")
    f:close()
    with_env({}, function()
      local dev = { profile = "dev", config_file = path, credentials = fake.creds }
      local sts = laws.client("sts", dev)
      assert.equal("ap-southeast-2", sts.region)
      assert.equal("http://127.0.0.1:7001", sts.endpoint)
      assert.equal("http://127.0.0.1:7002", laws.client("dynamodb", dev).endpoint)
      assert.equal("http://127.0.0.1:9", laws.client("dynamodb", { profile = "dev", config_file = path,
        credentials = fake.creds, endpoint = "http://127.0.0.1:9" }).endpoint)
      local gov = laws.client("dynamodb", { profile = "gov", config_file = path, credentials = fake.creds })
      assert.equal("https://dynamodb-fips.us-west-2.amazonaws.com", gov.endpoint)
      local def = laws.client("sts", { config_file = path, credentials = fake.creds })
      assert.equal("eu-central-1", def.region)
      assert.equal("https://sts.eu-central-1.amazonaws.com", def.endpoint)
    end)
    with_env({ AWS_IGNORE_CONFIGURED_ENDPOINT_URLS = "true" }, function()
      local sts = laws.client("sts", { profile = "dev", config_file = path, credentials = fake.creds })
      assert.equal("https://sts.ap-southeast-2.amazonaws.com", sts.endpoint)
    end)
    os.remove(path)
  end)

  it("sends to a plain-http loopback endpoint given as an option", function()
    rec = fake.script{ { status = 200, body = "{}" } }
    local c = fake.client("dynamodb", { endpoint = "http://127.0.0.1:8000" })
    assert(c:ListTables{})
    assert.equal("http://127.0.0.1:8000/", rec.sent[1].url)
  end)
end)

describe("bad input raises before anything is sent", function()
  local c
  before_each(function() rec = fake.script{ { status = 200, body = "{}" } }; c = fake.client("connectcases") end)

  it("names the closest operations (method form too)", function()
    local err = raised(function() return c:SerchCases{} end)

    assert.matches("no operation 'SerchCases' %(closest: SearchCases", err)
    err = raised(c.call, c, "GetCas", {})
    assert.matches("closest: GetCase", err)
    err = raised(function() return c.GetCase{ domainId = "d" } end)
    assert.matches("call operations with a colon: client:GetCase(params)", err, 1, true)
  end)
  it("names a missing required member, a wrong type, an unknown member", function()
    local err = raised(c.GetCase, c, { domainId = "d", fields = {} })
    assert.matches("missing required parameter 'caseId'", err)
    err = raised(c.GetCase, c, { domainId = "d", caseId = 7, fields = {} })
    assert.matches("GetCase.caseId: expected a string, got number", err, 1, true)
    err = raised(c.CreateCase, c, { domainId = "d", templateId = "t", fields = { { id = "x", value = { stringValue = 1 } } } })
    assert.matches("CreateCase.fields[1].value.stringValue: expected a string, got number", err, 1, true)
    err = raised(c.CreateCase, c, { domainId = "d", templateId = "t", fields = {}, fieldz = {} })
    assert.matches("unknown parameter 'fieldz' %(did you mean fields", err)
    err = raised(c.CreateCase, c, { domainId = "d", templateId = "t",
      fields = { { id = "x", value = { stringValue = "a", booleanValue = true } } } })
    assert.matches("a union takes exactly one member, got 2", err, 1, true)
    err = raised(c.GetCase, c, { domainId = "", caseId = "c", fields = {} })
    assert.matches("URI parameter 'domainId' must not be empty", err, 1, true)
    assert.equal(0, #rec.sent)
  end)
  it("rejects non-table params, unknown client and call options", function()
    assert.has_error(function() c:GetCase("x") end, "laws.client: GetCase: params must be a table, got string")
    local err = raised(fake.client, "connectcases", { regoin = "x" })
    assert.matches("unknown option 'regoin' %(did you mean 'region'%?%)", err)
    err = raised(c.call, c, "ListDomains", {}, { timout = 1 })
    assert.matches("unknown option 'timout'", err)
    assert.matches("'retry' must be a table", raised(c.call, c, "ListDomains", {}, { retry = 3 }))
    assert.matches("'timeout' must be a number", raised(c.call, c, "ListDomains", {}, { timeout = "1" }))
    assert.matches("'on_retry' must be a function", raised(c.call, c, "ListDomains", {}, { on_retry = true }))
    err = raised(fake.client, "connectcase")
    assert.matches("unknown service 'connectcase'", err)
    assert.equal(0, #rec.sent)
  end)
end)

describe("the call loop", function()
  local ERR500 = { status = 500, body = '{"__type":"InternalServerException","message":"boom"}' }
  local OK = { status = 200, body = '{"caseId":"c-9","caseArn":"a"}' }
  local params = { domainId = "d", templateId = "t", fields = {} }

  it("re-signs each attempt, keeps one invocation id and counts attempt=N; max=M", function()
    rec = fake.script{ ERR500, ERR500, OK }
    local c = fake.client("connectcases", { retry = { seed = 1 } })
    local r = assert(c:CreateCase(params))
    assert.equal("c-9", r.caseId)
    assert.equal(3, #rec.sent)
    assert.equal(3, #rec.signs)
    local ids = {}
    for i, req in ipairs(rec.sent) do
      ids[fake.header(req, "amz-sdk-invocation-id")] = true
      assert.equal("attempt=" .. i .. "; max=3", fake.header(req, "amz-sdk-request"))
    end
    local n = 0
    for id in pairs(ids) do n = n + 1; assert.matches("^%x+%-%x+%-4%x+%-[89ab]%x+%-%x+$", id) end
    assert.equal(1, n)
    assert.equal(2, #rec.sleeps)
    -- a new call gets a new invocation id
    assert(c:CreateCase(params))
    assert.is_nil(ids[fake.header(rec.sent[4], "amz-sdk-invocation-id")])
  end)

  it("fills clientToken once per call, reuses it on every attempt and keeps a caller's token", function()
    rec = fake.script{ ERR500, OK }
    local c = fake.client("connectcases")
    assert(c:CreateCase(params))
    local t1, t2 = json.decode(rec.sent[1].body).clientToken, json.decode(rec.sent[2].body).clientToken
    assert.is_string(t1)
    assert.equal(t1, t2)
    assert.is_nil(params.clientToken)  -- the caller's table is not modified
    rec.restore()
    rec = fake.script{ OK }
    assert(c:CreateCase(params))
    assert.not_equal(t1, json.decode(rec.sent[1].body).clientToken)
    local mine = { domainId = "d", templateId = "t", fields = {}, clientToken = "my-token" }
    assert(c:CreateCase(mine))
    assert.equal("my-token", json.decode(rec.sent[2].body).clientToken)
  end)

  it("stops at once on a non-retryable error and reports attempts", function()
    rec = fake.script{ { status = 400, body = '{"__type":"ValidationException","message":"no"}' } }
    local c = fake.client("connectcases")
    local r, err = c:CreateCase(params)
    assert.is_nil(r)
    assert.equal("ValidationException", err.code)
    assert.equal(1, err.attempts)
    assert.equal(1, #rec.sent)
  end)

  it("retries transport errors and gives up after max_attempts (per-call option)", function()
    local errors = require "laws.errors"
    rec = fake.script{ function() return nil, errors.new{ code = "COULDNT_CONNECT", message = "refused", transport = true } end }
    local c = fake.client("connectcases")
    local r, err = c:CreateCase(params, { retry = { max_attempts = 4 } })
    assert.is_nil(r)
    assert.equal("COULDNT_CONNECT", err.code)
    assert.equal(4, err.attempts)
    assert.equal(4, #rec.sent)
    assert.equal("attempt=4; max=4", fake.header(rec.sent[4], "amz-sdk-request"))
  end)

  it("passes the timeout (call option over client option) and max_in_flight to the transport", function()
    rec = fake.script{ OK }
    local c = fake.client("connectcases", { timeout = 7, connect_timeout = 2, max_in_flight = 4 })
    assert(c:CreateCase(params))
    assert(c:CreateCase(params, { timeout = 1.5 }))
    assert.equal(7, rec.sent[1].timeout)
    assert.equal(2, rec.sent[1].connect_timeout)
    assert.equal(1.5, rec.sent[2].timeout)
    assert.equal(4, rec.opts[1].max_in_flight)  -- for laws.async's per-client limit
  end)

  it("corrects its clock from Date on RequestTimeTooSkewed and retries at once, free", function()
    local now = 1764153000
    local server = now + 3600
    local date = os.date("!%a, %d %b %Y %H:%M:%S GMT", server)
    rec = fake.script({ { status = 400, headers = { date = date }, body = '{"__type":"RequestTimeTooSkewed","message":"skewed"}' }, OK },
      { time = function() return now end })
    local c = fake.client("connectcases", { retry = { max_attempts = 2 } })
    assert(c:CreateCase(params))
    assert.equal(now, rec.signs[1].time)
    assert.equal(server, rec.signs[2].time)
    assert.same({}, rec.sleeps)
    -- the offset stays for later calls
    assert(c:CreateCase(params))
    assert.equal(server, rec.signs[3].time)
  end)

  it("treats InvalidSignatureException as skew only when Date is more than 5 minutes off", function()
    local now = 1764153000
    local near = os.date("!%a, %d %b %Y %H:%M:%S GMT", now + 120)
    rec = fake.script({ { status = 403, headers = { date = near }, body = '{"__type":"InvalidSignatureException","message":"sig"}' } },
      { time = function() return now end })
    local c = fake.client("connectcases")
    local r, err = c:CreateCase(params)
    assert.is_nil(r)
    assert.equal("InvalidSignatureException", err.code)
    assert.equal(1, #rec.sent)
    rec.restore()
    local far = os.date("!%a, %d %b %Y %H:%M:%S GMT", now - 900)
    rec = fake.script({ { status = 403, headers = { date = far }, body = '{"__type":"InvalidSignatureException"}' }, OK },
      { time = function() return now end })
    assert(c:CreateCase(params))
    assert.equal(now - 900, rec.signs[2].time)
  end)

  it("calls on_retry hooks of the client and of the call, without secrets", function()
    rec = fake.script{ { status = 429, body = '{"__type":"ThrottlingException"}' }, OK }
    local seen = {}
    local c = fake.client("connectcases", { on_retry = function(e) seen[#seen + 1] = { "client", e } end })
    assert(c:CreateCase(params, { on_retry = function(e) seen[#seen + 1] = { "call", e } end }))
    assert.equal(2, #seen)
    for _, s in ipairs(seen) do
      local e = s[2]
      assert.equal(1, e.attempt)
      assert.equal("ThrottlingException", e.code)
      assert.is_number(e.delay)
      assert.is_number(e.quota_left)
      local text = json.encode{ attempt = e.attempt, delay = e.delay, code = e.code, quota = e.quota_left, err = tostring(e.err) }
      assert.is_nil(text:find(fake.creds.secret_access_key, 1, true))
    end
    local kinds = { seen[1][1], seen[2][1] }
    table.sort(kinds)
    assert.same({ "call", "client" }, kinds)
    assert.equal(rec.sleeps[1], seen[1][2].delay)
  end)

  it("sends operations AWS serves without auth unsigned, without asking for credentials", function()
    rec = fake.script{ { status = 200, body = "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>"
      .. "<Credentials><AccessKeyId>ASIA2</AccessKeyId></Credentials></AssumeRoleWithWebIdentityResult>"
      .. "</AssumeRoleWithWebIdentityResponse>" } }
    local asked = 0
    local c = fake.client("sts", { credentials = function() asked = asked + 1; return fake.creds end })
    local r = assert(c:AssumeRoleWithWebIdentity{ RoleArn = "arn:aws:iam::1:role/r", RoleSessionName = "s",
                                                  WebIdentityToken = "jwt" })
    assert.equal("ASIA2", r.Credentials.AccessKeyId)
    assert.equal(0, asked)
    assert.is_nil(fake.header(rec.sent[1], "Authorization"))
    assert.equal(0, #rec.signs)
    assert(c:GetCallerIdentity{})
    assert.equal(1, asked)
    assert.is_string(fake.header(rec.sent[2], "Authorization"))
    local anon = fake.client("sts", { credentials = false })
    assert(anon:GetCallerIdentity{})
    assert.is_nil(fake.header(rec.sent[3], "Authorization"))
  end)

  it("returns a credentials error without sending", function()
    rec = fake.script{ OK }
    local none = function() return nil, require("laws.errors").new{ code = "CredentialsNotFound", message = "none" } end
    local c = fake.client("connectcases", { credentials = none })
    local r, err = c:CreateCase(params)
    assert.is_nil(r)
    assert.equal("CredentialsNotFound", err.code)
    assert.equal(0, #rec.sent)
  end)
end)
