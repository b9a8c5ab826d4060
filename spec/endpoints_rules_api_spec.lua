-- laws.endpoints.rules as an API: parameter checks, errors, scoping of assignments, the
-- standard library's edge cases, partitions, caching. Small rule sets written here; the
-- official cases are in endpoints_rules_spec.lua.
local rules = require "laws.endpoints.rules"

local ROOT = os.getenv("LAWS_ENDPOINTS_TESTDATA") or "../shared/testdata/endpoints"
local PARTITIONS = ROOT .. "/partitions.json"

local function ruleset(params, list)
  return { version = "1.0", parameters = params, rules = list }
end

local function ep(url, extra)
  local r = { type = "endpoint", conditions = {}, endpoint = { url = url } }
  for k, v in pairs(extra or {}) do r.endpoint[k] = v end
  return r
end

local function fn(name, ...) return { fn = name, argv = { ... } } end
local function ref(name) return { ref = name } end

-- A rule set assigning one function call to `name`, answering `url` (a template over it), or
-- an error "unset" when the call is unset.
local function assigning(call, name, url, params)
  return ruleset(params or { In = { type = "string" } }, {
    { type = "endpoint", conditions = { { fn = call.fn, argv = call.argv, assign = name } },
      endpoint = { url = url } },
    { type = "error", conditions = {}, error = "unset" },
  })
end

local function value(expr, params, args)
  local rs = assigning(expr, "Out", "x:{Out}", params)
  local r, err = rules.resolve(rs, args or {}, PARTITIONS)
  if not r then return nil, err.message end
  return r.url:sub(3)
end

describe("laws.endpoints.rules", function()
  local simple = ruleset({
    Region = { type = "String", required = true },
    UseFIPS = { type = "Boolean", required = true, default = false },
    Tags = { type = "stringArray", required = false },
  }, {
    { type = "endpoint", conditions = { fn("booleanEquals", ref("UseFIPS"), true) },
      endpoint = { url = "https://fips.{Region}.example", headers = { ["x-a"] = { "1", "{Region}" } },
                   properties = { authSchemes = { { name = "sigv4", signingRegion = "{Region}" } }, flag = true } } },
    ep("https://{Region}.example"),
  })

  it("resolves url, headers and properties, with defaults applied", function()
    local r = assert(rules.resolve(simple, { Region = "eu-west-1" }))
    assert.same({ url = "https://eu-west-1.example", headers = {}, properties = {} }, r)
    r = assert(rules.resolve(simple, { Region = "eu-west-1", UseFIPS = true }))
    assert.same({ url = "https://fips.eu-west-1.example", headers = { ["x-a"] = { "1", "eu-west-1" } },
                  properties = { authSchemes = { { name = "sigv4", signingRegion = "eu-west-1" } }, flag = true } }, r)
  end)

  it("answers EndpointError naming an unknown, mistyped or missing parameter", function()
    local r, err = rules.resolve(simple, { Region = "x", Regoin = "y" })
    assert.is_nil(r)
    assert.equal("EndpointError", err.code)
    assert.matches("unknown parameter Regoin", err.message, 1, true)
    r, err = rules.resolve(simple, { Region = "x", UseFIPS = "yes" })
    assert.is_nil(r)
    assert.equal("EndpointError", err.code)
    assert.matches("parameter UseFIPS must be a boolean", err.message, 1, true)
    r, err = rules.resolve(simple, { Region = "x", Tags = { "a", 1 } })
    assert.is_nil(r)
    assert.matches("parameter Tags must be a stringArray", err.message, 1, true)
    r, err = rules.resolve(simple, {})
    assert.is_nil(r)
    assert.equal("EndpointError", err.code)
    assert.matches("missing required parameter Region", err.message, 1, true)
    assert.truthy(rules.resolve(simple, { Region = "x", Tags = { "a", "b" } }))
  end)

  it("lists the rule set's parameters with their types, defaults and built-ins", function()
    local rs = ruleset({
      Region = { type = "String", builtIn = "AWS::Region", required = false },
      UseFIPS = { type = "Boolean", builtIn = "AWS::UseFIPS", required = true, default = false },
    }, { ep("https://x") })
    assert.same({
      { name = "Region", type = "string", required = false, builtIn = "AWS::Region" },
      { name = "UseFIPS", type = "boolean", required = true, default = false, builtIn = "AWS::UseFIPS" },
    }, rules.parameters(rs))
  end)

  it("raises on misuse of the API itself", function()
    assert.has_error(function() rules.resolve(simple, "Region=x") end,
      "laws.endpoints.rules.resolve: params must be a table, got string")
    assert.has_error(function() rules.resolve("s3", {}) end)
    assert.has_error(function() rules.resolve(simple, { Region = "x" }, 42) end)
  end)

  it("answers the rule set's error message, templates filled in", function()
    local rs = ruleset({ Region = { type = "string" } }, {
      { type = "error", conditions = { fn("isSet", ref("Region")) }, error = "no {Region} {{here}}" },
      { type = "error", conditions = {}, error = "Missing Region" },
    })
    local r, err = rules.resolve(rs, { Region = "r1" })
    assert.is_nil(r)
    assert.equal("EndpointError", err.code)
    assert.equal("no r1 {here}", err.message)
    r, err = rules.resolve(rs, {})
    assert.is_nil(r)
    assert.equal("Missing Region", err.message)
  end)

  it("answers EndpointError for a rule set it cannot run (unknown function)", function()
    local r, err = rules.resolve(ruleset({}, { { type = "endpoint", conditions = { fn("nope", "a") },
      endpoint = { url = "https://x" } } }), {})
    assert.is_nil(r)
    assert.equal("EndpointError", err.code)
    assert.matches("unsupported function nope", err.message, 1, true)
  end)

  it("keeps a failed rule's assignments from its siblings", function()
    -- rule 1 assigns X then fails on its second condition; rule 2 must not see X
    local rs = ruleset({ In = { type = "string" } }, {
      { type = "endpoint", conditions = {
          { fn = "aws.parseArn", argv = { ref("In") }, assign = "X" },
          fn("booleanEquals", true, false) },
        endpoint = { url = "https://one" } },
      { type = "endpoint", conditions = { fn("isSet", ref("X")) }, endpoint = { url = "https://leak" } },
      ep("https://two"),
    })
    assert.equal("https://two", rules.resolve(rs, { In = "arn:aws:s3:::b" }).url)
  end)

  it("never finds an unset value equal to anything", function()
    local rs = ruleset({ A = { type = "boolean" }, B = { type = "boolean" }, S = { type = "string" } }, {
      { type = "endpoint", conditions = { fn("booleanEquals", ref("A"), ref("B")) }, endpoint = { url = "https://b" } },
      { type = "endpoint", conditions = { fn("stringEquals", ref("S"), ref("S")) }, endpoint = { url = "https://s" } },
      ep("https://none"),
    })
    assert.equal("https://none", rules.resolve(rs, {}).url)
    assert.equal("https://b", rules.resolve(rs, { A = false, B = false }).url)
    assert.equal("https://s", rules.resolve(rs, { S = "" }).url)
  end)

  it("treats a tree whose conditions match as terminal", function()
    local rs = ruleset({}, {
      { type = "tree", conditions = {}, rules = {
        { type = "endpoint", conditions = { fn("booleanEquals", true, false) }, endpoint = { url = "https://in" } },
      } },
      ep("https://after"),
    })
    local r, err = rules.resolve(rs, {})
    assert.is_nil(r)
    assert.equal("EndpointError", err.code)
  end)

  it("reads attributes by path, indexes from 0", function()
    local P = { In = { type = "string" } }
    local arn = "arn:aws:s3:us-west-2:123456789012:accesspoint/my-ap:extra"
    assert.equal("my-ap", value(fn("getAttr", fn("aws.parseArn", ref("In")), "resourceId[1]"), P, { In = arn }))
    assert.equal("accesspoint", value(fn("getAttr", fn("aws.parseArn", ref("In")), "resourceId[0]"), P, { In = arn }))
    assert.equal("unset", select(2, value(fn("getAttr", fn("aws.parseArn", ref("In")), "resourceId[3]"), P, { In = arn })))
    assert.equal("123456789012", value(fn("getAttr", fn("aws.parseArn", ref("In")), "accountId"), P, { In = arn }))
    local rs = assigning(fn("aws.parseArn", ref("In")), "A", "x:{A#resourceId[2]}")
    assert.equal("x:extra", rules.resolve(rs, { In = arn }).url)
  end)

  it("parses ARNs as the rule sets expect", function()
    local P = { In = { type = "string" } }
    local function arn(s, path) return value(fn("getAttr", fn("aws.parseArn", ref("In")), path), P, { In = s }) end
    assert.equal("", arn("arn:aws:s3:::bucket", "region"))
    assert.equal("bucket", arn("arn:aws:s3:::bucket", "resourceId[0]"))
    assert.equal("", arn("arn:aws:s3:::a::b", "resourceId[1]"))
    assert.is_nil(arn("arn:aws:s3:us-east-1:123", "service"))       -- too few parts
    assert.is_nil(arn("arn::s3:us-east-1:123:x", "service"))        -- no partition
    assert.is_nil(arn("arn:aws:s3:us-east-1:123:", "service"))      -- no resource
    assert.is_nil(arn("nope:aws:s3:us-east-1:123:x", "service"))
  end)

  it("takes substrings from either end, refusing out-of-range and non-ASCII input", function()
    local P = { In = { type = "string" } }
    local function s(input, a, b, rev) return value(fn("substring", ref("In"), a, b, rev), P, { In = input }) end
    assert.equal("abc", s("abcdef", 0, 3, false))
    assert.equal("def", s("abcdef", 0, 3, true))
    assert.equal("cd", s("abcdef", 2, 4, false))
    assert.is_nil(s("ab", 0, 3, false))
    assert.is_nil(s("abcdef", 3, 3, false))
    assert.is_nil(s("ab\195\169cdef", 0, 2, false))
  end)

  it("percent-encodes everything but unreserved characters", function()
    local P = { In = { type = "string" } }
    assert.equal("a%2Fb%20c~d-e_f.g%3A%F0%9F%98%80",
      value(fn("uriEncode", ref("In")), P, { In = "a/b c~d-e_f.g:\240\159\152\128" }))
  end)

  it("parses URLs: http(s) only, no query, normalized path, IP hosts", function()
    local P = { In = { type = "string" } }
    local function u(s, attr) return value(fn("getAttr", fn("parseURL", ref("In")), attr), P, { In = s }) end
    assert.equal("https", u("https://example.com:8443/a/b", "scheme"))
    assert.equal("example.com:8443", u("https://example.com:8443/a/b", "authority"))
    assert.equal("/a/b", u("https://example.com:8443/a/b", "path"))
    assert.equal("/a/b/", u("https://example.com:8443/a/b", "normalizedPath"))
    assert.equal("/", u("http://example.com", "normalizedPath"))
    assert.equal("", u("http://example.com", "path"))
    assert.equal("true", u("http://127.0.0.1:80/", "isIp"))
    assert.equal("true", u("http://[::1]:80/", "isIp"))
    assert.is_nil(u("https://example.com/?q=1", "scheme"))
    assert.is_nil(u("ftp://example.com/", "scheme"))
    assert.is_nil(u("example.com", "scheme"))
    assert.is_nil(u("https://example.com:port/", "scheme"))
  end)

  it("checks host labels and virtual-hostable bucket names", function()
    local P = { In = { type = "string" } }
    local function label(s, sub) return value(fn("isValidHostLabel", ref("In"), sub), P, { In = s }) end
    local function bucket(s, sub) return value(fn("aws.isVirtualHostableS3Bucket", ref("In"), sub), P, { In = s }) end
    assert.equal("true", label("us-east-1", false))
    assert.is_nil(label("a.b", false))
    assert.equal("true", label("a.b", true))
    assert.is_nil(label("a..b", true))
    assert.is_nil(label("-a", false))
    assert.is_nil(label(string.rep("a", 64), false))
    assert.equal("true", bucket("my-bucket", false))
    assert.is_nil(bucket("My-Bucket", false))
    assert.is_nil(bucket("ab", false))
    assert.is_nil(bucket("192.168.1.1", true))
    assert.is_nil(bucket("a.b.c", false))
    assert.equal("true", bucket("a.b.c", true))
  end)

  describe("aws.partition", function()
    local P = { In = { type = "string" } }
    local function part(region, attr)
      return value(fn("getAttr", fn("aws.partition", ref("In")), attr), P, { In = region })
    end

    it("finds listed regions, then regions matching a partition's regionRegex, else aws", function()
      assert.equal("aws", part("us-east-1", "name"))
      assert.equal("aws-cn", part("aws-cn-global", "name"))
      assert.equal("aws-cn", part("cn-north-9", "name"))
      assert.equal("amazonaws.com.cn", part("cn-north-9", "dnsSuffix"))
      assert.equal("aws-us-gov", part("us-gov-central-7", "name"))
      assert.equal("aws-iso-b", part("us-isob-west-4", "name"))
      assert.equal("aws-eusc", part("eusc-de-north-2", "name"))
      assert.equal("aws", part("mars-east-1", "name"))
      assert.equal("aws", part("us-east-1x", "name"))
    end)

    it("answers EndpointError for a partitions file it cannot read", function()
      local r, err = rules.resolve(simple, { Region = "x" }, "/nonexistent/partitions.json")
      assert.is_nil(r)
      assert.equal("EndpointError", err.code)
      assert.matches("/nonexistent/partitions.json", err.message, 1, true)
    end)

    it("accepts a decoded table, and a default set once", function()
      local rs = assigning(fn("aws.partition", ref("In")), "Part", "x:{Part#name}")
      local data = { partitions = { { id = "p1", regionRegex = "^p1\\-\\w+$", regions = {},
                                     outputs = { name = "p1", dnsSuffix = "p1.example" } } } }
      assert.equal("x:p1", rules.resolve(rs, { In = "p1-a" }, data).url)
      assert.has_error(function() rules.resolve(rs, { In = "p1-a" }) end)
      assert.is_true(rules.set_partitions(data))
      finally(function() rules.set_partitions(nil) end)
      assert.equal("x:p1", rules.resolve(rs, { In = "p1-a" }).url)
    end)
  end)

  describe("caching", function()
    it("compiles a rule set once", function()
      assert.equal(rules.compile(simple), rules.compile(simple))
    end)

    it("answers a fresh table from a cached resolution", function()
      local a = assert(rules.resolve(simple, { Region = "r", UseFIPS = true }))
      a.url = "changed"
      a.headers["x-a"][1] = "changed"
      a.properties.authSchemes[1].name = "changed"
      local b = assert(rules.resolve(simple, { Region = "r", UseFIPS = true }))
      assert.equal("https://fips.r.example", b.url)
      assert.equal("1", b.headers["x-a"][1])
      assert.equal("sigv4", b.properties.authSchemes[1].name)
    end)

    it("tells parameter sets apart", function()
      local t1 = assert(rules.resolve(simple, { Region = "r", Tags = { "a:b" } }))
      local t2 = assert(rules.resolve(simple, { Region = "r", Tags = { "a", "b" } }))
      assert.equal(t1.url, t2.url)
      assert.equal("https://r.example", rules.resolve(simple, { Region = "r" }).url)
      assert.equal("https://fips.r.example", rules.resolve(simple, { Region = "r", UseFIPS = true }).url)
      assert.equal("https://1|t.example", rules.resolve(simple, { Region = "1|t" }).url)
      assert.equal("https://1.example", rules.resolve(simple, { Region = "1" }).url)
    end)

    it("stays bounded however many parameter sets it sees", function()
      local rs = ruleset({ Region = { type = "string", required = true } },
        { ep("https://{Region}.example", { properties = { pad = string.rep("p", 2000) } }) })
      local function grow(n, from)
        for i = from, from + n - 1 do assert(rules.resolve(rs, { Region = "region-" .. i })) end
        collectgarbage() collectgarbage()
        return collectgarbage("count")
      end
      local base = grow(2000, 0)
      local after = grow(20000, 2000)
      -- unbounded, 20000 more entries would hold over 40 MB of padding
      assert.is_true(after - base < 8 * 1024, string.format("grew %.0f KiB", after - base))
    end)
  end)
end)
