--- laws.sigv4: sign AWS requests with SigV4 (AWS4-HMAC-SHA256) or SigV4a
-- (AWS4-ECDSA-P256-SHA256). The C core does the canonicalisation and the crypto; this
-- file only supplies the clock. Contract: ../shared/DESIGN.md ("Signing").
local core = require "laws.core"
local runtime = require "laws.runtime"

local csign, ccanon = core.sigv4_sign, core.sigv4_canonical
local type, error, floor = type, error, math.floor

local M = {}

-- details (and canonical()) are debugging output: the session token is a secret, so its
-- value is shown as this marker there, in header form and URI-encoded (query) form alike.
-- The string to sign still holds the hash of the real canonical request.
M.TOKEN_MARKER = "<session-token>"

local function uri_encode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return ("%%%02X"):format(c:byte()) end))
end

local plain_replace = require("laws.errors").plain_replace

local last_token, last_encoded

local function hide_token(canonical, credentials)
  local token = type(credentials) == "table" and credentials.session_token
  if type(token) ~= "string" or token == "" then return canonical end
  canonical = plain_replace(canonical, token, M.TOKEN_MARKER)
  -- encoding a ~1 KB STS token costs more than signing: remember the last one
  if token ~= last_token then last_token, last_encoded = token, uri_encode(token) end
  local enc = last_encoded
  if enc ~= token then canonical = plain_replace(canonical, enc, M.TOKEN_MARKER) end
  return canonical
end

local function when(options, fn)
  if type(options) ~= "table" then error(fn .. ": options must be a table", 3) end
  local t = options.time
  if t == nil then return floor(runtime.time()) end
  return t -- its type is checked in C with the other options
end

--- signed, details = sign(request, credentials, options)
-- Raises on misuse (naming the field); returns nil, err only if OpenSSL itself fails.
function M.sign(request, credentials, options)
  local signed, details = csign(request, credentials, options, when(options, "laws.sigv4.sign"))
  if signed == nil then
    return nil, require("laws.errors").new{ code = "SIGNING_FAILED", message = details }
  end
  details.canonical_request = hide_token(details.canonical_request, credentials)
  return signed, details
end

--- url = presign(request, credentials, options): the request signed in query mode.
function M.presign(request, credentials, options)
  local url, details = csign(request, credentials, options, when(options, "laws.sigv4.presign"), true)
  if url == nil then
    return nil, require("laws.errors").new{ code = "SIGNING_FAILED", message = details }
  end
  details.canonical_request = hide_token(details.canonical_request, credentials)
  return url, details
end

--- canonical_request, string_to_sign = canonical(request, credentials, options)
-- What sign() would hash, without deriving a key or signing (verifiers, debugging).
function M.canonical(request, credentials, options)
  local c, sts = ccanon(request, credentials, options, when(options, "laws.sigv4.canonical"))
  return hide_token(c, credentials), sts
end

return M
