-- Deeply nested answers: parsing never raises on server input. An XML or JSON answer nested
-- deeper than laws.json.MAX_DEPTH is an error value (ResponseParseError for a 2xx answer, the
-- status's error for an error answer), never a raise nor a crash.
local fake = require "spec.support.client_fake"
local errors = require "laws.errors"
local json = require "laws.json"
local xml = require "laws.xml"
local model = require "laws.model"
local rest_json = require "laws.protocol.rest_json"
local proc = require "spec.support.proc"

local DEEP = 200000  -- 1.4 MB of XML: enough to overflow a recursive walk on Lua 5.4 (10,000 on LuaJIT)

local function deep_xml(n, inner)
  return string.rep("<a>", n) .. (inner or "") .. string.rep("</a>", n)
end

-- Calls op on a client whose every answer is `res`; answers ok (no raise), result, err.
local function call(service, op, params, res)
  local rec = fake.script{ res }
  local c = fake.client(service, { retry = { max_attempts = 1 } })
  local ok, r, err = pcall(c.call, c, op, params)
  rec.restore()
  return ok, r, err
end

describe("an XML answer nested too deep", function()
  it("is an error value from a client call when it is an error answer (400)", function()
    local ok, r, err = call("sts", "GetCallerIdentity", {},
      { status = 400, headers = {}, body = "<ErrorResponse>" .. deep_xml(DEEP) .. "</ErrorResponse>" })
    assert.is_true(ok, "the call raised: " .. tostring(r))
    assert.is_nil(r)
    assert.is_true(errors.is(err))
    assert.equal(400, err.status)
    assert.equal("HTTP400", err.code)
  end)

  it("is a ResponseParseError naming the limit when it is a 2xx answer", function()
    local ok, r, err = call("sts", "GetCallerIdentity", {}, { status = 200, headers = {}, body = deep_xml(DEEP) })
    assert.is_true(ok, "the call raised: " .. tostring(r))
    assert.equal("ResponseParseError", err and err.code)
    assert.matches("XML nested deeper than " .. json.MAX_DEPTH .. " levels", err.message, 1, true)
  end)

  it("is read up to the limit, and searched without recursion", function()
    local root = assert(xml.parse(deep_xml(json.MAX_DEPTH - 2, "<Error><Code>Deep</Code></Error>")))
    assert.equal("Deep", xml.child(xml.find(root, "Error"), "Code").text)
    assert.is_nil(xml.parse(deep_xml(json.MAX_DEPTH + 1)))
  end)
end)

describe("a JSON answer nested too deep", function()
  local deep_json = string.rep('{"a":', DEEP) .. "1" .. string.rep("}", DEEP)

  it("is a ResponseParseError from a client call, and an error value as an error answer", function()
    local ok, r, err = call("dynamodb", "GetItem", { TableName = "t", Key = {} },
      { status = 200, headers = {}, body = '{"Item":{"k":' .. string.rep('{"M":{"k":', DEEP) .. "1" .. string.rep("}}", DEEP) .. "}}" })
    assert.is_true(ok, "the call raised: " .. tostring(r))
    assert.equal("ResponseParseError", err and err.code)
    ok, r, err = call("connectcases", "ListDomains", {}, { status = 400, headers = {}, body = deep_json })
    assert.is_true(ok, "the call raised: " .. tostring(r))
    assert.equal("HTTP400", err and err.code)
  end)

  it("is an error value even when the application raised cjson's own depth limit", function()
    -- cjson's settings are process-wide: laws reads answers with an instance of its own
    local code = [[
      require("cjson").decode_max_depth(10000000)
      local runtime = require "laws.runtime"
      local n = 200000
      runtime.use(runtime.override{ request = function()
        return { status = 200, headers = {}, body = '{"Item":{"k":' .. string.rep('{"L":[', n) .. string.rep("]}", n) .. "}}" }
      end })
      local c = require("laws").client("dynamodb", { region = "us-east-1", endpoint = "http://127.0.0.1:9",
        credentials = { access_key_id = "AKIDDEPTH", secret_access_key = "depth/spec/secret" }, retry = { max_attempts = 1 } })
      local r, err = c:GetItem{ TableName = "t", Key = {} }
      io.write(tostring(err and err.code), "\n")
    ]]
    local cmd = ("LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH=%s %s -e %s 2>&1; echo \"exit $?\""):format(
      proc.quote((os.getenv("LAWS_BUILD") or "build") .. "/?.so;;"), os.getenv("LAWS_LUA") or "lua5.4", proc.quote(code))
    local f = assert(io.popen(cmd))
    local out = f:read("*a")
    f:close()
    assert.equal("ResponseParseError\nexit 0\n", out, "the child crashed or raised: " .. out:sub(1, 300))
  end)

  it("of a recursive shape is decoded up to the limit and refused past it", function()
    local m = model.build({
      metadata = { protocol = "rest-json" },
      operations = { Get = { "GET", "/", output = "Node" } },
      shapes = { Node = { "structure", members = { Next = "Node", V = "Long" } }, Long = "long" },
    }, "recursive test model")
    local op = m.ops.Get
    local function nested(n) return string.rep('{"Next":', n - 1) .. '{"V":7}' .. string.rep("}", n - 1) end
    local r = assert(rest_json.parse(op, { status = 200, headers = {}, body = nested(json.MAX_DEPTH) }))
    local depth = 1
    while r.Next do r, depth = r.Next, depth + 1 end
    assert.equal(json.MAX_DEPTH, depth)
    assert.equal(7, r.V)
    local none, err = rest_json.parse(op, { status = 200, headers = {}, body = nested(json.MAX_DEPTH + 1) })
    assert.is_nil(none)
    assert.matches("too many nested", err)
  end)
end)
