--- The container credentials endpoint (ECS task roles, EKS Pod Identity):
-- AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on 169.254.170.2) or ..._FULL_URI, with the
-- Authorization header from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read on every refresh)
-- or AWS_CONTAINER_AUTHORIZATION_TOKEN. A full URI over plain HTTP must point at a
-- loopback address or the ECS/EKS link-local hosts, as the AWS SDKs require. Each request:
-- 2 s to connect, 2 s in all, 3 attempts (M.TIMEOUT, M.ATTEMPTS: botocore's figures).
local C = require "laws.credentials"
local config = require "laws.config"
local errors = require "laws.errors"
local util = require "laws.credentials.util"

local ECS_HOST = "http://169.254.170.2"
local allowed_hosts = { ["169.254.170.2"] = true, ["169.254.170.23"] = true, ["fd00:ec2::23"] = true,
                        ["localhost"] = true, ["::1"] = true }

local function host_of(url)
  local scheme, authority = url:match("^(%a[%w+.-]*)://([^/?#]*)")
  if not scheme then return nil end
  authority = authority:gsub("^.*@", "")
  local host = authority:match("^%[([^%]]+)%]") or authority:gsub(":%d*$", "")
  return scheme:lower(), host:lower()
end

local function allowed(url)
  local scheme, host = host_of(url)
  if scheme == "https" then return true end
  if scheme ~= "http" then return false end
  if allowed_hosts[host] then return true end
  local a = host:match("^127%.(%d+)%.(%d+)%.(%d+)$")
  return a ~= nil
end

local function fail(code, what)
  return nil, errors.new{ code = code, provider = "container", message = "container: " .. what }
end

local M = {}
M.allowed = allowed
M.TIMEOUT = 2    -- seconds: connect timeout and whole-attempt timeout of each request
M.ATTEMPTS = 3

local function new(opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("laws.credentials.container: options must be a table", 2) end
  return C.provider("container", function(_, fopts)
    local rel = config.getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
    local full = config.getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    local url
    if rel then
      url = ECS_HOST .. (rel:sub(1, 1) == "/" and rel or "/" .. rel)
    elseif full then
      if not allowed(full) then
        return fail("ConfigError", "AWS_CONTAINER_CREDENTIALS_FULL_URI must use https or a loopback / "
          .. "ECS / EKS address (169.254.170.2, 169.254.170.23, fd00:ec2::23)")
      end
      url = full
    else
      return C.decline("container", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI not set")
    end
    local headers = { Accept = "application/json" }
    local token_file = config.getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
    local token = config.getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN")
    if token_file then
      local why
      token, why = util.read_file(token_file)
      if not token then
        return fail("CredentialsProviderError", "cannot read the token file " .. token_file .. " (" .. tostring(why) .. ")")
      end
      token = token:gsub("%s+$", "")
    end
    if token then
      errors.register_secret(token)
      if token:find("[\r\n]") then return fail("ConfigError", "the authorization token contains a line break") end
      headers.Authorization = token
    end
    local res, err = util.request({ method = "GET", url = url, headers = headers,
      timeout = opts.timeout or M.TIMEOUT, connect_timeout = opts.timeout or M.TIMEOUT },
      opts.attempts or M.ATTEMPTS, fopts)
    if not res or res.status ~= 200 then
      return fail("CredentialsProviderError", "the endpoint did not give credentials (" .. util.why(res, err) .. ")")
    end
    local doc = util.json(res.body)
    if doc then errors.register_secret(doc.SecretAccessKey); errors.register_secret(doc.Token) end
    if not doc or type(doc.AccessKeyId) ~= "string" or type(doc.SecretAccessKey) ~= "string" then
      return fail("InvalidCredentials", "the endpoint answered without AccessKeyId / SecretAccessKey")
    end
    local exp = doc.Expiration and C.parse_time(doc.Expiration)
    if doc.Expiration and not exp then return fail("InvalidCredentials", "Expiration is not an ISO-8601 time") end
    return { access_key_id = doc.AccessKeyId, secret_access_key = doc.SecretAccessKey,
             session_token = type(doc.Token) == "string" and doc.Token or nil, expiration = exp,
             account_id = type(doc.AccountId) == "string" and doc.AccountId or nil }
  end, opts)
end

return setmetatable(M, { __call = function(_, opts) return new(opts) end })
