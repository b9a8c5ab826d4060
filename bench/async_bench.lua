--- Driver of bench/40-async.sh (see there). Each measurement runs in its own process so peak
-- memory and CPU time are those of that run alone.
package.path = "lua/?.lua;lua/?/init.lua;spec/?.lua;bench/?.lua;" .. package.path
package.cpath = (os.getenv("LAWS_BUILD") or "build") .. "/?.so;" .. package.cpath
local proc = require "support.proc"
local json = require "cjson"

local flows = tonumber(os.getenv("ASYNC_FLOWS") or "10000")
local in_flight = tonumber(os.getenv("ASYNC_IN_FLIGHT") or "200")
local seq_flows = tonumber(os.getenv("ASYNC_SEQ_FLOWS") or "200")
local lag_median = os.getenv("ASYNC_LAG_MEDIAN") or "0.1"
local lag_p95 = os.getenv("ASYNC_LAG_P95") or "1.0"   -- as bench/30-consistency.sh

local function sh(cmd)
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("*a")
  p:close()
  local line = out:match("(%b{})%s*$")
  if not line then error("no result from: " .. cmd .. "\n" .. out) end
  return json.decode(line)
end

local function standin()
  return proc.start({ "python3", "spec/support/standin.py", "--lag-median", lag_median, "--lag-p95", lag_p95, "--seed", "42" },
                    { name = "standin" })
end

-- CPU seconds (user + system) a process used so far, from /proc (nil when unreadable).
local TICK = tonumber((io.popen("getconf CLK_TCK"):read("*l"))) or 100
local function proc_cpu(pid)
  local f = pid and io.open("/proc/" .. pid .. "/stat", "r")
  if not f then return nil end
  local line = f:read("*l")
  f:close()
  -- fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15
  local rest = line and line:match("%) (.*)$")
  if not rest then return nil end
  local fields = {}
  for x in rest:gmatch("%S+") do fields[#fields + 1] = x end
  return (tonumber(fields[12]) + tonumber(fields[13])) / TICK
end

local function loadavg()
  local f = io.open("/proc/loadavg", "r")
  if not f then return "?" end
  local l = f:read("*l")
  f:close()
  return l:match("^(%S+)")
end

local function stats(s)
  local res = assert(require("laws.http").request{ url = "http://127.0.0.1:" .. s.port .. "/_standin/stats" })
  return json.decode(res.body)
end

local build = os.getenv("LAWS_BUILD") or "build"
local lua = ("LUA_PATH='lua/?.lua;lua/?/init.lua;spec/?.lua;bench/?.lua;;' LUA_CPATH='%s/?.so;;' %s")
  :format(build, arg[-1] or "lua5.4")
print(("stand-in lag: log-normal, median %s s, p95 %s s, seed 42 (as the consistency benchmark)"):format(lag_median, lag_p95))

-- 1. the stand-in alone: pre-signed GetCase replayed over keep-alive connections
local s = standin()
local cap = sh(("python3 spec/support/standin_load.py http://127.0.0.1:%d --conns 16 --seconds 4"):format(s.port))
s.stop()
print(("stand-in capacity alone: %.0f req/s (%d GetCase in %.1f s, 16 connections), server CPU %.0f us/request")
  :format(cap.rps, cap.requests, cap.seconds, cap.server_cpu_us_per_request))

-- 2. the flows, concurrent
s = standin()
local ep = "http://127.0.0.1:" .. s.port
local st0 = stats(s)
local scpu0, load0 = proc_cpu(s.pid), loadavg()
local a = sh(("%s bench/async_flows.lua async %s %d %d"):format(lua, ep, flows, in_flight))
local st1 = stats(s)
local scpu1, load1 = proc_cpu(s.pid), loadavg()
s.stop()
local requests = st1.requests - st0.requests
local per_flow_kb = (a.hwm_kb - a.rss0_kb) / flows
local cpu_us = a.cpu / requests * 1e6
local allowed = requests / cap.rps
print(("async: %d flows (%d ok, %d failed) in %.2f s wall; %d requests, %.0f req/s; transfers in flight peak %d (limit %d)")
  :format(flows, a.ok, a.failed, a.wall, requests, requests / a.wall, a.peak_transfers, a.limit))
if a.failed > 0 then print("  first error: " .. a.error) end
print(("  memory: peak RSS %.1f MB, %.1f MB over the start, %.2f KB per in-flight flow (target < 20)")
  :format(a.hwm_kb / 1024, (a.hwm_kb - a.rss0_kb) / 1024, per_flow_kb))
print(("  laws CPU: %.2f s, %.1f us per request (target < 50), all layers: signing, JSON, client, retry, async, libcurl")
  :format(a.cpu, cpu_us))
print(("  stand-in capacity allows %.2f s for these %d requests: wall is %.2fx of that (target <= 1.5)")
  :format(allowed, requests, a.wall / allowed))
if scpu0 and scpu1 then
  local sc = scpu1 - scpu0
  print(("  stand-in CPU in this run: %.2f s (%.0f us/request); laws + stand-in used %.2f s of CPU in %.2f s wall on %s cores"
    .. " (machine load average %s at the start, %s at the end: other processes share these cores)")
    :format(sc, sc / requests * 1e6, sc + a.cpu, a.wall, (io.popen("nproc"):read("*l")), load0, load1))
end

-- 2b. where the laws CPU goes: the transport alone (async + multi + libcurl, unsigned GETs
-- against the same stand-in), and the client layer alone (stub transport, no network)
s = standin()
local raw = sh(("%s bench/async_flows.lua raw http://127.0.0.1:%d 10000 %d"):format(lua, s.port, in_flight))
s.stop()
local cl = sh(("%s bench/async_flows.lua client 5000"):format(lua))
print(("  laws CPU split: transport alone %.1f us/request (laws.async + multi driver + libcurl + kernel, %d GETs at %.0f req/s);")
  :format(raw.cpu / raw.requests * 1e6, raw.requests, raw.requests / raw.wall))
local sc = sh(("%s bench/async_flows.lua sched 1000 100"):format(lua))
print(("                  scheduler alone %.1f us per task switch (timer sleep + wake + resume, %d of them)")
  :format(sc.cpu / sc.cycles * 1e6, sc.cycles))
print(("                  client layer alone %.1f us/call (CreateCase/GetCase on a stub transport: model, JSON, token, SigV4, retry)")
  :format(cl.cpu / cl.requests * 1e6))

-- 3. the same flows one after another
s = standin()
local sq0 = stats(s)
local q = sh(("%s bench/async_flows.lua seq http://127.0.0.1:%d %d"):format(lua, s.port, seq_flows))
local sq1 = stats(s)
s.stop()
local per = q.wall / q.flows
local seq_requests = sq1.requests - sq0.requests
print(("sequential: %d flows in %.2f s (%.1f ms per flow, %d failed); %d flows that way: %.0f s -> async speed-up %.0fx")
  :format(q.flows, q.wall, per * 1e3, q.failed, flows, per * flows, per * flows / a.wall))
print(("  blocking, no laws.async: %d requests, laws CPU %.1f us per request (async above: %.1f)")
  :format(seq_requests, q.cpu / seq_requests * 1e6, cpu_us))
local verdict = {}
verdict[#verdict + 1] = per_flow_kb < 20 and "memory ok" or "memory OVER target"
verdict[#verdict + 1] = cpu_us < 50 and "cpu ok" or "cpu OVER target"
verdict[#verdict + 1] = a.wall / allowed <= 1.5 and "wall ok" or "wall OVER target"
print("targets: " .. table.concat(verdict, ", "))
