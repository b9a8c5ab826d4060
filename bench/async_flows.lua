--- Create -> wait-until-visible flows against the Connect Cases stand-in, for bench/40-async.sh
-- and spec/async_flows_spec.lua. Each flow: CreateCase, then the CaseVisible waiter (GetCase
-- until it stops answering ResourceNotFoundException). Run as a script:
--   lua5.4 bench/async_flows.lua async <endpoint> <flows> <in_flight>   -> one JSON line
--   lua5.4 bench/async_flows.lua seq <endpoint> <flows>                   -> one JSON line
--   lua5.4 bench/async_flows.lua raw <endpoint> <requests> <in_flight>    -> one JSON line
--   lua5.4 bench/async_flows.lua client <calls>                           -> one JSON line
local laws = require "laws"
local runtime = require "laws.runtime"

local M = {}

M.credentials = { access_key_id = "AKIDSTANDIN", secret_access_key = "standin/secret/KEY+0123456789abcdefghijklmn" }

function M.client(endpoint)
  return laws.client("connectcases", { region = "us-east-1", endpoint = endpoint, credentials = M.credentials })
end

--- Domain + template (+ the title field they need); returns domainId, templateId.
function M.setup(c)
  local d = assert(c:CreateDomain{ name = "bench-" .. tostring(runtime.now()):gsub("%.", "") })
  local f = assert(c:CreateField{ domainId = d.domainId, name = "bench_subject", type = "Text" })
  local t = assert(c:CreateTemplate{ domainId = d.domainId, name = "t", status = "Active",
                                     requiredFields = { { fieldId = f.fieldId } } })
  return d.domainId, t.templateId, f.fieldId
end

--- One flow; returns the visible case id, or nil, err.
function M.flow(c, domain, template, field, i)
  local created, err = c:CreateCase{ domainId = domain, templateId = template,
                                     fields = { { id = field, value = { stringValue = "case " .. i } } } }
  if not created then return nil, err end
  local ok, werr = c:wait("CaseVisible", { domainId = domain, caseId = created.caseId })
  if not ok then return nil, werr end
  return created.caseId
end


local function rss_kb(field)
  local f = io.open("/proc/self/status", "r")
  if not f then return 0 end
  local s = f:read("*a")
  f:close()
  return tonumber(s:match(field .. ":%s*(%d+)")) or 0
end

local function report(t)
  local parts = {}
  for k, v in pairs(t) do
    parts[#parts + 1] = ("%q:%s"):format(k, type(v) == "number" and ("%.6g"):format(v) or ("%q"):format(tostring(v)))
  end
  print("{" .. table.concat(parts, ",") .. "}")
end

--- `flows` concurrent flows in laws.async tasks, at most `in_flight` transfers at once.
function M.run_async(endpoint, flows, in_flight)
  local async = require "laws.async"
  local c = M.client(endpoint)
  local d, t, f = M.setup(c)
  async.set_limit(nil, in_flight)
  collectgarbage("collect")
  local rss0 = rss_kb("VmRSS")
  local c0, w0 = os.clock(), runtime.now()
  local ok, bad, first_err = 0, 0, nil
  local peak_transfers = 0
  async.run(function()
    for i = 1, flows do
      async.spawn(function()
        local id, err = M.flow(c, d, t, f, i)
        if id then ok = ok + 1 else bad = bad + 1; first_err = first_err or tostring(err) end
      end)
    end
    async.spawn(function()
      while ok + bad < flows do
        peak_transfers = math.max(peak_transfers, async.stats().transfers)
        async.sleep(0.01)
      end
    end)
  end)
  report{ mode = "async", flows = flows, ok = ok, failed = bad, error = first_err or "",
          wall = runtime.now() - w0, cpu = os.clock() - c0, rss0_kb = rss0, hwm_kb = rss_kb("VmHWM"),
          peak_transfers = peak_transfers, limit = in_flight }
end

--- `flows` flows one after another, blocking (no laws.async).
function M.run_seq(endpoint, flows)
  local c = M.client(endpoint)
  local d, t, f = M.setup(c)
  local c0, w0 = os.clock(), runtime.now()
  local ok, bad = 0, 0
  for i = 1, flows do
    if M.flow(c, d, t, f, i) then ok = ok + 1 else bad = bad + 1 end
  end
  report{ mode = "seq", flows = flows, ok = ok, failed = bad, wall = runtime.now() - w0, cpu = os.clock() - c0 }
end

--- The transport alone: `n` unsigned GETs of the stand-in's health URL from `in_flight` tasks
-- (laws.async + multi driver + libcurl, no signing, no JSON, no client).
function M.run_raw(endpoint, n, in_flight)
  local async = require "laws.async"
  local url = endpoint .. "/_standin/health"
  local ok = 0
  local c0, w0 = os.clock(), runtime.now()
  async.run(function()
    for _ = 1, in_flight do
      async.spawn(function()
        for _ = 1, math.floor(n / in_flight) do
          local res = runtime.request({ method = "GET", url = url })
          if res and res.status == 200 then ok = ok + 1 end
        end
      end)
    end
  end)
  report{ mode = "raw", requests = (math.floor(n / in_flight)) * in_flight, ok = ok, wall = runtime.now() - w0, cpu = os.clock() - c0 }
end

--- The client layer alone: CreateCase and GetCase calls answered by a stub transport (no
-- network): operation lookup, JSON, idempotency token, signing, retry bookkeeping.
function M.run_client(n)
  local c = M.client("http://127.0.0.1:1")
  local created = '{"caseId":"c-1","caseArn":"arn:aws:cases:us-east-1:1:domain/d/case/c-1"}'
  local got = '{"fields":[{"id":"status","value":{"stringValue":"open"}}],"templateId":"t","tags":{}}'
  runtime.use(runtime.override{ request = function(req)
    return { status = 200, headers = { ["content-type"] = "application/json" },
             body = req.url:find("/cases/c%-1$") and got or created }
  end })
  local c0 = os.clock()
  for i = 1, n do
    assert(c:CreateCase{ domainId = "d", templateId = "t", fields = { { id = "f", value = { stringValue = "case " .. i } } } })
    assert(c:GetCase{ domainId = "d", caseId = "c-1", fields = { { id = "status" } } })
  end
  report{ mode = "client", requests = 2 * n, cpu = os.clock() - c0 }
end

--- The scheduler alone: `tasks` tasks, each doing `per` zero-length timer sleeps.
function M.run_sched(tasks, per)
  local async = require "laws.async"
  local c0 = os.clock()
  async.run(function()
    for _ = 1, tasks do async.spawn(function() for _ = 1, per do async.sleep(0) end end) end
  end)
  report{ mode = "sched", cycles = tasks * per, cpu = os.clock() - c0 }
end

if arg and arg[0] and arg[0]:match("async_flows%.lua$") then
  if arg[1] == "async" then M.run_async(arg[2], tonumber(arg[3]), tonumber(arg[4]))
  elseif arg[1] == "seq" then M.run_seq(arg[2], tonumber(arg[3]))
  elseif arg[1] == "raw" then M.run_raw(arg[2], tonumber(arg[3]), tonumber(arg[4]))
  elseif arg[1] == "client" then M.run_client(tonumber(arg[2]))
  elseif arg[1] == "sched" then M.run_sched(tonumber(arg[2]), tonumber(arg[3]))
  else io.stderr:write("usage: async_flows.lua async|seq <endpoint> <flows> [in_flight]\n"); os.exit(2) end
end

return M
