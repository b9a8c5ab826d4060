-- The Lua side of bench/25-client.sh. Against a local keep-alive server answering a small
-- DynamoDB-style JSON item, per call in microseconds:
--   raw   laws.http.request POST with a signed-size body (the transport alone)
--   full  dynamodb:GetItem through laws.client (validate, JSON encode, SigV4 sign, send, decode)
--   local the same client call with the transport replaced by a canned answer (no I/O):
--         what laws adds on top of HTTP
-- On a loaded machine full - raw can exceed `local`: a request sent right after CPU work
-- waits longer for the server process to be scheduled (seen on the 2-core build box).
-- Usage: lua5.4 bench/client_lua.lua <url> <n>. Prints one line per measure.
local laws = require "laws"
local runtime = require "laws.runtime"
local core = require "laws.core"
local url, n = arg[1], tonumber(arg[2])

local creds = { access_key_id = "AKIDBENCH", secret_access_key = "bench/secret/KEY0123456789abcdefghijklmn" }
local c = laws.client("dynamodb", { region = "us-east-1", endpoint = url, credentials = creds, retry = { max_attempts = 1 } })
local params = { TableName = "cases", Key = { pk = { S = "case#1" }, sk = { N = "1" } }, ConsistentRead = true }
local body = '{"ConsistentRead":true,"Key":{"pk":{"S":"case#1"},"sk":{"N":"1"}},"TableName":"cases"}'
local headers = { ["Content-Type"] = "application/x-amz-json-1.0", ["X-Amz-Target"] = "DynamoDB_20120810.GetItem" }

local function timed(label, fn)
  for _ = 1, 300 do fn() end
  local best = math.huge
  for _ = 1, 3 do
    local t0 = core.monotonic()
    for _ = 1, n do fn() end
    best = math.min(best, (core.monotonic() - t0) / n)
  end
  io.write(("%s %.1f\n"):format(label, best * 1e6))
  return best
end

timed("raw", function()
  local res = laws.http.request{ method = "POST", url = url .. "/", headers = headers, body = body }
  assert(res and res.status == 200)
end)
timed("full", function()
  local r = assert(c:GetItem(params))
  assert(r.Item.n.N == "42")
end)
local canned = { status = 200, headers = { ["content-type"] = "application/x-amz-json-1.0" },
  body = '{"Item":{"pk":{"S":"case#1"},"sk":{"N":"1"},"title":{"S":"Printer on fire"},"tags":{"M":{}},'
    .. '"notes":{"L":[]},"open":{"BOOL":true},"n":{"N":"42"}}}' }
local prev = runtime.use(runtime.override{
  request = function() return { status = canned.status, headers = canned.headers, body = canned.body } end })
timed("local", function()
  local r = assert(c:GetItem(params))
  assert(r.Item.n.N == "42")
end)
runtime.use(prev)
