--- Credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN
-- (and AWS_CREDENTIAL_EXPIRATION when a tool that exports them sets it).
local C = require "laws.credentials"
local errors = require "laws.errors"
local config = require "laws.config"

return function(opts)
  if opts ~= nil and type(opts) ~= "table" then error("laws.credentials.env: options must be a table", 2) end
  return C.provider("env", function()
    local id, secret = config.getenv("AWS_ACCESS_KEY_ID"), config.getenv("AWS_SECRET_ACCESS_KEY")
    if not id and not secret then return C.decline("env", "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not set") end
    errors.register_secret(secret)
    if not id or not secret then
      -- half a key pair is a mistake to report, not a reason to look elsewhere (as botocore)
      return nil, errors.new{ code = "InvalidCredentials", provider = "env",
        message = ("env: %s is set but %s is not"):format(id and "AWS_ACCESS_KEY_ID" or "AWS_SECRET_ACCESS_KEY",
          id and "AWS_SECRET_ACCESS_KEY" or "AWS_ACCESS_KEY_ID") }
    end
    local exp = config.getenv("AWS_CREDENTIAL_EXPIRATION")
    if exp and not C.parse_time(exp) then
      return nil, errors.new{ code = "InvalidCredentials", provider = "env",
        message = "env: AWS_CREDENTIAL_EXPIRATION is not an ISO-8601 time" }
    end
    return { access_key_id = id, secret_access_key = secret, session_token = config.getenv("AWS_SESSION_TOKEN"),
             expiration = exp and C.parse_time(exp) }
  end, opts)
end
