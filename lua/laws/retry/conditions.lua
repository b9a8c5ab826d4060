--- Ready-made success conditions for laws.retry (success(result, err) -> bool).
-- "Success" here means "stop": a condition also stops on an error that waiting cannot
-- fix (validation, access denied...), so laws.retry returns that error at once instead
-- of retrying it until the deadline. It keeps waiting on ResourceNotFoundException and
-- on errors the client marked retryable (its own retries ran out on a transient fault).
local path = require "laws.retry.path"

local M = {}

local function keep_waiting_on(err)
  return type(err) == "table" and (err.code == "ResourceNotFoundException" or err.retryable == true)
end

--- found: the call succeeded (the resource exists).
function M.found(_, err)
  if err == nil then return true end
  return not keep_waiting_on(err)
end

--- non_empty(member): result[member] (a path such as "cases" or "Items" or "a.b") is a
-- non-empty list.
function M.non_empty(member)
  if type(member) ~= "string" then error("laws.conditions.non_empty: bad argument #1 'member' (string expected)", 2) end
  path.compile(member)
  return function(result, err)
    if err ~= nil then return not keep_waiting_on(err) end
    local v = type(result) == "table" and path.search(member, result)
    return type(v) == "table" and next(v) ~= nil
  end
end

--- has(member, value): some element of the list at `member` (a path such as
-- "cases[].caseId") equals value.
function M.has(member, value)
  if type(member) ~= "string" then error("laws.conditions.has: bad argument #1 'member' (string expected)", 2) end
  path.compile(member)
  return function(result, err)
    if err ~= nil then return not keep_waiting_on(err) end
    local v = type(result) == "table" and path.search(member, result)
    if type(v) ~= "table" then return v == value end
    for _, x in ipairs(v) do if x == value then return true end end
    return false
  end
end

return M
