--- Helpers for client specs that need no server: a scripted laws.runtime (request,
-- sleep, time) that records what the client sent, and a recorder around laws.sigv4.sign.
local M = {}

M.creds = { access_key_id = "AKIDEXAMPLE", secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" }

--- Install a scripted runtime. `responses` is a list of responses (tables) or
-- functions(req) -> res | nil, err, consumed in order; the last one repeats.
-- opts.time: a wall-clock function for laws.runtime.time.
-- Returns a recorder { sent = {req...}, sleeps = {s...}, signs = {opts...}, restore() }.
function M.script(responses, opts)
  local runtime = require "laws.runtime"
  local sigv4 = require "laws.sigv4"
  local rec = { sent = {}, sleeps = {}, signs = {}, opts = {} }
  local i = 0
  local fields = {
    request = function(req, o)
      rec.sent[#rec.sent + 1] = req
      rec.opts[#rec.opts + 1] = o
      i = i + 1
      local r = responses[math.min(i, #responses)]
      if type(r) == "function" then return r(req) end
      local copy = {}
      for k, v in pairs(r) do copy[k] = v end
      copy.headers = copy.headers or {}
      return copy
    end,
    sleep = function(s) rec.sleeps[#rec.sleeps + 1] = s; return true end,
    time = opts and opts.time,
  }
  local prev = runtime.use(runtime.override(fields))
  -- hermetic endpoints: a developer's AWS_ENDPOINT_URL* / AWS_USE_* must not change expected URLs
  local config = require "laws.config"
  local getenv = config.getenv
  config.getenv = function(k)
    if k:match("^AWS_ENDPOINT_URL") or k:match("^AWS_USE_") then return nil end
    return getenv(k)
  end
  local orig = sigv4.sign
  sigv4.sign = function(r, c, o)
    rec.signs[#rec.signs + 1] = { time = o.time, service = o.service, region = o.region, creds = c }
    return orig(r, c, o)
  end
  function rec.restore()
    runtime.use(prev)
    sigv4.sign = orig
    config.getenv = getenv
  end
  return rec
end

--- Header lookup ignoring case (clients and signers spell names differently).
function M.header(req, name)
  for k, v in pairs(req.headers or {}) do
    if k:lower() == name:lower() then return v end
  end
end

function M.client(service, opts)
  local o = { region = "us-east-1", credentials = M.creds }
  for k, v in pairs(opts or {}) do o[k] = v end
  return require("laws.client")(service, o)
end

return M
