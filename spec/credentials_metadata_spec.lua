-- Instance metadata (IMDSv2) and the container endpoint, against the loopback stand-in
-- spec/support/metadata.py (token required, wrong token refused, injected faults).
local credentials = require "laws.credentials"
local config = require "laws.config"
local http = require "laws.http"
local runtime = require "laws.runtime"
local cjson = require "cjson"
local proc = require "spec.support.proc"
local fakeenv = require "spec.support.fakeenv"

local server, base

local function control(t)
  local res = assert(http.request{ method = "POST", url = base .. "/_control", body = cjson.encode(t),
                                   headers = { ["Content-Type"] = "application/json" } })
  assert.equal(200, res.status)
end

local function server_log()
  local res = assert(http.request{ method = "GET", url = base .. "/_log" })
  return cjson.decode(res.body)
end

describe("metadata endpoints", function()
  local env
  setup(function()
    server = proc.start({ "python3", "spec/support/metadata.py" }, { name = "metadata stand-in" })
    base = "http://127.0.0.1:" .. server.port
  end)
  teardown(function() server.stop() end)

  before_each(function()
    assert(http.request{ method = "POST", url = base .. "/_reset" })
    env = { HOME = "/nonexistent-home", AWS_EC2_METADATA_SERVICE_ENDPOINT = base }
    fakeenv.set(env)
  end)
  after_each(function() fakeenv.restore() end)

  describe("the stand-in itself", function()
    it("requires a token and refuses a wrong one", function()
      local path = base .. "/latest/meta-data/iam/security-credentials/"
      assert.equal(401, http.request{ method = "GET", url = path }.status)
      assert.equal(401, http.request{ method = "GET", url = path,
        headers = { ["X-aws-ec2-metadata-token"] = "imdstoken-wrong" } }.status)
      assert.equal(400, http.request{ method = "PUT", url = base .. "/latest/api/token" }.status)
      local tok = http.request{ method = "PUT", url = base .. "/latest/api/token",
        headers = { ["X-aws-ec2-metadata-token-ttl-seconds"] = "60" } }
      assert.equal(200, tok.status)
      local res = http.request{ method = "GET", url = path, headers = { ["X-aws-ec2-metadata-token"] = tok.body } }
      assert.equal(200, res.status)
      assert.equal("laws-test-role", res.body)
    end)
  end)

  describe("imds provider", function()
    it("gets a token, the role name and its credentials (IMDSv2)", function()
      local c = assert(credentials.imds():get())
      assert.matches("^ASIAMETA%d+$", c.access_key_id)
      assert.matches("^metatoken/", c.session_token)
      assert.is_number(c.expiration)
      local log = server_log()
      assert.equal(3, #log)
      assert.same({ "PUT", "/latest/api/token" }, { log[1].method, log[1].path })
      assert.equal("21600", log[1].ttl)
      assert.same({ "GET", "/latest/meta-data/iam/security-credentials/", true },
                  { log[2].method, log[2].path, log[2].token })
      assert.same({ "/latest/meta-data/iam/security-credentials/laws-test-role", true }, { log[3].path, log[3].token })
    end)

    it("reuses its token and gets a new one when the service refuses it", function()
      local p = credentials.imds{ refresh_window = 0 }
      assert(p:get())
      p:invalidate()
      assert(p:get())
      local puts = 0
      for _, e in ipairs(server_log()) do if e.method == "PUT" then puts = puts + 1 end end
      assert.equal(1, puts)
      control{ forget_tokens = true }       -- the token the provider holds is now wrong
      p:invalidate()
      assert(p:get())
      local log = server_log()
      local tail = {}
      for i = #log - 3, #log do tail[#tail + 1] = log[i].method .. " " .. log[i].path end
      assert.same({ "GET /latest/meta-data/iam/security-credentials/", "PUT /latest/api/token",
                    "GET /latest/meta-data/iam/security-credentials/",
                    "GET /latest/meta-data/iam/security-credentials/laws-test-role" }, tail)
    end)

    it("retries once after a failure", function()
      control{ fail_next = 1 }
      assert(credentials.imds():get())
      assert.equal(4, #server_log())       -- PUT (500), PUT, GET role, GET credentials
    end)

    it("declines after a failed retry", function()
      control{ fail_next = 2 }
      local c, err = credentials.imds():get()
      assert.is_nil(c)
      assert.equal("CredentialsNotFound", err.code)
      assert.matches("HTTP 500", err.message)
      assert.equal(2, #server_log())
    end)

    it("gives up after 1 s timeouts and one retry", function()
      control{ delay = 1.5 }
      local t0 = runtime.now()
      local c, err = credentials.imds():get()
      local took = runtime.now() - t0
      assert.is_nil(c)
      assert.equal("CredentialsNotFound", err.code)
      assert.matches("OPERATION_TIMEDOUT", err.message)
      assert.is_true(took >= 1.9 and took < 5, "took " .. took .. " s")
    end)

    it("shares one fetch between laws.async tasks (single flight over a real yielding transport)", function()
      local async = require "laws.async"
      control{ delay = 0.2 }               -- every answer takes 0.2 s: the tasks overlap
      local p = credentials.imds()
      local t0 = runtime.now()
      local results, errs = async.run(function()
        local tasks = {}
        for i = 1, 5 do tasks[i] = async.spawn(function() return p:get() end) end
        return async.gather(tasks)
      end)
      local took = runtime.now() - t0
      for i = 1, 5 do
        assert.is_nil(errs[i])
        assert.equal(results[1], results[i])
      end
      assert.equal(1, p:fetch_count())
      assert.equal(3, #server_log())       -- one token, one role name, one credentials request
      assert.is_true(took < 2.5, "took " .. took .. " s")   -- 3 answers of 0.2 s each
    end)

    it("is skipped entirely when AWS_EC2_METADATA_DISABLED=true", function()
      env.AWS_EC2_METADATA_DISABLED = "true"
      local c, err = credentials.imds():get()
      assert.is_nil(c)
      assert.equal("CredentialsNotFound", err.code)
      assert.matches("AWS_EC2_METADATA_DISABLED", err.message)
      assert.equal(0, #server_log())
    end)

    it("declines when no role is attached, or the answer is not credentials (without echoing it)", function()
      control{ no_role = true }
      local _, err = credentials.imds():get()
      assert.matches("no IAM role", err.message)
      control{ no_role = false, garbage = true }
      _, err = credentials.imds():get()
      assert.equal("CredentialsNotFound", err.code)
      assert.matches("holds no credentials", err.message)
      assert.is_nil(err.message:find("not json", 1, true))
    end)

    it("falls back to IMDSv1 when the token call is refused, unless v1 is disabled", function()
      control{ imds_v1 = true }
      local c = assert(credentials.imds():get())
      assert.matches("^ASIAMETA", c.access_key_id)
      env.AWS_EC2_METADATA_V1_DISABLED = "true"
      local c2, err = credentials.imds():get()
      assert.is_nil(c2)
      assert.matches("HTTP 403", err.message)
    end)

    it("defaults to 169.254.169.254, or [fd00:ec2::254] in IPv6 mode", function()
      local imds = require "laws.credentials.imds"
      fakeenv.set{}
      assert.equal("http://169.254.169.254", imds.client().endpoint)
      fakeenv.set{ AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE = "IPv6" }
      assert.equal("http://[fd00:ec2::254]", imds.client().endpoint)
      fakeenv.set{ AWS_EC2_METADATA_SERVICE_ENDPOINT = "http://127.0.0.1:1234/" }
      assert.equal("http://127.0.0.1:1234", imds.client().endpoint)
    end)

    it("reads the endpoint from the profile when the variable is not set", function()
      local dir = fakeenv.tmpdir()
      fakeenv.write(dir .. "/config", "[default]\nec2_metadata_service_endpoint = " .. base .. "\n")
      fakeenv.set{ HOME = dir, AWS_CONFIG_FILE = dir .. "/config" }
      assert(credentials.imds():get())
      fakeenv.cleanup()
    end)

    it("refreshes before expiry (fake clock at real time)", function()
      control{ lifetime = 900 }
      local clock = fakeenv.clock(os.time())
      local p = credentials.imds()
      local first = assert(p:get()).access_key_id
      clock.advance(500)
      assert.equal(first, p:get().access_key_id)
      clock.advance(150)                    -- 250 s left: inside the 300 s window
      local second = p:get().access_key_id
      clock.restore()
      assert.are_not.equal(first, second)
    end)

    it("ends the default chain when nothing else is configured", function()
      local c = assert(credentials.default_chain():get())
      assert.matches("^ASIAMETA", c.access_key_id)
    end)

    it("gives the region to laws.config.region last", function()
      assert.same({ "eu-west-3", "imds" }, { config.region() })
      -- a client's own endpoint and timeout are not taken for the metadata service's
      assert.same({ "eu-west-3", "imds" }, { config.region{ endpoint = "http://127.0.0.1:9", timeout = 30 } })
      env.AWS_REGION = "us-east-1"
      assert.same({ "us-east-1", "env" }, { config.region() })
    end)
  end)

  describe("as credential_source of a role profile", function()
    for _, case in ipairs{ { "EcsContainer", "^/container/" }, { "Ec2InstanceMetadata", "^/latest/" } } do
      it(case[1] .. " supplies the source credentials for AssumeRole", function()
        local dir = fakeenv.tmpdir()
        fakeenv.write(dir .. "/config", "[profile r]\nrole_arn = arn:aws:iam::123456789012:role/x\n"
          .. "credential_source = " .. case[1] .. "\n")
        env.AWS_CONFIG_FILE = dir .. "/config"
        env.AWS_CONTAINER_CREDENTIALS_FULL_URI = base .. "/container/creds"
        env.AWS_REGION = "us-east-1"
        env.AWS_ENDPOINT_URL_STS = base .. "/not-sts"     -- the stand-in is no STS: the call fails after
        local c, err = credentials.profile{ profile = "r" }:get()
        assert.is_nil(c)
        assert.is_table(err)
        assert.are_not.equal("CredentialsNotFound", err.code)
        local log = server_log()
        assert.matches(case[2], log[1].path)
        assert.equal("/not-sts/", log[#log].path)
        fakeenv.cleanup()
      end)
    end
  end)

  describe("container provider", function()
    it("reads a full URI on loopback, with an authorization token", function()
      control{ container_token = "Bearer container-auth-xxxx" }
      env.AWS_CONTAINER_CREDENTIALS_FULL_URI = base .. "/container/creds"
      env.AWS_CONTAINER_AUTHORIZATION_TOKEN = "Bearer container-auth-xxxx"
      local c = assert(credentials.container():get())
      assert.matches("^ASIAMETA", c.access_key_id)
      assert.equal("123456789012", c.account_id)
      local log = server_log()
      assert.equal("Bearer container-auth-xxxx", log[#log].auth)
    end)

    it("reads the token file (which wins) again on every refresh", function()
      local dir = fakeenv.tmpdir()
      control{ container_token = "file-token-1" }
      env.AWS_CONTAINER_CREDENTIALS_FULL_URI = base .. "/container/creds"
      env.AWS_CONTAINER_AUTHORIZATION_TOKEN = "env-token-loses"
      env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE = fakeenv.write(dir .. "/token", "file-token-1\n")
      local p = credentials.container()
      assert(p:get())
      control{ container_token = "file-token-2" }
      fakeenv.write(dir .. "/token", "file-token-2")
      p:invalidate()
      assert(p:get())
      fakeenv.cleanup()
    end)

    it("fails with the status when the token is wrong", function()
      control{ container_token = "right-token" }
      env.AWS_CONTAINER_CREDENTIALS_FULL_URI = base .. "/container/creds"
      env.AWS_CONTAINER_AUTHORIZATION_TOKEN = "wrong-token"
      local c, err = credentials.container():get()
      assert.is_nil(c)
      assert.equal("CredentialsProviderError", err.code)
      assert.matches("HTTP 401", err.message)
    end)

    it("refuses plain-HTTP full URIs outside loopback and the ECS/EKS hosts", function()
      env.AWS_CONTAINER_CREDENTIALS_FULL_URI = "http://10.0.0.1/creds"
      local c, err = credentials.container():get()
      assert.is_nil(c)
      assert.equal("ConfigError", err.code)
      local allowed = require("laws.credentials.container").allowed
      for _, u in ipairs{ "http://127.0.0.1:80/x", "http://127.9.8.7/x", "http://localhost/x", "http://[::1]:9/x",
                          "http://169.254.170.2/v2", "http://169.254.170.23/v1", "http://[fd00:ec2::23]/v1",
                          "https://creds.example.com/x" } do
        assert.is_true(allowed(u), u)
      end
      for _, u in ipairs{ "http://10.0.0.1/x", "http://127.0.0.1.evil.example/x", "http://user@evil.example/x",
                          "ftp://127.0.0.1/x", "http://169.254.169.254/x" } do
        assert.is_false(allowed(u), u)
      end
    end)

    it("puts a relative URI on 169.254.170.2", function()
      env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI = "/v2/credentials/abc"
      local seen
      local prev = runtime.use(runtime.override{ request = function(req)
        seen = req.url
        return { status = 200, headers = {}, body = cjson.encode{ AccessKeyId = "AKIDREL",
          SecretAccessKey = "rel-secret-xxxxxxxx", Token = "rel-token-xxxxxxxx", Expiration = "2030-01-01T00:00:00Z" } }
      end })
      local c = credentials.container():get()
      runtime.use(prev)
      assert.equal("http://169.254.170.2/v2/credentials/abc", seen)
      assert.equal("AKIDREL", c.access_key_id)
    end)

    it("refuses a token with a line break and declines when nothing is set", function()
      env.AWS_CONTAINER_CREDENTIALS_FULL_URI = base .. "/container/creds"
      env.AWS_CONTAINER_AUTHORIZATION_TOKEN = "abc\r\nX-Evil: 1"
      local _, err = credentials.container():get()
      assert.equal("ConfigError", err.code)
      fakeenv.set{}
      _, err = credentials.container():get()
      assert.equal("CredentialsNotFound", err.code)
    end)

    it("comes before instance metadata in the default chain", function()
      env.AWS_CONTAINER_CREDENTIALS_FULL_URI = base .. "/container/creds"
      assert(credentials.default_chain():get())
      local log = server_log()
      assert.equal(1, #log)
      assert.matches("^/container/", log[1].path)
    end)
  end)
end)
