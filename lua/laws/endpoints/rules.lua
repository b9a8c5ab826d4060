--- The Smithy endpoint rules engine: resolves an endpoint from a service's decoded
-- `endpoint-rule-set-1.json` and a parameter table, with partitions.json behind
-- `aws.partition`.
--
--   ep, err = rules.resolve(ruleset, { Region = "us-east-1", UseFIPS = false }, partitions)
--   -- ep = { url = "...", headers = { name = { values } }, properties = { ... } }
--   -- err: laws.errors value, code "EndpointError" (the rule set's message, or what is wrong
--   --      with a parameter)
--
-- `partitions` is the decoded partitions.json, or a path to it (read once), or nil for the
-- default set with `rules.set_partitions`. A rule set is compiled once into closures (cached
-- per rule-set table); resolutions are cached per parameter set, in a bounded cache.
local errors = require "laws.errors"
local json = require "laws.json"

local M = {}

local type, pairs, ipairs, tostring, tonumber = type, pairs, ipairs, tostring, tonumber
local concat, byte, sub, find, format = table.concat, string.byte, string.sub, string.find, string.format

local function endpoint_error(msg)
  return nil, errors.new { code = "EndpointError", message = msg }
end

-- A malformed rule set stops compilation with this marker, caught in `compile`.
local BAD = {}
local function bad(msg) error({ [BAD] = msg }, 0) end

---------------------------------------------------------------------------------------------
-- Partitions
---------------------------------------------------------------------------------------------

-- regionRegex uses a small regex subset (anchors, groups of alternatives, \w \d \- escapes,
-- classes, + * ?): each alternative of each group becomes one Lua pattern.
local function regex_alternatives(re)
  local open = find(re, "(", 1, true)
  if not open then return { re } end
  local close = find(re, ")", open + 1, true)
  if not close then return nil end
  local inner = sub(re, open + 1, close - 1)
  if find(inner, "(", 1, true) then return nil end
  local nextc = sub(re, close + 1, close + 1)
  if nextc == "+" or nextc == "*" or nextc == "?" or nextc == "{" then return nil end
  local out = {}
  for alt in (inner .. "|"):gmatch("([^|]*)|") do
    local rest = regex_alternatives(sub(re, 1, open - 1) .. alt .. sub(re, close + 1))
    if not rest then return nil end
    for _, r in ipairs(rest) do out[#out + 1] = r end
  end
  return out
end

local ESCAPES = { w = "[%w_]", d = "%d", s = "%s", W = "[^%w_]", D = "%D", S = "%S" }

local function regex_to_pattern(re)
  local out, i, n = {}, 1, #re
  while i <= n do
    local c = sub(re, i, i)
    if c == "\\" then
      local e = sub(re, i + 1, i + 1)
      out[#out + 1] = ESCAPES[e] or (e:match("%w") and e or "%" .. e)
      i = i + 2
    elseif c == "[" then
      local j = find(re, "]", i + 1, true)
      if not j then return nil end
      out[#out + 1] = (sub(re, i, j):gsub("\\(.)", function(e)
        local esc = ESCAPES[e]
        return esc and esc:gsub("^%[(.*)%]$", "%1") or "%" .. e
      end))
      i = j + 1
    elseif c == "{" or c == "|" then
      return nil
    elseif c == "^" and i == 1 or c == "$" and i == n or c == "." or c == "+" or c == "*" or c == "?" then
      out[#out + 1] = c
      i = i + 1
    elseif c:match("[%w_]") then
      out[#out + 1] = c
      i = i + 1
    else
      out[#out + 1] = "%" .. c
      i = i + 1
    end
  end
  return concat(out)
end

local compiled_partitions = setmetatable({}, { __mode = "k" })
local partitions_by_path = {}

local function compile_partitions(data)
  local c = compiled_partitions[data]
  if c then return c end
  if type(data.partitions) ~= "table" or not data.partitions[1] then
    return nil, "partitions: no 'partitions' list"
  end
  local list, by_region = {}, {}
  for _, p in ipairs(data.partitions) do
    local outputs = type(p.outputs) == "table" and p.outputs or {}
    local entry = { id = p.id, outputs = outputs, patterns = {} }
    if type(p.regionRegex) == "string" then
      local alts = regex_alternatives(p.regionRegex)
      if not alts then return nil, "partitions: unsupported regionRegex " .. p.regionRegex end
      for _, a in ipairs(alts) do
        local pat = regex_to_pattern(a)
        if not pat then return nil, "partitions: unsupported regionRegex " .. p.regionRegex end
        entry.patterns[#entry.patterns + 1] = pat
      end
    end
    for region, ro in pairs(type(p.regions) == "table" and p.regions or {}) do
      if by_region[region] == nil then by_region[region] = { entry = entry, overrides = ro } end
    end
    list[#list + 1] = entry
  end
  c = { list = list, by_region = by_region, results = {}, count = 0 }
  compiled_partitions[data] = c
  return c
end

-- The partition record for a region: the partition's outputs, with a region's own
-- overrides (any key but its description) on top. Results are shared: read-only.
local function partition_of(parts, region)
  local r = parts.results[region]
  if r then return r end
  local hit, overrides = parts.by_region[region], nil
  local entry
  if hit then
    entry, overrides = hit.entry, hit.overrides
  else
    for _, e in ipairs(parts.list) do
      for _, pat in ipairs(e.patterns) do
        if find(region, pat) then entry = e break end
      end
      if entry then break end
    end
    entry = entry or parts.list[1]
  end
  r = {}
  for k, v in pairs(entry.outputs) do r[k] = v end
  if r.name == nil then r.name = entry.id end
  if type(overrides) == "table" then
    for k, v in pairs(overrides) do if k ~= "description" then r[k] = v end end
  end
  -- bounded: region strings come from callers
  if parts.count >= 1024 then parts.results, parts.count = {}, 0 end
  parts.results[region] = r
  parts.count = parts.count + 1
  return r
end

local function read_file(path)
  local f, ferr = io.open(path, "rb")
  if not f then return nil, ferr end
  local s = f:read("*a")
  f:close()
  return s
end

--- The compiled partitions for a decoded partitions.json table or a path to it (read once).
-- Returns the compiled value or nil, err (EndpointError).
local function load_partitions(src)
  if type(src) == "string" then
    local c = partitions_by_path[src]
    if c then return c end
    local text, rerr = read_file(src)
    if not text then return endpoint_error("cannot read partitions file: " .. tostring(rerr)) end
    local data, derr = json.decode(text)
    if type(data) ~= "table" then return endpoint_error("partitions file " .. src .. ": " .. tostring(derr)) end
    local perr
    c, perr = compile_partitions(data)
    if not c then return endpoint_error(perr) end
    partitions_by_path[src] = c
    return c
  elseif type(src) == "table" then
    local c, perr = compile_partitions(src)
    if not c then return endpoint_error(perr) end
    return c
  end
  error("laws.endpoints.rules: partitions must be a table (decoded partitions.json) or a path, got "
    .. type(src), 3)
end

local default_partitions

--- Sets the partitions used when `resolve` is given none (a decoded table or a path).
-- Returns true, or nil, err when they cannot be read.
function M.set_partitions(src)
  if src == nil then default_partitions = nil return true end
  local c, err = load_partitions(src)
  if not c then return nil, err end
  default_partitions = c
  return true
end

---------------------------------------------------------------------------------------------
-- The standard library (Smithy rules 1.0 and the aws.* extensions)
---------------------------------------------------------------------------------------------

local function valid_host_label(s, allow_sub)
  if type(s) ~= "string" then return false end
  if allow_sub == true then
    if s == "" then return false end
    local i = 1
    while true do
      local dot = find(s, ".", i, true)
      local label = sub(s, i, (dot or 0) - 1)
      if not valid_host_label(label, false) then return false end
      if not dot then return true end
      i = dot + 1
    end
  end
  local n = #s
  return n >= 1 and n <= 63 and find(s, "^[%w%-]+$") ~= nil
    and byte(s, 1) ~= 45 and byte(s, n) ~= 45  -- '-'
end

local function is_ipv4(s)
  local a, b, c, d = s:match("^(%d%d?%d?)%.(%d%d?%d?)%.(%d%d?%d?)%.(%d%d?%d?)$")
  if not a then return false end
  return tonumber(a) <= 255 and tonumber(b) <= 255 and tonumber(c) <= 255 and tonumber(d) <= 255
end

local function uri_encode(s)
  if type(s) ~= "string" then return nil end
  return (s:gsub("[^%w%-%._~]", function(ch) return format("%%%02X", byte(ch)) end))
end

local function parse_url(s)
  if type(s) ~= "string" then return nil end
  local scheme, rest = s:match("^(%a[%w+.%-]*)://(.*)$")
  if scheme ~= "http" and scheme ~= "https" then return nil end
  if find(rest, "?", 1, true) or find(rest, "#", 1, true) then return nil end  -- queries unsupported
  local slash = find(rest, "/", 1, true)
  local authority = slash and sub(rest, 1, slash - 1) or rest
  local path = slash and sub(rest, slash) or ""
  if authority == "" or find(authority, "@", 1, true) then return nil end
  local host, port
  if byte(authority, 1) == 91 then  -- '[': an IPv6 literal
    host, port = authority:match("^(%[[%x:%.]+%])(.*)$")
    if not host then return nil end
  else
    host, port = authority:match("^([^:]*)(.*)$")
    if host == "" then return nil end
  end
  if port ~= "" and not port:match("^:%d+$") then return nil end
  local norm = path
  if sub(norm, -1) ~= "/" then norm = norm .. "/" end
  if sub(norm, 1, 1) ~= "/" then norm = "/" .. norm end
  return {
    scheme = scheme, authority = authority, path = path, normalizedPath = norm,
    isIp = byte(host, 1) == 91 or is_ipv4(host),
  }
end

local function parse_arn(s)
  if type(s) ~= "string" or sub(s, 1, 4) ~= "arn:" then return nil end
  local parts, i = {}, 5
  for _ = 1, 4 do
    local c = find(s, ":", i, true)
    if not c then return nil end
    parts[#parts + 1] = sub(s, i, c - 1)
    i = c + 1
  end
  local resource = sub(s, i)
  if parts[1] == "" or parts[2] == "" or resource == "" then return nil end
  local ids, j = {}, 1
  while true do
    local c = find(resource, "[:/]", j)
    ids[#ids + 1] = sub(resource, j, (c or 0) - 1)
    if not c then break end
    j = c + 1
  end
  return { partition = parts[1], service = parts[2], region = parts[3], accountId = parts[4],
           resourceId = ids }
end

local function virtual_hostable_bucket(s, allow_sub)
  if type(s) ~= "string" or #s < 3 or #s > 63 or s:lower() ~= s or is_ipv4(s) then return false end
  return valid_host_label(s, allow_sub)
end

local function substring(s, start, stop, reverse)
  if type(s) ~= "string" or type(start) ~= "number" or type(stop) ~= "number" then return nil end
  local n = #s
  if start >= stop or n < stop or find(s, "[\128-\255]") then return nil end
  if reverse == true then start, stop = n - stop, n - start end
  return sub(s, start + 1, stop)
end

-- getAttr paths ("a.b[0]") parse once, at compile time, into steps: string keys, or
-- 1-based indexes.
local function parse_path(path)
  if type(path) ~= "string" or path == "" then bad("getAttr: bad path " .. tostring(path)) end
  local steps = {}
  for part in (path .. "."):gmatch("([^.]*)%.") do
    local name, rest = part:match("^([^%[]*)(.*)$")
    if name ~= "" then steps[#steps + 1] = name end
    for idx in rest:gmatch("%[(%d+)%]") do steps[#steps + 1] = tonumber(idx) + 1 end
    if rest:gsub("%[%d+%]", "") ~= "" then bad("getAttr: bad path " .. path) end
  end
  if #steps == 0 then bad("getAttr: bad path " .. path) end
  return steps
end

local function get_path(v, steps)
  for i = 1, #steps do
    if type(v) ~= "table" then return nil end
    v = v[steps[i]]
  end
  return v
end

-- Each function: fn(args...) with evaluated arguments; `ctx` is the resolution's state (for
-- aws.partition's partitions) and comes first.
local LIB = {
  isSet = function(_, x) return x ~= nil end,
  ["not"] = function(_, x) return not x end,
  booleanEquals = function(_, a, b) return a ~= nil and a == b end,
  stringEquals = function(_, a, b) return a ~= nil and a == b end,
  substring = function(_, s, a, b, r) return substring(s, a, b, r) end,
  uriEncode = function(_, s) return uri_encode(s) end,
  parseURL = function(_, s) return parse_url(s) end,
  isValidHostLabel = function(_, s, allow) return valid_host_label(s, allow) end,
  ["aws.partition"] = function(ctx, region)
    if type(region) ~= "string" then return nil end
    return partition_of(ctx.partitions, region)
  end,
  ["aws.parseArn"] = function(_, s) return parse_arn(s) end,
  ["aws.isVirtualHostableS3Bucket"] = function(_, s, allow) return virtual_hostable_bucket(s, allow) end,
}

---------------------------------------------------------------------------------------------
-- Compilation: every expression becomes a closure f(ctx), ctx.v holding the variables
---------------------------------------------------------------------------------------------

local compile_expr

local function constant(x) return function() return x end end

-- "https://{Region}.{PartitionResult#dnsSuffix}": literal text, {name} references and
-- {name#path} attribute reads; "{{" and "}}" are literal braces.
local function compile_template(s)
  if not find(s, "[{}]") then return constant(s) end
  local parts, lit, i, n = {}, {}, 1, #s
  while i <= n do
    local c = sub(s, i, i)
    if c == "{" and sub(s, i + 1, i + 1) == "{" then
      lit[#lit + 1] = "{" i = i + 2
    elseif c == "}" and sub(s, i + 1, i + 1) == "}" then
      lit[#lit + 1] = "}" i = i + 2
    elseif c == "{" then
      local close = find(s, "}", i + 1, true)
      if not close then bad("template: unclosed '{' in " .. s) end
      if #lit > 0 then parts[#parts + 1] = concat(lit) lit = {} end
      local ref = sub(s, i + 1, close - 1)
      local name, path = ref:match("^([^#]+)#(.+)$")
      if name then
        local steps = parse_path(path)
        parts[#parts + 1] = function(ctx) return get_path(ctx.v[name], steps) end
      else
        parts[#parts + 1] = function(ctx) return ctx.v[ref] end
      end
      i = close + 1
    else
      lit[#lit + 1] = c i = i + 1
    end
  end
  if #lit > 0 then parts[#parts + 1] = concat(lit) end
  local np = #parts
  if np == 1 and type(parts[1]) == "string" then return constant(parts[1]) end
  return function(ctx)
    local buf = {}
    for k = 1, np do
      local p = parts[k]
      if type(p) == "string" then buf[k] = p
      else
        local x = p(ctx)
        if x == nil then return nil end  -- a template over an unset value is unset
        buf[k] = tostring(x)
      end
    end
    return concat(buf)
  end
end

local function compile_call(e)
  local name = e.fn
  if type(name) ~= "string" then bad("fn: name must be a string") end
  local argv = e.argv
  if argv ~= nil and type(argv) ~= "table" then bad(name .. ": argv must be a list") end
  argv = argv or {}
  if name == "getAttr" then
    local target = compile_expr(argv[1])
    if type(argv[2]) ~= "string" then bad("getAttr: path must be a string") end
    local steps = parse_path(argv[2])
    if #steps == 1 then
      local key = steps[1]
      return function(ctx)
        local t = target(ctx)
        if type(t) ~= "table" then return nil end
        return t[key]
      end
    end
    return function(ctx) return get_path(target(ctx), steps) end
  end
  local f = LIB[name]
  if not f then bad("unsupported function " .. name) end
  local a = {}
  for i = 1, #argv do a[i] = compile_expr(argv[i]) end
  local n = #a
  local a1, a2, a3, a4 = a[1], a[2], a[3], a[4]
  if n == 0 then return function(ctx) return f(ctx) end
  elseif n == 1 then return function(ctx) return f(ctx, a1(ctx)) end
  elseif n == 2 then return function(ctx) return f(ctx, a1(ctx), a2(ctx)) end
  elseif n == 3 then return function(ctx) return f(ctx, a1(ctx), a2(ctx), a3(ctx)) end
  elseif n == 4 then return function(ctx) return f(ctx, a1(ctx), a2(ctx), a3(ctx), a4(ctx)) end
  end
  bad(name .. ": too many arguments")
end

function compile_expr(e)
  local t = type(e)
  if t == "string" then return compile_template(e) end
  if t == "boolean" or t == "number" then return constant(e) end
  if t == "table" then
    if e.ref ~= nil then
      local name = e.ref
      if type(name) ~= "string" then bad("ref must be a string") end
      return function(ctx) return ctx.v[name] end
    end
    if e.fn ~= nil then return compile_call(e) end
  end
  bad("unsupported expression (" .. t .. ")")
end

-- Endpoint properties are literal values whose strings are templates.
local function compile_value(x)
  local t = type(x)
  if t == "string" then return compile_template(x) end
  if t ~= "table" then return constant(x) end
  local keys, fns = {}, {}
  for k, v in pairs(x) do
    keys[#keys + 1] = k
    fns[#fns + 1] = compile_value(v)
  end
  local n = #keys
  return function(ctx)
    local out = {}
    for i = 1, n do out[keys[i]] = fns[i](ctx) end
    return out
  end
end

local function compile_endpoint(ep)
  if type(ep) ~= "table" then bad("endpoint rule without endpoint") end
  local url = compile_expr(ep.url)
  local hnames, hvals = {}, {}
  for name, list in pairs(type(ep.headers) == "table" and ep.headers or {}) do
    if type(list) ~= "table" then bad("endpoint header " .. tostring(name) .. ": values must be a list") end
    local fs = {}
    for i, x in ipairs(list) do fs[i] = compile_expr(x) end
    hnames[#hnames + 1] = name
    hvals[#hvals + 1] = fs
  end
  local props = compile_value(type(ep.properties) == "table" and ep.properties or {})
  return function(ctx)
    local headers = {}
    for i = 1, #hnames do
      local fs, vals = hvals[i], {}
      for j = 1, #fs do vals[j] = fs[j](ctx) end
      headers[hnames[i]] = vals
    end
    return "endpoint", { url = url(ctx), headers = headers, properties = props(ctx) }
  end
end

local compile_rules

-- A rule: f(ctx) -> nil (its conditions failed) or kind ("endpoint" | "error"), value.
-- Assignments of a rule whose conditions fail are undone, so they never leak to siblings.
local function compile_rule(r)
  if type(r) ~= "table" then bad("rule must be an object") end
  local conds, assigns = {}, {}
  for i, c in ipairs(type(r.conditions) == "table" and r.conditions or {}) do
    if type(c) ~= "table" or c.fn == nil then bad("condition must be a function call") end
    conds[i] = compile_call(c)
    assigns[i] = c.assign or false
  end
  local body
  if r.type == "endpoint" then
    body = compile_endpoint(r.endpoint)
  elseif r.type == "error" then
    local msg = compile_expr(r.error)
    body = function(ctx) return "error", msg(ctx) end
  elseif r.type == "tree" then
    local sub_rules = compile_rules(r.rules)
    body = function(ctx)
      for i = 1, #sub_rules do
        local kind, val = sub_rules[i](ctx)
        if kind then return kind, val end
      end
      -- a tree whose conditions matched is terminal
      return "error", "No endpoint rule matched"
    end
  else
    bad("unknown rule type " .. tostring(r.type))
  end
  local nc = #conds
  return function(ctx)
    local v = ctx.v
    for i = 1, nc do
      local x = conds[i](ctx)
      if x == nil or x == false then
        for j = 1, i - 1 do
          local a = assigns[j]
          if a then v[a] = nil end
        end
        return nil
      end
      local a = assigns[i]
      if a then v[a] = x end
    end
    return body(ctx)
  end
end

function compile_rules(list)
  if type(list) ~= "table" then bad("rules must be a list") end
  local out = {}
  for i, r in ipairs(list) do out[i] = compile_rule(r) end
  return out
end

local TYPES = { string = "string", boolean = "boolean", stringarray = "stringArray" }

local function compile_params(params)
  local list, index = {}, {}
  for name, p in pairs(params) do
    if type(p) ~= "table" then bad("parameter " .. tostring(name) .. " must be an object") end
    local ty = TYPES[tostring(p.type):lower()]
    if not ty then bad("parameter " .. tostring(name) .. ": unsupported type " .. tostring(p.type)) end
    local def = p.default
    if def == json.null then def = nil end
    local e = { name = name, type = ty, required = p.required == true, default = def, builtIn = p.builtIn }
    list[#list + 1] = e
    index[name] = e
  end
  table.sort(list, function(a, b) return a.name < b.name end)
  return list, index
end

local compiled = setmetatable({}, { __mode = "k" })

--- The compiled form of a decoded rule set (cached per table). Returns it, or nil, err
-- (EndpointError) when the rule set is malformed or uses an unsupported function.
function M.compile(ruleset)
  if type(ruleset) ~= "table" then
    error("laws.endpoints.rules: rule set must be a table (decoded endpoint-rule-set-1.json), got "
      .. type(ruleset), 2)
  end
  local c = compiled[ruleset]
  if c then return c end
  local ok, res = pcall(function()
    local list, index = compile_params(type(ruleset.parameters) == "table" and ruleset.parameters or {})
    return { params = list, index = index, rules = compile_rules(ruleset.rules),
             caches = setmetatable({}, { __mode = "k" }) }
  end)
  if not ok then
    if type(res) == "table" and res[BAD] then return endpoint_error("invalid rule set: " .. res[BAD]) end
    error(res, 0)
  end
  compiled[ruleset] = res
  return res
end

--- The rule set's parameters, sorted by name: a list of { name, type ("string" | "boolean" |
-- "stringArray"), required, default, builtIn } (fresh tables), for a caller filling built-ins
-- such as "AWS::Region" from its configuration. nil, err for a rule set that does not compile.
function M.parameters(ruleset)
  local c, err = M.compile(ruleset)
  if not c then return nil, err end
  local out = {}
  for i, p in ipairs(c.params) do
    out[i] = { name = p.name, type = p.type, required = p.required, default = p.default, builtIn = p.builtIn }
  end
  return out
end

---------------------------------------------------------------------------------------------
-- Resolution
---------------------------------------------------------------------------------------------

local function type_of(ty, x)
  if ty == "stringArray" then
    if type(x) ~= "table" then return false end
    for k, s in pairs(x) do
      if type(k) ~= "number" or type(s) ~= "string" then return false end
    end
    return true
  end
  return type(x) == ty
end

-- Bound on cached resolutions per (rule set, partitions): two generations of CACHE_SIZE,
-- the older dropped when the newer fills (an LRU approximation without bookkeeping).
local CACHE_SIZE = 256

local function copy(x)
  local out = {}
  for k, v in pairs(x) do
    if type(v) == "table" then v = copy(v) end
    out[k] = v
  end
  return out
end

local function cache_key(list, vals)
  local buf = {}
  for i = 1, #list do
    local x = vals[i]
    local t = type(x)
    if x == nil then buf[i] = "-"
    elseif t == "boolean" then buf[i] = x and "t" or "f"
    elseif t == "string" then buf[i] = #x .. ":" .. x
    else
      local items = { "[" .. #x }
      for j = 1, #x do items[j + 1] = #x[j] .. ":" .. x[j] end
      buf[i] = concat(items, ",")
    end
  end
  return concat(buf, "|")
end

--- Resolve an endpoint. `params` maps parameter names (Region, UseFIPS, Bucket, ...) to
-- values. Returns { url, headers, properties } (a fresh table the caller may keep), or
-- nil, err with err.code "EndpointError".
function M.resolve(ruleset, params, partitions)
  if params == nil then params = {} end
  if type(params) ~= "table" then
    error("laws.endpoints.rules.resolve: params must be a table, got " .. type(params), 2)
  end
  local c, cerr = M.compile(ruleset)
  if not c then return nil, cerr end
  local parts
  if partitions == nil then
    parts = default_partitions
  else
    local perr
    parts, perr = load_partitions(partitions)
    if not parts then return nil, perr end
  end

  local index, list = c.index, c.params
  for k, x in pairs(params) do
    local p = index[k]
    if not p then return endpoint_error("unknown parameter " .. tostring(k)) end
    if not type_of(p.type, x) then
      return endpoint_error(format("parameter %s must be a %s, got %s", k, p.type, type(x)))
    end
  end
  local vals = {}
  for i = 1, #list do
    local p = list[i]
    local x = params[p.name]
    if x == nil then x = p.default end
    if x == nil and p.required then return endpoint_error("missing required parameter " .. p.name) end
    vals[i] = x
  end

  local cache = c.caches[parts or c]
  if not cache then
    cache = { new = {}, old = {}, n = 0 }
    c.caches[parts or c] = cache
  end
  local key = cache_key(list, vals)
  local hit = cache.new[key]
  if hit == nil then
    hit = cache.old[key]
    if hit == nil then
      local v = {}
      for i = 1, #list do v[list[i].name] = vals[i] end
      local ctx = { v = v, partitions = parts }
      if not parts then
        -- only rule sets that call aws.partition need partitions
        ctx.partitions = setmetatable({}, { __index = function()
          error("laws.endpoints.rules.resolve: the rule set calls aws.partition: pass partitions "
            .. "(a decoded partitions.json or its path) or call set_partitions", 0)
        end })
      end
      local kind, val = nil, nil
      local rs = c.rules
      for i = 1, #rs do
        kind, val = rs[i](ctx)
        if kind then break end
      end
      if not kind then kind, val = "error", "No endpoint rule matched" end
      if kind == "endpoint" and type(val.url) ~= "string" then
        kind, val = "error", "endpoint rule produced no URL"
      end
      hit = { kind = kind, value = val }
    end
    if cache.n >= CACHE_SIZE then cache.old, cache.new, cache.n = cache.new, {}, 0 end
    cache.new[key] = hit
    cache.n = cache.n + 1
  end
  if hit.kind == "error" then return endpoint_error(hit.value or "endpoint rule error") end
  return copy(hit.value)
end

return M
