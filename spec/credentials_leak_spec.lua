-- Secrets never leak: for every provider, the secret key, session token and any
-- provider token are absent from tostring(provider), tostring(credentials), a dump of
-- the provider object, and every error its failure paths produce (message, tostring,
-- the `tried` details of a chain).
local credentials = require "laws.credentials"
local http = require "laws.http"
local proc = require "spec.support.proc"
local fakeenv = require "spec.support.fakeenv"
local json = require "cjson"

-- Everything reachable from a value, as text (functions and userdata by type only).
local function dump(v, seen)
  seen = seen or {}
  if type(v) == "string" then return v end
  if type(v) ~= "table" then return type(v) == "function" and "function" or tostring(v) end
  if seen[v] then return "<cycle>" end
  seen[v] = true
  local parts = {}
  for k, x in pairs(v) do parts[#parts + 1] = dump(k, seen) .. "=" .. dump(x, seen) end
  return "{" .. table.concat(parts, ",") .. "}"
end

local function assert_clean(what, text, secrets)
  for _, s in ipairs(secrets) do
    assert.is_nil(text:find(s, 1, true), what .. " shows a secret")
  end
end

local function check_error(what, err, secrets)
  assert.is_table(err, what .. ": expected an error")
  assert_clean(what .. " (tostring)", tostring(err), secrets)
  assert_clean(what .. " (message)", tostring(err.message), secrets)
  assert_clean(what .. " (fields)", dump(err), secrets)
end

local function check_provider(what, p, c, secrets)
  assert_clean(what .. ": tostring(provider)", tostring(p), secrets)
  assert_clean(what .. ": provider fields", dump(p), secrets)
  assert_clean(what .. ": tostring(credentials)", tostring(c), secrets)
end

local function secrets_of(c, ...)
  local s = { c.secret_access_key, ... }
  if c.session_token then s[#s + 1] = c.session_token end
  return s
end

describe("secrets never leak", function()
  local meta, moto, meta_url, moto_url, keys, dir, env

  setup(function()
    meta = proc.start({ "python3", "spec/support/metadata.py" }, { name = "metadata stand-in" })
    meta_url = "http://127.0.0.1:" .. meta.port
    moto = proc.start({ "python3", "spec/support/moto_creds.py" }, { name = "moto (credentials)", timeout = 90 })
    moto_url = "http://127.0.0.1:" .. moto.port
    keys = json.decode(moto.ready:match("^%d+ (.*)$"))
  end)
  teardown(function()
    meta.stop()
    moto.stop()
  end)
  before_each(function()
    assert(http.request{ method = "POST", url = meta_url .. "/_reset" })
    dir = fakeenv.tmpdir()
    env = { HOME = dir, AWS_EC2_METADATA_DISABLED = "true", AWS_REGION = "us-east-1",
            AWS_CONFIG_FILE = dir .. "/config", AWS_SHARED_CREDENTIALS_FILE = dir .. "/credentials",
            AWS_ENDPOINT_URL_STS = moto_url }
    fakeenv.set(env)
  end)
  after_each(function()
    fakeenv.restore()
    fakeenv.cleanup()
  end)

  it("static and user-function credentials", function()
    local t = { access_key_id = "AKIDLEAKSTATIC", secret_access_key = "leak-static-secret-0001",
                session_token = "leak-static-token-0001" }
    local s = secrets_of(t)
    local p = credentials.static(t)
    check_provider("static", p, p:get(), s)
    local f = credentials.resolve{ credentials = function() return t end }
    check_provider("function", f, f:get(), s)
  end)

  it("env", function()
    env.AWS_ACCESS_KEY_ID = "AKIDLEAKENV"
    env.AWS_SECRET_ACCESS_KEY = "leak-env-secret-0002"
    env.AWS_SESSION_TOKEN = "leak-env-token-0002"
    local p = credentials.env()
    local c = assert(p:get())
    check_provider("env", p, c, secrets_of(c))
    env.AWS_ACCESS_KEY_ID = nil
    local _, err = credentials.env():get()
    check_error("env, half a pair", err, secrets_of(c))
  end)

  it("profile with static keys, and a malformed file holding a secret", function()
    fakeenv.write(dir .. "/credentials", "[default]\naws_access_key_id = AKIDLEAKPROF\n"
      .. "aws_secret_access_key = leak-profile-secret-0003\naws_session_token = leak-profile-token-0003\n")
    local p = credentials.profile()
    local c = assert(p:get())
    check_provider("profile", p, c, secrets_of(c))
    fakeenv.write(dir .. "/credentials", "[default]\naws_secret_access_key leak-profile-secret-0003\n")
    local _, err = credentials.profile():get()
    check_error("profile, malformed", err, secrets_of(c))
  end)

  it("credential_process, including failures after printing secrets", function()
    local out = '{"Version":1,"AccessKeyId":"AKIDLEAKPROC","SecretAccessKey":"leak-proc-secret-0004",'
      .. '"SessionToken":"leak-proc-token-0004","Expiration":"2030-01-01T00:00:00Z"}'
    local script = fakeenv.write(dir .. "/ok.sh", "#!/bin/sh\necho '" .. out .. "'\n", "755")
    local p = credentials.process{ command = script, profile = "p" }
    local c = assert(p:get())
    local s = secrets_of(c)
    check_provider("process", p, c, s)
    for name, body in pairs{
      exit = "echo '" .. out .. "'; exit 1",
      broken = "echo 'leak-proc-secret-0004 leak-proc-token-0004 {'",
      version = "echo '" .. out:gsub('"Version":1', '"Version":9') .. "'",
    } do
      local bad = fakeenv.write(dir .. "/" .. name .. ".sh", "#!/bin/sh\n" .. body .. "\n", "755")
      local _, err = credentials.process{ command = bad, profile = "p" }:get()
      check_error("process " .. name, err, s)
    end
    -- output nobody registered as a secret (redaction cannot hide it): still not echoed
    local bad = fakeenv.write(dir .. "/raw.sh", "#!/bin/sh\necho 'AKIDRAW unregistered-raw-output-0008 {'\n", "755")
    local _, err = credentials.process{ command = bad, profile = "p" }:get()
    check_error("process, raw output", err, { "unregistered-raw-output-0008" })
  end)

  it("container endpoint and its authorization token", function()
    local token = "leak-container-auth-0005"
    assert(http.request{ method = "POST", url = meta_url .. "/_control", body = json.encode{ container_token = token } })
    env.AWS_CONTAINER_CREDENTIALS_FULL_URI = meta_url .. "/container/c"
    env.AWS_CONTAINER_AUTHORIZATION_TOKEN = token
    local p = credentials.container()
    local c = assert(p:get())
    local s = secrets_of(c, token)
    check_provider("container", p, c, s)
    env.AWS_CONTAINER_AUTHORIZATION_TOKEN = token .. "-but-wrong"
    local _, err = credentials.container():get()
    check_error("container, refused", err, { token .. "-but-wrong", token })
    env.AWS_CONTAINER_AUTHORIZATION_TOKEN = token .. "\nX: y"
    _, err = credentials.container():get()
    check_error("container, bad token", err, { token })
  end)

  it("instance metadata", function()
    env.AWS_EC2_METADATA_DISABLED = nil
    env.AWS_EC2_METADATA_SERVICE_ENDPOINT = meta_url
    local p = credentials.imds()
    local c = assert(p:get())
    local s = secrets_of(c)
    check_provider("imds", p, c, s)
    assert_clean("imds client", dump(require("laws.credentials.imds").client{}), s)
    assert(http.request{ method = "POST", url = meta_url .. "/_control", body = json.encode{ garbage = true } })
    local _, err = credentials.imds():get()
    check_error("imds, garbage", err, s)
  end)

  it("assume role (moto), including a refused source secret", function()
    fakeenv.write(dir .. "/credentials", "[base]\naws_access_key_id = " .. keys.user.id
      .. "\naws_secret_access_key = " .. keys.user.secret .. "\n[bad]\naws_access_key_id = " .. keys.user.id
      .. "\naws_secret_access_key = leak-wrong-secret-0006\n")
    fakeenv.write(dir .. "/config", "[profile r]\nrole_arn = arn:aws:iam::123456789012:role/laws-hop1\n"
      .. "source_profile = base\n[profile rb]\nrole_arn = arn:aws:iam::123456789012:role/laws-hop1\nsource_profile = bad\n")
    local p = credentials.profile{ profile = "r" }
    local c = assert(p:get())
    local s = secrets_of(c, keys.user.secret)
    check_provider("assume role", p, c, s)
    local _, err = credentials.profile{ profile = "rb" }:get()
    check_error("assume role, wrong source secret", err, { keys.user.secret, "leak-wrong-secret-0006" })
  end)

  it("web identity (moto), including a refused call", function()
    local token = "eyJhbGciOi.leak-web-token-0007"
    fakeenv.write(dir .. "/tok", token)
    env.AWS_WEB_IDENTITY_TOKEN_FILE = dir .. "/tok"
    env.AWS_ROLE_ARN = "arn:aws:iam::123456789012:role/laws-web"
    -- moto wants a signature on STS while enforcing (real STS does not): pause it for this call
    assert(http.request{ method = "POST", url = moto_url .. "/moto-api/reset-auth", body = "inf" })
    local p = credentials.web_identity{ from_env = true }
    local c, e = p:get()
    assert(http.request{ method = "POST", url = moto_url .. "/moto-api/reset-auth", body = "0" })
    assert(c, e)
    local s = secrets_of(c, token)
    check_provider("web identity", p, c, s)
    env.AWS_ROLE_ARN = "arn:aws:iam::123456789012:role/no-such-role"
    local _, err = credentials.web_identity{ from_env = true }:get()
    check_error("web identity, refused", err, { token })
  end)

  it("the chain's not-found report", function()
    env.AWS_ACCESS_KEY_ID = "AKIDHALF"
    env.AWS_SECRET_ACCESS_KEY = nil
    local _, err = credentials.default_chain():get()
    check_error("chain", err, { "leak-env-secret-0002" })
    env.AWS_ACCESS_KEY_ID = nil
    _, err = credentials.default_chain():get()
    assert.equal("CredentialsNotFound", err.code)
    check_error("chain, nothing found", err, { "leak-env-secret-0002", "leak-profile-secret-0003" })
  end)
end)
