--- STS calls for the role providers, through laws.client("sts").
-- opts.sts (a function(client_opts) -> client) replaces laws.client, e.g. to share one.
local C = require "laws.credentials"
local errors = require "laws.errors"
local config = require "laws.config"
local getenv = require("laws.credentials.util").getenv

local M = {}

--- Endpoint for STS: option, AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile's
-- services block or endpoint_url; nil lets the client pick the regional endpoint.
function M.endpoint(opts)
  if opts.sts_endpoint then return opts.sts_endpoint end
  local e = getenv("AWS_ENDPOINT_URL_STS") or getenv("AWS_ENDPOINT_URL")
  if e then return e end
  local svc = config.service("sts", opts)
  if svc and svc.endpoint_url then return svc.endpoint_url end
  local p = config.profile(opts.profile, opts)
  return p and type(p.endpoint_url) == "string" and p.endpoint_url or nil
end

function M.region(opts)
  if opts.region then return opts.region end
  local r = config.region{ profile = opts.profile, config_file = opts.config_file,
                           credentials_file = opts.credentials_file, imds = false }
  return r or "us-east-1"
end

--- Call `op` with `params`, signed with `creds` (false: unsigned). Returns credentials.
function M.call(opts, op, params, creds, where)
  local client_opts = { region = M.region(opts), endpoint = M.endpoint(opts), credentials = creds,
                        retry = opts.sts_retry }
  local client = (opts.sts or require "laws.client")("sts", client_opts)
  local res, err = client:call(op, params)
  if not res then
    if errors.is(err) then
      err.provider = where
      err.message = where .. ": STS " .. op .. " failed: " .. tostring(err.message or err.code)
      return nil, err
    end
    return nil, errors.new{ code = "CredentialsProviderError", provider = where,
                            message = where .. ": STS " .. op .. " failed" }
  end
  local r = res[op .. "Result"] or res
  local c = type(r) == "table" and r.Credentials
  if type(c) ~= "table" or type(c.AccessKeyId) ~= "string" or type(c.SecretAccessKey) ~= "string" then
    return nil, errors.new{ code = "InvalidCredentials", provider = where,
                            message = where .. ": STS " .. op .. " answered without Credentials" }
  end
  errors.register_secret(c.SecretAccessKey)
  errors.register_secret(c.SessionToken)
  local user = r.AssumedRoleUser
  local account = type(user) == "table" and type(user.Arn) == "string" and user.Arn:match("^arn:[^:]+:sts::(%d+):")
  return { access_key_id = c.AccessKeyId, secret_access_key = c.SecretAccessKey,
           session_token = c.SessionToken, expiration = C.parse_time(c.Expiration), account_id = account }
end

return M
