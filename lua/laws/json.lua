--- JSON for laws: lua-cjson for the heavy lifting, plus the one thing cjson cannot do on
-- its own: tell `{}` (object) from `[]` (array) when a table is empty.
-- Decoded results from a client are marked by shape (lists get `json.array_mt`, structures
-- and maps get `json.object_mt`), and `json.encode` honours those marks, so a result can be
-- re-encoded (or passed back into another call) without `{}` turning into `[]` or back.
local cjson = require "cjson"

local M = {}

M.null = cjson.null
M.array_mt = { __name = "laws.json.array" }
M.object_mt = { __name = "laws.json.object" }

function M.array(t) return setmetatable(t or {}, M.array_mt) end
function M.object(t) return setmetatable(t or {}, M.object_mt) end

--- Nesting limit of JSON or XML laws reads (laws.xml reads it) or writes: a deeper answer
-- is an error answer, never a raise nor a deep recursion in the code walking the result.
-- Above the parameters' own limit (laws.protocol.common.MAX_PARAM_DEPTH), which names the path.
M.MAX_DEPTH = 512

-- A cjson instance of our own: an application changing cjson's (process-wide) settings,
-- its depth limit among them, does not change how answers are read.
local decoder = cjson.new()
decoder.decode_max_depth(M.MAX_DEPTH)
local cjson_decode = decoder.decode

--- Decode text; returns value or nil, message (never raises on bad input).
function M.decode(s)
  local ok, v = pcall(cjson_decode, s)
  if not ok then return nil, tostring(v) end
  return v
end

--- A number as JSON text: integers exactly (cjson rounds to 14 digits), floats shortest
-- round-tripping form. Raises on NaN/inf: JSON has no spelling for them.
function M.number(n)
  if math.type and math.type(n) == "integer" then return string.format("%d", n) end
  if n ~= n or n == math.huge or n == -math.huge then error("laws.json: cannot encode " .. tostring(n), 0) end
  if n == math.floor(n) and n >= -2^63 and n < 2^63 then return string.format("%d", n) end
  for p = 15, 17 do
    local s = string.format("%." .. p .. "g", n)
    if tonumber(s) == n then return s end
  end
  return string.format("%.17g", n)
end

--- A string as JSON text. Most strings need no escaping: those only get quotes (the check is
-- the C core's: a Lua pattern costs ~100 instructions a byte, bench/25-client.sh).
local cjson_encode = cjson.encode
local plain = require("laws.native").json_plain
--- True when the string `s` is valid JSON string text as it is (needs only quotes).
M.plain = plain

function M.string(s)
  if plain(s) then return '"' .. s .. '"' end
  return cjson_encode(s)
end

local function is_array(t)
  local mt = getmetatable(t)
  if mt == M.array_mt then return true end
  if mt == M.object_mt then return false end
  local n = #t
  if n == 0 then return false end  -- unmarked empty table: an object, as cjson does
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  return count == n
end
M.is_array = is_array

local function enc(v, out, depth)
  local tv = type(v)
  if tv == "string" then out[#out + 1] = M.string(v)
  elseif tv == "number" then out[#out + 1] = M.number(v)
  elseif tv == "boolean" then out[#out + 1] = v and "true" or "false"
  elseif v == nil or v == cjson.null then out[#out + 1] = "null"
  elseif tv == "table" then
    if depth > M.MAX_DEPTH then error("laws.json: nesting deeper than " .. M.MAX_DEPTH .. " levels (a cycle?)", 0) end
    if is_array(v) then
      out[#out + 1] = "["
      for i = 1, #v do
        if i > 1 then out[#out + 1] = "," end
        enc(v[i], out, depth + 1)
      end
      out[#out + 1] = "]"
    else
      out[#out + 1] = "{"
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = tostring(k) end
      table.sort(keys)
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        out[#out + 1] = M.string(k)
        out[#out + 1] = ":"
        local val = v[k]
        if val == nil then val = v[tonumber(k)] end
        enc(val, out, depth + 1)
      end
      out[#out + 1] = "}"
    end
  else
    error("laws.json: cannot encode a " .. tv, 0)
  end
end
M.encode_into = enc

--- Encode any value; marked tables keep their kind, object keys are sorted (stable output).
function M.encode(v)
  local out = {}
  enc(v, out, 0)
  return table.concat(out)
end

return M
