-- The built-in service tables (lua/laws/services/) against botocore's own models, read by
-- python3: every operation of the current API is there, with its HTTP method, request URI,
-- input locations (uri/querystring/header) and idempotency-token members. botocore is the
-- independent source here; the tables were generated from it, so a drift (a hand edit, a
-- dropped trait, a regenerated table from another botocore) fails this spec.
local PY = [[
import json, sys
import botocore.session
loader = botocore.session.get_session().get_component("data_loader")
m = loader.load_service_model(sys.argv[1], "service-2")
out = {}
for name, op in m["operations"].items():
    h = op.get("http", {})
    ins = op.get("input", {}).get("shape")
    members = {}
    if ins:
        for mn, mem in m["shapes"][ins].get("members", {}).items():
            members[mn] = {"token": bool(mem.get("idempotencyToken"))}
            if mem.get("location"):
                members[mn]["location"] = mem["location"]
    out[name] = {"method": h.get("method"), "uri": h.get("requestUri"), "input": ins, "members": members}
print(json.dumps(out))
]]

local cjson = require "cjson"

local function botocore_ops(service)
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write(PY)
  f:close()
  local p = assert(io.popen("python3 " .. script .. " " .. service .. " 2>&1"))
  local out = p:read("*a")
  p:close()
  os.remove(script)
  local ok, t = pcall(cjson.decode, out)
  assert(ok and type(t) == "table", "python3/botocore did not answer: " .. out:sub(1, 300))
  return t
end

local function member_trait(shape_member, key)
  if type(shape_member) == "table" then return shape_member[key] end
  return nil
end

for _, row in ipairs{ { "connectcases", "connectcases" }, { "customer-profiles", "customer_profiles" },
                      { "dynamodb", "dynamodb" }, { "sts", "sts" } } do
  local service, module = row[1], row[2]
  describe("laws.services." .. module .. " against botocore's " .. service .. " model", function()
    local want, have
    setup(function()
      want = botocore_ops(service)
      have = dofile("lua/laws/services/" .. module .. ".lua")
    end)

    it("has every operation, with its HTTP method and request URI, and no other", function()
      local n = 0
      for name, w in pairs(want) do
        n = n + 1
        local op = have.operations[name]
        assert.is_table(op, service .. ": operation " .. name .. " is missing")
        assert.equal(w.method, op[1], name .. ": method")
        assert.equal(w.uri, op[2], name .. ": request URI")
        assert.equal(w.input, op.input, name .. ": input shape")
      end
      for name in pairs(have.operations) do
        assert.is_table(want[name], service .. ": operation " .. name .. " is not in botocore's model")
      end
      assert.is_true(n > 0)
    end)

    it("places every input member where the model says and keeps idempotency tokens", function()
      local tokens = 0
      for name, w in pairs(want) do
        if w.input then
          local shape = have.shapes[w.input]
          assert.is_table(shape, name .. ": input shape " .. w.input)
          for mn, wm in pairs(w.members) do
            local m = shape.members[mn]
            assert.is_not_nil(m, name .. "." .. mn .. " is missing")
            assert.equal(wm.location, member_trait(m, "location"),
              name .. "." .. mn .. ": location")
            if wm.token then
              tokens = tokens + 1
              assert.is_true(member_trait(m, "idempotencyToken"), name .. "." .. mn .. ": idempotency token")
            else
              assert.is_nil(member_trait(m, "idempotencyToken"), name .. "." .. mn .. ": not a token")
            end
          end
        end
      end
      if service == "connectcases" then assert.is_true(tokens > 0, "CreateCase's clientToken at least") end
    end)
  end)
end
