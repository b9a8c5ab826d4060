-- What laws.core makes for every area: the error metatable, and userdata that name themselves,
-- close once (idempotently) and refuse use once closed. Each case runs in a child Lua (same
-- build) so closing the state's signer or hasher, or loading order, touches nothing else.
local proc = require "spec.support.proc"

local function child(code)
  local lua = os.getenv("LAWS_LUA") or "lua5.4"
  local build = os.getenv("LAWS_BUILD") or "build"
  local cmd = ("env LUA_PATH=%s LUA_CPATH=%s %s -e %s 2>&1"):format(proc.quote("lua/?.lua;lua/?/init.lua;;"),
    proc.quote(build .. "/?.so;;"), lua, proc.quote(code))
  local f = assert(io.popen(cmd))
  local out = f:read("*a")
  f:close()
  return out
end

describe("laws.core's error metatable", function()
  it("exists before any Lua module runs, and laws.errors adopts it", function()
    local out = child([[
      local core = require "laws.core"
      assert(type(core.error_mt) == "table", "core.error_mt is a " .. type(core.error_mt))
      assert(debug.getregistry()["laws.error"] == core.error_mt, "registry laws.error is core.error_mt")
      assert(core.error_mt.__name == "laws.error", "__name")
      assert(core.http_set_error_mt == nil, "http_set_error_mt is gone")
      -- an error made in C before laws.errors (or laws.http) was ever loaded
      local res, err = core.http_session():request{ url = "http://127.0.0.1:1/", connect_timeout = 2 }
      assert(res == nil and type(err) == "table", "a refused connection is nil, err")
      assert(package.loaded["laws.errors"] == nil, "laws.errors not loaded yet")
      assert(getmetatable(err) == core.error_mt, "the C error carries core.error_mt")
      local errors = require "laws.errors"
      assert(errors.Error == core.error_mt, "laws.errors' Error is core.error_mt")
      assert(errors.is(err), "errors.is(C error)")
      assert(tostring(err):find("^COULDNT_CONNECT"), "tostring: " .. tostring(err))
      assert(getmetatable(errors.new{ code = "X" }) == core.error_mt, "Lua errors share it")
      print("error_mt ok")
    ]])
    assert.matches("error_mt ok", out, 1, true)
  end)
end)

-- name in tostring, how to make one, a method call that must refuse a closed object
local TYPES = {
  { mt = "laws.http.session", make = "core.http_session()", use = "o:connects()", noun = "session" },
  { mt = "laws.multi", make = "core.multi_new()", use = "o:count()", noun = "multi handle" },
  { mt = "laws.sigv4.signer", make = "select(2, debug.getupvalue(core.sigv4_sign, 1))",
    use = [[core.sigv4_sign({ method = "GET", url = "https://h/" },
      { access_key_id = "AKID", secret_access_key = "secret" }, { service = "s", region = "r" }, 0)]],
    noun = "signer" },
  { mt = "laws.hasher", make = "select(2, debug.getupvalue(core.sha256_hex, 1))", use = "core.sha256_hex('x')",
    noun = "hasher" },
  -- the retry maths: every method is listed, since each must refuse a closed object
  { mt = "laws.backoff.schedule", make = "core.backoff_new{ kind = 'exponential', base = 1, seed = 7 }",
    use = { "o:next(1, 0)", "o:fork()" }, noun = "backoff schedule" },
  { mt = "laws.retry.quota", make = "core.quota_new(10)",
    use = { "o:acquire(1)", "o:release(1)", "o:available()" }, noun = "retry quota" },
  { mt = "laws.retry.ratelimiter", make = "core.ratelimiter_new(0)",
    use = { "o:acquire(1)", "o:update(1, true)", "o:state()", "o:dump()", "o:load(o:dump())" },
    noun = "rate limiter" },
}

describe("every userdata laws.core makes", function()
  for _, t in ipairs(TYPES) do
    it(t.mt .. ": tostring names it, close() is idempotent, a closed one refuses use", function()
      local uses = type(t.use) == "table" and t.use or { t.use }
      local out = child(([[
        local core = require "laws.core"
        local o = %s
        assert(type(o) == "userdata", "made a " .. type(o))
        local mt = getmetatable(o)
        assert(mt.__name == %q, "__name " .. tostring(mt.__name))
        assert(debug.getregistry()[%q] == mt, "registered under its name")
        assert(type(mt.__close) == "function" and type(mt.__gc) == "function", "__close and __gc")
        local name = %q
        assert(tostring(o):sub(1, #name + 2) == name .. " (" and not tostring(o):find("closed"),
               "tostring: " .. tostring(o))
        local uses = { %s }
        for i, use in ipairs(uses) do
          local ok, err = pcall(use)
          assert(ok, "use " .. i .. " while open: " .. tostring(err))
        end
        o:close()
        o:close()
        assert(tostring(o) == %q .. " (closed)", "closed tostring: " .. tostring(o))
        for i, use in ipairs(uses) do
          local ok, err = pcall(use)
          assert(not ok, "a closed object was used (use " .. i .. ")")
          assert(tostring(err):find("attempt to use a closed " .. %q, 1, true), "message: " .. tostring(err))
        end
        print("userdata ok")
      ]]):format(t.make, t.mt, t.mt, t.mt, "function() return " .. table.concat(uses, " end, function() return ")
        .. " end", t.mt, t.noun))
      assert.matches("userdata ok", out, 1, true)
    end)
  end
end)
