--- Credential providers (minimal first version: explicit and environment).
-- Interface every provider keeps (the client relies on it):
--   provider:get() -> creds | nil, err
--   creds = { access_key_id, secret_access_key, session_token?, expiration? (epoch s) }
local errors = require "laws.errors"

local M = {}

local Provider = {}
Provider.__index = Provider
Provider.__name = "laws.credentials.provider"
function Provider:__tostring() return "laws.credentials.provider(" .. (self.name or "?") .. ")" end
function Provider:get() return self.fetch() end

function M.provider(name, fetch)
  return setmetatable({ name = name, fetch = fetch }, Provider)
end

local function check(c, where)
  if type(c) ~= "table" or type(c.access_key_id) ~= "string" or type(c.secret_access_key) ~= "string" then
    error(where .. ": credentials need access_key_id and secret_access_key strings", 3)
  end
  errors.register_secret(c.secret_access_key)
  errors.register_secret(c.session_token)
  return c
end

function M.static(c)
  check(c, "laws.credentials.static")
  return M.provider("static", function() return c end)
end

function M.env()
  return M.provider("env", function()
    local id, secret = os.getenv("AWS_ACCESS_KEY_ID"), os.getenv("AWS_SECRET_ACCESS_KEY")
    if not id or id == "" or not secret or secret == "" then
      return nil, errors.new{ code = "CredentialsNotFound", message = "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY not set" }
    end
    local token = os.getenv("AWS_SESSION_TOKEN")
    local c = { access_key_id = id, secret_access_key = secret, session_token = token ~= "" and token or nil }
    errors.register_secret(secret); errors.register_secret(c.session_token)
    return c
  end)
end

--- Resolve client options to a provider: opts.credentials (table, provider or function), else env.
function M.resolve(opts)
  local c = opts and opts.credentials
  if c == nil then return M.env() end
  if type(c) == "function" then return M.provider("function", c) end
  if getmetatable(c) and c.get then return c end
  return M.static(c)
end

return M
