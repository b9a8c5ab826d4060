--- EC2 instance metadata (IMDSv2): PUT /latest/api/token, then the role name and its
-- credentials under /latest/meta-data/iam/security-credentials/. 1 s timeouts and one
-- retry; nothing at all when AWS_EC2_METADATA_DISABLED=true. Endpoint from
-- AWS_EC2_METADATA_SERVICE_ENDPOINT (or _MODE=IPv6), or the profile's
-- ec2_metadata_service_endpoint(_mode). Falls back to IMDSv1 only when the token call is
-- refused with 403/404/405 and v1 is not disabled (AWS_EC2_METADATA_V1_DISABLED), as botocore.
local C = require "laws.credentials"
local config = require "laws.config"
local errors = require "laws.errors"
local util = require "laws.credentials.util"
local runtime = require "laws.runtime"

local M = {}

local CREDS_PATH = "/latest/meta-data/iam/security-credentials/"
M.TIMEOUT = 1    -- seconds: connect timeout and whole-attempt timeout of each request
M.ATTEMPTS = 2

local function setting(env, key, opts)
  local v = config.getenv(env)
  if v then return v end
  local ok, p = pcall(config.profile, opts.profile, opts)
  if ok and p and type(p[key]) == "string" and p[key] ~= "" then return p[key] end
  return nil
end

function M.disabled()
  return util.truthy(config.getenv("AWS_EC2_METADATA_DISABLED"))
end

local Client = {}
Client.__index = Client
Client.__name = "laws.imds"
function Client:__tostring() return "laws.imds(" .. self.endpoint .. ")" end

--- A metadata client (keeps its session token until it expires).
function M.client(opts)
  opts = opts or {}
  local endpoint = opts.endpoint or setting("AWS_EC2_METADATA_SERVICE_ENDPOINT", "ec2_metadata_service_endpoint", opts)
  if not endpoint then
    local mode = setting("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "ec2_metadata_service_endpoint_mode", opts)
    endpoint = (mode and mode:lower() == "ipv6") and "http://[fd00:ec2::254]" or "http://169.254.169.254"
  end
  local v1_off = setting("AWS_EC2_METADATA_V1_DISABLED", "ec2_metadata_v1_disabled", opts)
  return setmetatable({ endpoint = endpoint:gsub("/+$", ""), timeout = opts.timeout or M.TIMEOUT,
    attempts = opts.attempts or M.ATTEMPTS, ttl = opts.token_ttl or 21600, v1_disabled = util.truthy(v1_off) }, Client)
end

-- The session token lives outside the client table, so dumping a client shows no token.
local tokens = setmetatable({}, { __mode = "k" })

function Client:token(fopts)
  local t = tokens[self]
  if t and runtime.now() < t.until_ then return t.value end
  local res, err = util.request({ method = "PUT", url = self.endpoint .. "/latest/api/token",
    headers = { ["X-aws-ec2-metadata-token-ttl-seconds"] = tostring(self.ttl) },
    timeout = self.timeout, connect_timeout = self.timeout }, self.attempts, fopts)
  if not res then return nil, "not reachable (" .. util.why(res, err) .. ")" end
  if res.status == 200 and res.body and res.body ~= "" then
    errors.register_secret(res.body)
    -- renew a little before the service forgets it
    tokens[self] = { value = res.body, until_ = runtime.now() + self.ttl * 0.9 }
    return res.body
  end
  if (res.status == 403 or res.status == 404 or res.status == 405) and not self.v1_disabled then
    return false   -- IMDSv1: no token
  end
  return nil, "token request refused (" .. util.why(res) .. ")"
end

--- GET a metadata path; returns the body or nil, reason, status. `fopts` as a fetch's.
function Client:get(path, fopts)
  for round = 1, 2 do
    local token, why = self:token(fopts)
    if token == nil then return nil, why end
    local headers = token and { ["X-aws-ec2-metadata-token"] = token } or {}
    local res, err = util.request({ method = "GET", url = self.endpoint .. path, headers = headers,
      timeout = self.timeout, connect_timeout = self.timeout }, self.attempts, fopts)
    if not res then return nil, "not reachable (" .. util.why(res, err) .. ")" end
    if res.status == 200 then return res.body end
    if res.status == 401 and round == 1 then
      tokens[self] = nil   -- the token expired or was refused: get a new one, once
    else
      return nil, util.why(res), res.status
    end
  end
  return nil, "token refused"
end

--- The instance's region, or nil, reason.
function M.region(opts)
  opts = opts or {}
  if M.disabled() then return nil, "AWS_EC2_METADATA_DISABLED=true" end
  local body, why = M.client(opts):get("/latest/meta-data/placement/region")
  if not body or body == "" then return nil, why or "empty answer" end
  return (body:gsub("%s+$", ""))
end

local function new(opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("laws.credentials.imds: options must be a table", 2) end
  local client
  return C.provider("imds", function(_, fopts)
    if M.disabled() then return C.decline("imds", "AWS_EC2_METADATA_DISABLED=true") end
    client = client or M.client(opts)
    local body, why, status = client:get(CREDS_PATH, fopts)
    if not body then
      if status == 404 then return C.decline("imds", "no IAM role attached to this instance") end
      return C.decline("imds", "instance metadata " .. tostring(why))
    end
    local role = body:match("^%s*([^\r\n]+)")
    if not role then return C.decline("imds", "no IAM role attached to this instance") end
    role = role:gsub("%s+$", "")
    body, why = client:get(CREDS_PATH .. role, fopts)
    if not body then return C.decline("imds", "credentials of role " .. role .. ": " .. tostring(why)) end
    local doc = util.json(body)
    if doc then errors.register_secret(doc.SecretAccessKey); errors.register_secret(doc.Token) end
    if not doc or (doc.Code and doc.Code ~= "Success") or type(doc.AccessKeyId) ~= "string"
       or type(doc.SecretAccessKey) ~= "string" then
      return C.decline("imds", "role " .. role .. ": the answer holds no credentials")
    end
    return { access_key_id = doc.AccessKeyId, secret_access_key = doc.SecretAccessKey,
             session_token = type(doc.Token) == "string" and doc.Token or nil,
             expiration = C.parse_time(doc.Expiration) }
  end, opts)
end

return setmetatable(M, { __call = function(_, opts) return new(opts) end })
