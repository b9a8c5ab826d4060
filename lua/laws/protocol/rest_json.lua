--- restJson1: URI labels, query string, headers and a JSON body (or a payload member).
local json = require "laws.json"
local c = require "laws.protocol.common"

local M = {}

local function scalar(v, shape, where)
  local t = shape.type
  if t == "boolean" then return v and "true" or "false" end
  if t == "timestamp" then return tostring(c.timestamp(v, shape.timestampFormat or (where == "header" and "rfc822" or "iso8601"))) end
  if t == "blob" then return c.b64(v) end
  if type(v) == "number" then return json.number(v) end
  return tostring(v)
end

--- Build { method, path, query = { "k=v", ... }, headers, body } for `op` with `params`.
function M.build(op, params, _meta)
  local input = op.input
  local path_t, fixed_q = op.uri:match("^([^?]*)%??(.*)$")
  local query, headers = {}, {}
  if fixed_q ~= "" then
    for piece in fixed_q:gmatch("[^&]+") do query[#query + 1] = piece end
  end
  local labels = {}
  local body_members, has_body_members = false, false
  if input then
    for _, name in ipairs(input.order) do
      local ref, v = input.members[name], params[name]
      local loc = ref.location
      if loc == "uri" then labels[ref.locationName or name] = { ref = ref, v = v, name = name }
      elseif loc == nil then
        has_body_members = true
        if v ~= nil then body_members = true end
      elseif v ~= nil then
        local key = ref.locationName or name
        local sh = ref.shape
        if loc == "querystring" then
          if sh.type == "list" then
            for _, item in ipairs(v) do query[#query + 1] = c.pct(key) .. "=" .. c.pct(scalar(item, sh.member.shape)) end
          elseif sh.type == "map" then
            local keys = {}
            for k in pairs(v) do keys[#keys + 1] = k end
            table.sort(keys)
            for _, k in ipairs(keys) do
              local val = v[k]
              if type(val) == "table" then
                for _, item in ipairs(val) do query[#query + 1] = c.pct(k) .. "=" .. c.pct(tostring(item)) end
              else
                query[#query + 1] = c.pct(k) .. "=" .. c.pct(scalar(val, sh.value.shape))
              end
            end
          else
            query[#query + 1] = c.pct(key) .. "=" .. c.pct(scalar(v, sh))
          end
        elseif loc == "header" then
          if ref.jsonvalue then headers[key] = c.b64(json.encode(v))
          elseif sh.type == "list" then
            local parts = {}
            for i, item in ipairs(v) do parts[i] = scalar(item, sh.member.shape, "header") end
            headers[key] = table.concat(parts, ", ")
          else
            headers[key] = scalar(v, sh, "header")
          end
        elseif loc == "headers" then
          for k, val in pairs(v) do headers[key .. k] = tostring(val) end
        end
      end
    end
  end
  local path = path_t:gsub("{([^}+]+)(%+?)}", function(label, greedy)
    local l = labels[label]
    local v = l and l.v
    if v == nil then error("laws.client: " .. op.name .. ": missing required URI parameter '" .. (l and l.name or label) .. "'", 0) end
    local s = scalar(v, l.ref.shape)
    if s == "" then error("laws.client: " .. op.name .. ": URI parameter '" .. l.name .. "' must not be empty", 0) end
    return c.pct(s, greedy == "+")
  end)
  local body = ""
  local payload = input and input.payload
  if payload then
    local ref, v = input.members[payload], params[payload]
    local t = ref.shape.type
    if t == "blob" or t == "string" then
      body = v or ""
      if v ~= nil then headers["Content-Type"] = t == "blob" and "application/octet-stream" or "text/plain" end
    else
      body = v ~= nil and c.json_encode(v, ref.shape) or "{}"
    end
  elseif body_members then
    body = c.json_encode(params, input)
  elseif has_body_members then
    body = "{}"  -- as botocore: an input with body members always sends a JSON object
  end
  if body ~= "" and not headers["Content-Type"] then headers["Content-Type"] = "application/json" end
  return { method = op.method, path = path, query = query, headers = headers, body = body }
end

local function header_value(v, shape)
  if type(v) == "table" then v = table.concat(v, ", ") end
  local t = shape.type
  if t == "integer" or t == "long" then return c.toint(tonumber(v)) or tonumber(v) end
  if t == "double" or t == "float" then return tonumber(v) end
  if t == "boolean" then return v == "true" end
  if t == "list" then
    local r = json.array()
    for item in v:gmatch("[^,]+") do r[#r + 1] = item:match("^%s*(.-)%s*$") end
    return r
  end
  return v
end

--- Parse a 2xx response into a result table, or nil, message when the body is unreadable.
function M.parse(op, res)
  local out = op.output
  if not out then return json.object() end
  local result
  local payload = out.payload
  local body = res.body or ""
  if payload then
    result = json.object()
    local ref = out.members[payload]
    local t = ref.shape.type
    if t == "blob" or t == "string" then result[payload] = body
    elseif body ~= "" then
      local v, err = json.decode(body)
      if v == nil then return nil, err end
      result[payload] = c.json_decode(v, ref.shape)
    end
  elseif body:find("%S") then
    local v, err = json.decode(body)
    if v == nil then return nil, err end
    if type(v) ~= "table" then return nil, "expected a JSON object" end
    result = c.json_decode(v, out)
  else
    result = json.object()
  end
  local headers = res.headers or {}
  for _, name in ipairs(out.order) do
    local ref = out.members[name]
    if ref.location == "header" then
      local v = headers[(ref.locationName or name):lower()]
      if v ~= nil then
        if ref.jsonvalue then result[name] = json.decode(c.unb64(v))
        else result[name] = header_value(v, ref.shape) end
      end
    elseif ref.location == "headers" then
      local prefix = (ref.locationName or ""):lower()
      local m = json.object()
      for k, v in pairs(headers) do
        if k:sub(1, #prefix) == prefix then m[k:sub(#prefix + 1)] = type(v) == "table" and v[1] or v end
      end
      if next(m) then result[name] = m end
    elseif ref.location == "statusCode" then
      result[name] = res.status
    end
  end
  return result
end

M.parse_error = require("laws.protocol.json").parse_error

return M
