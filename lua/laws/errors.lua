--- Error values: every runtime failure in laws is `nil, err` with `err` built here.
-- Fields: code, message, status, request_id, retryable, throttling, attempts (and,
-- for transport errors, curl_code). tostring(err) never shows anything but these
-- fields, and `message` is passed through `redact` so a secret that slipped into a
-- server message or a libcurl string is not printed either.
local M = {}

local Error = {}
Error.__index = Error
Error.__name = "laws.error"

-- Secrets registered by credential providers; values are blanked wherever an error
-- message would echo them. Weak keys: a forgotten secret does not stay alive here.
local secrets = setmetatable({}, { __mode = "k" })

function M.register_secret(s)
  if type(s) == "string" and #s >= 8 then secrets[s] = true end
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

function M.redact(s)
  if type(s) ~= "string" then return s end
  for secret in pairs(secrets) do
    if s:find(secret, 1, true) then s = plain_gsub(s, secret, "<redacted>") end
  end
  return s
end

function Error:__tostring()
  local parts = { tostring(self.code or "Error") }
  if self.message and self.message ~= "" then parts[#parts + 1] = ": " .. M.redact(tostring(self.message)) end
  local extra = {}
  if self.status then extra[#extra + 1] = "status " .. tostring(self.status) end
  if self.request_id then extra[#extra + 1] = "request id " .. M.redact(tostring(self.request_id)) end
  if self.attempts then extra[#extra + 1] = "attempts " .. tostring(self.attempts) end
  if #extra > 0 then parts[#parts + 1] = " (" .. table.concat(extra, ", ") .. ")" end
  return table.concat(parts)
end

--- Make an error value. `t.code` is required; the table is taken over, not copied.
function M.new(t)
  assert(type(t) == "table" and type(t.code) == "string", "laws.errors.new: code (string) required")
  if t.message ~= nil then t.message = M.redact(tostring(t.message)) end
  -- a server may echo the request anywhere (request id header, any header): the request id
  -- and the answer's header values are redacted like the message
  if type(t.request_id) == "string" then t.request_id = M.redact(t.request_id) end
  if type(t.headers) == "table" and next(secrets) ~= nil then
    for k, v in pairs(t.headers) do
      if type(v) == "string" then t.headers[k] = M.redact(v)
      elseif type(v) == "table" then  -- a repeated header: a list of values
        for i, x in ipairs(v) do v[i] = M.redact(x) end
      end
    end
  end
  return setmetatable(t, Error)
end

function M.is(v) return getmetatable(v) == Error end

M.Error = Error
return M
