-- Every HTTP request a credential provider makes is bounded (connect timeout and a timeout
-- for the whole attempt), and a client call's `timeout` bounds fetching its credentials.
-- Against spec/support/metadata.py, whose `delay` makes it a server that does not answer.
local credentials = require "laws.credentials"
local laws = require "laws"
local http = require "laws.http"
local runtime = require "laws.runtime"
local cjson = require "cjson"
local proc = require "spec.support.proc"
local fakeenv = require "spec.support.fakeenv"
-- under valgrind (LAWS_TIME_SCALE) every request is slower: bounds above a timeout get this much more
local slack = ((tonumber(os.getenv("LAWS_TIME_SCALE") or "") or 1) - 1) * 0.5

local server, base

local function control(t)
  local res = assert(http.request{ method = "POST", url = base .. "/_control", body = cjson.encode(t),
                                   headers = { ["Content-Type"] = "application/json" } })
  assert.equal(200, res.status)
end

local SOURCE = { access_key_id = "AKIDTIMEOUTSRC", secret_access_key = "timeout-source-secret-xxxxxxxx" }
local ROLE = "arn:aws:iam::123456789012:role/slow"

-- A client whose own requests never go out: its credentials fail (or time out) first.
local function client_with(provider, timeout)
  return laws.client("dynamodb", { region = "us-east-1", endpoint = "http://127.0.0.1:9",
                                   credentials = provider, timeout = timeout, retry = { max_attempts = 1 } })
end

local function timed(fn)
  local t0 = runtime.now()
  local a, b = fn()
  return runtime.now() - t0, a, b
end

describe("credential fetch timeouts", function()
  setup(function()
    server = proc.start({ "python3", "spec/support/metadata.py" }, { name = "metadata stand-in" })
    base = "http://127.0.0.1:" .. server.port
  end)
  teardown(function() server.stop() end)
  before_each(function()
    assert(http.request{ method = "POST", url = base .. "/_reset" })
    fakeenv.set{ HOME = "/nonexistent-home", AWS_EC2_METADATA_SERVICE_ENDPOINT = base,
                 AWS_CONTAINER_CREDENTIALS_FULL_URI = base .. "/container/creds" }
  end)
  after_each(function() fakeenv.restore() end)

  it("gives every provider request a connect timeout and a whole-attempt timeout", function()
    local seen = {}
    local prev = runtime.use(runtime.override{ request = function(req, opts)
      seen[#seen + 1] = { url = req.url, timeout = req.timeout, connect_timeout = req.connect_timeout }
      return runtime.blocking.request(req, opts)
    end })
    local sts = require "laws.credentials.sts"
    local ok, err = pcall(function()
      assert(credentials.imds():get())
      assert(credentials.container():get())
      -- the stand-in answers 404 to STS: only the request it was sent matters here
      credentials.assume_role{ role_arn = ROLE, source = SOURCE, sts_endpoint = base, region = "us-east-1" }:get()
    end)
    runtime.use(prev)
    assert(ok, err)
    local bound = { imds = 1, container = 2, sts = sts.TIMEOUT }
    local kinds = {}
    for _, r in ipairs(seen) do
      local kind = r.url:find("/latest/", 1, true) and "imds" or r.url:find("/container/", 1, true) and "container"
                   or "sts"
      kinds[kind] = (kinds[kind] or 0) + 1
      assert.is_number(r.timeout, kind .. " request without a timeout: " .. r.url)
      assert.is_number(r.connect_timeout, kind .. " request without a connect timeout: " .. r.url)
      assert.is_true(r.timeout <= bound[kind], ("%s timeout %s > %s"):format(kind, r.timeout, bound[kind]))
      assert.is_true(r.connect_timeout <= r.timeout, kind .. " connect timeout above its timeout")
    end
    assert.is_truthy(kinds.imds and kinds.container and kinds.sts, cjson.encode(kinds))
  end)

  it("ends a never-answering container endpoint within its documented bound", function()
    control{ delay = 30 }
    local took, c, err = timed(function() return credentials.container():get() end)
    assert.is_nil(c)
    assert.matches("OPERATION_TIMEDOUT", err.message)
    -- 3 attempts of 2 s
    assert.is_true(took >= 5.9 and took < 7.5 + slack, "took " .. took .. " s")
  end)

  describe("a client call's timeout bounds fetching its credentials", function()
    it("from a never-answering STS (AssumeRole)", function()
      control{ delay = 8 }
      local p = credentials.assume_role{ role_arn = ROLE, source = SOURCE, sts_endpoint = base, region = "us-east-1" }
      local took, res, err = timed(function() return client_with(p, 1):ListTables{} end)
      assert.is_nil(res)
      assert.equal("OPERATION_TIMEDOUT", err.code, err.message)
      assert.is_true(took < 1.8 + slack, "a 1 s call timeout, the STS fetch took " .. took .. " s")
    end)

    it("from a never-answering STS (AssumeRoleWithWebIdentity)", function()
      control{ delay = 8 }
      local dir = fakeenv.tmpdir()
      local token = fakeenv.write(dir .. "/token", "web-identity-token-xxxxxxxx")
      local p = credentials.web_identity{ role_arn = ROLE, token_file = token, sts_endpoint = base, region = "us-east-1" }
      local took, res, err = timed(function() return client_with(p, 1):ListTables{} end)
      fakeenv.cleanup()
      assert.is_nil(res)
      assert.equal("OPERATION_TIMEDOUT", err.code, err.message)
      assert.is_true(took < 1.8 + slack, "a 1 s call timeout, the STS fetch took " .. took .. " s")
    end)

    it("from a never-answering instance metadata service", function()
      control{ delay = 30 }
      local took, res, err = timed(function() return client_with(credentials.imds(), 0.5):ListTables{} end)
      assert.is_nil(res)
      assert.matches("OPERATION_TIMEDOUT", err.message)
      assert.is_true(took < 1 + slack, "a 0.5 s call timeout, the IMDS fetch took " .. took .. " s")
    end)

    it("from a never-answering container endpoint", function()
      control{ delay = 30 }
      local took, res, err = timed(function() return client_with(credentials.container(), 0.5):ListTables{} end)
      assert.is_nil(res)
      assert.matches("OPERATION_TIMEDOUT", err.message)
      assert.is_true(took < 1 + slack, "a 0.5 s call timeout, the container fetch took " .. took .. " s")
    end)

    it("through the default chain's profile role (source_profile)", function()
      control{ delay = 8 }
      local dir = fakeenv.tmpdir()
      fakeenv.write(dir .. "/config", "[default]\nrole_arn = " .. ROLE .. "\nsource_profile = src\n"
        .. "[profile src]\naws_access_key_id = AKIDSRC\naws_secret_access_key = src-secret-xxxxxxxx\n")
      fakeenv.set{ HOME = dir, AWS_CONFIG_FILE = dir .. "/config", AWS_SHARED_CREDENTIALS_FILE = dir .. "/none",
                   AWS_ENDPOINT_URL_STS = base, AWS_EC2_METADATA_DISABLED = "true" }
      local took, res, err = timed(function() return client_with(nil, 1):ListTables{} end)
      fakeenv.cleanup()
      assert.is_nil(res)
      assert.equal("OPERATION_TIMEDOUT", err.code, err.message)
      assert.is_true(took < 1.8 + slack, "a 1 s call timeout, the fetch took " .. took .. " s")
    end)
  end)
end)
