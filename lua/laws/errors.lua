--- Error values: every runtime failure in laws is `nil, err` with `err` built here.
-- Fields: code, message, status, request_id, retryable, throttling, attempts (and,
-- for transport errors, curl_code). tostring(err) never shows anything but these
-- fields, and `message` is passed through `redact` so a secret that slipped into a
-- server message or a libcurl string is not printed either.
local M = {}

-- The metatable is the C core's (core.error_mt, registry "laws.error"): errors made in C (HTTP
-- transport failures) carry it from the start, whichever Lua module loads first.
local Error = require("laws.native").error_mt
Error.__index = Error
Error.__name = "laws.error"

-- Secrets registered by credential providers; values are blanked wherever an error
-- message would echo them. A set (each text once) and the same strings as a list, walked
-- per redaction. (Lua never removes strings from weak tables, so a weak set would keep
-- them just as long.) Each secret is listed with the forms a server echoes it in: a
-- presigned URL's canonical request carries the session token percent-encoded (hex in
-- either case, '/' encoded or not, encoded twice), a form body carries it form-encoded,
-- and a '+' read back from an unencoded query is a space.
-- `shortest`: a string shorter than every listed text holds none (most header values).
local secrets, secret_list, shortest = {}, {}, math.huge
local find = string.find

local function pct(c) return string.format("%%%02X", c:byte()) end

-- The texts `s` may be echoed as, `s` first.
local function echoed_forms(s)
  local enc = s:gsub("[^%w%-%._~]", pct)            -- RFC 3986, '/' encoded
  local enc_slash = s:gsub("[^%w%-%._~/]", pct)     -- '/' kept (a URI path)
  local form = s:gsub("[^%w%-%._~ ]", pct):gsub(" ", "+")
  local forms = { s, enc, enc_slash, form, (s:gsub("%+", " ")), (enc:gsub("%%", "%%25")),
                  (enc_slash:gsub("%%", "%%25")) }
  for i = 2, #forms do forms[#forms + 1] = (forms[i]:gsub("%%%x%x", string.lower)) end
  return forms
end

function M.register_secret(s)
  if type(s) == "string" and #s >= 8 and not secrets[s] then
    local forms = echoed_forms(s)
    for i = 1, #forms do
      local f = forms[i]
      if not secrets[f] then
        secrets[f] = true
        secret_list[#secret_list + 1] = f
        if #f < shortest then shortest = #f end
      end
    end
  end
end

--- s with every plain (non-pattern) occurrence of needle replaced by repl.
local function plain_gsub(s, needle, repl)
  if not s:find(needle, 1, true) then return s end
  local out, i = {}, 1
  while true do
    local a, b = s:find(needle, i, true)
    if not a then break end
    out[#out + 1] = s:sub(i, a - 1)
    out[#out + 1] = repl
    i = b + 1
  end
  out[#out + 1] = s:sub(i)
  return table.concat(out)
end

M.plain_replace = plain_gsub

local function redact(s)
  if type(s) ~= "string" or #s < shortest then return s end
  for i = 1, #secret_list do
    local secret = secret_list[i]
    if find(s, secret, 1, true) then s = plain_gsub(s, secret, "<redacted>") end
  end
  return s
end
M.redact = redact

--- Longest message an error keeps, in bytes (a server may answer a 50 MB error body).
M.MAX_MESSAGE = 2048

-- `s` (a string) cut to at most MAX_MESSAGE bytes, a marker saying how much was cut
-- included (so clip(clip(s)) == clip(s)), and redacted. Cut before redacting, so a huge
-- text is never scanned whole; a secret the cut goes through is dropped from where it
-- starts, not shown in part.
local MARKER = "... (message cut: %d of its %d bytes not shown)"
local MARKER_ROOM = 96  -- the marker with two 20-digit numbers fits
local function clip(s)
  local max = M.MAX_MESSAGE
  if #s <= max then return redact(s) end
  local head = s:sub(1, max - MARKER_ROOM)
  for i = 1, #secret_list do
    local secret = secret_list[i]
    -- an occurrence running past the cut starts within the last #secret - 1 bytes
    local first = secret:sub(1, 1)
    local a = find(head, first, math.max(1, #head - #secret + 2), true)
    while a do
      if head:sub(a) == secret:sub(1, #head - a + 1) then
        head = head:sub(1, a - 1)
        break
      end
      a = find(head, first, a + 1, true)
    end
  end
  return redact(head) .. MARKER:format(#s - #head, #s)
end
M.clip = clip

function Error:__tostring()
  local parts = { tostring(self.code or "Error") }
  if self.message and self.message ~= "" then parts[#parts + 1] = ": " .. clip(tostring(self.message)) end
  local extra = {}
  if self.status then extra[#extra + 1] = "status " .. tostring(self.status) end
  if self.request_id then extra[#extra + 1] = "request id " .. clip(tostring(self.request_id)) end
  if self.attempts then extra[#extra + 1] = "attempts " .. tostring(self.attempts) end
  if #extra > 0 then parts[#parts + 1] = " (" .. table.concat(extra, ", ") .. ")" end
  return table.concat(parts)
end

--- Make an error value. `t.code` is required; the table is taken over, not copied.
function M.new(t)
  assert(type(t) == "table" and type(t.code) == "string", "laws.errors.new: code (string) required")
  local message = t.message
  if message ~= nil then t.message = clip(type(message) == "string" and message or tostring(message)) end
  -- a server may echo the request anywhere (request id header, any header): the request id
  -- and the answer's header values are redacted like the message
  if type(t.request_id) == "string" then t.request_id = clip(t.request_id) end
  local headers = t.headers
  if type(headers) == "table" and #secret_list > 0 then
    for k, v in pairs(headers) do
      if type(v) == "string" then
        if #v >= shortest then headers[k] = redact(v) end
      elseif type(v) == "table" then  -- a repeated header: a list of values
        for i, x in ipairs(v) do v[i] = redact(x) end
      end
    end
  end
  return setmetatable(t, Error)
end

function M.is(v) return getmetatable(v) == Error end

M.Error = Error
return M
