--- Create -> wait-until-visible flows against the Connect Cases stand-in, for bench/40-async.sh
-- and spec/async_flows_spec.lua. Each flow: CreateCase, then the CaseVisible waiter (GetCase
-- until it stops answering ResourceNotFoundException). Run as a script:
--   lua5.4 bench/async_flows.lua <endpoint> <mode: async|seq|capacity> <flows> [in_flight]
local laws = require "laws"
local runtime = require "laws.runtime"

local M = {}

M.credentials = { access_key_id = "AKIDSTANDIN", secret_access_key = "standin/secret/KEY+0123456789abcdefghijklmn" }

function M.client(endpoint)
  return laws.client("connectcases", { region = "us-east-1", endpoint = endpoint, credentials = M.credentials })
end

--- Domain + template (+ the title field they need); returns domainId, templateId.
function M.setup(c)
  local d = assert(c:CreateDomain{ name = "bench-" .. tostring(runtime.now()):gsub("%.", "") })
  local f = assert(c:CreateField{ domainId = d.domainId, name = "bench_subject", type = "Text" })
  local t = assert(c:CreateTemplate{ domainId = d.domainId, name = "t", status = "Active",
                                     requiredFields = { { fieldId = f.fieldId } } })
  return d.domainId, t.templateId, f.fieldId
end

--- One flow; returns the visible case id, or nil, err.
function M.flow(c, domain, template, field, i)
  local created, err = c:CreateCase{ domainId = domain, templateId = template,
                                     fields = { { id = field, value = { stringValue = "case " .. i } } } }
  if not created then return nil, err end
  local ok, werr = c:wait("CaseVisible", { domainId = domain, caseId = created.caseId })
  if not ok then return nil, werr end
  return created.caseId
end

return M
