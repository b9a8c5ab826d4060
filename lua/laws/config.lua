--- The AWS shared config and credentials files, read by the rules the AWS CLI uses.
-- `[profile name]` sections in the config file, `[name]` in the credentials file (which
-- wins key by key), `#`/`;` comment lines, keys case-insensitive, an empty `key =`
-- followed by indented `sub = value` lines is a nested table, any other indented line
-- continues the value above. Values are taken verbatim (no inline comments, as the CLI).
-- Files are re-read on every lookup and re-parsed only when their text changed, so a
-- long-running process sees edits. Parse errors name the file and line, never its text:
-- the line may hold a secret key.
local errors = require "laws.errors"

local M = {}

--- The one reader of the environment for laws' settings: os.getenv with "" treated as
-- unset, read at call time (a long-running process and specs may change it; specs may
-- also replace this function).
function M.getenv(k)
  local v = os.getenv(k)
  if v == "" then return nil end
  return v
end

local function getenv(k) return M.getenv(k) end

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

local function expand_home(path)
  if path:sub(1, 2) == "~/" then
    local home = getenv("HOME") or getenv("USERPROFILE")
    if home then return home .. path:sub(2) end
  end
  return path
end

-- Misuse raises naming the option (not "attempt to index" from in here).
local function check_opts(opts, fn)
  if opts == nil then return {} end
  if type(opts) ~= "table" then error("laws.config." .. fn .. ": options must be a table, got " .. type(opts), 3) end
  for _, k in ipairs{ "config_file", "credentials_file", "profile" } do
    if opts[k] ~= nil and type(opts[k]) ~= "string" then
      error("laws.config." .. fn .. ": option '" .. k .. "' must be a string, got " .. type(opts[k]), 3)
    end
  end
  return opts
end

--- The two file paths: explicit option, environment, then ~/.aws/.
function M.files(opts)
  opts = check_opts(opts, "files")
  local home = getenv("HOME") or getenv("USERPROFILE") or "."
  return {
    config = expand_home(opts.config_file or getenv("AWS_CONFIG_FILE") or (home .. "/.aws/config")),
    credentials = expand_home(opts.credentials_file or getenv("AWS_SHARED_CREDENTIALS_FILE")
      or (home .. "/.aws/credentials")),
  }
end

local function file_error(path, n, why)
  return nil, errors.new{ code = "ConfigFileError", file = path, line = n,
                          message = ("%s:%d: %s"):format(path, n, why) }
end

--- Parse the text of one file into { [section header] = { key = value | {sub = value} } }.
function M.parse(text, path)
  if type(text) ~= "string" then error("laws.config.parse: text must be a string, got " .. type(text), 2) end
  local sections, current, last_key = {}, nil, nil
  local n = 0
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    line = line:gsub("\r$", "")
    local stripped = trim(line)
    local indented = line:match("^[ \t]") ~= nil
    local kind = (stripped == "" or stripped:match("^[#;]")) and "skip"
      or (stripped:sub(1, 1) == "[" and not (indented and last_key)) and "section"
      or (indented and last_key) and "more"
      or "property"
    if kind == "section" then
      local header, rest = stripped:match("^%[([^%]]*)%]%s*(.*)$")
      if not header then return file_error(path, n, "section header without closing ']'") end
      header = trim(header)
      if header == "" then return file_error(path, n, "empty section name") end
      if rest ~= "" and not rest:match("^[#;]") then
        return file_error(path, n, "unexpected text after section header")
      end
      current = sections[header] or {}
      sections[header] = current
      last_key = nil
    elseif kind == "more" then
      local v = current[last_key]
      if type(v) == "table" then
        local k, val = stripped:match("^([^=]-)%s*=%s*(.*)$")
        if not k or k == "" then return file_error(path, n, "expected 'key = value' in a sub-property block") end
        v[k:lower()] = val
      else
        current[last_key] = (v == "" and "" or v .. "\n") .. stripped
      end
    elseif kind == "property" then
      local k, val = stripped:match("^([^=]-)%s*=%s*(.*)$")
      if not k or k == "" then return file_error(path, n, "expected 'key = value'") end
      if not current then return file_error(path, n, "property before any [section] header") end
      k = k:lower()
      -- An empty value opens a sub-property block; it stays "" if no indented line follows.
      if val == "" then current[k] = {} else current[k] = val end
      last_key = k
    end
  end
  -- A `key =` with no sub-properties under it is an empty string, not an empty table.
  for _, sec in pairs(sections) do
    for k, v in pairs(sec) do
      if type(v) == "table" and next(v) == nil then sec[k] = "" end
    end
  end
  return sections
end

local cache = {}

local function read_sections(path)
  local f = io.open(path, "r")
  if not f then return {} end
  local text = f:read("*a") or ""
  f:close()
  local c = cache[path]
  if c and c.text == text then return c.sections end
  local sections, err = M.parse(text, path)
  if not sections then return nil, err end
  cache[path] = { text = text, sections = sections }
  return sections
end

local function unquote(s)
  return s:match('^"(.*)"$') or s:match("^'(.*)'$") or s
end

local function merge(into, from)
  for k, v in pairs(from) do
    if type(v) == "table" then
      local t = type(into[k]) == "table" and into[k] or {}
      for sk, sv in pairs(v) do t[sk] = sv end
      into[k] = t
    else
      into[k] = v
    end
  end
end

--- Both files folded into { profiles = {name = settings}, services = {...}, sso_sessions = {...} }.
function M.load(opts)
  local files = M.files(opts)
  local conf, err = read_sections(files.config)
  if not conf then return nil, err end
  local cred, err2 = read_sections(files.credentials)
  if not cred then return nil, err2 end
  local profiles, services, sso = {}, {}, {}
  local plain_default
  for header, values in pairs(conf) do
    local kind, name = header:match("^(%S+)%s+(.+)$")
    if header == "default" then
      plain_default = values
    elseif kind == "profile" then
      name = unquote(trim(name))
      profiles[name] = profiles[name] or {}
      merge(profiles[name], values)
    elseif kind == "services" then
      services[unquote(trim(name))] = values
    elseif kind == "sso-session" then
      sso[unquote(trim(name))] = values
    end
    -- any other section in the config file is not a profile (the CLI ignores it too)
  end
  if plain_default then
    -- [profile default] wins over [default] when both are present
    local t = {}
    merge(t, plain_default)
    merge(t, profiles.default or {})
    profiles.default = t
  end
  for name, values in pairs(cred) do
    profiles[name] = profiles[name] or {}
    merge(profiles[name], values)
  end
  return { profiles = profiles, services = services, sso_sessions = sso, files = files }
end

--- The selected profile name and whether it was chosen explicitly.
function M.profile_name(opts)
  local name = check_opts(opts, "profile_name").profile
  if name then return name, true end
  name = getenv("AWS_PROFILE") or getenv("AWS_DEFAULT_PROFILE")
  if name then return name, true end
  return "default", false
end

--- Settings of one profile (a fresh copy), or nil, err (ProfileNotFound | ConfigFileError).
function M.profile(name, opts)
  if name ~= nil and type(name) ~= "string" then
    error("laws.config.profile: name must be a string", 2)
  end
  if name == nil then name = M.profile_name(opts) end
  local all, err = M.load(opts)
  if not all then return nil, err end
  local p = all.profiles[name]
  if not p then
    return nil, errors.new{ code = "ProfileNotFound", profile = name,
      message = ("profile %q not found in %s or %s"):format(name, all.files.config, all.files.credentials) }
  end
  local copy = {}
  merge(copy, p)
  return copy
end

--- One setting of the selected profile. A missing default profile is not an error.
function M.get(key, opts)
  if type(key) ~= "string" then error("laws.config.get: key must be a string", 2) end
  local name, explicit = M.profile_name(opts)
  local p, err = M.profile(name, opts)
  if not p then
    if err.code == "ProfileNotFound" and not explicit then return nil end
    return nil, err
  end
  return p[key:lower()]
end

--- The `services` block of the selected profile for one service id (e.g. "dynamodb").
function M.service(service_id, opts)
  local name, explicit = M.profile_name(opts)
  local p, err = M.profile(name, opts)
  if not p then
    if err.code == "ProfileNotFound" and not explicit then return nil end
    return nil, err
  end
  if type(p.services) ~= "string" then return nil end
  local all = assert(M.load(opts))
  local block = all.services[p.services]
  local s = block and block[service_id:lower():gsub(" ", "_")]
  return type(s) == "table" and s or nil
end

--- Region: option, AWS_REGION, AWS_DEFAULT_REGION, profile, instance metadata (not with
-- opts.imds = false): the order every part of laws uses.
-- Returns region, source ("option" | "env" | "profile" | "imds") or nil, err.
function M.region(opts)
  opts = check_opts(opts, "region")
  if opts.region and opts.region ~= "" then return opts.region, "option" end
  local r = getenv("AWS_REGION") or getenv("AWS_DEFAULT_REGION")
  if r then return r, "env" end
  local v, err = M.get("region", opts)
  if err then return nil, err end
  if type(v) == "string" and v ~= "" then return v, "profile" end
  local tried = "option, AWS_REGION, AWS_DEFAULT_REGION, profile"
  if opts.imds ~= false then
    local imds = require "laws.credentials.imds"
    -- only the settings that choose the profile: a client's endpoint/timeout are not IMDS's
    local region, why = imds.region{ profile = opts.profile, config_file = opts.config_file,
                                     credentials_file = opts.credentials_file }
    if region then return region, "imds" end
    tried = tried .. ", instance metadata (" .. tostring(why) .. ")"
  end
  return nil, errors.new{ code = "RegionNotFound", message = "no region found; tried " .. tried }
end

return M
