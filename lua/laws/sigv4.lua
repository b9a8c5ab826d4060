--- laws.sigv4: sign AWS requests with SigV4 (AWS4-HMAC-SHA256) or SigV4a
-- (AWS4-ECDSA-P256-SHA256). The C core does the canonicalisation and the crypto; this
-- file only supplies the clock. Contract: ../shared/DESIGN.md ("Signing").
local core = require "laws.native"
local runtime = require "laws.runtime"

local csign, ccanon = core.sigv4_sign, core.sigv4_canonical
local type, error, floor = type, error, math.floor

local M = {}

-- details (and canonical()) are debugging output: the session token is a secret, so the C
-- core shows its value as this marker there (header and query mode alike). The string to
-- sign still holds the hash of the real canonical request.
M.TOKEN_MARKER = "<session-token>"

local function when(options, fn)
  if type(options) ~= "table" then error(fn .. ": options must be a table", 3) end
  local t = options.time
  if t == nil then return floor(runtime.time()) end
  return t -- its type is checked in C with the other options
end

--- signed, details = sign(request, credentials, options)
-- Raises on misuse (naming the field); returns nil, err only if OpenSSL itself fails.
-- details' fields (canonical_request, string_to_sign, signature) are built when first read:
-- a caller that never reads them (every client attempt) does not pay for them.
function M.sign(request, credentials, options)
  -- when() inlined: sign runs once per client attempt
  if type(options) ~= "table" then error("laws.sigv4.sign: options must be a table", 2) end
  local t = options.time
  if t == nil then t = floor(runtime.time()) end
  local signed, details = csign(request, credentials, options, t)
  if signed == nil then
    return nil, require("laws.errors").new{ code = "SigningFailed", message = details }
  end
  return signed, details
end

--- url = presign(request, credentials, options): the request signed in query mode.
function M.presign(request, credentials, options)
  local url, details = csign(request, credentials, options, when(options, "laws.sigv4.presign"), true)
  if url == nil then
    return nil, require("laws.errors").new{ code = "SigningFailed", message = details }
  end
  return url, details
end

--- canonical_request, string_to_sign = canonical(request, credentials, options)
-- What sign() would hash, without deriving a key or signing (verifiers, debugging).
function M.canonical(request, credentials, options)
  return ccanon(request, credentials, options, when(options, "laws.sigv4.canonical"))
end

return M
