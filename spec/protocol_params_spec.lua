-- Parameter validation on what a caller can hand in: cyclic and too deep tables, the extremes
-- of numbers, and members too long for the URI or a header. Each is refused naming the member
-- path, before anything is sent.
local fake = require "spec.support.client_fake"
local model = require "laws.model"
local common = require "laws.protocol.common"
local rest_json = require "laws.protocol.rest_json"

local function raised(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected a validation error, but the call went through")
  return tostring(err)
end

local m = model.build({
  metadata = { protocol = "rest-json" },
  operations = {
    Put = { "POST", "/things/{Id}", input = "In" },
  },
  shapes = {
    In = { "structure", members = {
      Id = { "S", location = "uri", locationName = "Id" },
      Q = { "S", location = "querystring", locationName = "q" },
      QL = { "SL", location = "querystring", locationName = "ql" },
      H = { "S", location = "header", locationName = "X-H" },
      HL = { "SL", location = "header", locationName = "X-HL" },
      Meta = { "SM", location = "headers", locationName = "X-Meta-" },
      L = "Long", D = "Double", F = "Float", T = "Time", DL = "DL", Doc = "Doc",
      J = { "S", location = "header", locationName = "X-J", jsonvalue = true },
    }, required = { "Id" } },
    Doc = { "structure", document = true },
    S = "string", Long = "long", Double = "double", Float = "float", Time = "timestamp",
    SL = { "list", member = "S" }, DL = { "list", member = "Double" },
    SM = { "map", key = "S", value = "S" },
  },
}, "params test model")
local op = m.ops.Put

local function build(params)
  common.validate(params, op.input, "Put")
  return rest_json.build(op, params, m.meta)
end

describe("a parameter table", function()
  local rec, ddb
  before_each(function()
    rec = fake.script{ { status = 200, headers = {}, body = "{}" } }
    ddb = fake.client("dynamodb")
  end)
  after_each(function() rec.restore() end)

  it("that contains itself is named as a cycle with its path, not a stack overflow", function()
    local av = { M = {} }
    av.M.x = av
    local err = raised(ddb.PutItem, ddb, { TableName = "t", Item = { k = av } })
    assert.matches('laws.client: PutItem.Item["k"].M["x"]: a cyclic table (the same table as PutItem.Item["k"])',
      err, 1, true)
    local list = {}
    list[1] = { L = list }
    err = raised(ddb.PutItem, ddb, { TableName = "t", Item = { k = { L = list } } })
    assert.matches("a cyclic table (the same table as PutItem.Item[\"k\"].L)", err, 1, true)
    assert.equal(0, #rec.sent)
  end)

  it("nested deeper than the limit is refused naming where, even without a cycle", function()
    local deep = { S = "leaf" }
    for _ = 1, common.MAX_PARAM_DEPTH do deep = { M = { x = deep } } end
    local err = raised(ddb.PutItem, ddb, { TableName = "t", Item = { k = deep } })
    assert.matches("laws.client: PutItem.Item[\"k\"].M[\"x\"].M", err, 1, true)
    assert.matches("parameters nested deeper than " .. common.MAX_PARAM_DEPTH .. " levels", err, 1, true)
    -- DynamoDB's own limit (32 levels of documents) fits well inside it
    local ok = { S = "leaf" }
    for _ = 1, 32 do ok = { M = { x = ok } } end
    assert(ddb:PutItem{ TableName = "t", Item = { k = ok } })
    assert.equal(1, #rec.sent)
  end)
end)

describe("a document or JSON-value member", function()
  it("that contains itself is named as a cycle with its path, not left to the encoder", function()
    local doc = { list = { 1, 2 } }
    doc.list[3] = doc
    assert.matches('laws.client: Put.Doc["list"][3]: a cyclic table (the same table as Put.Doc)',
      raised(build, { Id = "i", Doc = doc }), 1, true)
    local j = { a = {} }
    j.a.b = j
    assert.matches('laws.client: Put.J["a"]["b"]: a cyclic table (the same table as Put.J)',
      raised(build, { Id = "i", J = j }), 1, true)
  end)

  it("names a NaN inside it by path, and takes any other JSON value", function()
    assert.matches('laws.client: Put.Doc["x"][2]: expected a finite number, got nan',
      raised(build, { Id = "i", Doc = { x = { 1, 0 / 0 } } }), 1, true)
    local req = build{ Id = "i", Doc = { x = { 1, "two", true, { y = 3 } } }, J = { k = "v" } }
    assert.equal('{"Doc":{"x":[1,"two",true,{"y":3}]}}', req.body)
  end)

  it("nested as deep as the parameter limit allows is encoded, not refused by the encoder", function()
    local doc, levels = { leaf = 1 }, common.MAX_PARAM_DEPTH - 3
    for _ = 2, levels do doc = { d = doc } end
    local body = build{ Id = "i", Doc = doc }.body
    assert.equal('{"Doc":' .. string.rep('{"d":', levels - 1) .. '{"leaf":1}' .. string.rep("}", levels) , body)
  end)
end)

describe("a number parameter", function()
  it("takes the smallest and largest long", function()
    local min = math.mininteger or -2^63
    local body = build{ Id = "i", L = min }.body
    assert.equal('{"L":-9223372036854775808}', body)
    if math.maxinteger then
      assert.equal('{"L":9223372036854775807}', build{ Id = "i", L = math.maxinteger }.body)
    end
  end)

  it("refuses NaN and infinities naming the member path", function()
    local nan, inf = 0 / 0, math.huge
    assert.matches("laws.client: Put.D: expected a finite number, got nan", raised(build, { Id = "i", D = nan }), 1, true)
    assert.matches("laws.client: Put.F: expected a finite number, got inf", raised(build, { Id = "i", F = inf }), 1, true)
    assert.matches("laws.client: Put.DL[2]: expected a finite number, got -inf",
      raised(build, { Id = "i", DL = { 1.5, -inf } }), 1, true)
    assert.matches("laws.client: Put.T: expected a finite timestamp, got nan", raised(build, { Id = "i", T = nan }), 1, true)
    assert.matches("laws.client: Put.L: expected an integer", raised(build, { Id = "i", L = inf }), 1, true)
  end)
end)

describe("a member bound for the URI or a header", function()
  local big = string.rep("x", 10 * 1024 * 1024)

  it("that is too long is refused with its path, its size and the limit", function()
    local lim = common.MAX_URI_MEMBER
    assert.matches(("laws.client: Put.Id: the URI text is %d bytes, over the %d-byte limit for a URI member")
      :format(#big, lim), raised(build, { Id = big }), 1, true)
    assert.matches(("Put.Q: the URI text is %d bytes, over the %d-byte limit"):format(#big + 2, lim),
      raised(build, { Id = "i", Q = big }), 1, true)
    local items = {}
    for i = 1, 2000 do items[i] = "0123456789" end
    assert.matches("Put.QL: the URI text is 26000 bytes", raised(build, { Id = "i", QL = items }), 1, true)
    lim = common.MAX_HEADER_MEMBER
    assert.matches(("laws.client: Put.H: the header value is %d bytes, over the %d-byte limit for a header member")
      :format(#big, lim), raised(build, { Id = "i", H = big }), 1, true)
    assert.matches("Put.HL: the header value is", raised(build, { Id = "i", HL = { big } }), 1, true)
    assert.matches('Put.Meta["a"]: the header value is', raised(build, { Id = "i", Meta = { a = big } }), 1, true)
  end)

  it("within the limit is sent", function()
    local s = string.rep("y", common.MAX_HEADER_MEMBER)
    local req = build{ Id = "i", H = s, Q = "v", Meta = { a = "b" } }
    assert.equal(s, req.headers["X-H"])
    assert.equal("b", req.headers["X-Meta-a"])
  end)
end)

describe("a real client given a 10 MB URI-bound member", function()
  it("raises naming the member and the limit, and sends nothing", function()
    local rec = fake.script{ { status = 200, headers = {}, body = "{}" } }
    local cases = fake.client("connectcases")
    local ok, err = pcall(cases.ListDomains, cases, { nextToken = string.rep("t", 10 * 1024 * 1024) })
    rec.restore()
    assert.is_false(ok, "the call went through")
    assert.matches("laws.client: ListDomains.nextToken: the URI text is 10485770 bytes, over the "
      .. common.MAX_URI_MEMBER .. "-byte limit", tostring(err), 1, true)
    assert.equal(0, #rec.sent)
  end)
end)
