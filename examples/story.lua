--- Set-up shared by the Connect Cases story examples (examples/demo.lua, create_case.lua):
-- clients for Connect Cases and Customer Profiles, and a cases domain, template and
-- profiles domain to work in. With LAWS_DOMAIN unset it starts the local stand-in (with
-- the given extra arguments, e.g. a visibility lag) and creates them there; otherwise it
-- uses AWS with LAWS_DOMAIN, LAWS_TEMPLATE and LAWS_PROFILE_DOMAIN.
--   local s = require("examples.story")(name, key, standin_args, client_opts)
--   s.cases, s.profiles, s.domain, s.template, s.pdomain, s.check(res, err), s.close()
local laws = require "laws"

return function(name, key, standin_args, client_opts)
  local opts = { region = os.getenv("AWS_REGION") or "us-east-1" }
  for k, v in pairs(client_opts or {}) do opts[k] = v end
  local s = {}
  local standin
  if not os.getenv("LAWS_DOMAIN") then
    local argv = { "python3", "spec/support/standin.py", "--key", key.access_key_id .. ":" .. key.secret_access_key }
    for _, a in ipairs(standin_args or {}) do argv[#argv + 1] = a end
    standin = require("spec.support.proc").start(argv, { name = "standin" })
    opts.endpoint, opts.credentials = "http://127.0.0.1:" .. standin.port, key
    s.endpoint = opts.endpoint
  end

  function s.close()
    if s.cases then s.cases:close() end
    if s.profiles then s.profiles:close() end
    if standin then standin.stop() end
  end

  -- a failed step stops the story: stand-in stopped, error shown (never a secret)
  function s.check(res, err)
    if not res then
      s.close()
      error(tostring(err), 2)
    end
    return res
  end

  s.cases = laws.client("connectcases", opts)
  s.profiles = laws.client("customer-profiles", opts)
  s.domain, s.template = os.getenv("LAWS_DOMAIN"), os.getenv("LAWS_TEMPLATE")
  s.pdomain = os.getenv("LAWS_PROFILE_DOMAIN") or (name .. "-people")
  if standin then
    s.domain = s.check(s.cases:CreateDomain{ name = name }).domainId
    s.template = s.check(s.cases:CreateTemplate{ domainId = s.domain, name = "support", status = "Active",
                                                 requiredFields = { { fieldId = "title" } } }).templateId
    s.check(s.profiles:CreateDomain{ DomainName = s.pdomain, DefaultExpirationDays = 365 })
  end
  return s
end
