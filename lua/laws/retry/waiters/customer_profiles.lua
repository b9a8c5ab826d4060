--- Waiters laws defines for Customer Profiles (laws.waiter.get("customer-profiles", name)).
local M = {}

--- ProfileVisible{ DomainName, ProfileId } or { DomainName, KeyName, Values }:
-- SearchProfiles until Items is non-empty. With ProfileId it searches the
-- _profileId key, which is what a just-created profile is findable by.
M.ProfileVisible = {
  operation = "SearchProfiles",
  prepare = function(p)
    local req = {}
    for k, v in pairs(p) do if k ~= "ProfileId" then req[k] = v end end
    if p.ProfileId ~= nil then
      if type(p.ProfileId) ~= "string" then error("ProfileVisible: ProfileId must be a string", 4) end
      req.KeyName, req.Values = "_profileId", { p.ProfileId }
    end
    return req
  end,
  acceptors = {
    { state = "success", matcher = { output = { path = "length(Items) > `0`", expected = true,
                                                comparator = "booleanEquals" } } },
    { state = "retry", matcher = { success = true } },
    { state = "retry", matcher = { errorType = "ResourceNotFoundException" } },
  },
  min_delay = 0.05, max_delay = 1, max_wait = 30,
}

return M
