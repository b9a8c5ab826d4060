-- Protocol mappings: fixed inputs -> the exact HTTP request; fixed answers -> results.
local fake = require "spec.support.client_fake"
local json = require "laws.json"

local REST = "spec/fixtures/restjson_model.json"
local QUERY = "spec/fixtures/query_model.json"

local function query_set(url)
  local q = url:match("%?(.*)$") or ""
  local t = {}
  for piece in q:gmatch("[^&]+") do t[#t + 1] = piece end
  table.sort(t)
  return t
end

-- Lua 5.4 has integers; LuaJIT (OpenResty) has doubles only.
local HAS_INT = math.type ~= nil
local function assert_integer(v)
  if HAS_INT then assert.equal("integer", math.type(v)) else assert.equal(math.floor(v), v) end
end
local BIG, BIG_TEXT = 4503599627370497, "4503599627370497"  -- 2^52 + 1: exact in a double too
if HAS_INT then BIG, BIG_TEXT = math.tointeger(9007199254740993), "9007199254740993" end

local rec
after_each(function() if rec then rec.restore(); rec = nil end end)

describe("restJson1 requests", function()
  it("percent-encodes URI labels and keeps / in greedy labels; query, headers and blob payload", function()
    rec = fake.script{ { status = 200, headers = { etag = '"abc"', ["x-size"] = "12345678901", ["x-fresh"] = "true",
                                                   ["x-meta-color"] = "blue" }, body = "raw bytes" } }
    local c = fake.client(nil, { model = REST, endpoint = "http://127.0.0.1:9/base/" })
    local r = assert(c:PutObject{
      Bucket = "my bucket", Key = "a/b c/ü+d", Tags = { "x", "y z" }, Limit = 5, Flag = false,
      Since = 0, Extra = { zeta = "1", alpha = "2" }, Modified = 1764153000, Trace = "t-1",
      Labels = { "a", "b" }, Meta = { color = "red" }, Body = "\0binary\255" })
    local req = rec.sent[1]
    assert.equal("PUT", req.method)
    assert.equal("http://127.0.0.1:9/base/buckets/my%20bucket/a/b%20c/%C3%BC%2Bd", req.url:match("^[^?]*"))
    assert.same({ "alpha=2", "flag=false", "max-items=5", "since=1970-01-01T00%3A00%3A00Z", "tag=x", "tag=y%20z",
                  "tagging", "zeta=1" }, query_set(req.url))
    assert.equal("Wed, 26 Nov 2025 10:30:00 GMT", fake.header(req, "If-Modified-Since"))
    assert.equal("t-1", fake.header(req, "X-Trace"))
    assert.equal("a, b", fake.header(req, "X-Labels"))
    assert.equal("red", fake.header(req, "x-meta-color"))
    assert.equal("\0binary\255", req.body)
    assert.equal("application/octet-stream", fake.header(req, "Content-Type"))
    -- output: header-bound members, prefixed header map, status code, blob payload
    assert.equal('"abc"', r.ETag)
    assert.equal(12345678901, r.Size)
    assert_integer(r.Size)
    assert.is_true(r.Fresh)
    assert.same({ color = "blue" }, r.Meta)
    assert.equal(200, r.Status)
    assert.equal("raw bytes", r.Data)
  end)

  it("writes {} for empty maps and structures and [] for empty lists, by shape", function()
    rec = fake.script{ { status = 200, body = "{}" } }
    local c = fake.client(nil, { model = REST, endpoint = "http://127.0.0.1:9" })
    assert(c:PutConfig{ Id = "i", Settings = {}, Items = {}, Nested = { Inner = {}, List = {} },
                        Raw = "hi", When = 1.5, Ratio = 0.1, Big = BIG,
                        Doc = { any = { 1, 2 }, empty = {} }, Choice = { B = 2 }, Renamed = "r" })
    local req = rec.sent[1]
    assert.equal("http://127.0.0.1:9/config/i", req.url)
    assert.equal("application/json", fake.header(req, "Content-Type"))
    assert.equal('{"Big":' .. BIG_TEXT .. ',"Choice":{"B":2},"Doc":{"any":[1,2],"empty":{}},"Items":[],'
      .. '"Nested":{"Inner":{},"List":[]},"Ratio":0.1,"Raw":"aGk=","renamed_on_wire":"r","Settings":{},"When":1.5}', req.body)
  end)

  it("sends {} when the input has body members but none are given, and no body without them", function()
    rec = fake.script{ { status = 200, body = "" } }
    local c = fake.client(nil, { model = REST, endpoint = "http://127.0.0.1:9" })
    assert(c:PutConfig{ Id = "i" })
    assert(c:Ping())
    assert.equal("{}", rec.sent[1].body)
    assert.equal("", rec.sent[2].body)
    assert.equal("GET", rec.sent[2].method)
  end)

  it("decodes JSON results by shape: markers keep {} and [] apart on re-encode, integers stay integers", function()
    rec = fake.script{ { status = 200, headers = { ["x-amzn-requestid"] = "req-9" },
      body = '{"Settings":{},"Items":[],"Nested":{"Inner":{},"List":["a"]},"Raw":"aGk=","Big":42,'
        .. '"Ratio":2.5,"renamed_on_wire":"w","unknown":1,"Items2":null}' } }
    local c = fake.client(nil, { model = REST, endpoint = "http://127.0.0.1:9" })
    local r = assert(c:PutConfig{ Id = "i" })
    assert_integer(r.Big)
    assert.equal("hi", r.Raw)
    assert.equal("w", r.Renamed)
    assert.equal("req-9", r.RequestId)
    assert.is_nil(r.unknown)
    assert.equal('{"Big":42,"Items":[],"Nested":{"Inner":{},"List":["a"]},"Ratio":2.5,"Raw":"hi",'
      .. '"Renamed":"w","RequestId":"req-9","Settings":{}}', json.encode(r))
    -- and a decoded result passed back into a call keeps the same kinds
    rec.restore()
    rec = fake.script{ { status = 200, body = "{}" } }
    assert(c:PutConfig{ Id = "i", Settings = r.Settings, Items = r.Items })
    assert.equal('{"Items":[],"Settings":{}}', rec.sent[1].body)
  end)

  it("maps Connect Cases CreateCase and GetCase, filling clientToken", function()
    rec = fake.script{ { status = 200, body = '{"caseId":"c-1","caseArn":"arn:c-1"}' } }
    local c = fake.client("connectcases")
    local r = assert(c:CreateCase{ domainId = "dom/1", templateId = "t1",
                                   fields = { { id = "title", value = { stringValue = "Hi" } } } })
    assert.equal("c-1", r.caseId)
    local req = rec.sent[1]
    assert.equal("POST", req.method)
    assert.equal("https://cases.us-east-1.amazonaws.com/domains/dom%2F1/cases", req.url)
    local body = json.decode(req.body)
    assert.matches("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x+$", body.clientToken)
    assert.same({ { id = "title", value = { stringValue = "Hi" } } }, body.fields)
    assert.equal("cases", rec.signs[1].service)
  end)

  it("maps Customer Profiles query members (max-results, tagKeys)", function()
    rec = fake.script{ { status = 200, body = '{"Items":[],"NextToken":"n"}' } }
    local c = fake.client("customer-profiles", { region = "eu-west-2" })
    local r = assert(c:SearchProfiles{ DomainName = "d", KeyName = "_phone", Values = { "+1" }, MaxResults = 10 })
    assert.equal("n", r.NextToken)
    assert.equal(0, #r.Items)
    assert.equal("https://profile.eu-west-2.amazonaws.com/domains/d/profiles/search?max-results=10", rec.sent[1].url)
    assert.same({ KeyName = "_phone", Values = { "+1" } }, json.decode(rec.sent[1].body))
    assert(c:UntagResource{ resourceArn = "arn:aws:profile:x", tagKeys = { "a", "b" } })
    assert.equal("DELETE", rec.sent[2].method)
    assert.equal("https://profile.eu-west-2.amazonaws.com/tags/arn%3Aaws%3Aprofile%3Ax?tagKeys=a&tagKeys=b", rec.sent[2].url)
    assert.equal("profile", rec.signs[1].service)
  end)
end)

describe("awsJson1.0 (DynamoDB)", function()
  it("posts to / with X-Amz-Target and keeps empty M as {} and L as []", function()
    rec = fake.script{ { status = 200, body = '{"Item":{"pk":{"S":"a"},"m":{"M":{}},"l":{"L":[]},"n":{"N":"1"},"b":{"B":"aGk="}}}' } }
    local c = fake.client("dynamodb", { region = "us-west-2" })
    assert(c:PutItem{ TableName = "T", Item = { pk = { S = "a" }, m = { M = {} }, l = { L = {} } } })
    local req = rec.sent[1]
    assert.equal("POST", req.method)
    assert.equal("https://dynamodb.us-west-2.amazonaws.com/", req.url)
    assert.equal("DynamoDB_20120810.PutItem", fake.header(req, "X-Amz-Target"))
    assert.equal("application/x-amz-json-1.0", fake.header(req, "Content-Type"))
    assert.equal('{"Item":{"l":{"L":[]},"m":{"M":{}},"pk":{"S":"a"}},"TableName":"T"}', req.body)
    local r = assert(c:GetItem{ TableName = "T", Key = { pk = { S = "a" } } })
    assert.equal("hi", r.Item.b.B)
    assert.equal('{"Item":{"b":{"B":"hi"},"l":{"L":[]},"m":{"M":{}},"n":{"N":"1"},"pk":{"S":"a"}}}', json.encode(r))
    assert.equal("dynamodb", rec.signs[1].service)
  end)

  it("uses the model's jsonVersion (1.1) for a run-time model", function()
    local B = io.popen("python3 -c 'import botocore,os;print(os.path.dirname(botocore.__file__))'"):read("l")
    local tmp = os.tmpname()
    assert(os.execute("zcat " .. B .. "/data/logs/2014-03-28/service-2.json.gz > " .. tmp .. " 2>/dev/null || cp "
      .. B .. "/data/logs/2014-03-28/service-2.json " .. tmp))
    rec = fake.script{ { status = 200, body = '{"logGroups":[]}' } }
    local c = fake.client(nil, { model = tmp })
    local r = assert(c:DescribeLogGroups{ limit = 5 })
    os.remove(tmp)
    assert.equal(0, #r.logGroups)
    assert.equal("Logs_20140328.DescribeLogGroups", fake.header(rec.sent[1], "X-Amz-Target"))
    assert.equal("application/x-amz-json-1.1", fake.header(rec.sent[1], "Content-Type"))
    assert.equal("https://logs.us-east-1.amazonaws.com/", rec.sent[1].url)
    assert.equal('{"limit":5}', rec.sent[1].body)
  end)
end)

describe("query protocol", function()
  it("serialises STS AssumeRole with member lists and parses the XML answer", function()
    rec = fake.script{ { status = 200, body = [[<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <Credentials><AccessKeyId>ASIA1</AccessKeyId><SecretAccessKey>s3cr3t-value</SecretAccessKey>
      <SessionToken>tok</SessionToken><Expiration>2026-11-26T12:00:00Z</Expiration></Credentials>
    <AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/r/s</Arn><AssumedRoleId>ARO:s</AssumedRoleId></AssumedRoleUser>
    <PackedPolicySize>6</PackedPolicySize>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>rid-1</RequestId></ResponseMetadata>
</AssumeRoleResponse>]] } }
    local c = fake.client("sts")
    local r = assert(c:AssumeRole{ RoleArn = "arn:aws:iam::1:role/r", RoleSessionName = "s",
      PolicyArns = { { arn = "arn:p1" }, { arn = "arn:p2" } }, Tags = { { Key = "k", Value = "v w" } },
      DurationSeconds = 900 })
    local req = rec.sent[1]
    assert.equal("https://sts.us-east-1.amazonaws.com/", req.url)
    assert.equal("application/x-www-form-urlencoded; charset=utf-8", fake.header(req, "Content-Type"))
    assert.equal("Action=AssumeRole&Version=2011-06-15&DurationSeconds=900&PolicyArns.member.1.arn=arn%3Ap1"
      .. "&PolicyArns.member.2.arn=arn%3Ap2&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr&RoleSessionName=s"
      .. "&Tags.member.1.Key=k&Tags.member.1.Value=v%20w", req.body)
    assert.equal("ASIA1", r.Credentials.AccessKeyId)
    assert.equal("2026-11-26T12:00:00Z", r.Credentials.Expiration)
    assert.equal(6, r.PackedPolicySize)
    assert_integer(r.PackedPolicySize)
    assert.equal("rid-1", r.ResponseMetadata.RequestId)
    assert.equal("sts", rec.signs[1].service)
  end)

  it("flattens lists and maps, renames members, sends empty lists, parses flattened answers", function()
    rec = fake.script{ { status = 200, body = [[<SendBatchResponse><SendBatchResult>
      <Successful><Entry><Id>1</Id><Body>a</Body></Entry><Entry><Id>2</Id></Entry></Successful>
      <Failed>x</Failed><Failed>y</Failed><Count>2</Count><Ok>true</Ok>
      <Tags><entry><Name>k</Name><Value>v</Value></entry></Tags>
      <Flag><key>a</key><value>1</value></Flag><Flag><key>b</key><value>2</value></Flag>
      </SendBatchResult></SendBatchResponse>]] } }
    local c = fake.client(nil, { model = QUERY, endpoint = "http://127.0.0.1:9" })
    local r = assert(c:SendBatch{ QueueName = "q", Entries = { { Id = "1", Body = "b" } }, Flat = { "f1", "f2" },
      Attrs = { b = "2", a = "1" }, FlatAttrs = { k = "v" }, Empty = {}, Delay = 3, Fifo = true, At = 86400 })
    assert.equal("Action=SendBatch&Version=2020-02-02&At=1970-01-02T00%3A00%3A00Z"
      .. "&Attribute.entry.1.Name=a&Attribute.entry.1.Value=1&Attribute.entry.2.Name=b&Attribute.entry.2.Value=2"
      .. "&Delay=3&Empty=&Entries.member.1.Body=b&Entries.member.1.Id=1&Fifo=true&Item.1=f1&Item.2=f2"
      .. "&FlatAttrs.1.key=k&FlatAttrs.1.value=v&QueueName=q", rec.sent[1].body)
    assert.same({ { Id = "1", Body = "a" }, { Id = "2" } }, r.Successful)
    assert.same({ "x", "y" }, r.Failed)
    assert.equal(2, r.Count)
    assert.is_true(r.Ok)
    assert.same({ k = "v" }, r.Tags)
    assert.same({ a = "1", b = "2" }, r.Flags)
  end)
end)

describe("shape-directed JSON decode (in place)", function()
  local model = require "laws.model"
  local common = require "laws.protocol.common"
  local m = model.build({
    metadata = { protocol = "json" },
    operations = {},
    shapes = {
      Out = { "structure", members = { Renamed = { "Str", locationName = "wireName" }, Items = "List",
                                       Tags = "Map", Count = "Int", Other = "Str" } },
      List = { "list", member = "Str" },
      Map = { "map", key = "Str", value = "Int" },
      Str = "string", Int = "integer",
    },
  }, "spec")

  it("drops unknown members, moves renamed ones, drops nulls and marks tables", function()
    local v = assert(json.decode('{"wireName":"w","Other":"o","Renamed":"not on the wire","unknown":1,'
      .. '"Items":["a",null,"c"],"Tags":{"x":1.0,"y":null},"Count":3.0}'))
    local r = common.json_decode(v, m.shapes.Out)
    assert.equal("w", r.Renamed)
    assert.equal("o", r.Other)
    assert.is_nil(r.wireName)
    assert.is_nil(r.unknown)
    assert.equal("a", r.Items[1]); assert.is_nil(r.Items[2]); assert.equal("c", r.Items[3])
    assert.equal(1, r.Tags.x); assert.is_nil(r.Tags.y)
    assert.equal(3, r.Count)
    if math.type then   -- Lua 5.3+ (LuaJIT has no integer subtype)
      assert.equal("integer", math.type(r.Tags.x)); assert.equal("integer", math.type(r.Count))
    end
    assert.equal(json.object_mt, getmetatable(r))
    assert.equal(json.array_mt, getmetatable(r.Items))
    assert.equal(json.object_mt, getmetatable(r.Tags))
    r.Items = nil  -- (a list with a hole has no single length to encode)
    assert.equal('{"Count":3,"Other":"o","Renamed":"w","Tags":{"x":1}}', json.encode(r))
  end)
end)

describe("shape-directed JSON encode and validation (per-shape plans and encoders)", function()
  local model = require "laws.model"
  local common = require "laws.protocol.common"
  local m = model.build({
    metadata = { protocol = "json" },
    operations = {},
    shapes = {
      Node = { "structure", required = { "Name" },
               members = { Name = "Str", Kids = "Nodes", Tag = { "Str", locationName = "tag_on_wire" },
                           Empty = "Nothing", Words = "Strs", N = "Int", Ok = "Bool" } },
      Nodes = { "list", member = "Node" },
      Strs = { "list", member = "Str" },
      Nothing = { "structure", members = {} },
      Str = "string", Int = "integer", Bool = "boolean",
    },
  }, "spec")
  local Node = m.shapes.Node

  it("writes nested and self-referring structures, lists of them, renamed keys and escaped strings", function()
    local v = { Name = 'a"b', Tag = "t", Empty = {}, Ok = false, Words = { "x", "y\n" }, N = 3,
                Kids = { { Name = "k1", Kids = { { Name = "k1.1" } } }, { Name = "k2", Kids = {} } } }
    common.validate(v, Node, "Op")
    assert.equal('{"Empty":{},"Kids":[{"Kids":[{"Name":"k1.1"}],"Name":"k1"},{"Kids":[],"Name":"k2"}],'
      .. '"N":3,"Name":"a\\"b","Ok":false,"tag_on_wire":"t","Words":["x","y\\n"]}', common.json_encode(v, Node))
    -- the encoding buffer is reused: a second, shorter body carries nothing of the first
    assert.equal('{"Name":"z"}', common.json_encode({ Name = "z" }, Node))
    assert.equal('[{"Name":"l"}]', common.json_encode({ { Name = "l" } }, m.shapes.Nodes))
  end)

  it("names the first bad list key before any element, then bad elements and members by their path", function()
    local function err(v)
      local ok, e = pcall(common.validate, v, Node, "Op")
      assert.is_false(ok)
      assert.equal("ValidationError", e.code)
      return e.message
    end
    assert.equal("laws.client: Op.Words: expected a list, got a table with key x",
      err{ Name = "n", Words = { 5, "b", x = 1 } })
    assert.equal("laws.client: Op.Words[1]: expected a string, got number", err{ Name = "n", Words = { 1 } })
    assert.equal("laws.client: Op.Kids[2]: missing required parameter 'Name'",
      err{ Name = "n", Kids = { { Name = "ok" }, { Tag = "t" } } })
    assert.equal("laws.client: Op.Kids[1].Kids[1].Ok: expected a boolean, got string",
      err{ Name = "n", Kids = { { Name = "k", Kids = { { Name = "kk", Ok = "yes" } } } } })
    assert.equal("laws.client: Op: unknown parameter 'Nam' (did you mean Name or N?)", err{ Nam = "n" })
  end)
end)
