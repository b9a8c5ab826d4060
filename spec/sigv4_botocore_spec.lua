-- laws.sigv4 against an independent signer: botocore (spec/support/botocore_sign.py)
-- signs the same requests; canonical request, string to sign and signature must match.
local sigv4 = require "laws.sigv4"
local cjson = require "cjson"
local suite = require "spec.support.sigv4_suite"

local function botocore(cases)
  local input = os.tmpname()
  local f = assert(io.open(input, "wb"))
  f:write(cjson.encode(cases))
  f:close()
  local p = assert(io.popen("python3 spec/support/botocore_sign.py < " .. input .. " 2>&1"))
  local out = p:read("*a")
  p:close()
  os.remove(input)
  local ok, res = pcall(cjson.decode, out)
  assert(ok and type(res) == "table",
    "botocore reference signer failed (python3 with botocore is needed): " .. out:sub(1, 600))
  return res
end

local T = 1764153000 -- 2025-11-26T10:30:00Z
local CREDS = { access_key_id = "AKIDLAWSTEST", secret_access_key = "c2VjcmV0/LAWS+test/key",
                session_token = "FwoGZXIvYXdzEXAMPLE//token+with/slashes==" }

local function hlist(h)
  local out = {}
  for k, v in pairs(h or {}) do out[#out + 1] = { k, v } end
  table.sort(out, function(a, b) return a[1] < b[1] end)
  return out
end

local CASES = {
  { name = "Connect Cases SearchCases (POST, JSON body, token)",
    req = { method = "POST", url = "https://cases.us-east-1.amazonaws.com/domains/1b2c3d4e-aaaa-bbbb-cccc-123456789012/cases-search",
            headers = { ["Content-Type"] = "application/json", ["X-Amz-User-Agent"] = "laws/0.1" },
            body = '{"maxResults":25,"filter":{"field":{"equalTo":{"id":"status","value":{"stringValue":"open"}}}}}' },
    opts = { service = "cases", region = "us-east-1" } },
  { name = "query string with spaces, reserved characters and repeated keys",
    req = { method = "GET", url = "https://dynamodb.eu-west-1.amazonaws.com/a/b?z=1&a=x%20y&a=%2Fslash&empty=&k=%E2%82%AC",
            headers = { ["X-Custom"] = "  spaced    out   value  " } },
    opts = { service = "dynamodb", region = "eu-west-1" } },
  { name = "path with characters that need encoding",
    req = { method = "PUT", url = "https://example.amazonaws.com/a%20b/c:d@e/f~g_h-i.j",
            headers = { ["Content-Type"] = "text/plain" }, body = "hello" },
    opts = { service = "example", region = "ap-southeast-2" } },
  { name = "S3 PUT: no normalisation, single encoding, x-amz-content-sha256 (S3SigV4Auth)",
    mode = "s3",
    req = { method = "PUT", url = "https://bucket.s3.us-west-2.amazonaws.com/photos//2025%2F11/./a%20b%2Bc~.jpg?versionId=3",
            headers = { ["Content-Type"] = "image/jpeg" }, body = "\255\216\255 not really a jpeg" },
    opts = { service = "s3", region = "us-west-2", normalize_path = false, double_encode = false,
             content_sha256_header = true } },
  { name = "presigned GET with an existing query",
    mode = "query", expires = 300,
    req = { method = "GET", url = "https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15" },
    opts = { service = "sts", region = "us-east-1", expires = 300 } },
}

describe("laws.sigv4 matches botocore", function()
  local refs
  setup(function()
    local input = {}
    for i, c in ipairs(CASES) do
      input[i] = { method = c.req.method, url = c.req.url, headers = hlist(c.req.headers), body = c.req.body or "",
                   akid = CREDS.access_key_id, secret = CREDS.secret_access_key, token = CREDS.session_token,
                   service = c.opts.service, region = c.opts.region, time = T, mode = c.mode, expires = c.expires }
    end
    input[#input + 1] = { method = "PUT", url = "https://bucket.example.amazonaws.com/big", headers = {},
                          body_rep = { "0123456789abcdef", 3276800 },
                          akid = CREDS.access_key_id, secret = CREDS.secret_access_key,
                          service = "example", region = "us-east-1", time = T }
    refs = botocore(input)
  end)

  for i, c in ipairs(CASES) do
    it(c.name, function()
      local opts = {}
      for k, v in pairs(c.opts) do opts[k] = v end
      opts.time = T
      local ref = refs[i]
      if c.mode == "query" then
        local url, d = sigv4.presign(c.req, CREDS, opts)
        assert.are.equal(suite.hide_token(ref.canonical_request, CREDS.session_token, sigv4.TOKEN_MARKER), d.canonical_request)
        assert.are.equal(ref.string_to_sign, d.string_to_sign)
        assert.are.equal(ref.signature, d.signature)
        -- same parameters; their order in the URL is free (botocore's is not sorted)
        local function params(u)
          local base, q = u:match("^([^?]*)%?(.*)$")
          local t = {}
          for p in q:gmatch("[^&]+") do t[#t + 1] = p end
          table.sort(t)
          return base, t
        end
        local rb, rp = params(ref.url)
        local gb, gp = params(url)
        assert.are.equal(rb, gb)
        assert.are.same(rp, gp)
      else
        local signed, d = sigv4.sign(c.req, CREDS, opts)
        assert.are.equal(suite.hide_token(ref.canonical_request, CREDS.session_token, sigv4.TOKEN_MARKER), d.canonical_request)
        assert.are.equal(ref.string_to_sign, d.string_to_sign)
        assert.are.equal(ref.signature, d.signature)
        assert.are.equal(ref.headers.Authorization, signed.headers.Authorization)
      end
    end)
  end

  it("a 50 MB body", function()
    local body = string.rep("0123456789abcdef", 3276800)
    local ref = refs[#CASES + 1]
    local signed, d = sigv4.sign({ method = "PUT", url = "https://bucket.example.amazonaws.com/big", body = body },
      { access_key_id = CREDS.access_key_id, secret_access_key = CREDS.secret_access_key },
      { service = "example", region = "us-east-1", time = T })
    assert.are.equal(#body, #signed.body)
    assert.are.equal(ref.canonical_request, d.canonical_request)
    assert.are.equal(ref.signature, d.signature)
  end)
end)

-- Path normalisation (remove_dot_segments, "//" collapsed) against botocore: the paths that
-- end in a dot segment, then a few hundred random ones over an alphabet rich in '/', '.', '%'.
describe("laws.sigv4 normalises paths as botocore does", function()
  local DOT_PATHS = { "/a/b/.", "/a/b/..", "/a/b/./", "/a/b/../", "/.", "/..", "/a/.", "/a/..", "/a/b/c/../..",
                      "/a/./b/.", "//a//b//.", "/a/b/%2E", "/a/b/...", "/./", "/../.." }
  local SEED = 20261203
  local ALPHABET = { "/", "/", "/", ".", ".", ".", "%", "%2F", "%2E", "a", "b", "Z", "~", "-", "_", "1" }
  local function random_paths(n)
    math.randomseed(SEED)
    local out = {}
    for i = 1, n do
      local parts = { "/" }
      for j = 2, math.random(1, 14) do parts[j] = ALPHABET[math.random(#ALPHABET)] end
      out[i] = table.concat(parts)
    end
    return out
  end
  local creds = { access_key_id = "AKIDLAWSTEST", secret_access_key = "c2VjcmV0/LAWS+test/key" }
  local opts = { service = "example", region = "us-east-1", time = T }

  local function compare(paths)
    local input = {}
    for i, p in ipairs(paths) do
      input[i] = { method = "GET", url = "https://example.amazonaws.com" .. p, headers = {}, body = "",
                   akid = creds.access_key_id, secret = creds.secret_access_key,
                   service = "example", region = "us-east-1", time = T }
    end
    local refs = botocore(input)
    local bad = {}
    for i, p in ipairs(paths) do
      local _, d = sigv4.sign({ method = "GET", url = input[i].url }, creds, opts)
      local ours, theirs = d.canonical_request:match("^GET\n([^\n]*)"), refs[i].canonical_request:match("^GET\n([^\n]*)")
      if ours ~= theirs or d.signature ~= refs[i].signature then
        bad[#bad + 1] = ("%q: laws %q, botocore %q"):format(p, tostring(ours), tostring(theirs))
      end
    end
    assert(#bad == 0, #bad .. " of " .. #paths .. " paths differ (seed " .. SEED .. "):\n"
      .. table.concat(bad, "\n", 1, math.min(#bad, 20)))
  end

  it("drops the trailing slash after a final dot segment (/a/b/. -> /a/b)", function()
    compare(DOT_PATHS)
  end)

  it("matches botocore on 400 random paths of '/', '.', '%' and letters", function()
    compare(random_paths(400))
  end)
end)
