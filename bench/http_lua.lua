-- The Lua side of bench/20-http.sh: N GET requests through laws.http.request after 500 warm-up.
-- Prints "<requests/s> <seconds> <client CPU us/request>" (CPU: os.clock, user + system).
-- A new request table per call, as a real caller makes.
-- Wall time: laws.core.monotonic when the core has it, else `date` (two calls).
local http = require "laws.http"
local core = require "laws.core"
local url, n = arg[1], tonumber(arg[2])
local now = core.monotonic or function()
  local f = assert(io.popen("date +%s.%N"))
  local t = tonumber(f:read("*l"))
  f:close()
  return t
end
for _ = 1, 500 do assert(http.request{ url = url }) end
local t0, c0 = now(), os.clock()
for _ = 1, n do
  local res, err = http.request{ url = url }
  if not res or res.status ~= 200 then error(tostring(err)) end
end
local t, c = now() - t0, os.clock() - c0
io.write(("%.0f %.3f %.1f\n"):format(n / t, t, c * 1e6 / n))
