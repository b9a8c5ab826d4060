-- bench/10-sign.sh helper: µs per laws.sigv4.sign / presign / SigV4a for a typical Connect
-- Cases SearchCases request (key cached), and memory over one million signatures.
-- Usage: lua5.4 bench/sign.lua <outdir> [n] [million] [only]   (only: run just that mode,
-- e.g. "sign", for instruction counting under callgrind)
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
package.cpath = (os.getenv("LAWS_BUILD") or "build") .. "/?.so;" .. package.cpath
local sigv4 = require "laws.sigv4"

local outdir, n, million = arg[1] or "build/bench", tonumber(arg[2]) or 200000, tonumber(arg[3]) or 1000000
local only = arg[4]

local body = '{"domainId":"1b2c3d4e-aaaa-bbbb-cccc-123456789012","maxResults":25,"fields":[{"id":"title"},'
  .. '{"id":"status"},{"id":"customer_id"}],"filter":{"andAll":[{"field":{"equalTo":{"id":"status",'
  .. '"value":{"stringValue":"open"}}}},{"field":{"equalTo":{"id":"customer_id","value":{"stringValue":'
  .. '"arn:aws:profile:us-east-1:123456789012:domains/d/profiles/p"}}}}]},"sorts":[{"fieldId":"title","sortOrder":"Asc"}]}'
local request = {
  method = "POST",
  url = "https://cases.us-east-1.amazonaws.com/domains/1b2c3d4e-aaaa-bbbb-cccc-123456789012/cases-search",
  headers = { ["Content-Type"] = "application/json", ["X-Amz-User-Agent"] = "laws/0.1 lua/5.4" },
  body = body,
}
local creds = { access_key_id = "ASIAEXAMPLEEXAMPLE01", secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  session_token = string.rep("IQoJb3JpZ2luX2VjEXAMPLEtoken/+=", 12) }
local opts = { service = "cases", region = "us-east-1", time = 1764153000 }
local popts = { service = "cases", region = "us-east-1", time = 1764153000, expires = 900 }
local aopts = { service = "cases", region = "us-east-1", time = 1764153000, algorithm = "AWS4-ECDSA-P256-SHA256" }

local function write(name, s)
  local f = assert(io.open(outdir .. "/" .. name, "wb"))
  f:write(s)
  f:close()
end

-- inputs for the C floor: the same payload, canonical requests and strings to sign.
-- details show the session token as a marker; the floor must hash the real canonical
-- request, so the token goes back in (URI-encoded in query mode), checked against the
-- hash in the string to sign.
local sha256_hex = require("laws.core").sha256_hex
local function real(creq, sts, encode)
  local tok = creds.session_token
  if encode then tok = tok:gsub("[^%w%-%._~]", function(c) return ("%%%02X"):format(c:byte()) end) end
  local a, b = creq:find(sigv4.TOKEN_MARKER, 1, true)
  local r = creq:sub(1, a - 1) .. tok .. creq:sub(b + 1)
  assert(sha256_hex(r) == sts:match("([^\n]+)$"), "real canonical request does not match the string to sign")
  return r
end
local _, d = sigv4.sign(request, creds, opts)
local hcreq = real(d.canonical_request, d.string_to_sign)
print(string.format("request %d %d", #body, #hcreq))
write("body.txt", body)
write("header.creq", hcreq)
write("header.sts", d.string_to_sign)
local _, pd = sigv4.presign(request, creds, popts)
write("query.creq", real(pd.canonical_request, pd.string_to_sign, true))
write("query.sts", pd.string_to_sign)
local _, ad = sigv4.sign(request, creds, aopts)
write("v4a.creq", real(ad.canonical_request, ad.string_to_sign))
write("v4a.sts", ad.string_to_sign)

local function time(label, f, iters)
  if only and label ~= only then return end
  for _ = 1, math.min(iters, 2000) do f() end -- warm: key cached, buffers grown
  local t0 = os.clock()
  for _ = 1, iters do f() end
  local us = (os.clock() - t0) / iters * 1e6
  print(string.format("lua %s %.3f %d", label, us, iters))
  return us
end

local sign, presign = sigv4.sign, sigv4.presign
time("sign", function() return sign(request, creds, opts) end, n)
time("presign", function() return presign(request, creds, popts) end, n)
time("sigv4a", function() return sign(request, creds, aopts) end, math.max(1, math.floor(n / 20)))

if million > 0 then
  local function rss()
    local f = io.open("/proc/self/status")
    local kb = f and f:read("*a"):match("VmRSS:%s*(%d+)")
    if f then f:close() end
    return tonumber(kb) or -1
  end
  collectgarbage()
  local r0, g0 = rss(), collectgarbage("count")
  local t0 = os.clock()
  for _ = 1, million do sign(request, creds, opts) end
  local t1 = os.clock()
  collectgarbage()
  local r1, g1 = rss(), collectgarbage("count")
  print(string.format("memory %d %.1f %d %d %.0f %.0f", million, t1 - t0, r0, r1, g0, g1))
end
