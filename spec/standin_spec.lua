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
  local tests, current, plan = {}, nil, nil
  for line in out:gmatch("[^\n]+") do
    local ok, name = line:match("^(n?o?t? ?ok) %d+ %- (.*)$")
    if ok then
      current = { name = name, ok = (ok == "ok"), detail = {} }
      tests[#tests + 1] = current
    elseif current and line:match("^#") then
      current.detail[#current.detail + 1] = line:gsub("^# ?", "")
    elseif line:match("^1%.%.%d+$") then
      plan = tonumber(line:match("%d+$"))
    end
  end
  return tests, out, plan
end

local function tail(text, n)
  local lines = {}
  for line in text:gmatch("[^\n]+") do lines[#lines + 1] = line end
  return table.concat(lines, "\n", math.max(1, #lines - n + 1))
end

local function as_its(what, tests, out, plan)
  for _, t in ipairs(tests) do
    it(t.name, function()
      -- the selftest's own explanation ("AssertionError: ..." and the traceback) is the message
      assert(t.ok, "standin_selftest.py says:\n" .. table.concat(t.detail, "\n"))
    end)
  end
  -- a selftest that died part-way (or never started) must not pass for the checks it skipped
  it(what .. " selftest ran every check it announced", function()
    assert(plan and #tests == plan, ("standin_selftest.py announced %s checks and reported %d; its last lines:\n%s")
      :format(tostring(plan), #tests, tail(out, 20)))
  end)
end

describe("stand-in checked by boto3", function()
  local srv = servers.standin{}
  as_its("stand-in", run_selftest{ "--url", srv.url })
  srv.stop()
end)

describe("moto with authentication enforced, checked by boto3", function()
  local m = servers.moto()
  as_its("moto", run_selftest{ "--moto-url", m.url, "--moto-key", m.access_key_id .. ":" .. m.secret_access_key })
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
    s.add_key({ access_key_id = "AKIDADDED", secret_access_key = "added/secret" }, 60)
    local ids = {}
    for _, k in ipairs(s.control("GET", "/keys").keys) do ids[k.access_key_id] = k.expiration end
    assert.is_number(ids.AKIDADDED)
    assert.is_table(s.requests(5))
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
