--- Background processes for specs and benchmarks: start a server, learn its port, stop it.
-- A server is told where to write its port (LAWS_READY_FILE) and which process to watch
-- (LAWS_PARENT_PID): it must exit by itself when that process is gone, so a crashed
-- test run never leaves servers behind. LD_PRELOAD is removed (the sanitizer run preloads
-- ASan into lua only).
local M = {}

local running = {}

local function my_pid()
  local f = io.open("/proc/self/stat", "r")
  if not f then return nil end
  local pid = f:read("*l"):match("^(%d+)")
  f:close()
  return pid
end
M.pid = my_pid()

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
M.quote = shell_quote

local function sleep(s) os.execute("sleep " .. s) end

local function read_file(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

--- Start `argv` (a list) in the background.
-- opts.env: extra environment; opts.timeout: seconds to wait for the ready file (default 15);
-- opts.name: for messages. Returns a handle { pid, port, ready (file contents), log, stop() }
-- or raises with the server's log when it does not come up.
function M.start(argv, opts)
  opts = opts or {}
  local tmp = os.tmpname()
  local ready, log, pidf = tmp .. ".ready", tmp .. ".log", tmp .. ".pid"
  os.remove(ready)
  local env = { "env", "-u", "LD_PRELOAD", "LAWS_READY_FILE=" .. ready, "LAWS_PARENT_PID=" .. (M.pid or "") }
  for k, v in pairs(opts.env or {}) do env[#env + 1] = k .. "=" .. v end
  local parts = {}
  for _, a in ipairs(env) do parts[#parts + 1] = shell_quote(a) end
  for _, a in ipairs(argv) do parts[#parts + 1] = shell_quote(a) end
  local cmd = table.concat(parts, " ") .. " >" .. shell_quote(log) .. " 2>&1 & echo $! >" .. shell_quote(pidf)
  assert(os.execute(cmd), "could not run: " .. cmd)
  local pid = (read_file(pidf) or ""):match("%d+")
  os.remove(pidf)
  local deadline = os.time() + (opts.timeout or 15)
  local contents
  while true do
    contents = read_file(ready)
    if contents and contents:find("\n") then break end
    local alive = pid and os.execute("kill -0 " .. pid .. " 2>/dev/null")
    if not alive or os.time() > deadline then
      local l = read_file(log) or ""
      if pid then os.execute("kill " .. pid .. " 2>/dev/null") end
      error(("%s did not start (%s):\n%s"):format(opts.name or argv[1], alive and "timed out" or "exited", l), 2)
    end
    sleep(0.05)
  end
  os.remove(ready)
  local h = { pid = pid, ready = contents, port = tonumber(contents:match("(%d+)")), log = log, name = opts.name }
  function h.stop()
    if h.pid then
      os.execute("kill " .. h.pid .. " 2>/dev/null")
      running[h] = nil
      h.pid = nil
    end
  end
  function h.read_log() return read_file(log) or "" end
  running[h] = true
  return h
end

function M.stop_all()
  for h in pairs(running) do h.stop() end
end

-- Stop everything when the Lua state closes (busted exits with os.exit(code, true)).
M._guard = setmetatable({}, { __gc = function() M.stop_all() end })
if _VERSION == "Lua 5.1" and newproxy then
  local p = newproxy(true)
  getmetatable(p).__gc = function() M.stop_all() end
  M._guard = p
end

return M
