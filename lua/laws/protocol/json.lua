--- awsJson1.0 / awsJson1.1: POST / with X-Amz-Target and a JSON body; also the JSON
-- error parser shared with restJson1.
local json = require "laws.json"
local c = require "laws.protocol.common"

local M = {}

function M.build(op, params, meta)
  local version = meta.jsonVersion or "1.0"
  local body = op.input and c.json_encode(params, op.input) or "{}"
  return {
    method = "POST", path = "/", query = {}, body = body,
    headers = {
      ["Content-Type"] = "application/x-amz-json-" .. version,
      ["X-Amz-Target"] = (meta.targetPrefix or "") .. "." .. op.name,
    },
  }
end

function M.parse(op, res)
  local body = res.body or ""
  if not op.output then return json.object() end
  if not body:find("%S") then return json.object() end
  local v, err = json.decode(body)
  if v == nil then return nil, err end
  if type(v) ~= "table" then return nil, "expected a JSON object" end
  return c.json_decode(v, op.output)
end

--- Error fields of a non-2xx JSON answer: code, message, request_id (each may be nil).
-- Order: X-Amzn-ErrorType header, then body __type / code / Code.
function M.parse_error(res)
  local headers = res.headers or {}
  local h = headers["x-amzn-errortype"]
  if type(h) == "table" then h = h[1] end
  local code = c.clean_code(h)
  local message, parsed
  local body = res.body or ""
  if body:find("%S") then
    local v = json.decode(body)
    if type(v) == "table" then
      parsed = true
      code = code or c.clean_code(v.__type) or c.clean_code(v.code) or c.clean_code(v.Code)
      local m = v.message or v.Message or v.errorMessage
      if type(m) == "string" then message = m end
    end
  end
  if not parsed and body:find("^%s*<") then
    -- Some front ends (and emulators) answer a JSON API with an XML error document.
    local x = require("laws.protocol.query").parse_error(res)
    if x.code then
      return { code = code or x.code, message = x.message, request_id = c.request_id(headers) or x.request_id }
    end
  end
  if not parsed and body:find("%S") then message = "unreadable error answer, " .. c.excerpt(body) end
  return { code = code, message = message, request_id = c.request_id(headers) }
end

return M
