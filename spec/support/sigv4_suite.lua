-- Reads the SigV4 conformance data (../shared/testdata/sigv4, README.md there):
-- locating the suite, parsing request.txt / legacy .req files, small file helpers.
local M = {}

M.root = os.getenv("LAWS_SIGV4_TESTDATA") or "../shared/testdata/sigv4"

function M.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

function M.exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- Expected files: compare ignoring one trailing newline (README, "How to use", step 3).
function M.expected(path)
  local s = M.read(path)
  if s then s = s:gsub("\r?\n$", "") end
  return s
end

-- Sorted list of folders under dir that hold `marker` (a file name pattern for find).
function M.cases(dir, marker)
  local out = {}
  local p = io.popen("find '" .. dir .. "' -name '" .. marker .. "' 2>/dev/null | sort")
  for line in p:lines() do out[#out + 1] = line:match("^(.*)/[^/]+$") end
  p:close()
  return out
end

-- Parses an HTTP/1.1 request as the suite writes it. Continuation lines (obs-fold) are
-- joined to the previous value with a space, as RFC 9112 s5.2 lets a recipient do: the
-- public signer refuses CR/LF in values (header injection), so it never sees a fold.
-- Returns { method, target, headers = {name = value | {values...}}, order = {names}, body }.
function M.parse_request(text)
  local head, body = text:match("^(.-)\r?\n\r?\n(.*)$")
  if not head then head, body = text:gsub("\r?\n$", ""), "" end
  local lines = {}
  for line in (head .. "\n"):gmatch("(.-)\r?\n") do lines[#lines + 1] = line end
  local method, target = lines[1]:match("^(%S+) (.*) HTTP/1%.1$")
  if not method then method, target = lines[1]:match("^(%S+) (.*)$") end
  local req = { method = method, target = target, headers = {}, order = {}, body = body }
  local last
  for i = 2, #lines do
    local line = lines[i]
    if line:match("^[ \t]") and last then
      local v = req.headers[last]
      if type(v) == "table" then v[#v] = v[#v] .. " " .. line
      else req.headers[last] = v .. " " .. line end
    else
      local name, value = line:match("^([^:]+):(.*)$")
      assert(name, "bad header line: " .. line)
      local prev = req.headers[name]
      if prev == nil then
        req.headers[name] = value
        req.order[#req.order + 1] = name
      elseif type(prev) == "table" then prev[#prev + 1] = value
      else req.headers[name] = { prev, value } end
      last = name
    end
  end
  return req
end

function M.header(req, name)
  for k, v in pairs(req.headers) do
    if k:lower() == name:lower() then return v end
  end
end

-- "2015-08-30T12:36:00Z" or "20150830T123600Z" -> epoch seconds (UTC, no os.time/TZ).
function M.epoch(ts)
  local y, mo, d, h, mi, s = ts:match("^(%d%d%d%d)-?(%d%d)-?(%d%d)T(%d%d):?(%d%d):?(%d%d)Z$")
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  if mo <= 2 then y, mo = y - 1, mo + 12 end
  local fl = math.floor
  local days = 365 * y + fl(y / 4) - fl(y / 100) + fl(y / 400) + fl((153 * (mo - 3) + 2) / 5) + d - 719469
  return days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(s)
end

-- Query string -> set { "k=v" = count } (raw, as written).
function M.query_set(q)
  local set = {}
  for part in (q or ""):gmatch("[^&]+") do set[part] = (set[part] or 0) + 1 end
  return set
end

--- `text` with a session token (raw, and URI-encoded as in a canonical query) shown as
-- `marker`, the way laws.sigv4 shows it in details (the token is a secret).
function M.hide_token(text, token, marker)
  if not token then return text end
  local enc = token:gsub("[^%w%-%._~]", function(ch) return ("%%%02X"):format(ch:byte()) end)
  for _, needle in ipairs{ token, enc } do
    local out, i = {}, 1
    while true do
      local a, b = text:find(needle, i, true)
      if not a then break end
      out[#out + 1] = text:sub(i, a - 1); out[#out + 1] = marker; i = b + 1
    end
    out[#out + 1] = text:sub(i)
    text = table.concat(out)
  end
  return text
end

return M
