--- Test servers for specs and benchmarks, on loopback ports chosen by the kernel:
--   servers.standin(opts)  the Connect Cases / Customer Profiles stand-in (spec/support/standin.py)
--   servers.moto()         moto with authentication enforced (spec/support/moto_setup.py)
-- Each is started on first use and reused by later calls in the same spec file (busted reloads
-- this module per file); stop() ends it. Everything stops when the test process exits.
-- The control API is called with curl, so these helpers do not depend on laws.http.
local proc = require "spec.support.proc"
local cjson = require "cjson"

local M = {}

-- Keys the stand-in knows when started without `key`/`keys` (see standin.py DEFAULT_KEYS).
M.DEFAULT_KEY = { access_key_id = "AKIDSTANDIN", secret_access_key = "standin/secret/KEY+0123456789abcdefghijklmn" }
M.TEMP_KEY = { access_key_id = "ASIASTANDIN", secret_access_key = "standin/temporary/SECRET+abcdefghij0123456789",
               session_token = "standin-session-token//+=" }

local cache = {}

local function python_has(mod)
  return os.execute("env -u LD_PRELOAD python3 -c 'import " .. mod .. "' >/dev/null 2>&1")
end

local function need(mod, hint)
  local ok = python_has(mod)
  if ok ~= true and ok ~= 0 then
    error(("python3 cannot import %s: %s"):format(mod, hint), 3)
  end
end
M.need_python = need

local function json_encode(t)
  if t == nil then return nil end
  return cjson.encode(t)
end

--- control(base_url, method, path, tbl) -> decoded table, status. Raises when curl fails.
local function control(base, method, path, tbl)
  local body = json_encode(tbl)
  -- without LD_PRELOAD: curl with the sanitizer run's preloaded ASan runtime can hang at start
  local cmd = "env -u LD_PRELOAD curl -s -S -X " .. method .. " -H 'Content-Type: application/json' -w '\\n%{http_code}' "
  if body then cmd = cmd .. "--data-binary " .. proc.quote(body) .. " " end
  cmd = cmd .. proc.quote(base .. "/_standin" .. path) .. " 2>&1"
  local f = assert(io.popen(cmd, "r"))
  local out = f:read("*a")
  f:close()
  local text, code = out:match("^(.*)\n(%d%d%d)$")
  if not code or code == "000" then error("control " .. method .. " " .. path .. " failed: " .. out, 2) end
  local ok, decoded = pcall(cjson.decode, text)
  return ok and decoded or text, tonumber(code)
end
M.control = control

local function lag_spec(opts)
  local lag = opts.lag
  if type(lag) == "number" then return { fixed = lag, seed = opts.seed } end
  if type(lag) == "table" then
    local t = {}
    for k, v in pairs(lag) do t[k] = v end
    if t.seed == nil then t.seed = opts.seed end
    return t
  end
  return nil
end

local function keys_of(opts)
  local keys = {}
  if opts.key then keys[#keys + 1] = opts.key end
  for _, k in ipairs(opts.keys or {}) do keys[#keys + 1] = k end
  for i, k in ipairs(keys) do
    if type(k) == "table" then
      keys[i] = k.access_key_id .. ":" .. k.secret_access_key .. (k.session_token and (":" .. k.session_token) or "")
    end
  end
  return keys
end

--- servers.standin{ key = "AKID:SECRET[:TOKEN]" | keys = {...}, lag = seconds | { median =, p95 = },
---                  seed = n, region = "us-east-1" | "any", clock_offset = s, fresh = true }
-- -> { url, port, pid, access_key_id, secret_access_key, session_token, credentials,
--      control(method, path, tbl) -> tbl, status; must(method, path, tbl) -> tbl (raises unless 200);
--      stats(); reset(); lag(spec); fault(rule) -> id;
--      clear_faults(); visibility(id); requests(n); add_key(creds [, expires_in]); stop(); read_log() }
-- `key`, `keys` and `region` fix the process (a different set starts another one); `lag`,
-- `seed` and `clock_offset` are applied at run time to the reused process as well.
function M.standin(opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("servers.standin: opts must be a table", 2) end
  need("botocore", "the stand-in needs botocore (Debian: apt-get install python3-botocore; or pip install botocore)")
  local keys = keys_of(opts)
  local sig = "standin|" .. table.concat(keys, ",") .. "|" .. tostring(opts.region or "")
  local h = cache[sig]
  if h and opts.fresh then h.stop() h = nil end
  if not h then
    local argv = { "python3", "spec/support/standin.py", "--seed", tostring(opts.seed or 1) }
    for _, k in ipairs(keys) do argv[#argv + 1] = "--key"; argv[#argv + 1] = k end
    if opts.region then argv[#argv + 1] = "--region"; argv[#argv + 1] = opts.region end
    local p = proc.start(argv, { name = "standin", timeout = 30 })
    local akid, secret = p.ready:match("^%d+ (%S+) (%S+)")
    h = { port = p.port, pid = p.pid, url = "http://127.0.0.1:" .. p.port, read_log = p.read_log }
    local first = keys[1] and { keys[1]:match("^([^:]+):([^:]+):?(.*)$") }
    h.access_key_id = first and first[1] or akid
    h.secret_access_key = first and first[2] or secret
    h.session_token = first and first[3] ~= "" and first[3] or nil
    h.credentials = { access_key_id = h.access_key_id, secret_access_key = h.secret_access_key,
                      session_token = h.session_token }
    function h.control(method, path, tbl) return control(h.url, method, path, tbl) end
    -- the same, raising unless the stand-in answered 200
    function h.must(method, path, tbl)
      local out, status = control(h.url, method, path, tbl)
      if status ~= 200 then error("control " .. method .. " " .. path .. ": status " .. tostring(status), 2) end
      return out
    end
    function h.stats() return (h.control("GET", "/stats")) end
    function h.reset() return (h.control("POST", "/reset", {})) end
    function h.lag(spec) return (h.control("POST", "/lag", spec)) end
    function h.fault(rule) return (h.control("POST", "/faults", rule)).ids[1] end
    function h.clear_faults() return (h.control("DELETE", "/faults")) end
    function h.visibility(id) return (h.control("GET", "/visibility/" .. id)) end
    function h.requests(n) return (h.control("GET", "/requests?n=" .. (n or 50))).requests end
    function h.add_key(creds, expires_in)
      return (h.control("POST", "/keys", { access_key_id = creds.access_key_id,
        secret_access_key = creds.secret_access_key, session_token = creds.session_token, expires_in = expires_in }))
    end
    function h.stop()
      p.stop()
      if cache[sig] == h then cache[sig] = nil end
    end
    cache[sig] = h
  end
  local lag = lag_spec(opts)
  if lag then h.lag(lag) end
  if opts.clock_offset then h.control("POST", "/config", { clock_offset = opts.clock_offset }) end
  return h
end

--- servers.moto() -> { url, port, pid, access_key_id, secret_access_key, credentials, stop(), read_log() }
-- Authentication is enforced: only the returned key pair (IAM user "laws", allow-all policy) is accepted.
function M.moto()
  local h = cache.moto
  if h then return h end
  need("moto", "moto is needed: pip install 'moto[server]' (there is no Debian package)")
  need("boto3", "boto3 is needed (Debian: apt-get install python3-boto3)")
  local p = proc.start({ "python3", "spec/support/moto_setup.py" }, { name = "moto", timeout = 90 })
  local akid, secret = p.ready:match("^%d+ (%S+) (%S+)")
  assert(akid, "moto_setup.py did not announce a key: " .. tostring(p.ready))
  h = { port = p.port, pid = p.pid, url = "http://127.0.0.1:" .. p.port, access_key_id = akid,
        secret_access_key = secret, read_log = p.read_log }
  h.credentials = { access_key_id = akid, secret_access_key = secret }
  function h.stop()
    p.stop()
    if cache.moto == h then cache.moto = nil end
  end
  cache.moto = h
  return h
end

return M
