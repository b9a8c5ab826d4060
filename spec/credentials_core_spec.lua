-- The caching provider (expiry, refresh window, failures, single flight), the chain,
-- laws.credentials.resolve and the env provider.
local credentials = require "laws.credentials"
local runtime = require "laws.runtime"
local fakeenv = require "spec.support.fakeenv"

local function creds(n, exp)
  return { access_key_id = "AKIDCORE" .. n, secret_access_key = "core-secret-" .. n .. "-xxxxxxxx",
           session_token = "core-token-" .. n .. "-xxxxxxxx", expiration = exp }
end

describe("laws.credentials", function()
  local env, clock
  before_each(function()
    env = { HOME = "/nonexistent-home", AWS_EC2_METADATA_DISABLED = "true" }
    fakeenv.set(env)
    clock = fakeenv.clock(1764153000)
  end)
  after_each(function()
    clock.restore()
    fakeenv.restore()
  end)

  describe("parse_time", function()
    it("reads ISO-8601 / RFC 3339 forms as epoch seconds (UTC)", function()
      assert.equal(1795689000, credentials.parse_time("2026-11-26T10:30:00Z"))
      assert.equal(1795689000, credentials.parse_time("2026-11-26T11:30:00+01:00"))
      assert.equal(1795689000, credentials.parse_time("2026-11-26T05:00:00-0530"))
      assert.equal(951868799, credentials.parse_time("2000-02-29T23:59:59Z"))
      assert.equal(0, credentials.parse_time("1970-01-01T00:00:00Z"))
      assert.equal(2147483648, credentials.parse_time("2038-01-19T03:14:08Z"))
      assert.equal(-3600, credentials.parse_time("1969-12-31T23:00:00Z"))
      assert.equal(1795689000.25, credentials.parse_time("2026-11-26T10:30:00.250Z"))
      assert.equal(42, credentials.parse_time(42))
      assert.is_nil(credentials.parse_time("yesterday"))
      assert.is_nil(credentials.parse_time("2026-11-26T10:30:00 CET"))
    end)
  end)

  describe("credential values", function()
    it("validate their shape (misuse raises) and hide secrets in tostring", function()
      assert.has_error(function() credentials.static{ access_key_id = "AKID" } end)
      assert.has_error(function() credentials.static("AKID") end)
      assert.has_error(function() credentials.static(creds(1, "not a time")) end)
      local p = credentials.static(creds(1, "2026-11-26T10:30:00Z"))
      local c = assert(p:get())
      assert.equal(1795689000, c.expiration)
      local s = tostring(c)
      assert.matches("^laws.credentials%(AKID%*%*%*%*ORE1", s)
      assert.matches("2026-11-26T10:30:00Z", s, 1, true)
      assert.is_nil(s:find("core-secret", 1, true))
      assert.is_nil(s:find("core-token", 1, true))
      assert.equal("laws.credentials.provider(static)", tostring(p))
    end)
  end)

  describe("caching and refresh", function()
    local calls, answers
    local function counting(opts)
      calls = 0
      return credentials.provider("counting", function()
        calls = calls + 1
        local a = answers[calls] or answers[#answers]
        if type(a) == "function" then return a() end
        return a
      end, opts)
    end

    it("caches credentials until the refresh window before expiration", function()
      local t0 = clock.now()
      answers = { creds(1, t0 + 3600), creds(2, t0 + 7200) }
      local p = counting()
      assert.equal("AKIDCORE1", p:get().access_key_id)
      clock.advance(3600 - 301)        -- just outside the 300 s window
      assert.equal("AKIDCORE1", p:get().access_key_id)
      assert.equal(1, calls)
      clock.advance(2)                 -- inside the window: refresh
      assert.equal("AKIDCORE2", p:get().access_key_id)
      assert.equal(2, calls)
      assert.equal("AKIDCORE2", p:get().access_key_id)
      assert.equal(2, calls)
    end)

    it("honours refresh_window", function()
      local t0 = clock.now()
      answers = { creds(1, t0 + 3600), creds(2, t0 + 7200) }
      local p = counting{ refresh_window = 60 }
      p:get()
      clock.advance(3600 - 120)
      assert.equal("AKIDCORE1", p:get().access_key_id)
      clock.advance(61)
      assert.equal("AKIDCORE2", p:get().access_key_id)
    end)

    it("never refreshes credentials without expiration", function()
      answers = { creds(1), creds(2) }
      local p = counting()
      p:get()
      clock.advance(10 * 365 * 86400)
      assert.equal("AKIDCORE1", p:get().access_key_id)
      assert.equal(1, calls)
    end)

    it("keeps the old credentials when a refresh fails while they are valid", function()
      local t0 = clock.now()
      local errors = require "laws.errors"
      local fail = function() return nil, errors.new{ code = "CredentialsProviderError", message = "endpoint down" } end
      answers = { creds(1, t0 + 600), fail, fail, creds(3, t0 + 4000) }
      local p = counting()
      p:get()
      clock.advance(400)                    -- inside the window, still valid
      assert.equal("AKIDCORE1", p:get().access_key_id)
      assert.equal(2, calls)
      clock.advance(5)                      -- no new try for retry_after_failure (10 s)
      assert.equal("AKIDCORE1", p:get().access_key_id)
      assert.equal(2, calls)
      clock.advance(6)
      assert.equal("AKIDCORE1", p:get().access_key_id)
      assert.equal(3, calls)
      clock.advance(200)                    -- now expired: the failure is returned... unless it works
      assert.equal("AKIDCORE3", p:get().access_key_id)
      assert.equal(4, calls)
    end)

    it("returns the error once the old credentials have expired", function()
      local t0 = clock.now()
      local errors = require "laws.errors"
      answers = { creds(1, t0 + 600),
                  function() return nil, errors.new{ code = "CredentialsProviderError", message = "down" } end }
      local p = counting()
      p:get()
      clock.advance(601)
      local c, err = p:get()
      assert.is_nil(c)
      assert.equal("CredentialsProviderError", err.code)
    end)

    it("re-raises an error raised by a fetch function and stays usable", function()
      local n = 0
      local p = credentials.provider("raising", function()
        n = n + 1
        if n == 1 then error("boom") end
        return creds(1)
      end)
      assert.has_error(function() p:get() end, "boom")
      assert.equal("AKIDCORE1", p:get().access_key_id)
    end)

    it("raises when a user function returns a malformed table", function()
      local p = credentials.resolve{ credentials = function() return { access_key_id = 1 } end }
      assert.has_error(function() p:get() end)
    end)
  end)

  describe("single flight", function()
    -- A tiny round-robin scheduler: runtime.sleep and runtime.wait yield, so waiters poll
    -- without blocking.
    local function run_all(fns)
      local prev = runtime.use(runtime.override{
        sleep = function() coroutine.yield(); return true end,
        wait = function(ev) while not ev.done do coroutine.yield() end; return true end,
      })
      local cos, results = {}, {}
      for i, f in ipairs(fns) do cos[i] = coroutine.create(f) end
      local live = #cos
      local turns = 0
      while live > 0 do
        turns = turns + 1
        assert(turns < 10000, "scheduler did not finish")
        live = 0
        for i, co in ipairs(cos) do
          if coroutine.status(co) ~= "dead" then
            local ok, r = coroutine.resume(co)
            assert(ok, r)
            if coroutine.status(co) == "dead" then results[i] = r else live = live + 1 end
          end
        end
      end
      runtime.use(prev)
      return results
    end

    it("lets concurrent callers share one refresh", function()
      local fetches = 0
      local p = credentials.provider("slow", function()
        fetches = fetches + 1
        for _ = 1, 5 do coroutine.yield() end    -- an HTTP call in flight
        return creds(fetches, clock.now() + 3600)
      end)
      local got = run_all({
        function() return p:get() end, function() return p:get() end, function() return p:get() end,
      })
      assert.equal(1, fetches)
      assert.equal(got[1], got[2])
      assert.equal(got[1], got[3])
      assert.equal("AKIDCORE1", got[1].access_key_id)
      -- a refresh later is shared as well
      clock.advance(3500)
      got = run_all({ function() return p:get() end, function() return p:get() end })
      assert.equal(2, fetches)
      assert.equal("AKIDCORE2", got[1].access_key_id)
      assert.equal(got[1], got[2])
    end)

    it("gives waiters the error of a failed shared refresh", function()
      local errors = require "laws.errors"
      local fetches = 0
      local p = credentials.provider("failing", function()
        fetches = fetches + 1
        coroutine.yield()
        return nil, errors.new{ code = "CredentialsProviderError", message = "nope" }
      end)
      local got = run_all({
        function() local c, e = p:get(); return c or e end,
        function() local c, e = p:get(); return c or e end,
      })
      assert.equal(1, fetches)
      assert.equal("CredentialsProviderError", got[1].code)
      assert.equal("CredentialsProviderError", got[2].code)
    end)

    it("takes over a refresh whose caller never came back (wait timeout)", function()
      local fetches = 0
      local p = credentials.provider("abandoned", function()
        fetches = fetches + 1
        if fetches == 1 then coroutine.yield() end   -- the first caller is never resumed
        return creds(fetches)
      end, { wait_timeout = 0.05 })
      local a = coroutine.create(function() return p:get() end)
      coroutine.resume(a)
      local c = p:get()                               -- plain caller: polls, then fetches itself
      assert.equal(2, fetches)
      assert.equal("AKIDCORE2", c.access_key_id)
    end)

    it("parks through the backend's wait/wake (as under laws.async or OpenResty)", function()
      local waited, woken = 0, 0
      local parked = {}
      local prev = runtime.use(runtime.override{
        wait = function(ev) waited = waited + 1; parked[#parked + 1] = coroutine.running()
                 while not ev.done do coroutine.yield() end; return true end,
        wake = function() woken = woken + 1 end,
      })
      local fetches = 0
      local p = credentials.provider("hooked", function()
        fetches = fetches + 1
        coroutine.yield()
        return creds(1)
      end)
      local a = coroutine.create(function() return p:get() end)
      local b = coroutine.create(function() return p:get() end)
      coroutine.resume(a)          -- a starts the fetch and yields inside it
      coroutine.resume(b)          -- b waits through the hook
      local _, ca = coroutine.resume(a)
      local _, cb = coroutine.resume(b)
      runtime.use(prev)
      assert.equal(1, fetches)
      assert.equal(1, waited)
      assert.equal(1, woken)
      assert.equal(ca, cb)
    end)
  end)

  describe("chain", function()
    it("takes the first provider that answers and remembers it", function()
      local n1, n2 = 0, 0
      local p1 = credentials.provider("first", function() n1 = n1 + 1; return credentials.decline("first", "not here") end)
      local p2 = credentials.provider("second", function() n2 = n2 + 1; return creds(2) end)
      local chain = credentials.chain{ p1, p2 }
      assert.equal("AKIDCORE2", chain:get().access_key_id)
      assert.equal("AKIDCORE2", chain:get().access_key_id)
      assert.equal(1, n1)
      assert.equal(1, n2)
      assert.equal("laws.credentials.provider(chain)", tostring(chain))
    end)

    it("lists every provider tried and why it declined", function()
      local chain = credentials.chain{
        credentials.provider("a", function() return credentials.decline("a", "reason A") end),
        credentials.provider("b", function() return credentials.decline("b", "reason B") end),
      }
      local c, err = chain:get()
      assert.is_nil(c)
      assert.equal("CredentialsNotFound", err.code)
      assert.same({ { provider = "a", reason = "reason A" }, { provider = "b", reason = "reason B" } }, err.tried)
      assert.matches("a (reason A); b (reason B)", tostring(err), 1, true)
    end)

    it("stops at a provider that is configured but fails", function()
      local errors = require "laws.errors"
      local reached = false
      local chain = credentials.chain{
        credentials.provider("broken", function() return nil, errors.new{ code = "InvalidCredentials", message = "bad" } end),
        credentials.provider("later", function() reached = true; return creds(1) end),
      }
      local c, err = chain:get()
      assert.is_nil(c)
      assert.equal("InvalidCredentials", err.code)
      assert.is_false(reached)
    end)

    it("accepts tables and functions as links and is composable", function()
      local inner = credentials.chain{ credentials.provider("x", function() return credentials.decline("x", "no") end) }
      local outer = credentials.chain{ inner, function() return creds(7) end }
      assert.equal("AKIDCORE7", outer:get().access_key_id)
      local _, err = credentials.chain{ inner, inner }:get()
      assert.equal(2, #err.tried)
      assert.equal("x", err.tried[1].provider)
      assert.has_error(function() credentials.chain{ 42 } end)
    end)
  end)

  describe("resolve (client options)", function()
    it("wraps a table, a function and a provider object; false means unsigned", function()
      assert.equal("AKIDCORE1", credentials.resolve{ credentials = creds(1) }:get().access_key_id)
      assert.equal("AKIDCORE2", credentials.resolve{ credentials = function() return creds(2) end }:get().access_key_id)
      local obj = { get = function() return creds(3) end }
      assert.equal("AKIDCORE3", credentials.resolve{ credentials = obj }:get().access_key_id)
      local p = credentials.static(creds(4))
      assert.equal(p, credentials.resolve{ credentials = p })
      assert.is_nil(credentials.resolve{ credentials = false })
    end)

    it("caches what a user function returns until its expiration", function()
      local n = 0
      local p = credentials.resolve{ credentials = function() n = n + 1; return creds(n, clock.now() + 1000) end }
      p:get(); p:get()
      assert.equal(1, n)
      clock.advance(800)
      assert.equal("AKIDCORE2", p:get().access_key_id)
    end)

    it("raises naming the option for a wrong value", function()
      local ok, msg = pcall(credentials.resolve, { credentials = 42 })
      assert.is_false(ok)
      assert.matches("credentials", msg)
    end)

    it("uses the default chain when no credentials are given", function()
      env.AWS_ACCESS_KEY_ID = "AKIDFROMENV"
      env.AWS_SECRET_ACCESS_KEY = "env-secret-xxxxxxxxxxxx"
      assert.equal("AKIDFROMENV", credentials.resolve{}:get().access_key_id)
    end)

    it("reports every default provider when nothing is found", function()
      local c, err = credentials.resolve{}:get()
      assert.is_nil(c)
      assert.equal("CredentialsNotFound", err.code)
      local names = {}
      for _, t in ipairs(err.tried) do names[#names + 1] = t.provider end
      assert.same({ "env", "web_identity", "profile", "container", "imds" }, names)
      assert.matches("AWS_EC2_METADATA_DISABLED", tostring(err))
    end)
  end)

  describe("env provider", function()
    it("reads the key pair, the session token and AWS_CREDENTIAL_EXPIRATION", function()
      env.AWS_ACCESS_KEY_ID = "AKIDENV"
      env.AWS_SECRET_ACCESS_KEY = "env-secret-xxxxxxxxxxxx"
      env.AWS_SESSION_TOKEN = "env-token-xxxxxxxxxxxx"
      env.AWS_CREDENTIAL_EXPIRATION = "2026-11-26T10:30:00Z"
      local c = assert(credentials.env():get())
      assert.equal("AKIDENV", c.access_key_id)
      assert.equal("env-token-xxxxxxxxxxxx", c.session_token)
      assert.equal(1795689000, c.expiration)
    end)

    it("treats empty variables as unset and declines", function()
      fakeenv.set{ AWS_ACCESS_KEY_ID = "", AWS_SECRET_ACCESS_KEY = "" }
      local c, err = credentials.env():get()
      assert.is_nil(c)
      assert.equal("CredentialsNotFound", err.code)
    end)

    it("reports half a key pair, naming the missing variable", function()
      env.AWS_ACCESS_KEY_ID = "AKIDENV"
      local c, err = credentials.env():get()
      assert.is_nil(c)
      assert.equal("InvalidCredentials", err.code)
      assert.matches("AWS_SECRET_ACCESS_KEY is not", err.message)
    end)

    it("wins over a profile in the default chain", function()
      local dir = fakeenv.tmpdir()
      fakeenv.write(dir .. "/credentials", "[default]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = p-secret-xxxxxxxx\n")
      env.AWS_SHARED_CREDENTIALS_FILE = dir .. "/credentials"
      assert.equal("AKIDPROFILE", credentials.default_chain():get().access_key_id)
      env.AWS_ACCESS_KEY_ID = "AKIDENV"
      env.AWS_SECRET_ACCESS_KEY = "env-secret-xxxxxxxxxxxx"
      assert.equal("AKIDENV", credentials.default_chain():get().access_key_id)
      fakeenv.cleanup()
    end)
  end)
end)
