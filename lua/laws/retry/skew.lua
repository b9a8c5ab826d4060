--- Clock-skew correction for client calls (AWS SDK behaviour): when the server says the
-- request time is off, take its Date header as the truth. Pure functions, no state.
local M = {}

local SKEW_CODES = { RequestTimeTooSkewed = true, RequestExpired = true, RequestInTheFuture = true }
local SIG_CODES = { InvalidSignatureException = true, SignatureDoesNotMatch = true }
local THRESHOLD = 300  -- seconds; a signature error counts as skew only beyond this

local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6, Jul = 7, Aug = 8, Sep = 9, Oct = 10, Nov = 11, Dec = 12 }

local days = require("laws.date").days_from_civil

-- Epoch seconds of an HTTP date ("Thu, 26 Nov 2026 11:09:30 GMT"), or nil.
local function http_date(s)
  if type(s) == "table" then s = s[1] end
  if type(s) ~= "string" then return nil end
  local d, mon, y, hh, mm, ss = s:match("(%d%d?)[ %-](%a%a%a)[ %-](%d%d%d%d) (%d%d):(%d%d):(%d%d)")
  if not d or not MONTHS[mon] then return nil end
  return days(tonumber(y), MONTHS[mon], tonumber(d)) * 86400 + tonumber(hh) * 3600 + tonumber(mm) * 60 + tonumber(ss)
end
M.http_date = http_date

--- Seconds to add to the client's clock, or nil when this error is not a skew error.
-- `now` is the client's current (already offset) time.
function M.correction(err, headers, now)
  if not err or not (SKEW_CODES[err.code] or SIG_CODES[err.code]) then return nil end
  local server = http_date(headers and headers["date"])
  if not server then return nil end
  local diff = server - now
  if SIG_CODES[err.code] and math.abs(diff) <= THRESHOLD then return nil end
  if math.abs(diff) < 1 then return nil end
  return diff
end

return M
