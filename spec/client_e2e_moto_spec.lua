-- End to end against moto (an AWS emulator independent of this project) with
-- authentication enforced: DynamoDB and STS through laws.client, then a wrong secret.
local laws = require "laws"
local json = require "laws.json"
local servers = require "spec.support.servers"

local srv, base, key
local TABLE = "laws-spec-" .. require("laws.core").uuid4()

setup(function()
  srv = servers.moto()  -- moto with IAM auth enforced; fails with a how-to when moto is missing
  key = srv.credentials
  base = srv.url
end)

local function client(service, secret)
  return laws.client(service, { region = "us-east-1", endpoint = base, retry = { max_attempts = 1 },
    credentials = { access_key_id = key.access_key_id, secret_access_key = secret or key.secret_access_key } })
end

describe("DynamoDB and STS against moto with auth enforced", function()
  it("STS GetCallerIdentity names the IAM user", function()
    local r = assert(client("sts"):GetCallerIdentity{})
    assert.matches("^arn:aws:iam::%d+:user/laws$", r.Arn)
    assert.matches("^%d+$", r.Account)
    assert.is_string(r.ResponseMetadata.RequestId)
  end)

  it("DynamoDB CreateTable, PutItem, GetItem, Query keep {} and [] apart", function()
    local d = client("dynamodb")
    local t = assert(d:CreateTable{ TableName = TABLE, BillingMode = "PAY_PER_REQUEST",
      KeySchema = { { AttributeName = "pk", KeyType = "HASH" }, { AttributeName = "sk", KeyType = "RANGE" } },
      AttributeDefinitions = { { AttributeName = "pk", AttributeType = "S" }, { AttributeName = "sk", AttributeType = "N" } } })
    assert.equal(TABLE, t.TableDescription.TableName)
    for i = 1, 3 do
      assert(d:PutItem{ TableName = TABLE, Item = { pk = { S = "case" }, sk = { N = tostring(i) },
        empty_map = { M = {} }, empty_list = { L = {} }, flag = { BOOL = i == 2 } } })
    end
    local g = assert(d:GetItem{ TableName = TABLE, Key = { pk = { S = "case" }, sk = { N = "2" } } })
    assert.equal('{"Item":{"empty_list":{"L":[]},"empty_map":{"M":{}},"flag":{"BOOL":true},"pk":{"S":"case"},"sk":{"N":"2"}}}',
      json.encode(g))
    local q = assert(d:Query{ TableName = TABLE, KeyConditionExpression = "pk = :p AND sk >= :s",
      ExpressionAttributeValues = { [":p"] = { S = "case" }, [":s"] = { N = "2" } } })
    assert.equal(2, q.Count)
    if math.type then assert.equal("integer", math.type(q.Count)) end
    assert.equal("2", q.Items[1].sk.N)
    assert.equal("3", q.Items[2].sk.N)
    local missing, err = d:GetItem{ TableName = "no-such-table", Key = { pk = { S = "x" } } }
    assert.is_nil(missing)
    assert.equal("ResourceNotFoundException", err.code)
    assert.equal(400, err.status)
  end)

  it("refuses the same calls with a wrong secret: SignatureDoesNotMatch", function()
    local wrong = "wrong/secret/0123456789abcdefghijklmnopq"
    local r, err = client("dynamodb", wrong):GetItem{ TableName = TABLE, Key = { pk = { S = "case" }, sk = { N = "2" } } }
    assert.is_nil(r)
    assert.equal("SignatureDoesNotMatch", err.code)
    assert.equal(403, err.status)
    r, err = client("sts", wrong):GetCallerIdentity{}
    assert.is_nil(r)
    assert.equal("SignatureDoesNotMatch", err.code)
    assert.equal(403, err.status)
    assert.is_string(err.request_id)
    assert.is_nil(tostring(err):find(wrong, 1, true))
  end)
end)
