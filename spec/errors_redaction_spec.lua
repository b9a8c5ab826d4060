-- A service (or a proxy) that echoes the request back in its error answer - in the message,
-- the body, and the request id header - must not make a client error show the secret key or
-- the session token: not in tostring(err), not in any field (request id and the answer's
-- headers included), not in the on_retry events.
local laws = require "laws"
local proc = require "spec.support.proc"

local function dump(v, seen)
  seen = seen or {}
  if type(v) == "string" then return v end
  if type(v) ~= "table" then return tostring(v) end
  if seen[v] then return "<cycle>" end
  seen[v] = true
  local parts = {}
  for k, x in pairs(v) do parts[#parts + 1] = dump(k, seen) .. "=" .. dump(x, seen) end
  local mt = getmetatable(v)
  if type(mt) == "table" and mt.__tostring then parts[#parts + 1] = tostring(v) end
  return "{" .. table.concat(parts, ",") .. "}"
end

local SECRET, TOKEN = "spec-SECRET-0123456789abcdef", "spec-TOKEN-abcdefghij0123456789"

describe("secrets in client errors from an echoing service", function()
  local srv, url
  setup(function()
    srv = proc.start({ "python3", "spec/support/echo_errors.py" }, { name = "echo errors" })
    url = "http://127.0.0.1:" .. srv.port
  end)
  teardown(function() srv.stop() end)

  local ops = { dynamodb = "ListTables", sts = "GetCallerIdentity", connectcases = "ListDomains" }
  for svc, op in pairs(ops) do
    it(svc .. ": the echo reaches the error, the token and the key do not", function()
      local events = {}
      local c = laws.client(svc, { region = "us-east-1", endpoint = url .. "/throttle",
        credentials = { access_key_id = "AKIDSPEC", secret_access_key = SECRET, session_token = TOKEN },
        retry = { max_attempts = 2 }, on_retry = function(e) events[#events + 1] = e end })
      local res, err = c:call(op, {})
      assert.is_nil(res)
      assert.is_table(err)
      -- the test is only meaningful if the echo came back: the access key id is not secret
      local text = dump(err) .. tostring(err) .. dump(events) .. tostring(c)
      assert.truthy(text:find("AKIDSPEC", 1, true), "the server did not echo the request")
      assert.is_nil(text:find(TOKEN, 1, true), "the session token leaked")
      assert.is_nil(text:find(SECRET, 1, true), "the secret key leaked")
      assert.is_nil(tostring(err.request_id):find(TOKEN, 1, true))
      c:close()
    end)
  end
end)

describe("laws.errors redacts every echoing field", function()
  it("redacts the request id and the answer's headers (single and repeated)", function()
    local errors = require "laws.errors"
    errors.register_secret(TOKEN)
    local e = errors.new{ code = "X", message = "m " .. TOKEN, request_id = "rid " .. TOKEN,
                          headers = { ["x-echo"] = TOKEN, ["x-list"] = { "a", TOKEN } } }
    local text = dump(e) .. tostring(e)
    assert.is_nil(text:find(TOKEN, 1, true))
    assert.equal("rid <redacted>", e.request_id)
    assert.equal("<redacted>", e.headers["x-list"][2])
  end)
end)
