-- URI labels: a label of "", "." or ".." would be a dot segment that libcurl and the signer
-- both remove, so the request would reach another operation's route (DeleteCase becoming
-- DeleteDomain, signed). Such a label is refused before anything is sent; greedy labels
-- ({Key+}) are sent as written.
local fake = require "spec.support.client_fake"
local model = require "laws.model"
local rest_json = require "laws.protocol.rest_json"

local function raised(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected a validation error, but the call went through")
  return tostring(err)
end

describe("a URI label", function()
  local rec, cases, profiles
  before_each(function()
    rec = fake.script{ { status = 200, headers = {}, body = "{}" } }
    cases = fake.client("connectcases")
    profiles = fake.client("customer-profiles")
  end)
  after_each(function() rec.restore() end)

  it("of '..' is refused, naming the member, and nothing is sent (DeleteCase is not DeleteDomain)", function()
    local err = raised(cases.DeleteCase, cases, { domainId = "my-domain", caseId = ".." })
    assert.matches("laws.client: DeleteCase.caseId: URI parameter 'caseId' must not be '..'", err, 1, true)
    err = raised(profiles.DeleteEventStream, profiles, { DomainName = "D", EventStreamName = ".." })
    assert.matches("DeleteEventStream.EventStreamName: URI parameter 'EventStreamName' must not be '..'", err, 1, true)
    assert.equal(0, #rec.sent)
  end)

  it("is refused with a ValidationError value that names the member", function()
    local ok, err = pcall(cases.DeleteCase, cases, { domainId = "my-domain", caseId = ".." })
    assert.is_false(ok)
    assert.equal("ValidationError", type(err) == "table" and err.code, "raised: " .. tostring(err))
    assert.equal("DeleteCase.caseId", err.member)
    assert.equal(0, #rec.sent)
  end)

  it("of '.' or empty is refused the same way", function()
    local err = raised(cases.GetCase, cases, { domainId = "d", caseId = ".", fields = {} })
    assert.matches("GetCase.caseId: URI parameter 'caseId' must not be '.'", err, 1, true)
    err = raised(cases.DeleteCase, cases, { domainId = ".", caseId = "c" })
    assert.matches("DeleteCase.domainId: URI parameter 'domainId' must not be '.'", err, 1, true)
    err = raised(cases.GetCase, cases, { domainId = "d", caseId = "", fields = {} })
    assert.matches("GetCase.caseId: URI parameter 'caseId' must not be empty", err, 1, true)
    assert.equal(0, #rec.sent)
  end)

  it("with dots that are not a whole segment is sent, percent-encoded as usual", function()
    assert(cases:DeleteCase{ domainId = "d", caseId = "..." })
    assert(cases:DeleteCase{ domainId = "d", caseId = "../x" })
    assert(cases:DeleteCase{ domainId = "d", caseId = ".a." })
    assert.equal(3, #rec.sent)
    assert.matches("/domains/d/cases/%.%.%.$", rec.sent[1].url)
    assert.matches("/domains/d/cases/%.%.%%2Fx$", rec.sent[2].url)
    assert.matches("/domains/d/cases/%.a%.$", rec.sent[3].url)
  end)
end)

describe("a greedy URI label", function()
  local m = model.build({
    metadata = { protocol = "rest-json" },
    operations = { GetObject = { "GET", "/{Bucket}/{Key+}", input = "In" } },
    shapes = {
      In = { "structure", members = { Bucket = { "S", location = "uri", locationName = "Bucket" },
                                       Key = { "S", location = "uri", locationName = "Key" } },
             required = { "Bucket", "Key" } },
      S = "string",
    },
  }, "greedy test model")

  it("is sent as written: its '/' kept, '.' and '..' segments not refused nor removed", function()
    local op = m.ops.GetObject
    assert.equal("/b/a/../c/./d", rest_json.build(op, { Bucket = "b", Key = "a/../c/./d" }, m.meta).path)
    assert.equal("/b/..", rest_json.build(op, { Bucket = "b", Key = ".." }, m.meta).path)
    assert.equal("/b/.", rest_json.build(op, { Bucket = "b", Key = "." }, m.meta).path)
    assert.equal("/b/x%20y/z", rest_json.build(op, { Bucket = "b", Key = "x y/z" }, m.meta).path)
  end)

  it("is still refused when empty, and its non-greedy neighbour when '..'", function()
    local op = m.ops.GetObject
    assert.matches("GetObject.Key: URI parameter 'Key' must not be empty",
      raised(rest_json.build, op, { Bucket = "b", Key = "" }, m.meta), 1, true)
    assert.matches("GetObject.Bucket: URI parameter 'Bucket' must not be '..'",
      raised(rest_json.build, op, { Bucket = "..", Key = "k" }, m.meta), 1, true)
  end)
end)

describe("a URI label against the stand-in (a real round trip)", function()
  local laws = require "laws"
  local servers = require "spec.support.servers"
  local srv, cases

  setup(function()
    srv = servers.standin{}
    cases = laws.client("connectcases", { region = "us-east-1", endpoint = srv.url,
                                          credentials = servers.DEFAULT_KEY, retry = { max_attempts = 1 } })
  end)
  teardown(function() if cases then cases:close() end end)

  local function requests()
    return srv.must("GET", "/requests?n=50").requests
  end

  it("of '..' never reaches the server; one of '...' reaches it with its path as written", function()
    srv.must("POST", "/reset", {})
    local d = assert(cases:CreateDomain{ name = "labels-spec" }).domainId
    raised(cases.DeleteCase, cases, { domainId = d, caseId = ".." })
    raised(cases.GetCase, cases, { domainId = d, caseId = ".", fields = {} })
    for _, r in ipairs(requests()) do
      assert.is_not.equal("DELETE", r.method, "a DELETE reached the server: " .. tostring(r.path))
      assert.is_not.equal("/domains/" .. d .. "/", r.path)
    end
    local _, err = cases:GetCase{ domainId = d, caseId = "...", fields = { { id = "title" } } }
    assert.equal("ResourceNotFoundException", err and err.code, tostring(err))
    local last = requests()
    last = last[#last]
    assert.equal("POST", last.method)
    assert.equal("/domains/" .. d .. "/cases/...", last.path)
    -- the domain is still there
    assert(cases:GetDomain{ domainId = d })
  end)
end)
