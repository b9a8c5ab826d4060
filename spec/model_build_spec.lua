-- laws.model.build turns every member/key/value reference of a shape into a ref table. Under
-- LuaJIT 2.1.0-beta3 (Debian's luajit2), a loop over { "member", "key", "value" } there was now
-- and then compiled wrong and left a map's key or value a plain string (about one process in
-- 50-500, never with the JIT off); validating a DynamoDB map then failed with "attempt to index
-- a nil value". The models are built here many times in one process, the JIT warm, and every
-- reference checked. (A chance check: with the old loop it caught the fault in about one run in
-- five; it cannot fail on a correct build.)
local model = require "laws.model"

describe("laws.model.build", function()
  it("leaves no member/key/value reference a plain string, however often a model is built", function()
    local bad = {}
    for _ = 1, 40 do
      for _, svc in ipairs{ "dynamodb", "connectcases", "customer-profiles", "sts" } do
        local mod = model.builtin[svc]
        package.loaded[mod] = nil  -- a fresh raw table each time, as a new process reads it
        local m = model.build(require(mod), mod)
        for name, sh in pairs(m.shapes) do
          for _, k in ipairs{ "member", "key", "value" } do
            if sh[k] ~= nil and type(sh[k]) ~= "table" then bad[#bad + 1] = svc .. ":" .. name .. "." .. k end
          end
        end
      end
    end
    assert.same({}, bad)
  end)
end)
