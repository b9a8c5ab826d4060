--- Credentials from a profile of the shared config/credentials files: static keys,
-- credential_process, role_arn with source_profile or credential_source (role chains,
-- with cycle detection), role_arn with web_identity_token_file.
-- The providers are built on first use, so edits made before then are seen.
local C = require "laws.credentials"
local config = require "laws.config"
local errors = require "laws.errors"

local function config_error(name, what)
  return nil, errors.new{ code = "ConfigError", provider = "profile", profile = name,
                          message = ("profile %s: %s"):format(name, what) }
end

local function has_static(p)
  return type(p.aws_access_key_id) == "string" and p.aws_access_key_id ~= ""
end

local function static_creds(name, p)
  if type(p.aws_secret_access_key) ~= "string" or p.aws_secret_access_key == "" then
    return nil, errors.new{ code = "InvalidCredentials", provider = "profile", profile = name,
      message = ("profile %s: aws_access_key_id without aws_secret_access_key"):format(name) }
  end
  errors.register_secret(p.aws_secret_access_key)
  errors.register_secret(p.aws_session_token)
  local token = p.aws_session_token
  return C.static{ access_key_id = p.aws_access_key_id, secret_access_key = p.aws_secret_access_key,
                   session_token = type(token) == "string" and token or nil, source = "profile " .. name }
end

local credential_sources = {
  Environment = function() return C.env() end,
  Ec2InstanceMetadata = function(o)
    return C.imds{ profile = o.profile, config_file = o.config_file, credentials_file = o.credentials_file }
  end,
  EcsContainer = function() return C.container() end,
}

-- Build the provider for profile `name`. `visited` holds the profiles already on the
-- chain; meeting one again is a cycle (except a profile sourcing its own static keys).
local function build(name, opts, visited)
  local p, err = config.profile(name, opts)
  if not p then return nil, err end
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  o.profile = name
  if type(p.region) == "string" and p.region ~= "" and not opts.region then o.region = p.region end

  if type(p.role_arn) == "string" and p.role_arn ~= "" then
    local sp, cs = p.source_profile, p.credential_source
    for _, k in ipairs{ "source_profile", "credential_source", "external_id", "role_session_name",
                        "web_identity_token_file", "duration_seconds" } do
      if p[k] ~= nil and type(p[k]) ~= "string" then
        return config_error(name, k .. " must be a plain value, not a sub-property block")
      end
    end
    if p.duration_seconds ~= nil and not tonumber(p.duration_seconds) then
      return config_error(name, "duration_seconds is not a number")
    end
    if sp and cs then return config_error(name, "has both source_profile and credential_source") end
    local source
    if cs then
      local make = credential_sources[cs]
      if not make then
        return config_error(name, ("credential_source %q is not one of Environment, Ec2InstanceMetadata, EcsContainer"):format(cs))
      end
      source = make(o)
    elseif sp then
      if sp == name and has_static(p) then
        source, err = static_creds(name, p)
        if not source then return nil, err end
      elseif visited[sp] or sp == name then
        local path = {}
        for _, v in ipairs(visited) do path[#path + 1] = v end
        path[#path + 1] = name
        path[#path + 1] = sp
        return config_error(name, "source_profile cycle: " .. table.concat(path, " -> "))
      else
        visited[name] = true
        visited[#visited + 1] = name
        source, err = build(sp, opts, visited)
        -- A missing or broken source stops every chain: declining would let a typo in
        -- source_profile pick up whatever credentials the next provider finds.
        if not source then
          local code = errors.is(err) and err.code
          local why = code == "CredentialsNotFound" and "has no credentials"
            or code == "ProfileNotFound" and "does not exist"
            or ("is broken (" .. tostring(errors.is(err) and err.message or err) .. ")")
          return config_error(name, ("source_profile %s %s"):format(sp, why))
        end
      end
    elseif type(p.web_identity_token_file) == "string" then
      return C.web_identity{ role_arn = p.role_arn, token_file = p.web_identity_token_file,
        role_session_name = p.role_session_name, duration_seconds = p.duration_seconds, profile = name,
        region = o.region, sts_endpoint = opts.sts_endpoint, sts = opts.sts, config_file = opts.config_file,
        credentials_file = opts.credentials_file, refresh_window = opts.refresh_window }
    else
      return config_error(name, "role_arn needs source_profile, credential_source or web_identity_token_file")
    end
    if p.mfa_serial then return config_error(name, "mfa_serial (interactive MFA) is not supported") end
    return C.assume_role{ role_arn = p.role_arn, source = source, external_id = p.external_id,
      role_session_name = p.role_session_name, duration_seconds = p.duration_seconds, profile = name,
      region = o.region, sts_endpoint = opts.sts_endpoint, sts = opts.sts, config_file = opts.config_file,
      credentials_file = opts.credentials_file, refresh_window = opts.refresh_window }
  end
  if has_static(p) then return static_creds(name, p) end
  if type(p.credential_process) == "string" and p.credential_process ~= "" then
    return C.process{ command = p.credential_process, profile = name, refresh_window = opts.refresh_window }
  end
  if p.sso_session or p.sso_start_url then
    return C.decline("profile", ("profile %s uses IAM Identity Center (SSO), which laws does not read yet"):format(name))
  end
  return C.decline("profile", ("profile %s has no credentials"):format(name))
end

return function(opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("laws.credentials.profile: options must be a table", 2) end
  if opts.profile ~= nil and type(opts.profile) ~= "string" then
    error("laws.credentials.profile: option 'profile' must be a string", 2)
  end
  local inner
  return C.provider("profile", function(_, fopts)
    if not inner then
      local name, explicit = config.profile_name(opts)
      local p, err = build(name, opts, {})
      if not p then
        if errors.is(err) and err.code == "ProfileNotFound" and not explicit then
          return C.decline("profile", ("no profile %q in the shared files"):format(name))
        end
        return nil, err
      end
      inner = p
    end
    return inner:get(fopts)
  end, opts)
end
