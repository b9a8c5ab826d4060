local config = require "laws.config"
local fakeenv = require "spec.support.fakeenv"

describe("laws.config", function()
  local dir, env
  before_each(function()
    dir = fakeenv.tmpdir()
    env = { HOME = dir, AWS_EC2_METADATA_DISABLED = "true" }
    fakeenv.set(env)
    os.execute("mkdir -p '" .. dir .. "/.aws'")
  end)
  after_each(function()
    fakeenv.restore()
    fakeenv.cleanup()
  end)

  local function files(conf, cred)
    if conf then fakeenv.write(dir .. "/.aws/config", conf) end
    if cred then fakeenv.write(dir .. "/.aws/credentials", cred) end
  end

  describe("file paths", function()
    it("default to ~/.aws and follow AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE and options", function()
      local f = config.files()
      assert.equal(dir .. "/.aws/config", f.config)
      assert.equal(dir .. "/.aws/credentials", f.credentials)
      env.AWS_CONFIG_FILE = "~/elsewhere/conf"
      env.AWS_SHARED_CREDENTIALS_FILE = "/tmp/creds-x"
      f = config.files()
      assert.equal(dir .. "/elsewhere/conf", f.config)
      assert.equal("/tmp/creds-x", f.credentials)
      f = config.files{ config_file = "/a", credentials_file = "/b" }
      assert.same({ config = "/a", credentials = "/b" }, f)
    end)

    it("reads a file named by AWS_CONFIG_FILE", function()
      fakeenv.write(dir .. "/other", "[profile x]\nregion = ap-south-1\n")
      env.AWS_CONFIG_FILE = dir .. "/other"
      assert.equal("ap-south-1", config.profile("x").region)
    end)
  end)

  describe("parsing by the shared-config rules", function()
    it("reads [profile name] in config and [name] in credentials; [default] in both", function()
      files("[default]\nregion = us-west-2\n[profile dev]\nregion = eu-central-1\n[dev2]\nregion = nope\n",
            "[dev]\naws_access_key_id = AKIDDEV\n[profile odd]\nx = 1\n")
      assert.equal("us-west-2", config.profile("default").region)
      local dev = config.profile("dev")
      assert.equal("eu-central-1", dev.region)
      assert.equal("AKIDDEV", dev.aws_access_key_id)
      -- [dev2] in the config file is not a profile (no "profile " prefix), as the CLI
      local p, err = config.profile("dev2")
      assert.is_nil(p)
      assert.equal("ProfileNotFound", err.code)
      -- in the credentials file the header is the name itself
      assert.equal("1", config.profile("profile odd").x)
    end)

    it("lets the credentials file win key by key", function()
      files("[profile both]\nregion = us-east-2\noutput = json\naws_access_key_id = FROMCONFIG\n",
            "[both]\naws_access_key_id = FROMCREDS\n")
      local p = config.profile("both")
      assert.equal("FROMCREDS", p.aws_access_key_id)
      assert.equal("us-east-2", p.region)
      assert.equal("json", p.output)
    end)

    it("prefers [profile default] over [default] in the config file", function()
      files("[profile default]\nregion = from-profile-default\n[default]\nregion = from-default\nother = kept\n")
      local p = config.profile("default")
      assert.equal("from-profile-default", p.region)
      assert.equal("kept", p.other)
    end)

    it("skips # and ; comment lines, allows comments after section headers, keeps values verbatim", function()
      files("# top comment\n; another\n[profile c] # trailing comment\n  # indented comment\n"
            .. "region = us-east-1\nnote = a # not a comment\n\n[profile d] ; semicolon\nx=y\n")
      local c = config.profile("c")
      assert.equal("us-east-1", c.region)
      assert.equal("a # not a comment", c.note)
      assert.equal("y", config.profile("d").x)
    end)

    it("treats keys case-insensitively and trims spaces around = and values", function()
      files("[profile k]\n  Region   =   us-east-1   \nAWS_Access_Key_ID=AKIDK\n")
      local p = config.profile("k")
      assert.equal("us-east-1", p.region)
      assert.equal("AKIDK", p.aws_access_key_id)
      assert.equal("us-east-1", config.get("REGION", { profile = "k" }))
    end)

    it("reads sub-properties (indented key = value under an empty parent)", function()
      files("[profile s]\ns3 =\n  addressing_style = path\n  Max_Concurrent_Requests = 20\nregion = us-east-1\n"
            .. "empty =\nafter = 1\n")
      local p = config.profile("s")
      assert.same({ addressing_style = "path", max_concurrent_requests = "20" }, p.s3)
      assert.equal("us-east-1", p.region)
      assert.equal("", p.empty)
      assert.equal("1", p.after)
    end)

    it("joins indented continuation lines of a non-empty value", function()
      files("[profile m]\nlist = one\n  two\n  three\nnext = x\n")
      local p = config.profile("m")
      assert.equal("one\ntwo\nthree", p.list)
      assert.equal("x", p.next)
    end)

    it("accepts CRLF line ends and quoted profile names", function()
      files("[profile \"spaced name\"]\r\nregion = r1\r\n")
      assert.equal("r1", config.profile("spaced name").region)
    end)

    it("merges a section that appears twice (later keys win)", function()
      files("[profile twice]\na = 1\nb = 1\n[profile twice]\nb = 2\n")
      local p = config.profile("twice")
      assert.equal("1", p.a)
      assert.equal("2", p.b)
    end)

    it("names file and line of a malformed file, without echoing the line", function()
      local path = dir .. "/.aws/config"
      files("[profile ok]\nregion = x\nthis line has no equals sign SECRETVALUE123\n")
      local p, err = config.profile("ok")
      assert.is_nil(p)
      assert.equal("ConfigFileError", err.code)
      assert.equal(path, err.file)
      assert.equal(3, err.line)
      assert.matches(path .. ":3:", tostring(err), 1, true)
      assert.is_nil(tostring(err):find("SECRETVALUE123", 1, true))
    end)

    it("rejects a property before any section, a broken header and a bad sub-property", function()
      local cases = {
        { "key = value\n", 1 },
        { "[profile a]\nx = 1\n[profile b\n", 3 },
        { "[profile a]\ns3 =\n  no equals here\n", 3 },
        { "[profile a] junk\n", 1 },
        { "[]\n", 1 },
      }
      for _, c in ipairs(cases) do
        files(c[1])
        local _, err = config.profile("a")
        assert.is_table(err, c[1])
        assert.equal("ConfigFileError", err.code, c[1])
        assert.equal(c[2], err.line, c[1])
      end
    end)

    it("reports an error in the credentials file with that file's name", function()
      files("[profile a]\nx = 1\n", "[a]\n=novalue\n")
      local _, err = config.profile("a")
      assert.equal("ConfigFileError", err.code)
      assert.equal(dir .. "/.aws/credentials", err.file)
      assert.equal(2, err.line)
    end)

    it("sees an edited file on the next lookup", function()
      files("[profile e]\nregion = before\n")
      assert.equal("before", config.profile("e").region)
      files("[profile e]\nregion = after\n")
      assert.equal("after", config.profile("e").region)
    end)

    it("returns copies: changing a result does not change the next one", function()
      files("[profile e]\nregion = r\n")
      config.profile("e").region = "changed"
      assert.equal("r", config.profile("e").region)
    end)

    it("is fine with no files at all", function()
      assert.is_nil(config.get("region"))
      local p, err = config.profile("default")
      assert.is_nil(p)
      assert.equal("ProfileNotFound", err.code)
    end)
  end)

  describe("robustness", function()
    it("never raises on random input: a table of sections or a ConfigFileError with a line number", function()
      local alphabet = { "[", "]", "=", "#", ";", " ", "\t", "\n", "\r", "a", "B", "profile ", "key", "\"" }
      math.randomseed(20261126)
      for _ = 1, 3000 do
        local parts = {}
        for j = 1, math.random(0, 40) do parts[j] = alphabet[math.random(#alphabet)] end
        local text = table.concat(parts)
        local ok, sections, err = pcall(config.parse, text, "fuzz")
        assert(ok, sections)
        if sections then
          assert.is_table(sections)
        else
          assert.equal("ConfigFileError", err.code)
          local lines = select(2, text:gsub("\n", "")) + 1
          assert.is_true(err.line >= 1 and err.line <= lines)
        end
      end
    end)
  end)

  describe("profile selection", function()
    it("uses the option, then AWS_PROFILE, then AWS_DEFAULT_PROFILE, then default", function()
      files("[default]\nregion = d\n[profile a]\nregion = a\n[profile b]\nregion = b\n[profile c]\nregion = c\n")
      assert.equal("d", config.get("region"))
      env.AWS_DEFAULT_PROFILE = "c"
      assert.equal("c", config.get("region"))
      env.AWS_PROFILE = "b"
      assert.equal("b", config.get("region"))
      assert.equal("a", config.get("region", { profile = "a" }))
      assert.equal("b", (config.profile_name()))
    end)

    it("a missing default profile is no error; a missing chosen profile is", function()
      files("[profile a]\nregion = a\n")
      local v, err = config.get("region")
      assert.is_nil(v)
      assert.is_nil(err)
      v, err = config.get("region", { profile = "nope" })
      assert.is_nil(v)
      assert.equal("ProfileNotFound", err.code)
      assert.matches("nope", tostring(err))
    end)

    it("raises on a non-string key or name (misuse)", function()
      assert.has_error(function() config.get(42) end)
      assert.has_error(function() config.profile(42) end)
    end)
  end)

  describe("services blocks", function()
    it("gives the settings of one service from the profile's services section", function()
      files("[profile svc]\nservices = local\n[services local]\ndynamodb =\n  endpoint_url = http://127.0.0.1:8000\n"
            .. "sts =\n  endpoint_url = http://127.0.0.1:9000\n")
      assert.same({ endpoint_url = "http://127.0.0.1:8000" }, config.service("dynamodb", { profile = "svc" }))
      assert.equal("http://127.0.0.1:9000", config.service("sts", { profile = "svc" }).endpoint_url)
      assert.is_nil(config.service("s3", { profile = "svc" }))
    end)
  end)

  describe("region", function()
    it("resolves option, AWS_REGION, AWS_DEFAULT_REGION, profile, in that order", function()
      files("[default]\nregion = from-profile\n")
      assert.same({ "from-profile", "profile" }, { config.region() })
      env.AWS_DEFAULT_REGION = "from-default-env"
      assert.same({ "from-default-env", "env" }, { config.region() })
      env.AWS_REGION = "from-env"
      assert.same({ "from-env", "env" }, { config.region() })
      assert.same({ "from-option", "option" }, { config.region{ region = "from-option" } })
    end)

    it("says what it tried when there is no region", function()
      local r, err = config.region()
      assert.is_nil(r)
      assert.equal("RegionNotFound", err.code)
      assert.matches("AWS_REGION", err.message)
      assert.matches("AWS_EC2_METADATA_DISABLED", err.message)
    end)
  end)

  describe("one source for the environment, region and profile name", function()
    it("config.getenv is what every part of laws reads the environment through", function()
      local endpoints = require "laws.endpoints"
      local credentials = require "laws.credentials"
      local sts = require "laws.credentials.sts"
      local vars = { AWS_REGION = "eu-north-1", AWS_ACCESS_KEY_ID = "AKIDONESOURCE",
                     AWS_SECRET_ACCESS_KEY = "one-source-secret-xxxxxxxx", AWS_PROFILE = "picked",
                     AWS_ENDPOINT_URL = "http://127.0.0.1:4566", AWS_EC2_METADATA_DISABLED = "true" }
      local seen = {}
      local real = config.getenv
      config.getenv = function(k) seen[k] = true; return vars[k] end
      local ok, err = pcall(function()
        assert.equal("eu-north-1", (config.region()))
        assert.equal("eu-north-1", endpoints.region{})
        assert.equal("eu-north-1", sts.region{})
        assert.equal("picked", (config.profile_name()))
        assert.equal("http://127.0.0.1:4566", endpoints.resolve({ endpointPrefix = "sts" }, "eu-north-1", {}))
        assert.equal("http://127.0.0.1:4566", sts.endpoint{})
        assert.equal("AKIDONESOURCE", credentials.env():get().access_key_id)
        assert.is_nil(credentials.imds():get())   -- AWS_EC2_METADATA_DISABLED, read the same way
      end)
      config.getenv = real
      assert(ok, err)
      for _, k in ipairs{ "AWS_REGION", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID",
                          "AWS_EC2_METADATA_DISABLED" } do
        assert.is_true(seen[k], k .. " was not read through config.getenv")
      end
    end)

    it("treats an empty variable or option as unset, in config and in endpoints alike", function()
      local endpoints = require "laws.endpoints"
      env.AWS_REGION = ""
      env.AWS_DEFAULT_REGION = "eu-south-1"
      assert.equal("eu-south-1", (config.region{ region = "" }))
      assert.equal("eu-south-1", endpoints.region{ region = "" })
      files("[default]\nregion = from-profile\n")
      env.AWS_DEFAULT_REGION = nil
      assert.equal("from-profile", (config.region()))
      assert.equal("from-profile", endpoints.region{})
    end)
  end)

  describe("laws.date (the one civil-date / ISO-8601 conversion)", function()
    local date = require "laws.date"
    it("counts days from 1970-01-01, before and after it, across leap days", function()
      assert.equal(0, date.days_from_civil(1970, 1, 1))
      assert.equal(-1, date.days_from_civil(1969, 12, 31))
      assert.equal(11016, date.days_from_civil(2000, 2, 29))
      assert.equal(-719468, date.days_from_civil(0, 3, 1))
      assert.equal(-146097 - 719468, date.days_from_civil(-400, 3, 1))
    end)

    it("is what credentials' parse_time/format_time and the client's HTTP-date reader use", function()
      local credentials = require "laws.credentials"
      local skew = require "laws.retry.skew"
      assert.equal(date.parse_iso8601, credentials.parse_time)
      assert.equal(date.format_iso8601, credentials.format_time)
      local t = date.parse_iso8601("2026-11-26T11:09:30Z")
      assert.equal(t, skew.http_date("Thu, 26 Nov 2026 11:09:30 GMT"))
      assert.equal("2026-11-26T11:09:30Z", date.format_iso8601(t))
      assert.equal(date.parse_iso8601("1969-07-20T20:17:40Z"), skew.http_date("Sun, 20 Jul 1969 20:17:40 GMT"))
    end)
  end)
end)
