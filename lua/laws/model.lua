--- Service models: the generated compact tables (lua/laws/services/*.lua) or a
-- botocore-format service-2.json given at run time, both turned into the same graph:
--   model = { meta, ops = { Name = op }, names = { sorted op names }, errors = { code = shape } }
--   op    = { name, method, uri, input = shape|nil, output = shape|nil, wrapper, code, unsigned }
--   shape = { name, type, members = { name = ref }, order = { names }, required = { name = true },
--             member = ref, key = ref, value = ref, payload, union, document, error, retryable }
--   (structures also have wire = { name on the wire = ref } for body members)
--   ref   = { name, shape, location, locationName, idempotencyToken, jsonvalue, flattened, ... }
local json = require "laws.json"

local M = {}

local REF_TRAITS = { "location", "locationName", "idempotencyToken", "jsonvalue", "flattened",
                     "timestampFormat", "queryName", "xmlAttribute", "hostLabel", "streaming" }

-- Expand one raw shape (compact or botocore) into the graph form; refs resolved later.
local function raw_shape(name, raw)
  if type(raw) == "string" then return { name = name, type = raw } end
  local sh = { name = name, type = raw[1] or raw.type }
  for k, v in pairs(raw) do
    if k ~= 1 and k ~= "documentation" and k ~= "members" and k ~= "required" then sh[k] = v end
  end
  sh.required = {}
  for _, r in ipairs(raw.required or {}) do sh.required[r] = true end
  if raw.members then sh.raw_members = raw.members end
  return sh
end

local function make_ref(shapes, raw, name, where)
  local ref = { name = name }
  local target
  if type(raw) == "string" then target = raw
  else
    target = raw[1] or raw.shape
    for _, k in ipairs(REF_TRAITS) do ref[k] = raw[k] end
  end
  ref.shape = shapes[target]
  if not ref.shape then error("laws.model: " .. where .. " refers to unknown shape " .. tostring(target), 0) end
  return ref
end

--- Build the graph from a decoded model table (compact or botocore JSON).
function M.build(raw, source)
  if type(raw) ~= "table" or type(raw.operations) ~= "table" or type(raw.shapes) ~= "table" then
    error("laws.model: " .. tostring(source) .. " is not a service model (operations/shapes missing)", 0)
  end
  local shapes = {}
  for name, s in pairs(raw.shapes) do shapes[name] = raw_shape(name, s) end
  local errs = {}
  for name, sh in pairs(shapes) do
    if sh.raw_members then
      sh.members, sh.order = {}, {}
      for mname, m in pairs(sh.raw_members) do
        sh.members[mname] = make_ref(shapes, m, mname, name .. "." .. mname)
        sh.order[#sh.order + 1] = mname
      end
      table.sort(sh.order)
      sh.raw_members = nil
      -- body members by their name on the wire: decoding walks the answer's keys, not the model's
      sh.wire = {}
      for mname, ref in pairs(sh.members) do
        if ref.location == nil then sh.wire[ref.locationName or mname] = ref end
      end
    elseif sh.type == "structure" then
      sh.members, sh.order, sh.wire = {}, {}, {}
    end
    -- three plain statements, not a loop over { "member", "key", "value" }: LuaJIT 2.1.0-beta3's
    -- compiler (Debian's luajit2) now and then left sh.key/sh.value a plain string with that loop
    -- (about 1 process in 50-500; never with the JIT off), and validating a map then failed
    if sh.member then sh.member = make_ref(shapes, sh.member, "member", name .. ".member") end
    if sh.key then sh.key = make_ref(shapes, sh.key, "key", name .. ".key") end
    if sh.value then sh.value = make_ref(shapes, sh.value, "value", name .. ".value") end
    if sh.exception or sh.error then
      errs[name] = sh
      if type(sh.error) == "table" and sh.error.code then errs[sh.error.code] = sh end
    end
  end
  local meta = raw.metadata or {}
  local m = { meta = meta, ops = {}, names = {}, errors = errs, source = source,
              protocol = meta.protocol, shapes = shapes }
  for name, o in pairs(raw.operations) do
    local op = { name = name }
    if o.http then  -- botocore form
      op.method, op.uri, op.code = o.http.method or "POST", o.http.requestUri or "/", o.http.responseCode
      op.input = o.input and shapes[o.input.shape]
      op.output = o.output and shapes[o.output.shape]
      op.wrapper = o.output and o.output.resultWrapper
      local auth = o.auth
      op.unsigned = o.authtype == "none" or (type(auth) == "table" and #auth == 1 and auth[1] == "smithy.api#noAuth") or nil
    else
      op.method, op.uri, op.code = o[1], o[2], o.code
      op.input, op.output, op.wrapper = shapes[o.input], shapes[o.output], o.wrapper
      op.unsigned = o.unsigned
    end
    m.ops[name] = op
    m.names[#m.names + 1] = name
  end
  table.sort(m.names)
  return m
end

--- A cache of `make(shape)` per shape (or per operation), for what is worked out once from
-- the model: answers the cache table and `fill(shape)`, which makes, stores and answers the
-- value. Hot paths index the table inline, `t[shape] or fill(shape)`, rather than calling a
-- getter. Weak keys: a model dropped by its last client takes its cached work with it.
function M.per_shape(make)
  local t = setmetatable({}, { __mode = "k" })
  return t, function(shape)
    local v = make(shape)
    t[shape] = v
    return v
  end
end

-- Built-in services by SDK id (as the AWS CLI and botocore name them).
M.builtin = {
  connectcases = "laws.services.connectcases",
  ["customer-profiles"] = "laws.services.customer_profiles",
  dynamodb = "laws.services.dynamodb",
  sts = "laws.services.sts",
}

local cache = {}

--- Load a built-in service by name; raises for an unknown one.
function M.service(name)
  if cache[name] then return cache[name] end
  local mod = M.builtin[name]
  if not mod then
    local known = {}
    for k in pairs(M.builtin) do known[#known + 1] = k end
    table.sort(known)
    error("laws.client: unknown service '" .. tostring(name) .. "' (built in: " .. table.concat(known, ", ")
          .. "; any other JSON or query service works with { model = 'path/service-2.json' })", 3)
  end
  cache[name] = M.build(require(mod), mod)
  return cache[name]
end

--- Load a botocore-format service-2.json; raises when it cannot be read or parsed.
function M.file(path)
  if cache[path] then return cache[path] end
  local f, err = io.open(path, "rb")
  if not f then error("laws.client: cannot read model: " .. tostring(err), 3) end
  local text = f:read("*a")
  f:close()
  local raw, jerr = json.decode(text)
  if not raw then error("laws.client: model " .. path .. " is not JSON: " .. jerr, 3) end
  cache[path] = M.build(raw, path)
  return cache[path]
end

--- Levenshtein distance, for "did you mean" suggestions.
function M.distance(a, b)
  a, b = a:lower(), b:lower()
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = { [0] = i }
    local ca = a:byte(i)
    for j = 1, #b do
      local cost = (ca == b:byte(j)) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

--- The names in `list` closest to `name` (up to `n`, best first).
function M.closest(name, list, n)
  local scored = {}
  for _, cand in ipairs(list) do scored[#scored + 1] = { cand, M.distance(name, cand) } end
  table.sort(scored, function(x, y) if x[2] ~= y[2] then return x[2] < y[2] end return x[1] < y[1] end)
  local out = {}
  for i = 1, math.min(n or 3, #scored) do out[i] = scored[i][1] end
  return out
end

return M
