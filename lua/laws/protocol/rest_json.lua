--- restJson1: URI labels, query string, headers and a JSON body (or a payload member).
local json = require "laws.json"
local model = require "laws.model"
local c = require "laws.protocol.common"

local uri_encode = c.uri_encode

local M = {}

local function scalar(v, shape, where)
  local t = shape.type
  if t == "boolean" then return v and "true" or "false" end
  if t == "timestamp" then return tostring(c.timestamp(v, shape.timestampFormat or (where == "header" and "rfc822" or "iso8601"))) end
  if t == "blob" then return c.b64(v) end
  if type(v) == "number" then return json.number(v) end
  return tostring(v)
end

-- Per operation, once: the URI template split into literal text and labels, the fixed
-- query pieces, and the input members by where they go (body members only need to be seen).
local plans, plan_of = model.per_shape(function(op)
  local input = op.input
  local path_t, fixed_q = op.uri:match("^([^?]*)%??(.*)$")
  local fixed = {}
  if fixed_q ~= "" then
    for piece in fixed_q:gmatch("[^&]+") do fixed[#fixed + 1] = piece end
  end
  local uri_refs = {}      -- label -> { name, ref }
  local located = {}       -- names of querystring/header/headers members
  local body_names = {}    -- names of body members
  if input then
    for _, name in ipairs(input.order) do
      local ref = input.members[name]
      local loc = ref.location
      if loc == "uri" then uri_refs[ref.locationName or name] = { name, ref }
      elseif loc == nil then body_names[#body_names + 1] = name
      else located[#located + 1] = name end
    end
  end
  -- the path as literal text around labels: lits[1] label[1] lits[2] ... label[n] lits[n+1];
  -- a label is { member name, shape, greedy, is a string } (a label no member fills keeps
  -- its own name and no shape: the call raises when it comes to it)
  local lits, labels, pos = {}, {}, 1
  while true do
    local a, b, label, greedy = path_t:find("{([^}+]+)(%+?)}", pos)
    if not a then break end
    lits[#lits + 1] = path_t:sub(pos, a - 1)
    local l = uri_refs[label]
    local sh = l and l[2].shape
    labels[#labels + 1] = { l and l[1] or label, sh, greedy == "+", sh and sh.type == "string" }
    pos = b + 1
  end
  lits[#lits + 1] = path_t:sub(pos)
  return { lits = lits, labels = labels, fixed = fixed, located = located, body_names = body_names }
end)

-- A label sent as "", "." or ".." would change the path itself: libcurl and the signer both
-- remove dot segments, so DeleteCase{ caseId = ".." } would become DeleteDomain, signed.
local NOT_A_SEGMENT = { [""] = "empty", ["."] = "'.'", [".."] = "'..'" }

-- A member bound for the URI or a header, too long to send: named with its size and limit.
local function too_long(op, name, where, size, limit)
  c.invalid(op.name .. "." .. name, ("%s is %d bytes, over the %d-byte limit for a %s member")
    :format(where == "header" and "the header value" or "the URI text", size, limit, where))
end
local MAX_URI, MAX_HEADER = c.MAX_URI_MEMBER, c.MAX_HEADER_MEMBER

--- Build { method, path, query = { "k=v", ... }, headers, body } for `op` with `params`.
function M.build(op, params, _meta)
  local input = op.input
  local plan = plans[op] or plan_of(op)  -- indexed inline, not through a call (bench/25-client.sh)
  local query = {}
  local headers  -- made when a member needs it, else at the end with its Content-Type in it
  local fixed = plan.fixed
  for i = 1, #fixed do query[i] = fixed[i] end
  local body_members, has_body_members = false, #plan.body_names > 0
  if input then
    local names = plan.body_names
    for i = 1, #names do
      if params[names[i]] ~= nil then body_members = true; break end
    end
    names = plan.located
    if #names > 0 then headers = {} end
    for i = 1, #names do
      local name = names[i]
      local ref, v = input.members[name], params[name]
      local loc = ref.location
      if v ~= nil then
        local key = ref.locationName or name
        local sh = ref.shape
        if loc == "querystring" then
          local first = #query + 1
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
          local size = 0
          for j = first, #query do size = size + #query[j] end
          if size > MAX_URI then too_long(op, name, "URI", size, MAX_URI) end
        elseif loc == "header" then
          local hv
          if ref.jsonvalue then hv = c.b64(json.encode(v))
          elseif sh.type == "list" then
            local parts = {}
            for i2, item in ipairs(v) do parts[i2] = scalar(item, sh.member.shape, "header") end
            hv = table.concat(parts, ", ")
          else
            hv = scalar(v, sh, "header")
          end
          if #hv > MAX_HEADER then too_long(op, name, "header", #hv, MAX_HEADER) end
          headers[key] = hv
        elseif loc == "headers" then
          for k, val in pairs(v) do
            local hv = tostring(val)
            if #hv > MAX_HEADER then too_long(op, name .. "[" .. ("%q"):format(k) .. "]", "header", #hv, MAX_HEADER) end
            headers[key .. k] = hv
          end
        end
      end
    end
  end
  -- the path: literal text and percent-encoded labels
  local lits, labels = plan.lits, plan.labels
  local path = lits[1]
  for i = 1, #labels do
    local l = labels[i]
    local name, sh = l[1], l[2]
    local v = sh and params[name]
    if v == nil then c.invalid(op.name .. "." .. name, "missing required URI parameter '" .. name .. "'") end
    local str = l[4] and type(v) == "string" and v or scalar(v, sh)
    local greedy = l[3]
    -- greedy labels ({Key+}) are sent as written: "." and ".." are object key text there
    if #str < 3 and (str == "" or not greedy and NOT_A_SEGMENT[str]) then
      c.invalid(op.name .. "." .. name, "URI parameter '" .. name .. "' must not be " .. NOT_A_SEGMENT[str])
    end
    local enc = uri_encode(str, greedy)
    if #enc > MAX_URI then too_long(op, name, "URI", #enc, MAX_URI) end
    path = path .. enc .. lits[i + 1]
  end
  local body = ""
  local payload = input and input.payload
  if payload then
    local ref, v = input.members[payload], params[payload]
    local t = ref.shape.type
    if t == "blob" or t == "string" then
      body = v or ""
      headers = headers or {}
      if v ~= nil then headers["Content-Type"] = t == "blob" and "application/octet-stream" or "text/plain" end
    else
      body = v ~= nil and c.json_encode(v, ref.shape) or "{}"
    end
  elseif body_members then
    body = c.json_encode(params, input)
  elseif has_body_members then
    body = "{}"  -- as botocore: an input with body members always sends a JSON object
  end
  if not headers then headers = body ~= "" and { ["Content-Type"] = "application/json" } or {}
  elseif body ~= "" and not headers["Content-Type"] then headers["Content-Type"] = "application/json" end
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

-- Per output shape, once: the members read from headers or the status line, as
-- { name, ref, lower-cased header name }.
local located_outs, located_out = model.per_shape(function(out)
  local list = {}
  for _, name in ipairs(out.order) do
    local ref = out.members[name]
    local loc = ref.location
    if loc == "header" or loc == "headers" or loc == "statusCode" then
      list[#list + 1] = { name, ref, (ref.locationName or name):lower() }
    end
  end
  return list
end)

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
  local located = located_outs[out] or located_out(out)  -- inline, as plans (bench/25-client.sh)
  if #located == 0 then return result end
  local headers = res.headers or {}
  for i = 1, #located do
    local name, ref = located[i][1], located[i][2]
    if ref.location == "header" then
      local v = headers[located[i][3]]
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
