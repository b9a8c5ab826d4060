--- STS AssumeRole with credentials from another provider (profiles with role_arn).
local C = require "laws.credentials"
local errors = require "laws.errors"
local sts = require "laws.credentials.sts"
local runtime = require "laws.runtime"

return function(opts)
  if type(opts) ~= "table" or type(opts.role_arn) ~= "string" then
    error("laws.credentials.assume_role: option 'role_arn' (string) required", 2)
  end
  if opts.source == nil then error("laws.credentials.assume_role: option 'source' (provider) required", 2) end
  local source = C.from(opts.source, "laws.credentials.assume_role: option 'source'")
  local duration = opts.duration_seconds and tonumber(opts.duration_seconds)
  if opts.duration_seconds and not duration then
    error("laws.credentials.assume_role: duration_seconds must be a number", 2)
  end
  local where = opts.profile and ("assume role for profile " .. opts.profile) or "assume role"
  local p = C.provider("assume_role", function(_, fopts)
    local src, err = source:get(fopts)
    if not src then
      return nil, errors.new{ code = errors.is(err) and err.code ~= "CredentialsNotFound" and err.code
                                     or "CredentialsProviderError",
        provider = where, message = where .. ": no source credentials: " .. tostring(err and err.message) }
    end
    local name = opts.role_session_name or ("laws-" .. math.floor(runtime.time() * 1000))
    return sts.call(opts, "AssumeRole", { RoleArn = opts.role_arn, RoleSessionName = name,
      ExternalId = opts.external_id, DurationSeconds = duration }, src, where, fopts)
  end, opts)
  p.role_arn = opts.role_arn
  p.source = source
  return p
end
