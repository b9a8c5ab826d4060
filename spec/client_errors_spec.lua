-- Error answers -> laws errors: code, message, status, request id, headers, attempts.
local fake = require "spec.support.client_fake"
local errors = require "laws.errors"

local REST = "spec/fixtures/restjson_model.json"
local QUERY = "spec/fixtures/query_model.json"
local NO_RETRY = { max_attempts = 1 }

local rec
after_each(function() if rec then rec.restore(); rec = nil end end)

local function call_with(res, service, opts)
  rec = fake.script{ res }
  local c = fake.client(service or "connectcases", opts)
  local r, err
  if service == "sts" then r, err = c:GetCallerIdentity({}, { retry = NO_RETRY })
  elseif service == "dynamodb" then r, err = c:DescribeTable({ TableName = "t" }, { retry = NO_RETRY })
  elseif opts and opts.model == QUERY then r, err = c:SendBatch({ QueueName = "q" }, { retry = NO_RETRY })
  elseif opts and opts.model then r, err = c:PutConfig({ Id = "i" }, { retry = NO_RETRY })
  else r, err = c:GetCase({ domainId = "d", caseId = "c", fields = {} }, { retry = NO_RETRY }) end
  assert.is_nil(r)
  assert.is_true(errors.is(err))
  return err
end

describe("JSON error answers", function()
  it("prefers X-Amzn-ErrorType, stripping the suffix after ':'", function()
    local e = call_with{ status = 404, headers = { ["x-amzn-errortype"] = "ResourceNotFoundException:http://internal.amazon.com/coral/",
      ["x-amzn-requestid"] = "rid-1", ["content-type"] = "application/json" },
      body = '{"__type":"Other","message":"Case not found"}' }
    assert.equal("ResourceNotFoundException", e.code)
    assert.equal("Case not found", e.message)
    assert.equal(404, e.status)
    assert.equal("rid-1", e.request_id)
    assert.equal(1, e.attempts)
    assert.equal("application/json", e.headers["content-type"])
    assert.matches("^ResourceNotFoundException: Case not found %(status 404, request id rid%-1, attempts 1%)$", tostring(e))
  end)

  it("falls back to body __type (namespace before # stripped), then code, then Code", function()
    local e = call_with({ status = 400, headers = { ["x-amz-request-id"] = "r2" },
      body = '{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",'
        .. '"Message":"Requested resource not found"}' }, "dynamodb")
    assert.equal("ResourceNotFoundException", e.code)
    assert.equal("Requested resource not found", e.message)
    assert.equal("r2", e.request_id)
    assert.equal("ValidationException", call_with{ status = 400, body = '{"code":"ValidationException:extra","message":"bad"}' }.code)
    assert.equal("ConflictException", call_with{ status = 409, body = '{"Code":"aws#ConflictException","Message":"x"}' }.code)
  end)

  it("marks errors the model calls retryable and throttling (for the retry strategy)", function()
    local e = call_with{ status = 429, body = '{"__type":"ThrottlingException","message":"slow down"}' }
    assert.is_true(e.modeled_retryable)
    local e2 = call_with({ status = 503, body = '{"__type":"SlowDownException"}' }, nil, { model = REST, endpoint = "http://127.0.0.1:9" })
    assert.is_true(e2.modeled_retryable)
    assert.is_true(e2.modeled_throttling)
  end)

  it("gives a useful error for a non-JSON or truncated body: HTTP<status> and an excerpt", function()
    local e = call_with{ status = 502, headers = { ["content-type"] = "text/html" }, body = "<html><body>Bad Gateway</body></html>" }
    assert.equal("HTTP502", e.code)
    assert.equal(502, e.status)
    assert.matches("Bad Gateway", e.message)
    local t = call_with{ status = 500, body = '{"__type":"InternalServerExcep' }
    assert.equal("HTTP500", t.code)
    assert.matches("unreadable error answer", t.message)
    local empty = call_with{ status = 503, body = "" }
    assert.equal("HTTP503", empty.code)
    assert.equal("HTTP status 503", empty.message)
  end)

  it("reads an XML error document answered to a JSON API (front ends, emulators)", function()
    local e = call_with({ status = 403, headers = { ["x-amzn-requestid"] = "r-x" }, body = '<?xml version="1.0"?>\n'
      .. "<ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code><Message>sig</Message></Error>"
      .. "</Errors></ErrorResponse>" }, "dynamodb")
    assert.equal("SignatureDoesNotMatch", e.code)
    assert.equal("sig", e.message)
    assert.equal("r-x", e.request_id)
  end)

  it("uses the model's error for the status when the answer names none", function()
    local e = call_with({ status = 410, body = "" }, nil, { model = REST, endpoint = "http://127.0.0.1:9" })
    assert.equal("WidgetGone", e.code)
  end)

  it("reports an unparsable 2xx body as ResponseParseError", function()
    local e = call_with{ status = 200, headers = { ["x-amzn-requestid"] = "r3" }, body = '{"case":{"fields":[' }
    assert.equal("ResponseParseError", e.code)
    assert.equal(200, e.status)
    assert.equal("r3", e.request_id)
  end)
end)

describe("XML error answers (query protocol)", function()
  it("reads Code, Message and RequestId", function()
    local e = call_with({ status = 403, body = [[<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>
    <Message>The security token included in the request is invalid.</Message></Error>
  <RequestId>4f3b-rid</RequestId></ErrorResponse>]] }, "sts")
    assert.equal("InvalidClientTokenId", e.code)
    assert.equal("The security token included in the request is invalid.", e.message)
    assert.equal("4f3b-rid", e.request_id)
    assert.equal(403, e.status)
  end)

  it("finds modelled error codes with dots and survives HTML", function()
    local e = call_with({ status = 400,
      body = "<ErrorResponse><Error><Code>AWS.SimpleQueueService.NonExistentQueue</Code></Error></ErrorResponse>" },
      nil, { model = QUERY, endpoint = "http://127.0.0.1:9" })
    assert.equal("AWS.SimpleQueueService.NonExistentQueue", e.code)
    local h = call_with({ status = 500, body = "Internal <b>oops" }, "sts")
    assert.equal("HTTP500", h.code)
    assert.matches("oops", h.message)
  end)
end)

describe("secrets", function()
  it("never shows the secret key in an error even when the server echoes it", function()
    local e = call_with{ status = 400,
      body = '{"__type":"ValidationException","message":"bad key ' .. fake.creds.secret_access_key .. '"}' }
    assert.is_nil(tostring(e):find(fake.creds.secret_access_key, 1, true))
    assert.is_nil(e.message:find(fake.creds.secret_access_key, 1, true))
  end)
end)
