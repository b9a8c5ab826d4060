-- Role providers end to end against moto with IAM authentication enforced
-- (spec/support/moto_creds.py): profile role chains through STS AssumeRole, then a
-- DynamoDB call signed with the assumed-role credentials; web identity.
local laws = require "laws"
local credentials = require "laws.credentials"
local http = require "laws.http"
local proc = require "spec.support.proc"
local fakeenv = require "spec.support.fakeenv"
local json = require "cjson"

local ROLE = "arn:aws:iam::123456789012:role/"
local srv, url, keys

local function dynamodb(provider)
  return laws.client("dynamodb", { region = "us-east-1", endpoint = url, credentials = provider,
                                   retry = { max_attempts = 1 } })
end

local function caller(c)
  local sts = laws.client("sts", { region = "us-east-1", endpoint = url, credentials = c, retry = { max_attempts = 1 } })
  return assert(sts:GetCallerIdentity{}).Arn
end

local function set_auth(count)
  local res = assert(http.request{ method = "POST", url = url .. "/moto-api/reset-auth", body = count })
  assert.equal(200, res.status)
end

describe("role credentials against moto (auth enforced)", function()
  local dir, env

  setup(function()
    assert(os.execute("python3 -c 'import moto, boto3' 2>/dev/null"),
      "python3 with moto and boto3 is needed (Debian: python3-moto python3-boto3)")
    srv = proc.start({ "python3", "spec/support/moto_creds.py" }, { name = "moto (credentials)", timeout = 90 })
    url = "http://127.0.0.1:" .. srv.port
    keys = json.decode(srv.ready:match("^%d+ (.*)$"))
  end)
  teardown(function() if srv then srv.stop() end end)

  before_each(function()
    dir = fakeenv.tmpdir()
    env = { HOME = dir, AWS_EC2_METADATA_DISABLED = "true", AWS_REGION = "us-east-1",
            AWS_CONFIG_FILE = dir .. "/config", AWS_SHARED_CREDENTIALS_FILE = dir .. "/credentials",
            AWS_ENDPOINT_URL_STS = url }
    fakeenv.set(env)
    local u, n = keys.user, keys.nobody
    fakeenv.write(dir .. "/credentials", table.concat({
      "[base]", "aws_access_key_id = " .. u.id, "aws_secret_access_key = " .. u.secret,
      "[nobody]", "aws_access_key_id = " .. n.id, "aws_secret_access_key = " .. n.secret,
      "[wrongsecret]", "aws_access_key_id = " .. u.id, "aws_secret_access_key = wrong-secret-for-laws-user-xxxx",
    }, "\n") .. "\n")
    fakeenv.write(dir .. "/config", table.concat({
      "[profile hop1]", "role_arn = " .. ROLE .. "laws-hop1", "source_profile = base",
      "role_session_name = laws-hop1-session",
      "[profile hop2]", "role_arn = " .. ROLE .. "laws-hop2", "source_profile = hop1",
      "role_session_name = laws-hop2-session",
      "[profile ext-ok]", "role_arn = " .. ROLE .. "laws-ext", "source_profile = base", "external_id = laws-ext-id",
      "[profile ext-bad]", "role_arn = " .. ROLE .. "laws-ext", "source_profile = base", "external_id = not-the-id",
      "[profile nodb]", "role_arn = " .. ROLE .. "laws-nodb", "source_profile = base",
      "[profile from-nobody]", "role_arn = " .. ROLE .. "laws-hop1", "source_profile = nobody",
      "[profile from-wrong]", "role_arn = " .. ROLE .. "laws-hop1", "source_profile = wrongsecret",
      "[profile self]", "role_arn = " .. ROLE .. "laws-hop1", "source_profile = self",
      "aws_access_key_id = " .. keys.user.id, "aws_secret_access_key = " .. keys.user.secret,
      "[profile short]", "role_arn = " .. ROLE .. "laws-hop2", "source_profile = hop1", "duration_seconds = 900",
      "[profile from-env]", "role_arn = " .. ROLE .. "laws-hop1", "credential_source = Environment",
      "[profile web]", "role_arn = " .. ROLE .. "laws-web", "web_identity_token_file = " .. dir .. "/web-token",
      "role_session_name = laws-web-profile",
    }, "\n") .. "\n")
  end)
  after_each(function()
    fakeenv.restore()
    fakeenv.cleanup()
  end)

  it("refuses keys it does not know (auth really is enforced)", function()
    local res, err = dynamodb({ access_key_id = "AKIDUNKNOWN0000", secret_access_key = "nope-nope-nope" }):ListTables{}
    assert.is_nil(res)
    assert.equal(403, err.status)
  end)

  it("follows a two-hop source_profile chain and calls DynamoDB with the result", function()
    local p = credentials.profile{ profile = "hop2" }
    local c = assert(p:get())
    assert.matches("^ASIA", c.access_key_id)
    assert.is_string(c.session_token)
    assert.is_number(c.expiration)
    assert.equal("arn:aws:sts::123456789012:assumed-role/laws-hop2/laws-hop2-session", caller(c))
    local tables = assert(dynamodb(p):ListTables{})
    assert.same({ "laws-creds-table" }, tables.TableNames)
  end)

  it("works on its own: assume_role{} over any source provider", function()
    local p = credentials.assume_role{ role_arn = ROLE .. "laws-hop2", role_session_name = "standalone",
      source = credentials.assume_role{ role_arn = ROLE .. "laws-hop1",
        source = { access_key_id = keys.user.id, secret_access_key = keys.user.secret },
        sts_endpoint = url, region = "us-east-1" },
      sts_endpoint = url, region = "us-east-1" }
    assert.equal("arn:aws:sts::123456789012:assumed-role/laws-hop2/standalone", caller(assert(p:get())))
    assert.has_error(function() credentials.assume_role{ source = p } end)
    assert.has_error(function() credentials.assume_role{ role_arn = "x" } end)
  end)

  it("is what laws.client uses for a profile option", function()
    local ddb = laws.client("dynamodb", { region = "us-east-1", endpoint = url, profile = "hop2" })
    assert.same({ "laws-creds-table" }, assert(ddb:ListTables{}).TableNames)
  end)

  it("stops at the first hop's permissions: hop1 may not use DynamoDB", function()
    local res, err = dynamodb(credentials.profile{ profile = "hop1" }):ListTables{}
    assert.is_nil(res)
    assert.equal(403, err.status)
  end)

  it("sends external_id: the right one is accepted, a wrong one refused", function()
    assert(dynamodb(credentials.profile{ profile = "ext-ok" }):ListTables{})
    local c, err = credentials.profile{ profile = "ext-bad" }:get()
    assert.is_nil(c)
    assert.equal("AccessDenied", err.code)
    assert.matches("profile ext-bad", err.message, 1, true)
  end)

  it("refuses a role whose policy does not allow the call", function()
    local res, err = dynamodb(credentials.profile{ profile = "nodb" }):ListTables{}
    assert.is_nil(res)
    assert.equal(403, err.status)
  end)

  it("reports a source that may not assume roles, and a wrong source secret, without the secret", function()
    local c, err = credentials.profile{ profile = "from-nobody" }:get()
    assert.is_nil(c)
    assert.equal("AccessDenied", err.code)
    c, err = credentials.profile{ profile = "from-wrong" }:get()
    assert.is_nil(c)
    assert.equal(403, err.status)
    assert.matches("profile from-wrong", err.message, 1, true)
    assert.is_nil(tostring(err):find("wrong-secret-for-laws-user", 1, true))
  end)

  it("lets a profile source its own static keys", function()
    local c = assert(credentials.profile{ profile = "self" }:get())
    assert.matches("assumed%-role/laws%-hop1/", caller(c))
  end)

  it("sends duration_seconds", function()
    local t0 = os.time()
    local c = assert(credentials.profile{ profile = "short" }:get())
    assert.is_true(math.abs(c.expiration - (t0 + 900)) < 60, "expires in " .. (c.expiration - t0) .. " s")
  end)

  it("takes source credentials from the environment with credential_source = Environment", function()
    env.AWS_ACCESS_KEY_ID = keys.user.id
    env.AWS_SECRET_ACCESS_KEY = keys.user.secret
    local c = assert(credentials.profile{ profile = "from-env" }:get())
    assert.matches("assumed%-role/laws%-hop1/", caller(c))
  end)

  it("refreshes assumed-role credentials before they expire (fake clock)", function()
    local clock = fakeenv.clock(os.time())
    local p = credentials.profile{ profile = "short" }     -- 900 s credentials
    local first = assert(p:get())
    clock.advance(500)
    assert.equal(first, p:get())
    clock.advance(150)                                      -- 250 s left: refresh
    local second = assert(p:get())
    clock.restore()
    assert.are_not.equal(first.access_key_id, second.access_key_id)
    assert.same({ "laws-creds-table" }, assert(dynamodb(second):ListTables{}).TableNames)
  end)

  -- moto asks for a signature on every STS call while enforcing authentication; real STS
  -- takes AssumeRoleWithWebIdentity unsigned. So enforcement is paused for that one call,
  -- then the credentials it gave are checked by an enforced DynamoDB call.
  local function with_auth_paused(fn)
    set_auth("inf")
    local ok, a, b = pcall(fn)
    set_auth("0")
    assert(ok, a)
    return a, b
  end

  it("gets web identity credentials from the environment (EKS IRSA) and uses them", function()
    fakeenv.write(dir .. "/web-token", "eyJraWQiOiJsYXdzIn0.web-identity-token-xxxx\n")
    env.AWS_WEB_IDENTITY_TOKEN_FILE = dir .. "/web-token"
    env.AWS_ROLE_ARN = ROLE .. "laws-web"
    env.AWS_ROLE_SESSION_NAME = "laws-web-env"
    local chain = credentials.default_chain()
    local c, err = with_auth_paused(function() return chain:get() end)
    assert(c, err)
    assert.matches("^ASIA", c.access_key_id)
    assert.equal("arn:aws:sts::123456789012:assumed-role/laws-web/laws-web-env", caller(c))
    assert.same({ "laws-creds-table" }, assert(dynamodb(c):ListTables{}).TableNames)
  end)

  it("gets web identity credentials from a profile", function()
    fakeenv.write(dir .. "/web-token", "eyJraWQiOiJsYXdzIn0.web-identity-token-yyyy")
    local c, err = with_auth_paused(function() return credentials.profile{ profile = "web" }:get() end)
    assert(c, err)
    assert.equal("arn:aws:sts::123456789012:assumed-role/laws-web/laws-web-profile", caller(c))
  end)

  it("names the token file it cannot read", function()
    env.AWS_WEB_IDENTITY_TOKEN_FILE = dir .. "/missing-token"
    env.AWS_ROLE_ARN = ROLE .. "laws-web"
    local c, err = credentials.default_chain():get()
    assert.is_nil(c)
    assert.equal("CredentialsProviderError", err.code)
    assert.matches("missing-token", err.message, 1, true)
  end)
end)
