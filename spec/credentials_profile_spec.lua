-- Profiles of the shared files: static keys, credential_process (a real script), role
-- settings and their validation (cycles, sources). STS round trips are in
-- credentials_sts_spec.lua (moto).
local credentials = require "laws.credentials"
local fakeenv = require "spec.support.fakeenv"

describe("laws.credentials.profile", function()
  local dir, env, clock
  before_each(function()
    dir = fakeenv.tmpdir()
    env = { HOME = dir, AWS_EC2_METADATA_DISABLED = "true",
            AWS_CONFIG_FILE = dir .. "/config", AWS_SHARED_CREDENTIALS_FILE = dir .. "/credentials" }
    fakeenv.set(env)
    clock = fakeenv.clock(1764153000)
  end)
  after_each(function()
    clock.restore()
    fakeenv.restore()
    fakeenv.cleanup()
  end)

  local function config(text) fakeenv.write(dir .. "/config", text) end
  local function creds_file(text) fakeenv.write(dir .. "/credentials", text) end

  describe("static keys", function()
    it("reads the default profile, AWS_PROFILE and the profile option", function()
      creds_file("[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = default-secret-xxxx\n"
        .. "[work]\naws_access_key_id = AKIDWORK\naws_secret_access_key = work-secret-xxxx\n"
        .. "aws_session_token = work-token-xxxxxxxx\n")
      config("[profile other]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = other-secret-xxxx\n")
      assert.equal("AKIDDEFAULT", credentials.profile():get().access_key_id)
      env.AWS_PROFILE = "work"
      local c = credentials.profile():get()
      assert.equal("AKIDWORK", c.access_key_id)
      assert.equal("work-token-xxxxxxxx", c.session_token)
      assert.equal("AKIDOTHER", credentials.profile{ profile = "other" }:get().access_key_id)
      assert.matches("from profile work", tostring(c), 1, true)
    end)

    it("is found by the default chain and by laws.credentials.resolve with a profile option", function()
      creds_file("[p1]\naws_access_key_id = AKIDP1\naws_secret_access_key = p1-secret-xxxx\n")
      assert.equal("AKIDP1", credentials.resolve{ profile = "p1" }:get().access_key_id)
    end)

    it("reports a key id without its secret", function()
      creds_file("[default]\naws_access_key_id = AKIDHALF\n")
      local c, err = credentials.profile():get()
      assert.is_nil(c)
      assert.equal("InvalidCredentials", err.code)
      assert.matches("profile default", err.message)
    end)

    it("declines when the default profile is absent, fails when a chosen one is", function()
      local c, err = credentials.profile():get()
      assert.is_nil(c)
      assert.equal("CredentialsNotFound", err.code)
      c, err = credentials.profile{ profile = "ghost" }:get()
      assert.is_nil(c)
      assert.equal("ProfileNotFound", err.code)
      assert.matches("ghost", err.message)
      -- and in the default chain the missing chosen profile stops the chain
      env.AWS_PROFILE = "ghost"
      c, err = credentials.default_chain():get()
      assert.is_nil(c)
      assert.equal("ProfileNotFound", err.code)
    end)

    it("declines a profile that has no credentials settings", function()
      config("[default]\nregion = us-east-1\n")
      local _, err = credentials.profile():get()
      assert.equal("CredentialsNotFound", err.code)
      assert.matches("no credentials", err.message)
    end)

    it("passes a malformed file on as an error naming file and line", function()
      creds_file("[default]\naws_access_key_id AKIDNOEQUALS\n")
      local _, err = credentials.default_chain():get()
      assert.equal("ConfigFileError", err.code)
      assert.matches(dir .. "/credentials:2:", err.message, 1, true)
    end)
  end)

  describe("credential_process", function()
    local function script(body)
      return fakeenv.write(dir .. "/cred-proc.sh", "#!/bin/sh\n" .. body, "755")
    end

    it("runs the command and reads version 1 JSON with expiration, refreshing on time", function()
      local counter = dir .. "/count"
      local path = script(([[
n=$(cat %q 2>/dev/null || echo 0); n=$((n+1)); echo $n > %q
cat <<EOF
{"Version": 1, "AccessKeyId": "AKIDPROC$n", "SecretAccessKey": "proc-secret-$n-xxxxxxxx",
 "SessionToken": "proc-token-$n-xxxxxxxx", "Expiration": "2026-11-26T11:30:00Z"}
EOF
]]):format(counter, counter))
      config("[profile proc]\ncredential_process = " .. path .. " --some arg\n")
      clock.set(credentials.parse_time("2026-11-26T10:30:00Z"))
      local p = credentials.profile{ profile = "proc" }
      local c = assert(p:get())
      assert.equal("AKIDPROC1", c.access_key_id)
      assert.equal("proc-token-1-xxxxxxxx", c.session_token)
      assert.equal(credentials.parse_time("2026-11-26T11:30:00Z"), c.expiration)
      assert.equal("AKIDPROC1", p:get().access_key_id)     -- cached
      clock.advance(3600 - 200)                              -- within 5 min of expiry
      assert.equal("AKIDPROC2", p:get().access_key_id)
    end)

    it("accepts output without expiration (never refreshed)", function()
      local path = script([[echo '{"Version": 1, "AccessKeyId": "AKIDNOEXP", "SecretAccessKey": "noexp-secret-xxxx"}']])
      local c = assert(credentials.process{ command = path }:get())
      assert.equal("AKIDNOEXP", c.access_key_id)
      assert.is_nil(c.expiration)
      assert.is_nil(c.session_token)
    end)

    local bad = {
      { "a non-zero exit", [[echo '{"Version":1,"AccessKeyId":"A","SecretAccessKey":"leaky-secret-xxxx"}'; exit 3]],
        "CredentialsProviderError", "failed" },
      { "output that is not JSON", [[echo 'leaky-secret-xxxx is not json']], "InvalidCredentials", "not a JSON" },
      { "a wrong version", [[echo '{"Version":2,"AccessKeyId":"A","SecretAccessKey":"leaky-secret-xxxx"}']],
        "InvalidCredentials", "Version" },
      { "no secret", [[echo '{"Version":1,"AccessKeyId":"A"}']], "InvalidCredentials", "SecretAccessKey" },
      { "a bad expiration", [[echo '{"Version":1,"AccessKeyId":"A","SecretAccessKey":"leaky-secret-xxxx","Expiration":"soon"}']],
        "InvalidCredentials", "Expiration" },
    }
    for _, case in ipairs(bad) do
      it("reports " .. case[1] .. ", naming the profile, never echoing the output", function()
        local path = script(case[2])
        config("[profile broken]\ncredential_process = " .. path .. "\n")
        local c, err = credentials.profile{ profile = "broken" }:get()
        assert.is_nil(c)
        assert.equal(case[3], err.code)
        assert.matches("profile broken", err.message, 1, true)
        assert.matches(case[4], err.message, 1, true)
        assert.is_nil(tostring(err):find("leaky-secret", 1, true))
      end)
    end

    it("prefers static keys over credential_process in the same profile", function()
      local path = script([[echo '{"Version": 1, "AccessKeyId": "AKIDPROC", "SecretAccessKey": "proc-secret-xxxx"}']])
      config("[profile both]\ncredential_process = " .. path .. "\naws_access_key_id = AKIDSTATIC\n"
        .. "aws_secret_access_key = static-secret-xxxx\n")
      assert.equal("AKIDSTATIC", credentials.profile{ profile = "both" }:get().access_key_id)
    end)

    it("raises without a command (misuse)", function()
      assert.has_error(function() credentials.process{} end)
    end)
  end)

  describe("role settings", function()
    -- These stop before any STS call: the chain of profiles is checked when it is built.
    local function err_of(profile)
      local c, err = credentials.profile{ profile = profile }:get()
      assert.is_nil(c)
      return err
    end

    it("detects source_profile cycles and names the path", function()
      config("[profile a]\nrole_arn = arn:aws:iam::123456789012:role/a\nsource_profile = b\n"
        .. "[profile b]\nrole_arn = arn:aws:iam::123456789012:role/b\nsource_profile = c\n"
        .. "[profile c]\nrole_arn = arn:aws:iam::123456789012:role/c\nsource_profile = a\n")
      local err = err_of("a")
      assert.equal("ConfigError", err.code)
      assert.matches("a -> b -> c -> a", err.message, 1, true)
    end)

    it("detects a profile that sources itself without static keys", function()
      config("[profile self]\nrole_arn = arn:aws:iam::123456789012:role/s\nsource_profile = self\n")
      local err = err_of("self")
      assert.equal("ConfigError", err.code)
      assert.matches("cycle: self -> self", err.message, 1, true)
    end)

    it("refuses both source_profile and credential_source, an unknown credential_source, no source", function()
      config("[profile both]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = x\ncredential_source = Environment\n"
        .. "[profile weird]\nrole_arn = arn:aws:iam::1:role/x\ncredential_source = Moon\n"
        .. "[profile none]\nrole_arn = arn:aws:iam::1:role/x\n")
      assert.matches("both source_profile and credential_source", err_of("both").message)
      assert.matches("Moon", err_of("weird").message)
      assert.matches("needs source_profile", err_of("none").message)
      assert.equal("ConfigError", err_of("none").code)
    end)

    it("reports a duration_seconds that is not a number (an error, not a raise)", function()
      config("[default]\naws_access_key_id = AKIDD\naws_secret_access_key = d-secret-xxxx\n"
        .. "[profile d]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\nduration_seconds = an hour\n")
      local err = err_of("d")
      assert.equal("ConfigError", err.code)
      assert.matches("duration_seconds", err.message)
      config("[profile t]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile =\n  nested = value\n")
      assert.equal("ConfigError", err_of("t").code)
    end)

    it("names a missing source profile (a ConfigError)", function()
      config("[profile a]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = gone\n")
      local err = err_of("a")
      assert.equal("ConfigError", err.code)
      assert.matches("gone", err.message)
    end)

    it("stops the chain at a missing source profile instead of using other credentials", function()
      -- the default profile is not chosen explicitly: once, its typo made it decline
      config("[default]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = tpyo\n")
      local other = function()
        return { access_key_id = "AKIDOTHER", secret_access_key = "other-secret-xxxxxxxx" }
      end
      local c, err = credentials.chain{ credentials.profile(), other }:get()
      assert.is_nil(c, "fell through to the next provider: " .. tostring(c))
      assert.equal("ConfigError", err.code)
      assert.matches("tpyo", err.message, 1, true)
      -- the same in the default chain, with a container endpoint configured after it
      env.AWS_CONTAINER_CREDENTIALS_FULL_URI = "http://127.0.0.1:9/creds"
      c, err = credentials.default_chain():get()
      assert.is_nil(c)
      assert.equal("ConfigError", err.code, tostring(err and err.message))
    end)

    it("stops the chain at a missing or broken source profile at any depth", function()
      config("[default]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = mid\n"
        .. "[profile mid]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = deep\n"
        .. "[profile deep]\nrole_arn = arn:aws:iam::1:role/c\nsource_profile = missing\n"
        .. "[profile half]\naws_access_key_id = AKIDHALF\n"
        .. "[profile uses_half]\nrole_arn = arn:aws:iam::1:role/d\nsource_profile = half\n")
      local other = function()
        return { access_key_id = "AKIDOTHER", secret_access_key = "other-secret-xxxxxxxx" }
      end
      local c, err = credentials.chain{ credentials.profile(), other }:get()
      assert.is_nil(c, "fell through to the next provider: " .. tostring(c))
      assert.equal("ConfigError", err.code)
      assert.matches("missing", err.message, 1, true)
      assert.matches("default", err.message, 1, true)
      err = err_of("uses_half")
      assert.equal("ConfigError", err.code)
      assert.matches("half", err.message, 1, true)
    end)

    it("fails (does not decline) when credential_source = Environment finds nothing", function()
      config("[profile envsrc]\nrole_arn = arn:aws:iam::1:role/x\ncredential_source = Environment\n")
      local err = err_of("envsrc")
      assert.equal("CredentialsProviderError", err.code)
      assert.matches("no source credentials", err.message)
    end)
  end)
end)
