--- laws.native: the C core (laws.core) as every laws module loads it. A core built for another
-- Lua fails to load with a bare "undefined symbol: lua_rotate"; this says which build to use.
-- Any other failure is raised as it came.
local ok, core = pcall(require, "laws.core")
if ok then return core end

local msg = tostring(core)
local sym = msg:match("undefined symbol: (l[%w_]+)")
if not sym then error(core, 0) end

local path = msg:match("from file '([^']+)'") or msg:match("([^%s:']+%.so)") or "?"
-- what the Makefile builds where: build/ (Lua 5.4), build/lua5.X/, build/luajit/
local built = path:find("luajit", 1, true) and "LuaJIT"
  or path:match("lua/?(5%.%d)") and "Lua " .. path:match("lua/?(5%.%d)")
  or path:match("build/laws/core%.so$") and "Lua 5.4"
  or "another Lua"
local this, make, cpath
if jit then
  this, make, cpath = "LuaJIT", "make LUA=luajit", "build/luajit/?.so"
else
  local v = _VERSION:match("%d+%.%d+") or "?"
  this = _VERSION
  make = v == "5.4" and "make" or "make LUA=" .. v
  cpath = v == "5.4" and "build/?.so" or "build/lua" .. v .. "/?.so"
end
error(("laws.core at %s was built for %s; this is %s: build it with `%s` and put %s on package.cpath "
  .. "(undefined symbol: %s)"):format(path, built, this, make, cpath, sym), 0)
