--- The handler behind examples/nginx/nginx.conf: POST /cases creates a Connect Cases case
-- and answers only once the case is visible to reads (GetCase finds it), so the caller
-- can read it back at once. Every wait is an ngx.sleep and every call a cosocket: the
-- worker keeps serving other requests while this one waits out the replication lag.
local laws = require "laws"
local laws_ngx = require "laws.ngx"
local cjson = require "cjson.safe"

local M = {}
local conf, client

--- From init_by_lua_block: { region, endpoint (optional), domain_id, template_id,
-- credentials (optional: else the usual environment/profile/instance chain),
-- quota_dict (optional: lua_shared_dict name, one retry budget for every worker) }.
function M.configure(c)
  assert(type(c) == "table" and c.domain_id and c.template_id, "laws_cases.configure: domain_id and template_id")
  conf = c
end

-- One client per worker, made on first use (after the fork: its state is per worker).
local function get_client()
  if client then return client end
  local retry = { mode = "standard", max_attempts = 3 }
  if conf.quota_dict then retry.quota = laws_ngx.quota(conf.quota_dict) end
  client = laws.client("connectcases", {
    region = conf.region or "us-east-1", endpoint = conf.endpoint, credentials = conf.credentials,
    retry = retry, timeout = 5,
  })
  return client
end

local function reply(status, t)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.say(cjson.encode(t))
  return ngx.exit(status)
end

--- POST /cases  { "title": "..." }  ->  201 { caseId, attempts, waited_ms }
function M.create_and_wait()
  ngx.req.read_body()
  local body = cjson.decode(ngx.req.get_body_data() or "{}") or {}
  local title = type(body.title) == "string" and body.title or ("case from nginx " .. ngx.worker.pid())
  local c = get_client()
  local t0 = ngx.now()
  local created, err = c:CreateCase{
    domainId = conf.domain_id, templateId = conf.template_id,
    fields = { { id = "title", value = { stringValue = title } } },
  }
  if not created then return reply(502, { error = err.code, message = err.message }) end
  local attempts = 0
  local found
  found, err = laws.retry(function()
    attempts = attempts + 1
    return c:GetCase{ domainId = conf.domain_id, caseId = created.caseId, fields = { { id = "title" } } }
  end, {
    -- not found yet is the normal answer right after CreateCase: keep waiting on it only
    success = function(res, e) return res ~= nil or (e and e.code ~= "ResourceNotFoundException") end,
  })
  if not found then return reply(504, { caseId = created.caseId, error = err.code, message = err.message }) end
  ngx.update_time()
  return reply(201, { caseId = created.caseId, attempts = attempts, waited_ms = math.floor((ngx.now() - t0) * 1000) })
end

return M
