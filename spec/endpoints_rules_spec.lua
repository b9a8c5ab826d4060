-- Every official endpoint test case of every service (../shared/testdata/endpoints, see its
-- README.md; override with LAWS_ENDPOINTS_TESTDATA), resolved by laws.endpoints.rules against
-- that folder's rule sets and partitions.json: the URL, headers and properties of an expected
-- endpoint, or the rule set's message for an expected error. One `it` per service, listing
-- every mismatch of that service.
local rules = require "laws.endpoints.rules"
local json = require "laws.json"
local cjson = require "cjson"

local ROOT = os.getenv("LAWS_ENDPOINTS_TESTDATA") or "../shared/testdata/endpoints"

-- Cases that may not pass, by service and documentation string, with the reason (each is shown
-- as pending). Empty: every case passes.
local LEFT_OUT = {}

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function services()
  local out, p = {}, assert(io.popen("ls '" .. ROOT .. "/tests' 2>/dev/null"))
  for l in p:lines() do
    local name = l:match("^(.+)%.json$")
    if name then out[#out + 1] = name end
  end
  p:close()
  table.sort(out)
  return out
end

local function same(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then return a == b end
  for k, v in pairs(a) do if not same(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

local function show(x)
  local ok, s = pcall(cjson.encode, x)
  return ok and s or tostring(x)
end

local function mismatch(tc, ep, err)
  local want = tc.expect
  if want.error then
    if ep then return "an endpoint instead of the expected error" end
    if err.code ~= "EndpointError" then return "error code " .. tostring(err.code) end
    if err.message ~= want.error then return "another error message" end
    return nil
  end
  if not ep then return "an error instead of the expected endpoint" end
  local e = want.endpoint
  if ep.url ~= e.url then return "another url" end
  if not same(ep.headers, e.headers or {}) then return "other headers" end
  if not same(ep.properties, e.properties or {}) then return "other properties" end
  return nil
end

describe("endpoint rule sets", function()
  local partitions = ROOT .. "/partitions.json"
  local list = read(ROOT .. "/README.md") and services() or {}

  it("finds the official test cases", function()
    assert(#list > 0, "endpoint rules test data not found: looked in '" .. ROOT .. "' (relative to the "
      .. "repo root; set LAWS_ENDPOINTS_TESTDATA to the folder holding rules/, tests/, partitions.json)")
    assert.truthy(read(partitions), "no partitions.json in " .. ROOT)
  end)

  for _, svc in ipairs(list) do
    local left_out = LEFT_OUT[svc] or {}
    for doc, reason in pairs(left_out) do pending(svc .. ": " .. doc .. " (" .. reason .. ")") end

    it("resolves every case of " .. svc, function()
      local ruleset = assert(json.decode(assert(read(ROOT .. "/rules/" .. svc .. ".json"), "no rule set")))
      local tests = assert(json.decode(assert(read(ROOT .. "/tests/" .. svc .. ".json"))))
      assert.is_true(#tests.testCases > 0, "no test cases")
      local bad, checked = {}, 0
      for i, tc in ipairs(tests.testCases) do
        if not left_out[tc.documentation] then
          local params = tc.params or {}
          local ep, err = rules.resolve(ruleset, params, partitions)
          local why = mismatch(tc, ep, err)
          checked = checked + 1
          if why then
            bad[#bad + 1] = string.format("#%d %s: %s\n  params:   %s\n  expected: %s\n  got:      %s",
              i, tostring(tc.documentation), why, show(params), show(tc.expect),
              ep and show(ep) or tostring(err))
          end
        end
      end
      assert(#bad == 0, #bad .. " of " .. checked .. " cases of " .. svc .. " do not match:\n"
        .. table.concat(bad, "\n"))
    end)
  end
end)
