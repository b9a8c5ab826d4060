-- Handlers of the test nginx (spec/nginx/test.conf), driven by spec/nginx_spec.lua. Each
-- answers JSON describing what laws did inside nginx, so the spec checks it from outside.
local cjson = require "cjson.safe"

local T = {}
local conf = {}
local init_record = {}

local function code_of(res, err)
  if res then return res.status end
  return err and err.code or "?"
end

--- init_by_lua: load laws in the master, note the phase and what the runtime does there.
function T.init(c)
  conf = c
  -- Count ngx.sleep calls per request (ngx.ctx), to show that laws' waits go through it.
  local real_sleep = ngx.sleep
  ngx.sleep = function(s) -- luacheck: ignore
    local ok, ctx = pcall(function() return ngx.ctx end)
    if ok and ctx.sleeps then ctx.sleeps = ctx.sleeps + 1 end
    return real_sleep(s)
  end
  local ok, laws = pcall(require, "laws")
  init_record.loaded = ok and type(laws) == "table"
  if not ok then init_record.error = tostring(laws); return end
  local runtime = laws.runtime
  if c.standin ~= "" then
    require("laws_cases").configure{
      endpoint = c.standin, region = "us-east-1", domain_id = c.domain_id, template_id = c.template_id,
      credentials = { access_key_id = "AKIDSTANDIN", secret_access_key = "standin/secret/KEY+0123456789abcdefghijklmn" },
      quota_dict = "laws_quota",
    }
  end
  init_record.phase = ngx.get_phase()
  -- the OpenResty backend, chosen when laws.runtime loaded
  init_record.openresty_backend = runtime.backend() ~= runtime.blocking and package.loaded["laws.ngx"] ~= nil
  local core_ok, core = pcall(require, "laws.core")
  init_record.core = core_ok and core._VERSION or tostring(core)
  local t0 = ngx.now()
  local sok, s1, s2 = pcall(runtime.sleep, 0.05)
  init_record.sleep = sok and s2 == nil or tostring(s2 or s1)
  ngx.update_time()
  init_record.slept = ngx.now() - t0
  -- Blocking libcurl is fine here (nothing is served yet); needs laws.http from the http area.
  local rok, res, err = pcall(runtime.request, { method = "GET", url = conf.upstream .. "/init" })
  init_record.request = rok and code_of(res, err) or ("raised: " .. tostring(res))
end

--- init_worker_by_lua: no cosockets, and blocking would stall a serving worker.
function T.init_worker()
  local runtime = require "laws.runtime"
  local ok, res, err = pcall(runtime.request, { method = "GET", url = conf.upstream .. "/init_worker" })
  local code = ok and code_of(res, err) or ("raised: " .. tostring(res))
  local sok, s1, s2 = pcall(runtime.sleep, 0.5)
  ngx.shared.laws_test:set("init_worker_request", tostring(code))
  ngx.shared.laws_test:set("init_worker_message", err and tostring(err) or "")
  ngx.shared.laws_test:set("init_worker_sleep", sok and tostring(s2 and s2.code or s1) or ("raised: " .. tostring(s1)))
  -- the same from a timer: cosockets and ngx.sleep work there
  ngx.timer.at(0, function(premature)
    if premature then return end
    local tok, tres, terr = pcall(runtime.request, { method = "GET", url = conf.upstream .. "/timer" })
    ngx.shared.laws_test:set("timer_request", tok and code_of(tres, terr) or ("raised: " .. tostring(tres)))
    ngx.shared.laws_test:set("timer_sleep", tostring(runtime.sleep(0.01)))
  end)
end

--- header_filter_by_lua: same rules as init_worker.
function T.header_filter()
  local runtime = require "laws.runtime"
  local ok, res, err = pcall(runtime.request, { method = "GET", url = conf.upstream .. "/filter" })
  ngx.header["X-Laws-Request"] = ok and tostring(code_of(res, err)) or ("raised: " .. tostring(res))
  local sok, s1, s2 = pcall(runtime.sleep, 0.2)
  ngx.header["X-Laws-Sleep"] = sok and tostring(s2 and s2.code or s1) or ("raised: " .. tostring(s1))
  local wok, w1, w2 = pcall(runtime.wait, {}, 0.2)
  ngx.header["X-Laws-Wait"] = wok and tostring(w2 and w2.code or w1) or ("raised: " .. tostring(w1))
  -- laws.retry with its default policy (retries any error for up to 30 s): must stop at
  -- once with the phase error, not spin
  local t0 = runtime.now()
  local rok, r1, r2 = pcall(require("laws").retry, function()
    return runtime.request({ method = "GET", url = conf.upstream .. "/filter" })
  end)
  ngx.header["X-Laws-Retry"] = rok and tostring(r2 and r2.code or r1) or ("raised: " .. tostring(r1))
  ngx.header["X-Laws-Retry-Ms"] = string.format("%.1f", (runtime.now() - t0) * 1000)
end

local handlers = {}

function handlers.init()
  local rec = {}
  for k, v in pairs(init_record) do rec[k] = v end
  local d = ngx.shared.laws_test
  rec.init_worker_request = d:get("init_worker_request")
  rec.init_worker_message = d:get("init_worker_message")
  rec.init_worker_sleep = d:get("init_worker_sleep")
  rec.timer_request = d:get("timer_request")
  rec.timer_sleep = d:get("timer_sleep")
  return rec
end

-- n requests through laws.runtime (the cosocket transport here); each result says which
-- upstream connection served it.
function handlers.fetch(a)
  local runtime = require "laws.runtime"
  local base = a.tls and ("https://" .. (a.host or "127.0.0.1") .. ":" .. (a.port or conf.tls_port)) or conf.upstream
  if a.url then base = a.url end
  if a.tls and a.sni then require("laws.ngx").configure({ server_name = a.sni }) end
  local out = {}
  for i = 1, tonumber(a.n or 1) do
    local res, err = runtime.request({
      method = a.method or "GET", url = base .. (a.path or "/echo"),
      headers = { ["X-Try"] = tostring(i), ["X-Multi"] = { "a", "b" }, ["X-Evil"] = a.evil and "a\r\nX-Injected: 1" or nil },
      body = a.body,
      timeout = tonumber(a.timeout),
    })
    if res then
      local j = cjson.decode(res.body) or {}
      out[i] = { status = res.status, conn = j.conn or tonumber(res.headers["x-conn"]), reused = res.reused,
                 body = res.body, len = #res.body, sni = j.sni, headers = j.headers, got_body = j.body }
    else
      out[i] = { code = err.code, message = err.message, transport = err.transport }
    end
  end
  if a.tls and a.sni then require("laws.ngx").configure() end
  return out
end

-- One request straight through laws.transport.cosocket with its own options; says how
-- long it took and how it ended.
function handlers.attempt(a)
  local cosocket = require "laws.transport.cosocket"
  ngx.update_time()
  local t0 = ngx.now()
  local res, err = cosocket.request({ method = "GET", url = conf.upstream .. (a.path or "/echo") },
    { timeout = tonumber(a.timeout), max_body = tonumber(a.max_body) })
  ngx.update_time()
  local out = { elapsed = ngx.now() - t0 }
  if res then
    local j = cjson.decode(res.body)
    out.status, out.len = res.status, #res.body
    out.target = type(j) == "table" and j.target or nil
  else
    out.code, out.message, out.retryable = err.code, err.message, err.retryable
  end
  return out
end

-- Waits out ~`total` seconds the way a consistency wait does: laws.retry with a constant
-- policy when the retry area is there, else the runtime sleep directly. Counts ngx.sleep.
function handlers.wait(a)
  local runtime = require "laws.runtime"
  local total, step = tonumber(a.total or 2), tonumber(a.step or 0.25)
  ngx.ctx.sleeps = 0
  local t0 = runtime.now()
  local ok, res, err = pcall(function()
    local has_retry, retry = pcall(require, "laws.retry")
    if has_retry then
      local backoff = require "laws.retry.backoff"
      return retry(function() return runtime.now() - t0 end, {
        success = function(elapsed) return elapsed and elapsed >= total end,
        policy = backoff.constant{ delay = step, max_attempts = 1000 },
      })
    end
    while runtime.now() - t0 < total do runtime.sleep(step) end
    return runtime.now() - t0
  end)
  return { ok = ok and res ~= nil, error = not ok and tostring(res) or (err and tostring(err)),
           elapsed = runtime.now() - t0, sleeps = ngx.ctx.sleeps }
end

-- laws.retry with delays under a millisecond (what a full-jitter policy draws now and then).
function handlers.subms(a)
  local n, attempts = tonumber(a.n or 5), 0
  ngx.ctx.sleeps = 0
  local res, err = require("laws").retry(function()
    attempts = attempts + 1
    if attempts > n then return "done" end
    return nil, "not yet"
  end, { policy = function() return tonumber(a.delay or 0.0004) end })
  return { result = res, error = err and tostring(err), attempts = attempts, sleeps = ngx.ctx.sleeps }
end

function handlers.quota(a)
  local q = require("laws.ngx").quota("laws_quota", { capacity = tonumber(a.cap or 500) })
  local r = { pid = ngx.worker.pid() }
  if a.op == "reset" then q.reset()
  elseif a.op == "acquire" then r.ok = q:acquire(tonumber(a.cost or 5))
  elseif a.op == "release" then q:release(tonumber(a.amount or 1)) end
  r.available = q:available()
  return r
end

function handlers.limiter(a)
  local rl = require("laws.ngx").rate_limiter("laws_quota")
  local now = require("laws.core").monotonic()
  local r = { pid = ngx.worker.pid() }
  if a.op == "reset" then rl.reset()
  elseif a.op == "throttle" then rl:update(now, true)
  elseif a.op == "acquire" then r.wait = rl:acquire(now) end
  r.state = rl.state()
  return r
end

-- runtime.wait/wake (what laws.credentials' single-flight refresh parks on): five light
-- threads park on one event, the handler wakes them; a sixth times out.
function handlers.events()
  local runtime = require "laws.runtime"
  local ev, lonely = {}, {}
  local t0 = runtime.now()
  local threads = {}
  for i = 1, 5 do
    threads[i] = ngx.thread.spawn(function()
      local ok = runtime.wait(ev, 5)
      return { ok = ok, after = runtime.now() - t0 }
    end)
  end
  local late = ngx.thread.spawn(function() return { ok = runtime.wait(lonely, 0.2), after = runtime.now() - t0 } end)
  ngx.sleep(0.1)
  ev.done = true
  runtime.wake(ev)
  local out = {}
  for i = 1, 5 do local _, r = ngx.thread.wait(threads[i]); out[i] = r end
  local _, lr = ngx.thread.wait(late)
  -- less than a millisecond to wait: ngx.semaphore answers "timeout" at once without
  -- yielding, and ngx.now() does not move; this once spun forever and froze the worker
  local t1 = runtime.now()
  local tiny = { ok = runtime.wait({}, 0.0004) }
  tiny.after = runtime.now() - t1
  return { woken = out, timed_out = lr, tiny = tiny }
end

-- Ten light threads want credentials at once: one refresh, everyone gets its result.
function handlers.creds()
  local calls = 0
  local provider = { get = function()
    calls = calls + 1
    ngx.sleep(0.2)
    return { access_key_id = "AKID" .. calls, secret_access_key = "secret-not-shown", expiration = ngx.now() + 3600 }
  end }
  local w = require("laws.ngx").credentials(provider)
  local threads, keys = {}, {}
  for i = 1, 10 do threads[i] = ngx.thread.spawn(function() return w:get().access_key_id end) end
  for i = 1, 10 do local _, k = ngx.thread.wait(threads[i]); keys[i] = k end
  local again = w:get().access_key_id
  -- laws.credentials' own providers single-flight through runtime.wait/wake (ngx.semaphore here)
  local credentials = require "laws.credentials"
  local fetches = 0
  local p = credentials.provider("slow", function()
    fetches = fetches + 1
    ngx.sleep(0.2)
    return { access_key_id = "AKIDPROV" .. fetches, secret_access_key = "secret-not-shown-either",
             expiration = ngx.now() + 3600 }
  end)
  local pkeys = {}
  for i = 1, 10 do threads[i] = ngx.thread.spawn(function() return p:get().access_key_id end) end
  for i = 1, 10 do local _, k = ngx.thread.wait(threads[i]); pkeys[i] = k end
  return { calls = calls, keys = keys, again = again, refreshes = w.refreshes,
           provider_fetches = p:fetch_count(), provider_keys = pkeys }
end

function T.handle()
  local name = ngx.var.uri:match("^/t/([%w_]+)")
  local h = handlers[name]
  if not h then return ngx.exit(404) end
  local args = ngx.req.get_uri_args()
  local ok, out = pcall(h, args)
  if not ok then
    ngx.status = 500
    out = { error = tostring(out) }
  end
  ngx.header["Content-Type"] = "application/json"
  ngx.say(cjson.encode(out))
end

T.handlers = handlers
return T
