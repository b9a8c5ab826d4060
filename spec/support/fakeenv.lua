--- Specs for credentials and config run against a made-up environment: os.getenv answers
-- from a table (nothing else leaks in from the real one), files live in a temp folder.
local M = {}

local real_getenv = os.getenv

--- Replace os.getenv by a lookup in `vars` (HOME points at the temp folder unless set).
function M.set(vars)
  os.getenv = function(k) return vars[k] end  -- luacheck: ignore 122
end

function M.restore()
  os.getenv = real_getenv  -- luacheck: ignore 122
end

local function sh(cmd) assert(os.execute(cmd)) end

--- A fresh temp folder; M.cleanup removes all of them.
local dirs = {}
function M.tmpdir()
  local base = os.tmpname()
  os.remove(base)
  sh("mkdir -p '" .. base .. "'")
  dirs[#dirs + 1] = base
  return base
end

function M.cleanup()
  for _, d in ipairs(dirs) do os.execute("rm -rf '" .. d .. "'") end
  dirs = {}
end

function M.write(path, text, mode)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  if mode then sh("chmod " .. mode .. " '" .. path .. "'") end
  return path
end

--- A fake wall clock for laws.runtime: returns set(t) / advance(dt) and a restore function.
function M.clock(start)
  local runtime = require "laws.runtime"
  local t = start or 1764153000
  local prev = runtime.use(runtime.override{ time = function() return t end })
  return {
    set = function(v) t = v end,
    advance = function(dt) t = t + dt end,
    now = function() return t end,
    restore = function() runtime.use(prev) end,
  }
end

return M
