-- The test infrastructure itself: the Connect Cases / Customer Profiles stand-in and moto with
-- auth enforced, checked by REAL boto3 clients (spec/support/standin_selftest.py). Each TAP line
-- of the selftest becomes one test here, so a failure is visible by name.
local servers = require "spec.support.servers"
local proc = require "spec.support.proc"

local function run_selftest(args)
  local cmd = "env -u LD_PRELOAD python3 spec/support/standin_selftest.py"
  for _, a in ipairs(args) do cmd = cmd .. " " .. proc.quote(a) end
  local f = assert(io.popen(cmd .. " 2>&1", "r"))
  local out = f:read("*a")
  f:close()
  local tests, current = {}, nil
  for line in out:gmatch("[^\n]+") do
    local ok, name = line:match("^(n?o?t? ?ok) %d+ %- (.*)$")
    if ok then
      current = { name = name, ok = (ok == "ok"), detail = {} }
      tests[#tests + 1] = current
    elseif current and line:match("^#") then
      current.detail[#current.detail + 1] = line
    end
  end
  return tests, out
end

local function as_its(tests, out, what)
  if #tests == 0 then
    it(what .. " selftest produced TAP lines", function()
      error("no TAP output from standin_selftest.py:\n" .. out)
    end)
  end
  for _, t in ipairs(tests) do
    it(t.name, function()
      assert(t.ok, table.concat(t.detail, "\n"))
    end)
  end
end

describe("stand-in checked by boto3", function()
  local srv = servers.standin{}
  local tests, out = run_selftest{ "--url", srv.url }
  as_its(tests, out, "stand-in")
  srv.stop()
end)

describe("moto with authentication enforced, checked by boto3", function()
  local m = servers.moto()
  local tests, out = run_selftest{ "--moto-url", m.url, "--moto-key", m.access_key_id .. ":" .. m.secret_access_key }
  as_its(tests, out, "moto")
  m.stop()
end)

describe("spec/support/servers.lua", function()
  it("reuses one stand-in per key set, applies lag at run time, and stops it", function()
    local a = servers.standin{ key = "AKIDSPEC:spec/secret" }
    local b = servers.standin{ key = "AKIDSPEC:spec/secret", lag = { median = 0.1, p95 = 1, seed = 3 } }
    assert.equal(a.port, b.port)
    assert.equal("AKIDSPEC", b.access_key_id)
    assert.equal("spec/secret", b.credentials.secret_access_key)
    local lag = b.control("GET", "/lag")
    assert.equal(0.1, lag.cases.median)
    assert.equal(3, lag.profiles.seed)
    local c = servers.standin{ key = "AKIDSPEC:spec/secret", fresh = true }
    assert.are_not.equal(a.port, c.port)
    c.stop()
    local d = servers.standin{}   -- default keys: another process
    assert.are_not.equal(c.port, d.port)
    assert.equal(servers.DEFAULT_KEY.access_key_id, d.access_key_id)
    d.stop()
  end)

  it("control(): faults, stats and reset through curl", function()
    local s = servers.standin{}
    local id = s.fault{ kind = "error", op = "GetCase", status = 503, count = 2 }
    assert.is_number(id)
    local rules = s.control("GET", "/faults").rules
    assert.equal(1, #rules)
    assert.equal(503, rules[1].status)
    local st = s.stats()
    assert.equal(0, st.cases_created)
    s.reset()
    assert.equal(0, #s.control("GET", "/faults").rules)
    local _, status = s.control("GET", "/nope")
    assert.equal(400, status)
    s.stop()
  end)

  it("a stopped stand-in no longer answers", function()
    local s = servers.standin{}
    local url = s.url
    s.stop()
    os.execute("sleep 0.2")
    assert.has_error(function() servers.control(url, "GET", "/health") end)
  end)
end)
