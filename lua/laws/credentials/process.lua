--- credential_process: run a command, read credentials from its standard output
-- (JSON, "Version": 1). The output holds secrets: errors say what was wrong with it,
-- never what it was. The command runs through /bin/sh (io.popen), and blocks while it
-- runs, as in the AWS SDKs.
local C = require "laws.credentials"
local errors = require "laws.errors"
local util = require "laws.credentials.util"

local function fail(code, where, what)
  return nil, errors.new{ code = code, provider = "process", message = where .. ": " .. what }
end

-- Lua 5.1 / LuaJIT: close() on a pipe does not tell the exit status, so the shell prints it
-- after the command's output.
local wrap = _VERSION == "Lua 5.1"
local MARKER = "__laws_credential_process_status="
local WRAP = "{ %s\n}; printf '\\n" .. MARKER .. "%%d\\n' $?"

return function(opts)
  if type(opts) == "string" then opts = { command = opts } end
  if type(opts) ~= "table" or type(opts.command) ~= "string" or opts.command == "" then
    error("laws.credentials.process: option 'command' (string) required", 2)
  end
  local where = opts.profile and ("credential_process of profile " .. opts.profile) or "credential_process"
  return C.provider("process", function()
    local f = io.popen(wrap and (WRAP):format(opts.command) or opts.command, "r")
    if not f then return fail("CredentialsProviderError", where, "could not start the command") end
    local out = f:read("*a") or ""
    local ok, how, status = f:close()
    if wrap then
      local body, st = out:match("^(.-)\n?" .. MARKER .. "(%d+)\n$")
      if body then out, status, how = body, tonumber(st), "exit"; ok = status == 0 end
    end
    local doc = util.json(out)
    if doc then
      errors.register_secret(doc.SecretAccessKey)
      errors.register_secret(doc.SessionToken)
    end
    -- Lua 5.1/LuaJIT return only true/false here; 5.2+ give "exit"/"signal" and the status.
    if not ok or (how == "exit" and status ~= 0) or how == "signal" then
      return fail("CredentialsProviderError", where,
        ("the command failed (%s %s)"):format(tostring(how or "exit"), tostring(status or "non-zero")))
    end
    if not doc then return fail("InvalidCredentials", where, "the output is not a JSON object") end
    if doc.Version ~= 1 then return fail("InvalidCredentials", where, "unsupported or missing Version (expected 1)") end
    if type(doc.AccessKeyId) ~= "string" or doc.AccessKeyId == "" then
      return fail("InvalidCredentials", where, "the output has no AccessKeyId")
    end
    if type(doc.SecretAccessKey) ~= "string" or doc.SecretAccessKey == "" then
      return fail("InvalidCredentials", where, "the output has no SecretAccessKey")
    end
    if doc.SessionToken ~= nil and type(doc.SessionToken) ~= "string" then
      return fail("InvalidCredentials", where, "SessionToken is not a string")
    end
    local exp
    if doc.Expiration ~= nil then
      exp = C.parse_time(doc.Expiration)
      if not exp then return fail("InvalidCredentials", where, "Expiration is not an ISO-8601 time") end
    end
    return { access_key_id = doc.AccessKeyId, secret_access_key = doc.SecretAccessKey,
             session_token = doc.SessionToken, expiration = exp, account_id = doc.AccountId }
  end, opts)
end
