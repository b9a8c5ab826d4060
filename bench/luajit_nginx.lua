-- bench/50-luajit.sh part 2: requests/s of POST /cases (examples/nginx/laws_cases.lua)
-- through nginx against the stand-in. Usage: lua5.4 bench/luajit_nginx.lua [n] [concurrency]
local proc = require "spec.support.proc"
local cjson = require "cjson"
local laws = require "laws"
local q = proc.quote
local n, conc = tonumber(arg[1]) or 2000, tonumber(arg[2]) or 32

local function sh(cmd)
  local f = assert(io.popen(cmd .. " 2>&1"))
  local out = f:read("*a")
  f:close()
  return out
end
local now = require("laws.core").monotonic

local standin = proc.start({ "python3", "spec/support/standin.py", "--lag", "0" }, { name = "standin" })
local url = "http://127.0.0.1:" .. standin.port
local c = laws.client("connectcases", { region = "us-east-1", endpoint = url, credentials = {
  access_key_id = "AKIDSTANDIN", secret_access_key = "standin/secret/KEY+0123456789abcdefghijklmn" } })
local domain = assert(c:CreateDomain{ name = "bench" }).domainId
local template = assert(c:CreateTemplate{ domainId = domain, name = "bench" }).templateId
local function standin_requests()
  return cjson.decode(sh("curl -s " .. q(url .. "/_standin/stats"))).requests
end

local cfg = os.tmpname()
for _, workers in ipairs({ 1, 2 }) do
  local h = proc.start({ "python3", "spec/nginx/run.py", "test.conf", "WORKERS=" .. workers, "BUILD=build/luajit",
    "UPSTREAM=http://127.0.0.1:9", "TLS_PORT=9", "CA=/etc/ssl/certs/ca-certificates.crt",
    "STANDIN=" .. url, "DOMAIN=" .. domain, "TEMPLATE=" .. template }, { name = "nginx", timeout = 20 })
  local target = "http://127.0.0.1:" .. h.port .. "/cases"
  -- warm up: every worker makes its client, connections enter the keep-alive pools
  sh(("curl -s -Z --parallel-max 8 -X POST -d '{}' %s"):format(string.rep(q(target) .. " ", 16)))
  local f = assert(io.open(cfg, "w"))
  f:write("parallel\nparallel-max = ", conc, "\nrequest = \"POST\"\ndata = \"{\\\"title\\\":\\\"bench\\\"}\"\n",
    "write-out = \"%{http_code}\\n\"\n")
  for _ = 1, n do f:write("url = \"", target, "\"\noutput = \"/dev/null\"\n") end
  f:close()
  local before = standin_requests()
  local t0 = now()
  local out = sh("curl -s -K " .. q(cfg))
  local dt = now() - t0
  local served = standin_requests() - before
  local ok = select(2, out:gsub("201", ""))
  print(("nginx %d worker%s: %d POST /cases (concurrency %d) in %.2f s: %.0f requests/s, %d answered 201; " ..
    "stand-in served %.0f requests/s (%d API calls)"):format(workers, workers > 1 and "s" or " ", n, conc, dt,
    n / dt, ok, served / dt, served))
  h.stop()
  os.execute("rm -rf " .. q(h.ready:match("^%d+ (%S+)") or "/nonexistent"))
end
os.remove(cfg)
standin.stop()
