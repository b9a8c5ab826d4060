--- The small JMESPath subset waiter matchers use: field access (a.b), index (a[0],
-- a[-1]), flatten projection (a[].b, a[*].b), length(x), literals (`0`, `true`,
-- `"s"`, 'raw') and one comparison (== != < <= > >=). Enough for the Smithy waiters of
-- the services laws ships and for user acceptors; anything else raises when compiled.
local M = {}

local function lex(s)
  local toks, i = {}, 1
  while i <= #s do
    local c = s:sub(i, i)
    if c:match("%s") then i = i + 1
    elseif s:find("^[%a_][%w_]*", i) then
      local a, b = s:find("^[%a_][%w_]*", i); toks[#toks + 1] = { "id", s:sub(a, b) }; i = b + 1
    elseif s:find("^%-?%d+", i) then
      local a, b = s:find("^%-?%d+", i); toks[#toks + 1] = { "num", tonumber(s:sub(a, b)) }; i = b + 1
    elseif c == "`" then
      local j = s:find("`", i + 1, true) or error("unterminated literal in path '" .. s .. "'")
      local lit = s:sub(i + 1, j - 1):match("^%s*(.-)%s*$")
      local v
      if lit == "true" then v = true elseif lit == "false" then v = false elseif lit == "null" then v = nil
      elseif tonumber(lit) then v = tonumber(lit)
      elseif lit:match('^".*"$') then v = lit:sub(2, -2)
      else error("unsupported literal `" .. lit .. "` in path '" .. s .. "'") end
      toks[#toks + 1] = { "lit", v }; i = j + 1
    elseif c == "'" then
      local j = s:find("'", i + 1, true) or error("unterminated string in path '" .. s .. "'")
      toks[#toks + 1] = { "lit", s:sub(i + 1, j - 1) }; i = j + 1
    else
      local two = s:sub(i, i + 1)
      if two == "==" or two == "!=" or two == "<=" or two == ">=" then toks[#toks + 1] = { "op", two }; i = i + 2
      elseif c == "<" or c == ">" then toks[#toks + 1] = { "op", c }; i = i + 1
      elseif c:match("[%.%[%]%(%)%*]") then toks[#toks + 1] = { c }; i = i + 1
      else error("unexpected '" .. c .. "' in path '" .. s .. "'") end
    end
  end
  return toks
end

-- Evaluation works on "values" and projections: a projection is a list tagged as such,
-- so the steps after `[]` apply to each element and nils drop out (JMESPath's rule).
local PROJ = {}

local function step(v, f)
  if getmetatable(v) == PROJ then
    local out = setmetatable({}, PROJ)
    for _, e in ipairs(v) do
      local r = f(e)
      if r ~= nil then out[#out + 1] = r end
    end
    return out
  end
  return f(v)
end

local function field(name) return function(v) if type(v) == "table" then return v[name] end end end
local function index(n)
  return function(v)
    if type(v) ~= "table" then return nil end
    if n < 0 then n = #v + n end
    return v[n + 1]
  end
end

local function compile(s)
  local toks, pos = lex(s), 1
  local function peek(k) local t = toks[pos]; return t and t[1] == k end
  local function take(k)
    local t = toks[pos]
    if not t or t[1] ~= k then error("expected " .. k .. " in path '" .. s .. "'") end
    pos = pos + 1
    return t
  end
  local expr
  local function term()
    if peek("lit") then local v = take("lit")[2]; return function() return v end end
    local name = take("id")[2]
    if name == "length" and peek("(") then
      take("(")
      local inner = expr()
      take(")")
      return function(root)
        local v = inner(root)
        if type(v) == "table" then
          local n = #v
          if n == 0 and getmetatable(v) ~= PROJ then n = 0; for _ in pairs(v) do n = n + 1 end end
          return n
        end
        if type(v) == "string" then return #v end
        return nil
      end
    end
    local steps = { field(name) }
    while peek(".") or peek("[") do
      if peek(".") then take("."); steps[#steps + 1] = { "f", field(take("id")[2]) }
      else
        take("[")
        if peek("num") then
          local n = take("num")[2]; take("]")
          steps[#steps + 1] = { "f", index(n) }
        else
          if peek("*") then take("*") end
          take("]")
          steps[#steps + 1] = { "flatten" }
        end
      end
    end
    return function(root)
      local v = steps[1](root)
      for i = 2, #steps do
        local st = steps[i]
        if st[1] == "f" then v = step(v, st[2])
        else
          -- start (or continue) a projection over a list
          local out = setmetatable({}, PROJ)
          local src = getmetatable(v) == PROJ and v or { v }
          for _, l in ipairs(src) do
            if type(l) == "table" then for _, e in ipairs(l) do out[#out + 1] = e end end
          end
          if getmetatable(v) ~= PROJ and type(v) ~= "table" then return nil end
          v = out
        end
      end
      return v
    end
  end
  local CMP = {
    ["=="] = function(a, b) return a == b end, ["!="] = function(a, b) return a ~= b end,
    ["<"] = function(a, b) return a < b end, ["<="] = function(a, b) return a <= b end,
    [">"] = function(a, b) return a > b end, [">="] = function(a, b) return a >= b end,
  }
  function expr()
    local left = term()
    if peek("op") then
      local cmp = CMP[take("op")[2]]
      local right = term()
      return function(root)
        local a, b = left(root), right(root)
        if type(a) ~= type(b) then return cmp == CMP["!="] end
        if type(a) ~= "number" and type(a) ~= "string" and cmp ~= CMP["=="] and cmp ~= CMP["!="] then return nil end
        return cmp(a, b)
      end
    end
    return left
  end
  local e = expr()
  if pos <= #toks then error("unexpected token in path '" .. s .. "'") end
  return e
end

local cache = setmetatable({}, { __mode = "v" })

--- Compiles a path (raises on a path outside the subset). Returns fn(value) -> result.
function M.compile(s)
  local f = cache[s]
  if not f then f = compile(s); cache[s] = f end
  return f
end

--- Evaluates a path against a value; projections come back as plain lists.
function M.search(s, value)
  local v = M.compile(s)(value)
  if getmetatable(v) == PROJ then setmetatable(v, nil) end
  return v
end

return M
