--- Small helpers shared by the credential providers: HTTP with a retry,
-- JSON bodies. HTTP goes through laws.runtime so it yields under a scheduler.
local runtime = require "laws.runtime"
local errors = require "laws.errors"
local limits = require("laws.native").http_limits
local C = require "laws.credentials"

local M = {}

function M.truthy(v)
  return type(v) == "string" and v:lower() == "true"
end

--- Send `req` up to `attempts` times; transport errors and 5xx are retried, other answers
-- returned as they are. Every attempt has a connect timeout and an overall timeout
-- (req's own, else core.http_limits), both cut to what is left before the deadline of
-- `fopts` (laws.credentials.fetch_opts). Returns res | nil, err (the last error).
function M.request(req, attempts, fopts)
  attempts = attempts or 1
  local timeout = req.timeout or limits.timeout
  local connect = req.connect_timeout or limits.connect_timeout
  local res, err
  for i = 1, attempts do
    local left = C.time_left(fopts)
    if left and left <= 0 then
      if res then return res end
      return nil, err or select(2, C.timed_out("credentials", "the request to " .. req.url))
    end
    local r = {}
    for k, v in pairs(req) do r[k] = v end
    r.timeout = left and left < timeout and left or timeout
    r.connect_timeout = left and left < connect and left or connect
    res, err = runtime.request(r)
    if res and res.status < 500 then return res end
    if i < attempts then
      local ok, serr = runtime.sleep(0.05 * i)
      if not ok then return nil, serr end
    end
  end
  if res then return res end
  return nil, err
end

--- Decode a JSON object body; nil when it is not one. The text is never put in an error.
function M.json(text)
  local v = require("laws.json").decode(text or "")
  if type(v) == "table" then return v end
  return nil
end

--- A short reason for a failed HTTP exchange, safe to show (code or status only).
function M.why(res, err)
  if res then return "HTTP " .. tostring(res.status) end
  if errors.is(err) then return tostring(err.code) end
  return tostring(err)
end

--- Read a whole file, or nil, reason.
function M.read_file(path)
  local f, e = io.open(path, "rb")
  if not f then return nil, e end
  local s = f:read("*a")
  f:close()
  return s
end

return M
