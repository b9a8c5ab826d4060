--- Signs and presigns a sample Amazon Connect Cases SearchCases request and prints what
-- SigV4 computed: canonical request, string to sign, signed headers, presigned URL.
--   lua5.4 examples/sign.lua     (laws installed; from a checkout after `make`:
--   LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="build/?.so;;" lua5.4 examples/sign.lua)
-- The credentials are AWS's documented example keys, not real ones.
local laws = require "laws"

local domain = "1b2c3d4e-aaaa-bbbb-cccc-123456789012"
local request = {
  method = "POST",
  url = "https://cases.us-east-1.amazonaws.com/domains/" .. domain .. "/cases-search",
  headers = { ["Content-Type"] = "application/json" },
  body = '{"maxResults":10,"filter":{"field":{"equalTo":{"id":"status","value":{"stringValue":"open"}}}}}',
}
local credentials = {
  access_key_id = "AKIDEXAMPLE",
  secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  session_token = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN",
}
local options = { service = "cases", region = "us-east-1", time = 1764153000 } -- 2025-11-26T10:30:00Z

local function section(title) io.write("\n== ", title, "\n") end
-- A session token is a secret: never print it whole, even in a demo. Canonical requests
-- and presigned URLs contain it, so every printed line goes through show().
local token = credentials.session_token
local function show(s)
  local i, j = s:find(token, 1, true)
  if i then s = s:sub(1, i - 1) .. token:sub(1, 8) .. "..." .. s:sub(j + 1) end
  print(s)
end
local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

local signed, details = laws.sigv4.sign(request, credentials, options)
section("SigV4 header mode: canonical request")
show(details.canonical_request)
section("string to sign")
show(details.string_to_sign)
section("signed headers")
for _, k in ipairs(sorted_keys(signed.headers)) do
  show(k .. ": " .. signed.headers[k])
end

local url, pdetails = laws.sigv4.presign({ method = "GET", url = "https://cases.us-east-1.amazonaws.com/domains/" .. domain },
  credentials, { service = "cases", region = "us-east-1", time = options.time, expires = 300 })
section("presigned GetDomain URL (expires in 300 s): canonical request")
show(pdetails.canonical_request)
section("presigned URL")
show((url:gsub("(X%-Amz%-Security%-Token=)[^&]+", "%1...")))

local _, adetails = laws.sigv4.sign(request, credentials,
  { service = "cases", region = "us-east-1", time = options.time, algorithm = "AWS4-ECDSA-P256-SHA256", region_set = "*" })
section("SigV4a (AWS4-ECDSA-P256-SHA256, region set *): string to sign")
show(adetails.string_to_sign)
