-- Regression: libcurl silently sends a request again when a reused keep-alive connection dies
-- before the answer, so a POST reached the server twice while the retry engine saw one
-- successful attempt (no on_retry, no re-signing, no quota). Clients switch that off: the
-- failure comes back to the retry loop, which counts and re-signs the second attempt.
-- spec/support/httpd.py's /reset-once?key=K resets the first request for K after reading it.
local laws = require "laws"
local proc = require "spec.support.proc"

describe("client calls over a reused connection that dies before the answer", function()
  local srv, c
  setup(function()
    srv = proc.start({ "python3", "spec/support/httpd.py" }, { name = "httpd" })
    c = laws.client{ model = "spec/fixtures/reset_model.json", region = "us-east-1",
                     endpoint = "http://127.0.0.1:" .. srv.port,
                     credentials = { access_key_id = "AKIDRESEND", secret_access_key = "resend/spec/secret" },
                     retry = { max_attempts = 3, base = 0.001 } }
  end)
  teardown(function()
    if c then c:close() end
    if srv then srv.stop() end
  end)

  it("are retried by the retry engine, not re-sent behind its back", function()
    -- warm up: the first key's first request resets a fresh connection (never re-sent by
    -- libcurl); the retried attempt leaves a keep-alive connection in the client's session
    local events = {}
    local r = assert(c:Poke({ Key = "warm" }, { on_retry = function(e) events[#events + 1] = e end }))
    assert.equal(2, r.hits)
    assert.equal(1, #events)
    -- now the reset hits a reused connection
    events = {}
    r = assert(c:Poke({ Key = "reused" }, { on_retry = function(e) events[#events + 1] = e end }))
    assert.equal(2, r.hits)  -- the server saw both requests
    assert.equal(1, #events, "the retry engine must see the first attempt fail")
    assert.equal(1, events[1].attempt)
    assert.truthy(events[1].code == "GOT_NOTHING" or events[1].code == "RECV_ERROR", events[1].code)
  end)
end)
