--- Driver of bench/40-async.sh (see there). Each measurement runs in its own process so peak
-- memory and CPU time are those of that run alone.
package.path = "lua/?.lua;lua/?/init.lua;./?.lua;" .. package.path
package.cpath = (os.getenv("LAWS_BUILD") or "build") .. "/?.so;" .. package.cpath
local proc = require "spec.support.proc"
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

local function standin(nolag)
  local lag = nolag and { "--lag", "0" } or { "--lag-median", lag_median, "--lag-p95", lag_p95 }
  return proc.start({ "python3", "spec/support/standin.py", lag[1], lag[2], lag[3], lag[4], "--seed", "42" },
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

local function control(s, path)
  local res = assert(require("laws.http").request{ url = "http://127.0.0.1:" .. s.port .. "/_standin/" .. path })
  return json.decode(res.body)
end
local function stats(s) return control(s, "stats") end

-- Requests per operation between two /_standin/stats readings.
local function ops_between(st0, st1)
  local d = {}
  for op, n in pairs(st1.operations) do d[op] = n - ((st0.operations or {})[op] or 0) end
  return d
end

-- What the stand-in allows, from its own records of this run: each case's visibility lag was
-- drawn (seeded) in creation order. No client can finish before (a) the stand-in has served
-- every request at its capacity measured alone (`busy` seconds for this run's mix of
-- operations), nor (b) the last case is visible: an ideal client's i-th create is served no
-- earlier than i/create_rps after the start, so it ends no earlier than max over i of
-- (i/create_rps + lag_i). The floor is the larger of the two.
local function floors(items, busy, create_rps)
  table.sort(items, function(x, y) return x.created_mono < y.created_mono end)
  local lag_floor = 0
  for i, r in ipairs(items) do lag_floor = math.max(lag_floor, i / create_rps + r.lag) end
  local t0, last_visible, over = math.huge, 0, {}
  for _, r in ipairs(items) do
    t0 = math.min(t0, r.created_mono)
    last_visible = math.max(last_visible, r.visible_mono)
    if r.first_seen_mono ~= json.null then over[#over + 1] = r.first_seen_mono - r.visible_mono end
  end
  table.sort(over)
  local function q(p) return over[math.max(1, math.ceil(p * #over))] or 0 end
  return { throughput = busy, lag = lag_floor, floor = math.max(busy, lag_floor),
           creates_span = items[#items].created_mono - t0, last_visible = last_visible - t0,
           max_lag = (function() local m = 0 for _, r in ipairs(items) do m = math.max(m, r.lag) end return m end)(),
           over_median = q(0.5), over_p95 = q(0.95) }
end

local build = os.getenv("LAWS_BUILD") or "build"
local lua = ("LUA_PATH='lua/?.lua;lua/?/init.lua;spec/?.lua;bench/?.lua;;' LUA_CPATH='%s/?.so;;' %s")
  :format(build, arg[-1] or "lua5.4")
print(("stand-in lag: log-normal, median %s s, p95 %s s, seed 42 (as the consistency benchmark)"):format(lag_median, lag_p95))

-- 1. the stand-in alone: botocore-signed CreateCase and GetCase replayed by a separate client
-- process over as many keep-alive connections as the flows use (the stand-in is one thread: at
-- that concurrency it is saturated, so its rate is its capacity)
local function capacity(op)
  local st = standin(true)
  local r = sh(("python3 spec/support/standin_load.py http://127.0.0.1:%d --conns %d --seconds 3 --op %s")
    :format(st.port, in_flight, op))
  st.stop()
  return r
end
local capc, capg = capacity("CreateCase"), capacity("GetCase")
print(("stand-in capacity alone (spec/support/standin_load.py, %d connections, signatures verified): CreateCase %.0f req/s"
  .. " (server CPU %.0f us/request), GetCase %.0f req/s (%.0f us/request)")
  :format(in_flight, capc.rps, capc.server_cpu_us_per_request, capg.rps, capg.server_cpu_us_per_request))
-- seconds the stand-in needs alone for a run's requests (operations other than CreateCase
-- cost as GetCase: the set-up's three calls)
local function busy(ops)
  local total, creates = 0, ops.CreateCase or 0
  for _, n in pairs(ops) do total = total + n end
  return creates / capc.rps + (total - creates) / capg.rps
end

-- 2. the flows, concurrent
local s = standin()
local ep = "http://127.0.0.1:" .. s.port
local st0 = stats(s)
local scpu0, load0 = proc_cpu(s.pid), loadavg()
local a = sh(("%s bench/async_flows.lua async %s %d %d"):format(lua, ep, flows, in_flight))
local st1 = stats(s)
local scpu1, load1 = proc_cpu(s.pid), loadavg()
local vis = control(s, "visibility").items
s.stop()
local requests = st1.requests - st0.requests
local per_flow_kb = (a.hwm_kb - a.rss0_kb) / flows
local cpu_us = a.cpu / requests * 1e6
local fl = floors(vis, busy(ops_between(st0, st1)), capc.rps)
local allowed = fl.floor
print(("async: %d flows (%d ok, %d failed) in %.2f s wall; %d requests, %.0f req/s; transfers in flight peak %d (limit %d)")
  :format(flows, a.ok, a.failed, a.wall, requests, requests / a.wall, a.peak_transfers, a.limit))
if a.failed > 0 then print("  first error: " .. a.error) end
print(("  memory: peak RSS %.1f MB, %.1f MB over the start, %.2f KB per in-flight flow (target < 20)")
  :format(a.hwm_kb / 1024, (a.hwm_kb - a.rss0_kb) / 1024, per_flow_kb))
print(("  laws CPU: %.2f s, %.1f us per request (target < 50), all layers: signing, JSON, client, retry, async, libcurl")
  :format(a.cpu, cpu_us))
print(("  stand-in allows %.2f s: serving these %d requests at its capacity takes %.2f s; the visibility lags it drew"
  .. " (largest %.2f s) end no earlier than %.2f s even for creates served at full capacity")
  :format(allowed, requests, fl.throughput, fl.max_lag, fl.lag))
print(("  wall is %.2fx of that (target <= 1.5); laws' creates spanned %.2f s, its last case was visible at %.2f s,"
  .. " reads saw cases %.0f ms (median) / %.0f ms (p95) after they became visible")
  :format(a.wall / allowed, fl.creates_span, fl.last_visible, fl.over_median * 1e3, fl.over_p95 * 1e3))
if scpu0 and scpu1 then
  local sc = scpu1 - scpu0
  print(("  stand-in CPU in this run: %.2f s (%.0f us/request); laws + stand-in used %.2f s of CPU in %.2f s wall on %s cores"
    .. " (machine load average %s at the start, %s at the end: other processes share these cores)")
    :format(sc, sc / requests * 1e6, sc + a.cpu, a.wall, (io.popen("nproc"):read("*l")), load0, load1))
end

-- 2a. the same flows with no visibility lag: nothing but throughput bounds the wall time, so
-- this is where laws would show as the bottleneck
s = standin(true)
local zs0, zc0 = stats(s), proc_cpu(s.pid)
local z = sh(("%s bench/async_flows.lua async http://127.0.0.1:%d %d %d"):format(lua, s.port, flows, in_flight))
local zs1, zc1 = stats(s), proc_cpu(s.pid)
s.stop()
local zreq = zs1.requests - zs0.requests
local zallowed = busy(ops_between(zs0, zs1))
print(("no lag: %d flows (%d ok) in %.2f s wall, %d requests, %.0f req/s; capacity allows %.2f s: wall is %.2fx"
  .. " (target <= 1.5); laws CPU %.1f us per request")
  :format(flows, z.ok, z.wall, zreq, zreq / z.wall, zallowed, z.wall / zallowed, z.cpu / zreq * 1e6))
local zbottleneck = "unknown"
if zc0 and zc1 then
  -- the busier of the two processes is the bottleneck (each is one thread)
  local sb, lb = (zc1 - zc0) / z.wall, z.cpu / z.wall
  print(("  busy during the run: stand-in %.0f%% (%.0f us CPU per request, alone %.0f-%.0f), laws %.0f%% -> the bottleneck is %s")
    :format(sb * 100, (zc1 - zc0) / zreq * 1e6, capg.server_cpu_us_per_request, capc.server_cpu_us_per_request,
            lb * 100, sb >= lb and "the stand-in" or "laws"))
  zbottleneck = sb >= lb and "stand-in" or "laws"
end

-- 2c. the floor: libcurl alone, plain C (bench/multi_floor.c), replaying one GetCase signed by
-- laws (bench/floor_request.lua) against a fresh stand-in with the same transfers in flight
s = standin()
local reqfile = build .. "/bench/getcase.req"
local okf = os.execute(("%s bench/floor_request.lua http://127.0.0.1:%d %s"):format(lua, s.port, reqfile))
if okf ~= true and okf ~= 0 then error("bench/floor_request.lua failed") end
local fn0 = stats(s).requests
local flo = sh(("%s/bench/multi_floor %s 20000 %d"):format(build, reqfile, in_flight))
local fst = stats(s)
s.stop()
local floor_us = flo.cpu / flo.requests * 1e6
print(("libcurl alone (C, no Lua; one signed GetCase replayed, %d in flight, same stand-in): %d requests (stand-in counted %d,"
  .. " %d signature failures), %.0f req/s, CPU %.1f us/request (user %.1f, sys %.1f)")
  :format(in_flight, flo.requests, fst.requests - fn0, fst.signature_failures_total or -1, flo.requests / flo.wall,
          floor_us, flo.cpu_user / flo.requests * 1e6, flo.cpu_sys / flo.requests * 1e6))
print(("  laws CPU per request is %.1fx that floor (lagged flows), %.1fx (no lag); the target (50 us) is %.2fx of it")
  :format(cpu_us / floor_us, z.cpu / zreq * 1e6 / floor_us, 50 / floor_us))

-- 2d. the same flows (no lag) on LuaJIT, the OpenResty/game-server runtime
local jit_bin = os.getenv("LAWS_LUAJIT") or "luajit"
local jbuild = os.getenv("LAWS_BUILD_LUAJIT") or (build .. "/luajit")
local jf = io.open(jbuild .. "/laws/core.so", "rb")
if jf and os.execute("command -v " .. jit_bin .. " >/dev/null 2>&1") then
  jf:close()
  s = standin(true)
  local j0 = stats(s).requests
  local jl = ("LUA_PATH='lua/?.lua;lua/?/init.lua;spec/?.lua;bench/?.lua;;' LUA_CPATH='%s/?.so;;' %s"):format(jbuild, jit_bin)
  local j = sh(("%s bench/async_flows.lua async http://127.0.0.1:%d %d %d"):format(jl, s.port, flows, in_flight))
  local jreq = stats(s).requests - j0
  s.stop()
  print(("LuaJIT, no lag: %d flows (%d ok) in %.2f s wall, %d requests; laws CPU %.1f us per request (%.1fx the libcurl floor),"
    .. " %.2f KB per flow") :format(flows, j.ok, j.wall, jreq, j.cpu / jreq * 1e6, j.cpu / jreq * 1e6 / floor_us,
    (j.hwm_kb - j.rss0_kb) / flows))
else
  if jf then jf:close() end
  print("LuaJIT: skipped (no " .. jit_bin .. " or no " .. jbuild .. "/laws/core.so; `make test` builds it)")
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
verdict[#verdict + 1] = (z.wall / zallowed <= 1.5 and "no-lag wall ok" or "no-lag wall OVER target")
  .. " (bottleneck: " .. zbottleneck .. ")"
print("targets: " .. table.concat(verdict, ", "))
