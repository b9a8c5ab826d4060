--- Writes the request laws sends for one Connect Cases GetCase, for bench/multi_floor.c:
--   lua5.4 bench/floor_request.lua <endpoint> <out-file> [domainId] [caseId]
-- (LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/?.so;;')
-- The client is bench/async_flows.lua's (same credentials); the transport is replaced by a hook
-- that captures the request instead of sending it. The request is signed with the current time:
-- a SigV4 server accepts it for about 5 minutes. File format: "METHOD URL", "Name: value"
-- lines, an empty line, then the body.
local runtime = require "laws.runtime"
local flows = require "bench.async_flows"

local endpoint, out, domain, case = arg[1], arg[2], arg[3] or "d", arg[4] or "c"
if not endpoint or not out then
  io.stderr:write("usage: floor_request.lua <endpoint> <out-file> [domainId] [caseId]\n")
  os.exit(2)
end

local c = flows.client(endpoint)
local captured
local prev = runtime.use(runtime.override{ request = function(req)
  captured = req
  -- a 404 answer ends the call at once (ResourceNotFoundException is not retried)
  return { status = 404, headers = { ["content-type"] = "application/json" },
           body = '{"__type":"ResourceNotFoundException","message":"captured"}' }
end })
c:GetCase{ domainId = domain, caseId = case, fields = { { id = "status" } } }
runtime.use(prev)
if not captured then
  io.stderr:write("floor_request.lua: GetCase sent no request\n")
  os.exit(1)
end

local names = {}
for k in pairs(captured.headers or {}) do names[#names + 1] = k end
table.sort(names)
local lines = { (captured.method or "GET") .. " " .. captured.url }
for _, k in ipairs(names) do
  local v = captured.headers[k]
  for _, one in ipairs(type(v) == "table" and v or { v }) do
    one = tostring(one)
    assert(not one:find("[\r\n]") and not k:find("[\r\n:]"), "header " .. k .. " cannot be written on one line")
    lines[#lines + 1] = k .. ": " .. one
  end
end
local f = assert(io.open(out, "wb"))
f:write(table.concat(lines, "\r\n"), "\r\n\r\n", captured.body or "")
f:close()
