-- Re-entrant encoding: a params table whose metamethods make another laws call while it is
-- being encoded (and that call yielding inside a laws.async task, letting a third call encode)
-- must not mix the bodies. spec/support/httpd.py's /echo answers the body it received.
local laws = require "laws"
local async = require "laws.async"
local proc = require "spec.support.proc"
local cjson = require "cjson"

describe("a params table that makes another call while being encoded", function()
  local srv, c
  setup(function()
    srv = proc.start({ "python3", "spec/support/httpd.py" }, { name = "httpd" })
    c = laws.client{ model = "spec/fixtures/echo_model.json", region = "us-east-1",
                     endpoint = "http://127.0.0.1:" .. srv.port,
                     credentials = { access_key_id = "AKIDECHO", secret_access_key = "echo/spec/secret" },
                     retry = { max_attempts = 1 } }
  end)
  teardown(function()
    if c then c:close() end
    if srv then srv.stop() end
  end)

  -- Params { A = tag, C = tag } whose absent member B, read only by the encoder, runs `inner`.
  local function params_calling(tag, inner)
    local done = false
    return setmetatable({ A = tag, C = tag }, { __index = function(_, k)
      if k == "B" and not done then
        done = true
        inner()
      end
    end })
  end

  local function sent_body(r)
    assert(r, "call failed")
    return r.body
  end

  it("sends each call's own body (nested calls)", function()
    local inner_body
    local p = params_calling("outer", function()
      inner_body = sent_body(c:Echo{ A = "inner", C = "inner", Nested = { A = "deep" } })
    end)
    local outer_body = sent_body(c:Echo(p))
    assert.equal('{"A":"outer","C":"outer"}', outer_body)
    assert.equal('{"A":"inner","C":"inner","Nested":{"A":"deep"}}', inner_body)
    -- and the next call after them is whole as well
    assert.equal('{"A":"after"}', sent_body(c:Echo{ A = "after" }))
  end)

  it("sends each call's own body when the inner call yields in a laws.async task and another task encodes meanwhile", function()
    local bodies, inner_started = {}, false
    async.run(function()
      local a = async.spawn(function()
        local p = params_calling("outer", function()
          inner_started = true
          -- the transfer yields this task: task b runs and encodes while "outer" is half written
          bodies.inner = sent_body(c:Echo{ A = "inner", C = "inner" })
        end)
        bodies.outer = sent_body(c:Echo(p))
      end)
      local b = async.spawn(function()
        while not inner_started do async.sleep(0.001) end
        bodies.other = sent_body(c:Echo{ A = "other", B = "other", C = "other" })
      end)
      async.gather{ a, b }
    end)
    assert.equal('{"A":"outer","C":"outer"}', bodies.outer)
    assert.equal('{"A":"inner","C":"inner"}', bodies.inner)
    assert.equal('{"A":"other","B":"other","C":"other"}', bodies.other)
  end)

  it("keeps bodies whole when many tasks nest calls at once", function()
    local bodies, n = {}, 20
    async.run(function()
      local tasks = {}
      for i = 1, n do
        tasks[i] = async.spawn(function()
          local p = params_calling("o" .. i, function()
            bodies["i" .. i] = sent_body(c:Echo{ A = "i" .. i })
          end)
          bodies["o" .. i] = sent_body(c:Echo(p))
        end)
      end
      async.gather(tasks)
    end)
    for i = 1, n do
      assert.same({ A = "o" .. i, C = "o" .. i }, cjson.decode(bodies["o" .. i]))
      assert.same({ A = "i" .. i }, cjson.decode(bodies["i" .. i]))
    end
  end)
end)
