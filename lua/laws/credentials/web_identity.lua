--- STS AssumeRoleWithWebIdentity with a token read from a file (EKS IRSA, other OIDC).
-- Configured by options, a profile (web_identity_token_file + role_arn), or the
-- environment (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN, AWS_ROLE_SESSION_NAME) when
-- opts.from_env. The token file is read again on every refresh: it is rotated.
local C = require "laws.credentials"
local config = require "laws.config"
local errors = require "laws.errors"
local sts = require "laws.credentials.sts"
local util = require "laws.credentials.util"
local runtime = require "laws.runtime"

return function(opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("laws.credentials.web_identity: options must be a table", 2) end
  local where = opts.profile and ("web identity for profile " .. opts.profile) or "web_identity"
  return C.provider("web_identity", function(_, fopts)
    local file, role, name = opts.token_file, opts.role_arn, opts.role_session_name
    if opts.from_env then
      file = file or config.getenv("AWS_WEB_IDENTITY_TOKEN_FILE")
      role = role or config.getenv("AWS_ROLE_ARN")
      name = name or config.getenv("AWS_ROLE_SESSION_NAME")
    end
    if not file and not role then
      return C.decline("web_identity", "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN not set")
    end
    if not file or not role then
      return nil, errors.new{ code = "ConfigError", provider = where,
        message = where .. ": needs both a token file and a role ARN" }
    end
    local token, why = util.read_file(file)
    if not token or token == "" then
      return nil, errors.new{ code = "CredentialsProviderError", provider = where,
        message = ("%s: cannot read the token file %s (%s)"):format(where, file, why or "empty") }
    end
    token = token:gsub("%s+$", "")
    errors.register_secret(token)
    name = name or ("laws-" .. math.floor(runtime.time() * 1000))
    return sts.call(opts, "AssumeRoleWithWebIdentity", { RoleArn = role, RoleSessionName = name,
      WebIdentityToken = token, DurationSeconds = opts.duration_seconds and tonumber(opts.duration_seconds) },
      false, where, fopts)
  end, opts)
end
