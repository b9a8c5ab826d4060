--- Pieces every protocol shares: percent-encoding, base64, timestamps, parameter
-- validation, shape-directed JSON encode/decode and AWS error-code clean-up.
local json = require "laws.json"
local model = require "laws.model"
local errors = require "laws.errors"

local M = {}

-- Integers without math.type / math.tointeger, which LuaJIT (OpenResty) lacks.
local function is_int(v)
  return type(v) == "number" and v == math.floor(v) and v >= -2^63 and v < 2^63
end
M.is_int = is_int

--- A whole number as a Lua integer where the Lua has them; nil when `v` is not whole.
function M.toint(v)
  if not is_int(v) then return nil end
  return math.tointeger and math.tointeger(v) or v
end

--- RFC 3986 percent-encoding (everything but unreserved), in C: a Lua pattern costs ~100
-- instructions a byte (bench/25-client.sh); keep_slash for greedy labels. For a string value.
local uri_encode = require("laws.native").uri_encode
M.uri_encode = uri_encode
function M.pct(s, keep_slash) return uri_encode(tostring(s), keep_slash) end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local B64INV = {}
for i = 1, 64 do B64INV[B64:byte(i)] = i - 1 end

function M.b64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local d1, d2, d3, d4 = math.floor(n / 262144), math.floor(n / 4096) % 64, math.floor(n / 64) % 64, n % 64
    out[#out + 1] = B64:sub(d1 + 1, d1 + 1) .. B64:sub(d2 + 1, d2 + 1)
      .. (b and B64:sub(d3 + 1, d3 + 1) or "=") .. (c and B64:sub(d4 + 1, d4 + 1) or "=")
  end
  return table.concat(out)
end

function M.unb64(s)
  if type(s) ~= "string" then return s end
  s = s:gsub("[^%w%+/]", "")
  local out, bits, nbits = {}, 0, 0
  for i = 1, #s do
    bits = bits * 64 + B64INV[s:byte(i)]
    nbits = nbits + 6
    if nbits >= 8 then
      nbits = nbits - 8
      local p = 2 ^ nbits
      out[#out + 1] = string.char(math.floor(bits / p) % 256)
      bits = bits % p
    end
  end
  return table.concat(out)
end

--- Timestamps: a number is epoch seconds; a string is sent as given.
function M.timestamp(v, format)
  if type(v) == "string" then return v end
  if format == "unixTimestamp" then return v end
  local whole = math.floor(v)
  if format == "rfc822" then return os.date("!%a, %d %b %Y %H:%M:%S GMT", whole) end
  local frac = v - whole
  local s = os.date("!%Y-%m-%dT%H:%M:%S", whole)
  if frac > 0 then s = s .. string.format(".%03d", math.floor(frac * 1000 + 0.5) % 1000) end
  return s .. "Z"
end

--- Parameter validation: raises (programmer error) naming the path of the bad value.
-- The path is kept as a stack of keys (st[1] the operation, st[d] the key of the value at
-- depth d) and only turned into text on failure: a valid call builds no strings. Each
-- validation takes a stack of its own from a free-list, so a params table whose metamethods
-- make another call (even one that yields inside a laws.async task) cannot mix two paths.

--- Nesting limit for parameters, in path segments (members, list items, map keys): a
-- cyclic table is named as such instead of overflowing the Lua stack.
M.MAX_PARAM_DEPTH = 128
--- Size limits, in bytes as sent, for one member bound for the URI (a label or a query
-- parameter, all its items) or for a header: above them a member is refused naming itself,
-- rather than failing in libcurl (which refuses URLs over 8 MB) or at the server.
M.MAX_URI_MEMBER = 16384
M.MAX_HEADER_MEMBER = 16384

--- Raise the validation error for the value at `path` ("Op.member[1].x"): misuse raises, as
-- a laws error value (code ValidationError, .member = path) whose text names the member.
local function invalid(path, msg)
  error(errors.new{ code = "ValidationError", member = path, message = "laws.client: " .. path .. ": " .. msg }, 0)
end
M.invalid = invalid

local function path_text(st, d)
  local parts = {}
  for i = 1, d do
    local k = st[i]
    if i == 1 then parts[1] = k
    elseif type(k) == "number" then parts[i] = "[" .. k .. "]"
    elseif type(k) == "table" then parts[i] = "[" .. string.format("%q", k[1]) .. "]"  -- map key
    else parts[i] = "." .. tostring(k) end
  end
  return table.concat(parts)
end

local function fail(st, d, msg)
  invalid(path_text(st, d), msg)
end

-- Past the depth limit at `d`: name the cycle when the path comes back to a table it went
-- through (walked again from the root: only a failing call pays for it).
local function too_deep(st, d)
  local seen, v = {}, st.root
  for i = 1, d do
    if i > 1 then
      local k = st[i]
      if type(k) == "table" then k = k[1] end
      v = type(v) == "table" and v[k] or nil
    end
    if type(v) ~= "table" then break end
    local first = seen[v]
    if first then
      fail(st, i, "a cyclic table (the same table as " .. path_text(st, first) .. ")")
    end
    seen[v] = i
  end
  fail(st, d, "parameters nested deeper than " .. M.MAX_PARAM_DEPTH .. " levels")
end

local check
local MAX_DEPTH = M.MAX_PARAM_DEPTH

-- What a member's value is checked against, by the kind of its shape: the scalars whose check
-- is only their Lua type get that type name (tested inline, no call), a jsonvalue member is
-- "any", every other shape is "nested" (checked by `check`, with its key on the path).
-- (A number member's inline test also refuses NaN and infinities: x - x ~= 0 for those.)
local SIMPLE = { string = "string", blob = "string", boolean = "boolean", double = "number", float = "number" }
local function kind_of(ref)
  if ref.jsonvalue ~= nil then return "any" end
  return SIMPLE[ref.shape.type] or "nested"
end

-- Per structure shape, once: each member's kind (above), and the required members as a list,
-- in the order `pairs(shape.required)` walks them (so the first missing one named is the same).
local check_plans, check_plan = model.per_shape(function(shape)
  local kinds, required = {}, {}
  for name, ref in pairs(shape.members) do kinds[name] = kind_of(ref) end
  for name in pairs(shape.required) do required[#required + 1] = name end
  return { kinds = kinds, required = required }
end)

-- Per list shape, once: its member's kind.
local list_kinds, list_kind = model.per_shape(function(shape) return kind_of(shape.member) end)

-- A value failed its inline test: check it by its shape with its key on the path, which
-- raises the message the shape's own check gives.
local function fail_in(v, shape, st, d, key)
  st[d + 1] = key
  check(v, shape, st, d + 1)
end

local function not_finite(v) return v ~= v and "nan" or (v > 0 and "inf" or "-inf") end

-- A document or jsonvalue member holds any JSON value: only its nesting (cycles) and its
-- numbers are checked, so those are named by path here rather than raised by the encoder.
local function check_any(v, st, d)
  local tv = type(v)
  if tv == "table" then
    if d > MAX_DEPTH then too_deep(st, d) end
    for k, x in pairs(v) do
      st[d + 1] = type(k) == "number" and k or { tostring(k) }
      check_any(x, st, d + 1)
    end
  elseif tv == "number" and v - v ~= 0 then
    fail(st, d, "expected a finite number, got " .. not_finite(v))
  end
end

-- check(v, shape, st, d): `v` is the value at depth `d` of the path in `st`.
check = function(v, shape, st, d)
  if d > MAX_DEPTH then too_deep(st, d) end
  local t = shape.type
  if t == "structure" then
    if shape.document then return check_any(v, st, d) end
    if type(v) ~= "table" then fail(st, d, "expected a table (structure " .. shape.name .. "), got " .. type(v)) end
    local set = 0
    local members = shape.members
    -- cached plans are indexed inline, not through a call (bench/25-client.sh)
    local plan = check_plans[shape] or check_plan(shape)
    local kinds = plan.kinds
    for k, val in pairs(v) do
      local kind = kinds[k]
      if kind == "nested" then
        st[d + 1] = k
        check(val, members[k].shape, st, d + 1)
      elseif kind == nil then
        local hint = model.closest(tostring(k), shape.order, 2)
        fail(st, d, "unknown parameter '" .. tostring(k) .. "'" ..
          (#hint > 0 and (" (did you mean " .. table.concat(hint, " or ") .. "?)") or ""))
      elseif kind == "any" then
        st[d + 1] = k
        check_any(val, st, d + 1)
      elseif type(val) ~= kind or kind == "number" and val - val ~= 0 then
        fail_in(val, members[k].shape, st, d, k)
      end
      set = set + 1
    end
    local required = plan.required
    for i = 1, #required do
      local name = required[i]
      if v[name] == nil then fail(st, d, "missing required parameter '" .. name .. "'") end
    end
    if shape.union and set ~= 1 then fail(st, d, "a union takes exactly one member, got " .. set) end
  elseif t == "list" then
    if type(v) ~= "table" then fail(st, d, "expected a list, got " .. type(v)) end
    local n = #v
    -- Keys exactly 1..n: n keys in all and none of 1..n missing (no call per key). Only a
    -- table that fails this walks its keys again, for the message naming the first bad one.
    local count = 0
    for _ in pairs(v) do count = count + 1 end
    local whole = count == n
    if whole then
      for i = 1, n do
        if v[i] == nil then whole = false; break end
      end
    end
    if not whole then
      for k in pairs(v) do
        if not is_int(k) or k < 1 or k > n then fail(st, d, "expected a list, got a table with key " .. tostring(k)) end
      end
    end
    local msh = shape.member.shape
    local kind = list_kinds[shape] or list_kind(shape)
    if kind == "nested" or kind == "any" then
      for i = 1, n do
        st[d + 1] = i
        check(v[i], msh, st, d + 1)
      end
    else
      for i = 1, n do
        local item = v[i]
        if type(item) ~= kind or kind == "number" and item - item ~= 0 then fail_in(item, msh, st, d, i) end
      end
    end
  elseif t == "map" then
    if type(v) ~= "table" then fail(st, d, "expected a table (map), got " .. type(v)) end
    local vsh = shape.value.shape
    for k, val in pairs(v) do
      if type(k) ~= "string" then fail(st, d, "map keys must be strings, got " .. type(k)) end
      st[d + 1] = { k }
      check(val, vsh, st, d + 1)
    end
  elseif t == "string" then
    if type(v) ~= "string" then fail(st, d, "expected a string, got " .. type(v)) end
  elseif t == "integer" or t == "long" or t == "short" or t == "byte" then
    if not is_int(v) then fail(st, d, "expected an integer, got " .. (type(v) == "number" and tostring(v) or type(v))) end
  elseif t == "double" or t == "float" then
    if type(v) ~= "number" then fail(st, d, "expected a number, got " .. type(v)) end
    if v - v ~= 0 then fail(st, d, "expected a finite number, got " .. not_finite(v)) end
  elseif t == "boolean" then
    if type(v) ~= "boolean" then fail(st, d, "expected a boolean, got " .. type(v)) end
  elseif t == "blob" then
    if type(v) ~= "string" then fail(st, d, "expected a string (blob), got " .. type(v)) end
  elseif t == "timestamp" then
    if type(v) ~= "number" and type(v) ~= "string" then fail(st, d, "expected a timestamp (epoch seconds or string), got " .. type(v)) end
    if type(v) == "number" and v - v ~= 0 then fail(st, d, "expected a finite timestamp, got " .. not_finite(v)) end
  end
end

-- Path stacks not in use. A validation that raises drops its stack (the next one makes a
-- new one); the keys a stack keeps after use are overwritten before they are read again.
local free_stacks, nfree_stacks = {}, 0

function M.validate(params, shape, opname)
  if not shape then return end
  local st = free_stacks[nfree_stacks]
  if st then
    free_stacks[nfree_stacks] = nil
    nfree_stacks = nfree_stacks - 1
  else
    st = {}
  end
  st[1], st.root = opname, params
  check(params, shape, st, 1)
  st.root = nil
  nfree_stacks = nfree_stacks + 1
  free_stacks[nfree_stacks] = st
end

--- Shape-directed JSON: structures and maps always become objects, lists arrays,
-- blobs base64, so an empty Lua table is written as the API expects it.

-- Encoding writes pieces out[n + 1], out[n + 2], ... and returns the last index written.
local jstring, jplain, jnumber, jencode = json.string, json.plain, json.number, json.encode
local enc

-- Per structure shape, once, a Lua function that writes it: function(v, out, n, pre) -> n, its
-- first piece starting with `pre` (the key or "," before it). Generated from the model, so
-- each member is read by a constant key and written with its key text ready: a string member
-- (the common case) as one piece, a structure or list of structures by a direct call with
-- its key as `pre`, anything else by `enc`. Members sorted by name, absent ones skipped.
local struct_encoders, struct_encoder

local function is_struct(shape) return shape.type == "structure" and not shape.document end

-- Source of the code writing member value `x` (present) of shape `sh` after `sep` and the
-- JSON text `keytext`; `i` indexes the shapes (S) and linked encoders (E) the generated
-- function gets.
local function member_source(sh, keytext, i)
  local key = ("sep .. %q"):format(keytext)
  local t = sh.type
  if t == "string" then
    return ([[
    n = n + 1
    if type(x) == "string" and plain(x) then out[n] = sep .. %q .. x .. '"'
    else out[n] = %s; n = enc(x, S[%d], out, n) end
]]):format(keytext .. '"', key, i)
  elseif is_struct(sh) then
    return ("    n = (E[%d] or link(%d))(x, out, n, %s)\n"):format(i, i, key)
  elseif t == "list" and is_struct(sh.member.shape) then
    return ([[
    local e = E[%d] or link(%d)
    n = n + 1
    out[n] = sep .. %q
    for j = 1, #x do n = e(x[j], out, n, j > 1 and "," or "") end
    n = n + 1
    out[n] = "]"
]]):format(i, i, keytext .. "[")
  end
  return ("    n = n + 1\n    out[n] = %s\n    n = enc(x, S[%d], out, n)\n"):format(key, i)
end

struct_encoders, struct_encoder = model.per_shape(function(shape)
  local S, E = {}, {}
  local src = { "local enc, plain, type, S, E, link = ...\n",
                "return function(v, out, n, pre)\n  local sep, x = pre .. '{'\n" }
  local members = shape.members
  for _, name in ipairs(shape.order) do  -- shape.order: member names, sorted
    local ref = members[name]
    if ref.location == nil then
      local i = #S + 1
      local sh = ref.shape
      S[i] = sh
      src[#src + 1] = ("  x = v[%q]\n  if x ~= nil then\n"):format(name)
      src[#src + 1] = member_source(sh, jstring(ref.locationName or name) .. ":", i)
      src[#src + 1] = "    sep = ','\n  end\n"
    end
  end
  src[#src + 1] = "  n = n + 1\n  out[n] = sep == ',' and '}' or sep .. '}'\n  return n\nend\n"
  -- E[i]: the encoder of S[i] (a structure, or a list's member structure), linked on first
  -- use: shapes may refer to themselves
  local function link(i)
    local sh = S[i]
    if sh.type == "list" then sh = sh.member.shape end
    E[i] = struct_encoders[sh] or struct_encoder(sh)
    return E[i]
  end
  return assert(load(table.concat(src), "=(json encoder " .. shape.name .. ")"))(enc, jplain, type, S, E, link)
end)

enc = function(v, shape, out, n)
  local t = shape.type
  if t == "structure" then
    if shape.document then
      n = n + 1
      out[n] = jencode(v)
      return n
    end
    return (struct_encoders[shape] or struct_encoder(shape))(v, out, n, "")
  elseif t == "list" then
    local msh = shape.member.shape
    n = n + 1
    out[n] = "["
    for i = 1, #v do
      if i > 1 then n = n + 1; out[n] = "," end
      n = enc(v[i], msh, out, n)
    end
    n = n + 1
    out[n] = "]"
  elseif t == "map" then
    n = n + 1
    out[n] = "{"
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys)
    local vsh = shape.value.shape
    for i, k in ipairs(keys) do
      n = n + 1
      out[n] = (i > 1 and "," or "") .. jstring(k) .. ":"
      n = enc(v[k], vsh, out, n)
    end
    n = n + 1
    out[n] = "}"
  else
    n = n + 1
    if t == "blob" then out[n] = jstring(M.b64(v))
    elseif t == "timestamp" then
      local ts = M.timestamp(v, shape.timestampFormat or "unixTimestamp")
      out[n] = type(ts) == "number" and jnumber(ts) or jstring(ts)
    else
      local tv = type(v)
      if tv == "string" then out[n] = jstring(v)
      elseif tv == "boolean" then out[n] = v and "true" or "false"
      elseif tv == "number" then out[n] = jnumber(v)
      else out[n] = jencode(v) end
    end
  end
  return n
end

-- The pieces' buffers, reused (no table to grow per call; bench/25-client.sh). A buffer is
-- taken off a free-list for one encoding and put back after it: a params table whose
-- metamethods make another call while being encoded (even one that yields inside a
-- laws.async task) gets a buffer of its own. One that raises drops its buffer. Indexes past
-- `n` are never read. Cleared only after a big body (clearing costs as much as the reuse
-- saves): what a small one leaves, at most 64 slots of under 4 KB each, lives until overwritten.
local free_bufs, nfree_bufs = {}, 0
local concat = table.concat

function M.json_encode(v, shape)
  local buf = free_bufs[nfree_bufs]
  if buf then
    free_bufs[nfree_bufs] = nil
    nfree_bufs = nfree_bufs - 1
  else
    buf = {}
  end
  local f = struct_encoders[shape]  -- the usual case: an input structure seen before
  local n = f and f(v, buf, 0, "") or enc(v, shape, buf, 0)
  local s = concat(buf, "", 1, n)
  if n > 64 or #s > 4096 then
    for i = 1, n do buf[i] = nil end
  end
  nfree_bufs = nfree_bufs + 1
  free_bufs[nfree_bufs] = buf
  return s
end

-- Decoded JSON -> result by shape: nulls dropped, integers as Lua integers, blobs
-- decoded, lists/objects marked for laws.json.encode. The tables cjson made are reused in
-- place (members unknown to the model removed, renamed ones moved): a result allocates no
-- second copy of the answer. `v` must be a fresh decode that nothing else holds.
local null, object_mt, array_mt = json.null, json.object_mt, json.array_mt

-- The shapes whose decoded value needs work (the rest stand as cjson made them, nulls dropped).
local DEC_WORK = { structure = true, list = true, map = true, blob = true,
                   integer = true, long = true, short = true, byte = true }
local function keeps(shape) return not DEC_WORK[shape.type] or shape.document ~= nil end

-- Per structure shape, once: wire name -> { member name, shape, value kept as decoded }.
local dec_plans, dec_plan = model.per_shape(function(shape)
  local plan = {}
  for k, ref in pairs(shape.wire) do plan[k] = { ref.name, ref.shape, keeps(ref.shape) } end
  return plan
end)

local dec
dec = function(v, shape)
  if v == null then return nil end
  local t = shape.type
  if type(v) == "table" then
    if t == "structure" and not shape.document then
      local plan, moves = dec_plans[shape] or dec_plan(shape), nil
      for k, val in pairs(v) do
        local m = plan[k]
        if not m then
          v[k] = nil  -- members unknown to the model are dropped (clearing a field is allowed in pairs)
        elseif m[1] ~= k then
          -- a member whose wire name differs: moved after the walk (no new keys during pairs)
          v[k] = nil
          moves = moves or {}
          moves[#moves + 1] = m[1]
          moves[#moves + 1] = dec(val, m[2])
        elseif m[3] then
          if val == null then v[k] = nil end
        else
          v[k] = dec(val, m[2])
        end
      end
      if moves then
        for i = 1, #moves, 2 do v[moves[i]] = moves[i + 1] end
      end
      return setmetatable(v, object_mt)
    elseif t == "list" then
      local msh = shape.member.shape
      if keeps(msh) then
        for i = 1, #v do
          if v[i] == null then v[i] = nil end
        end
      else
        for i = 1, #v do v[i] = dec(v[i], msh) end
      end
      return setmetatable(v, array_mt)
    elseif t == "map" then
      local vsh = shape.value.shape
      if keeps(vsh) then
        for k, val in pairs(v) do
          if val == null then v[k] = nil end
        end
      else
        for k, val in pairs(v) do v[k] = dec(val, vsh) end
      end
      return setmetatable(v, object_mt)
    end
    return v
  end
  if type(v) == "number" and (t == "integer" or t == "long" or t == "short" or t == "byte") then
    return M.toint(v) or v
  end
  if t == "blob" then return M.unb64(v) end
  return v
end
M.json_decode = dec

--- AWS error codes come as "aws.protocoltests#ValidationException:http://..." and the like.
function M.clean_code(code)
  if type(code) ~= "string" or code == "" then return nil end
  code = code:match("^[^:]*")
  code = code:match("[^#]*$")
  if code == "" then return nil end
  return code
end

--- Request id from the usual headers.
function M.request_id(headers)
  headers = headers or {}
  local id = headers["x-amzn-requestid"] or headers["x-amz-request-id"]
  if type(id) == "table" then id = id[1] end
  return id
end

--- A short, printable excerpt of an unparsable body for messages.
function M.excerpt(body)
  if type(body) ~= "string" or body == "" then return "empty body" end
  local s = body:sub(1, 160):gsub("[%c]", " ")
  return "body: " .. s .. (#body > 160 and "..." or "")
end

return M
