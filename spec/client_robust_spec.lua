-- Answers the client cannot trust: truncated, garbled or hostile bodies and headers must
-- come back as `nil, err` (or a partial result), never as a raised error or a crash.
local fake = require "spec.support.client_fake"
local errors = require "laws.errors"

local rec
after_each(function() if rec then rec.restore(); rec = nil end end)

local GOOD = {
  connectcases = { op = "GetCase", params = { domainId = "d", caseId = "c", fields = { { id = "title" } } },
    body = '{"fields":[{"id":"title","value":{"stringValue":"x"}}],"templateId":"t","tags":{"a":"b"},"nextToken":null}' },
  dynamodb = { op = "Query", params = { TableName = "t" },
    body = '{"Count":1,"Items":[{"pk":{"S":"a"},"b":{"B":"aGk="},"m":{"M":{"x":{"L":[{"N":"1"}]}}}}],"ScannedCount":1}' },
  sts = { op = "GetCallerIdentity", params = {},
    body = "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>a</Arn><UserId>u</UserId><Account>1</Account>"
      .. "</GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>" },
}

-- A deterministic byte generator (the spec must not depend on luck).
local function lcg(seed)
  local x = seed
  return function(n)
    x = (x * 1103515245 + 12345) % 2147483648
    return x % n
  end
end

local function variants(body, rnd)
  local out = { "", " ", "null", "[]", "{", "<", "<<<>>>", "\0\255\254", '{"__type":', string.rep("[", 5000) }
  for cut = 1, #body - 1, math.max(1, math.floor(#body / 25)) do out[#out + 1] = body:sub(1, cut) end
  for _ = 1, 40 do
    local b = { body:byte(1, -1) }
    for _ = 1, 3 do b[rnd(#b) + 1] = rnd(256) end
    out[#out + 1] = string.char((table.unpack or unpack)(b))
  end
  return out
end

describe("hostile answers", function()
  for service, g in pairs(GOOD) do
    it(service .. ": truncated and garbled bodies give a result or nil, err; never raise", function()
      local rnd = lcg(#service)
      local c = fake.client(service, { retry = { max_attempts = 1 } })
      for _, status in ipairs{ 200, 400, 500 } do
        for _, body in ipairs(variants(g.body, rnd)) do
          rec = fake.script{ { status = status, headers = { ["x-amzn-errortype"] = body:sub(1, 20) }, body = body } }
          local ok, r, err = pcall(c.call, c, g.op, g.params)
          rec.restore(); rec = nil
          assert.is_true(ok, "raised on status " .. status .. " body " .. string.format("%q", body) .. ": " .. tostring(r))
          if r == nil then
            assert.is_true(errors.is(err), "not a laws error for " .. string.format("%q", body))
            assert.is_string(err.code)
            assert.equal(status, err.status)
          else
            assert.equal(200, status)
            assert.is_table(r)
          end
        end
      end
    end)
  end

  it("header-bound members with garbage values do not raise", function()
    rec = fake.script{ { status = 200, headers = { ["x-size"] = "not a number", ["x-fresh"] = "maybe", etag = { "a", "b" } },
                         body = "x" } }
    local c = fake.client(nil, { model = "spec/fixtures/restjson_model.json", endpoint = "http://127.0.0.1:9" })
    local r = assert(c:PutObject{ Bucket = "b", Key = "k" })
    assert.is_nil(r.Size)
    assert.is_false(r.Fresh)
  end)
end)
