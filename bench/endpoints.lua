-- bench/35-endpoints.sh helper: laws.endpoints.rules resolutions per second for s3 and
-- dynamodb: the rule set's compile time, cold resolutions (a parameter set not seen before:
-- the whole rule tree runs) and warm ones (the same parameter set again: the cache answers).
-- Usage: lua bench/endpoints.lua [testdata dir] [n]
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
local rules = require "laws.endpoints.rules"
local json = require "laws.json"

local root = arg[1] or os.getenv("LAWS_ENDPOINTS_TESTDATA") or "../shared/testdata/endpoints"
local n = tonumber(arg[2]) or 20000
local clock = os.clock

local function read(path)
  local f = assert(io.open(path, "rb"), "cannot read " .. path .. " (set LAWS_ENDPOINTS_TESTDATA)")
  local s = f:read("*a")
  f:close()
  return s
end

local partitions = assert(json.decode(read(root .. "/partitions.json")))

-- params(i): the i-th distinct parameter set (cold); params(0) again and again (warm)
local cases = {
  { "s3", "virtual-hosted bucket",
    function(i) return { Region = "us-west-2", Bucket = "bucket-" .. i, UseFIPS = false, UseDualStack = false } end },
  { "s3", "access point ARN",
    function(i) return { Region = "us-west-2", UseArnRegion = true,
      Bucket = "arn:aws:s3:us-west-2:123456789012:accesspoint:ap-" .. i } end },
  { "dynamodb", "regional",
    function(i) return { Region = (i % 2 == 0) and "us-east-1" or "eu-west-1", UseFIPS = false,
      Endpoint = i > 1 and ("https://ddb-" .. i .. ".example.com") or nil } end },
  { "dynamodb", "account id endpoint",
    function(i) return { Region = "us-east-1", AccountIdEndpointMode = "preferred",
      AccountId = string.format("%012d", 100000000000 + i) } end },
}

local function rate(count, secs) return secs > 0 and count / secs or math.huge end

print(string.format("%s, %d resolutions per figure", jit and jit.version or _VERSION, n))
for _, c in ipairs(cases) do
  local svc, what, params = c[1], c[2], c[3]
  local ruleset = assert(json.decode(read(root .. "/rules/" .. svc .. ".json")))
  local t0 = clock()
  assert(rules.compile(ruleset))
  local compile_ms = (clock() - t0) * 1000
  assert(rules.resolve(ruleset, params(0), partitions))
  -- distinct parameter sets: every resolution misses the cache
  local cold
  do
    local sets = {}
    for i = 1, n do sets[i] = params(i) end
    t0 = clock()
    for i = 1, n do assert(rules.resolve(ruleset, sets[i], partitions)) end
    cold = clock() - t0
  end
  collectgarbage()  -- the cold sets go before the warm loop
  local p = params(0)
  t0 = clock()
  for _ = 1, n do assert(rules.resolve(ruleset, p, partitions)) end
  local warm = clock() - t0
  print(string.format("%-9s %-22s compile %6.1f ms   cold %9.0f/s (%5.1f us)   warm %9.0f/s (%5.1f us)",
    svc, what, compile_ms, rate(n, cold), cold / n * 1e6, rate(n, warm), warm / n * 1e6))
end
