--- STS calls for the role providers, through laws.client("sts").
-- opts.sts (a function(client_opts) -> client) replaces laws.client, e.g. to share one.
local C = require "laws.credentials"
local errors = require "laws.errors"
local config = require "laws.config"
local limits = require("laws.native").http_limits

local M = {}

--- Endpoint for STS: option, AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the profile's
-- services block or endpoint_url; nil lets the client pick the regional endpoint.
function M.endpoint(opts)
  if opts.sts_endpoint then return opts.sts_endpoint end
  local e = config.getenv("AWS_ENDPOINT_URL_STS") or config.getenv("AWS_ENDPOINT_URL")
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

-- Each STS attempt: http_limits' connect timeout, and at most M.TIMEOUT in all (STS answers
-- in well under a second; the 60 s general default times 3 attempts would stall a refresh).
M.TIMEOUT = 10
M.CONNECT_TIMEOUT = limits.connect_timeout

--- Call `op` with `params`, signed with `creds` (false: unsigned). Returns credentials.
-- `fopts` (a fetch's options): with a deadline, attempts are cut to what is left and
-- fewer are made, so that the whole call ends by then.
function M.call(opts, op, params, creds, where, fopts)
  local client_opts = { region = M.region(opts), endpoint = M.endpoint(opts), credentials = creds,
                        retry = opts.sts_retry }
  local client = (opts.sts or require "laws.client")("sts", client_opts)
  local timeout = M.TIMEOUT
  local call_opts = { timeout = timeout, connect_timeout = M.CONNECT_TIMEOUT }
  local left = C.time_left(fopts)
  if left then
    if left <= 0 then return C.timed_out(where, "STS " .. op) end
    if left < timeout then timeout = left end
    call_opts.timeout = timeout
    if left < call_opts.connect_timeout then call_opts.connect_timeout = left end
    call_opts.retry = { max_attempts = math.max(1, math.floor(left / timeout)) }
  end
  local res, err = client:call(op, params, call_opts)
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
