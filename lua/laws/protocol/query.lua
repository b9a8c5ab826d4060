--- The AWS query protocol: form-encoded Action/Version/params, XML answers (lua-expat).
local json = require "laws.json"
local xml = require "laws.xml"
local c = require "laws.protocol.common"

local M = {}

local function scalar(v, shape)
  local t = shape.type
  if t == "boolean" then return v and "true" or "false" end
  if t == "timestamp" then return tostring(c.timestamp(v, shape.timestampFormat or "iso8601")) end
  if t == "blob" then return c.b64(v) end
  if type(v) == "number" then return json.number(v) end
  return tostring(v)
end

local function ser(out, prefix, v, shape, ref)
  local t = shape.type
  if t == "structure" then
    for _, name in ipairs(shape.order) do
      local mref = shape.members[name]
      local val = v[name]
      if val ~= nil then
        local key = mref.locationName or name
        ser(out, prefix == "" and key or (prefix .. "." .. key), val, mref.shape, mref)
      end
    end
  elseif t == "list" then
    if #v == 0 then out[#out + 1] = { prefix, "" }; return end
    local flat = shape.flattened or (ref and ref.flattened)
    local base
    if flat then
      base = prefix
      local mname = shape.member.locationName
      if mname then base = (prefix:match("^(.*)%.[^.]*$") or "") ; base = (base == "" and mname or base .. "." .. mname) end
    else
      base = prefix .. "." .. (shape.member.locationName or "member")
    end
    for i, item in ipairs(v) do ser(out, base .. "." .. i, item, shape.member.shape, shape.member) end
  elseif t == "map" then
    local flat = shape.flattened or (ref and ref.flattened)
    local base = flat and prefix or (prefix .. ".entry")
    local kname, vname = shape.key.locationName or "key", shape.value.locationName or "value"
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys)
    for i, k in ipairs(keys) do
      out[#out + 1] = { base .. "." .. i .. "." .. kname, k }
      ser(out, base .. "." .. i .. "." .. vname, v[k], shape.value.shape, shape.value)
    end
  else
    out[#out + 1] = { prefix, scalar(v, shape) }
  end
end

function M.build(op, params, meta)
  local pairs_ = { { "Action", op.name }, { "Version", meta.apiVersion } }
  if op.input then ser(pairs_, "", params, op.input) end
  local parts = {}
  for i, kv in ipairs(pairs_) do parts[i] = c.pct(kv[1]) .. "=" .. c.pct(kv[2]) end
  return {
    method = "POST", path = "/", query = {}, body = table.concat(parts, "&"),
    headers = { ["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8" },
  }
end

local dec

-- One <entry><key/><value/></entry> (or a flattened map's repeated element) into r.
local function map_entry(r, e, shape)
  local k = xml.child(e, shape.key.locationName or "key")
  local v = xml.child(e, shape.value.locationName or "value")
  if k and v then r[k.text] = dec(v, shape.value.shape) end
end

function dec(node, shape)
  local t = shape.type
  if t == "structure" then
    local r = json.object()
    for _, name in ipairs(shape.order) do
      local ref = shape.members[name]
      local key = ref.locationName or name
      local flat = ref.shape.flattened or ref.flattened
      if flat and ref.shape.type == "list" then
        local items = json.array()
        for _, ch in ipairs(node.children) do
          if ch.name == key then items[#items + 1] = dec(ch, ref.shape.member.shape) end
        end
        if #items > 0 then r[name] = items end
      elseif flat and ref.shape.type == "map" then
        local m = json.object()
        for _, ch in ipairs(node.children) do
          if ch.name == key then map_entry(m, ch, ref.shape) end
        end
        if next(m) then r[name] = m end
      else
        local ch = xml.child(node, key)
        if ch then r[name] = dec(ch, ref.shape) end
      end
    end
    return r
  elseif t == "list" then
    local r = json.array()
    local mname = shape.member.locationName or "member"
    for _, ch in ipairs(node.children) do
      if ch.name == mname then r[#r + 1] = dec(ch, shape.member.shape) end
    end
    return r
  elseif t == "map" then
    local r = json.object()
    for _, e in ipairs(node.children) do
      if e.name == "entry" then map_entry(r, e, shape) end
    end
    return r
  end
  local s = node.text
  if t == "integer" or t == "long" or t == "short" or t == "byte" then return c.toint(tonumber(s)) or tonumber(s) end
  if t == "double" or t == "float" then return tonumber(s) end
  if t == "boolean" then return s == "true" end
  if t == "blob" then return c.unb64(s) end
  return s
end

function M.parse(op, res)
  local root, err = xml.parse(res.body)
  if not root then return nil, err end
  local result = json.object()
  if op.output then
    local node = op.wrapper and xml.child(root, op.wrapper) or root
    if node then result = dec(node, op.output) end
  end
  local meta = xml.child(root, "ResponseMetadata")
  local rid = meta and xml.child(meta, "RequestId")
  if rid then result.ResponseMetadata = json.object{ RequestId = rid.text } end
  return result
end

--- Error fields from <ErrorResponse><Error><Code/><Message/></Error><RequestId/></ErrorResponse>.
function M.parse_error(res)
  local headers = res.headers or {}
  local root = xml.parse(res.body)
  local code, message, rid
  if root then
    local e = xml.find(root, "Error")
    code = e and xml.child(e, "Code") and c.clean_code(xml.child(e, "Code").text)
    message = e and xml.child(e, "Message") and xml.child(e, "Message").text
    rid = xml.find(root, "RequestId")
    rid = rid and rid.text
  elseif (res.body or ""):find("%S") then
    message = "unreadable error answer, " .. c.excerpt(res.body)
  end
  return { code = code, message = message, request_id = rid or c.request_id(headers) }
end

return M
