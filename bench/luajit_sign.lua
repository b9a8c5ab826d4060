-- Signing cost in the running Lua (bench/50-luajit.sh runs it under Lua 5.4 and LuaJIT):
-- µs per laws.sigv4.sign of a Connect Cases CreateCase request, SigV4 and SigV4a, best of
-- 5 rounds. Usage: <lua> bench/luajit_sign.lua [n]
local sigv4 = require "laws.sigv4"
local clock = require("laws.core").monotonic or os.clock
local n = tonumber(arg and arg[1]) or 5000
local req = {
  method = "POST", url = "https://cases.us-east-1.amazonaws.com/domains/d-1234567890/cases",
  headers = { ["Content-Type"] = "application/json", ["X-Amz-User-Agent"] = "laws/0.1" },
  body = ('{"templateId":"t-1","fields":[{"id":"title","value":{"stringValue":"printer on fire"}}],'
    .. '"clientToken":"6a1d2c3e-0f4b-4a5c-9d8e-7f6a5b4c3d2e"}'),
}
local creds = { access_key_id = "AKIDEXAMPLE", secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                session_token = "IQoJb3JpZ2luX2VjEXAMPLETOKEN" }
local runtime = (jit and "LuaJIT " .. jit.version:match("[%d.]+.*") or _VERSION)
for _, alg in ipairs({ "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256" }) do
  local opts = { service = "cases", region = "us-east-1", time = 1764153000, algorithm = alg }
  local m = alg == "AWS4-HMAC-SHA256" and n or math.max(200, math.floor(n / 10))
  for _ = 1, math.min(m, 200) do assert(sigv4.sign(req, creds, opts)) end -- warm up (JIT, key caches)
  local best = math.huge
  for _ = 1, 5 do
    local t0 = clock()
    for _ = 1, m do sigv4.sign(req, creds, opts) end
    local us = (clock() - t0) / m * 1e6
    if us < best then best = us end
  end
  print(("%-28s %-24s %8.2f us/signature  (best of 5 x %d)"):format(runtime, alg, best, m))
end
