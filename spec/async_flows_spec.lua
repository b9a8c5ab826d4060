-- A thousand concurrent create-and-wait flows against the Connect Cases stand-in, from one
-- thread: client calls and waiter sleeps yield inside laws.async tasks, unchanged code.
local proc = require "spec.support.proc"
local async = require "laws.async"
local runtime = require "laws.runtime"
local json = require "cjson"
local flows = require "bench.async_flows"

local srv, endpoint

local function control(path)
  local res = assert(require("laws.http").request{ url = endpoint .. "/_standin" .. path })
  assert.equal(200, res.status)
  return json.decode(res.body)
end

describe("laws.async with the Connect Cases stand-in", function()
  setup(function()
    srv = proc.start({ "python3", "spec/support/standin.py", "--lag", "1.5" }, { name = "standin" })
    endpoint = "http://127.0.0.1:" .. srv.port
  end)
  teardown(function() srv.stop() end)

  it("completes 1000 concurrent create-and-wait flows, each case created once and visible", function()
    local c = flows.client(endpoint)
    local domain, template, field = flows.setup(c)
    local before = control("/stats")
    local n = 1000
    local ids, errs, seen = {}, {}, {}
    local t0 = runtime.now()
    async.run(function()
      for i = 1, n do
        async.spawn(function()
          local id, err = flows.flow(c, domain, template, field, i)
          if id then ids[#ids + 1] = id else errs[#errs + 1] = tostring(err) end
        end)
      end
    end)
    local wall = runtime.now() - t0
    assert.same({}, errs)
    assert.equal(n, #ids)
    for _, id in ipairs(ids) do
      assert.is_nil(seen[id], "case id returned twice")
      seen[id] = true
    end
    local after = control("/stats")
    assert.equal(n, after.cases_created - (before.cases_created or 0))
    assert.equal(0, after.signature_failures_total)
    -- each flow's GetCase calls: not-found while the case lagged (how many depends on how fast
    -- the stand-in works through the creates queued before them), then one success
    local gets = after.operations.GetCase - (before.operations.GetCase or 0)
    local notfound = (after.errors.ResourceNotFoundException or 0) - ((before.errors or {}).ResourceNotFoundException or 0)
    assert.equal(n + notfound, gets)
    -- a case is visible 1.5 s after its creation: no flow can end sooner (nothing returned
    -- early); one after another, 1000 flows would take over 1500 s
    assert.is_true(wall >= 1.5 and wall < 60, "wall " .. wall)
    assert.equal(0, async.stats().tasks)
  end)
end)
