-- A fake clock for specs: a laws.runtime backend whose now/time/sleep are fake; sleep
-- advances time and records each delay. fake.advance(s) moves time as if a call took s
-- seconds. fake.restore() puts the previous backend back (call it in after_each).
local runtime = require "laws.runtime"

return function(start)
  local fake = { t = start or 1000, sleeps = {} }
  function fake.advance(s) fake.t = fake.t + s end
  fake.prev = runtime.use(runtime.override{
    now = function() return fake.t end,
    time = function() return 1764153000 + fake.t end,
    sleep = function(s) fake.sleeps[#fake.sleeps + 1] = s; fake.t = fake.t + s; return true end,
  })
  function fake.restore() runtime.use(fake.prev) end
  return fake
end
