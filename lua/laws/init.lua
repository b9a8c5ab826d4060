--- laws: call AWS from Lua, sign with SigV4/SigV4a, retry until *your* condition holds.
-- The facade loads each area on first use, so `require "laws"` stays cheap and an
-- area that is not needed (say, laws.async in nginx) is never loaded.
local laws = { _VERSION = "laws 0.1" }

local areas = {
  sigv4 = "laws.sigv4", http = "laws.http", backoff = "laws.retry.backoff",
  errors = "laws.errors", credentials = "laws.credentials", config = "laws.config",
  async = "laws.async", runtime = "laws.runtime", conditions = "laws.retry.conditions",
  endpoints = "laws.endpoints",
}
-- Areas whose module *is* a callable: laws.client(...), laws.retry(...), laws.waiter{...}.
local callables = { client = "laws.client", retry = "laws.retry", waiter = "laws.retry.waiter" }

return setmetatable(laws, {
  __index = function(t, k)
    local name = areas[k] or callables[k]
    if not name then return nil end
    local m = require(name)
    rawset(t, k, m)
    return m
  end,
})
