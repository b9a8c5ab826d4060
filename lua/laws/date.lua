--- Calendar arithmetic in UTC, without os.time (local time) or os.date's C locale: days of
-- a civil date (H. Hinnant's algorithm), ISO-8601 / RFC 3339 times to epoch seconds and back.
-- No `//`: this file also runs on LuaJIT.
local M = {}

local floor = math.floor

--- Days since 1970-01-01 of a proleptic Gregorian date (negative before it).
function M.days_from_civil(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = floor(y / 400)
  local yoe = y - era * 400
  local doy = floor((153 * (m + (m > 2 and -3 or 9)) + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

--- Epoch seconds from an ISO-8601 / RFC 3339 time ("2026-11-26T12:00:00Z", offsets,
-- fractions) or a number; nil when it cannot be read.
function M.parse_iso8601(v)
  if type(v) == "number" then return v end
  if type(v) ~= "string" then return nil end
  local y, mo, d, h, mi, s, frac, zone =
    v:match("^%s*(%d%d%d%d)-(%d%d)-(%d%d)[Tt ](%d%d):(%d%d):(%d%d)(%.?%d*)(.-)%s*$")
  if not y then return tonumber(v) end
  local offset = 0
  if zone ~= "" and zone ~= "Z" and zone ~= "z" then
    local sign, zh, zm = zone:match("^([+-])(%d%d):?(%d%d)$")
    if not sign then return nil end
    offset = (tonumber(zh) * 3600 + tonumber(zm) * 60) * (sign == "+" and 1 or -1)
  end
  local t = M.days_from_civil(tonumber(y), tonumber(mo), tonumber(d)) * 86400
    + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(s) - offset
  if frac ~= "" and frac ~= "." then t = t + tonumber("0" .. frac) end
  return t
end

--- "2026-11-26T10:30:00Z" for epoch seconds (whole seconds, UTC).
function M.format_iso8601(t)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", floor(t))
end

return M
