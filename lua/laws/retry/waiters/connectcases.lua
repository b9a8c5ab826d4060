--- Waiters laws defines for Connect Cases (looked up by laws.waiter.get and client:wait).
local M = {}

-- GetCase needs a non-empty field list; "status" is a system field every case has.
local function get_case_params(p)
  local req = {}
  for k, v in pairs(p) do req[k] = v end
  if req.fields == nil then req.fields = { { id = "status" } } end
  return req
end

--- CaseVisible{ domainId, caseId [, fields] }: GetCase until it stops answering
-- ResourceNotFoundException. Other errors end the wait (the client already retried
-- transient ones).
M.CaseVisible = {
  operation = "GetCase",
  prepare = get_case_params,
  acceptors = {
    { state = "success", matcher = { success = true } },
    { state = "retry", matcher = { errorType = "ResourceNotFoundException" } },
  },
  min_delay = 0.05, max_delay = 1, max_wait = 30,
}

--- CaseSearchable{ domainId, caseId [, searchTerm, filter, ...] }: SearchCases (with the
-- other parameters as given) until a case with that caseId is in the results: the
-- search index is what lags most after CreateCase. The matcher is a closure, as the
-- id to look for comes from the input.
M.CaseSearchable = {
  operation = function(client, p)
    if type(p) ~= "table" or type(p.caseId) ~= "string" then
      error("CaseSearchable: params.caseId (string) required", 3)
    end
    local req = {}
    for k, v in pairs(p) do if k ~= "caseId" then req[k] = v end end
    return client:call("SearchCases", req)
  end,
  acceptors = {
    { state = "success", matcher = function(res, err, input)
        if err ~= nil or type(res) ~= "table" or type(res.cases) ~= "table" then return false end
        for _, c in ipairs(res.cases) do
          if type(c) == "table" and c.caseId == input.caseId then return true end
        end
        return false
      end },
  },
  min_delay = 0.05, max_delay = 1, max_wait = 30,
}

return M
