--- Credential providers: where laws finds keys, how it caches and refreshes them.
-- Interface every provider keeps (the client relies on it):
--   provider:get() -> creds | nil, err
--   creds = { access_key_id, secret_access_key, session_token?, expiration? (epoch s) }
-- A provider that is simply not configured answers err.code "CredentialsNotFound" (it
-- declines, and a chain moves on); any other error stops a chain, as in the AWS SDKs.
-- Each provider module (lua/laws/credentials/*.lua) returns a constructor; they are
-- loaded on first use.
local errors = require "laws.errors"
local runtime = require "laws.runtime"
local date = require "laws.date"

local M = {}

local function trim_id(id)
  if #id <= 8 then return "****" end
  return id:sub(1, 4) .. "****" .. id:sub(-4)
end

--- Epoch seconds from an ISO-8601 / RFC 3339 time or a number; nil when unreadable.
M.parse_time = date.parse_iso8601
local iso = date.format_iso8601
M.format_time = iso

-- Credential values: plain fields (the signer reads them) behind a __tostring that never
-- shows the secret key or the token.
local Creds = {}
Creds.__index = Creds
Creds.__name = "laws.credentials"
function Creds:__tostring()
  return ("laws.credentials(%s%s%s%s)"):format(trim_id(self.access_key_id),
    self.session_token and ", session token" or "",
    self.expiration and (", expires " .. iso(self.expiration)) or "",
    self.source and (", from " .. self.source) or "")
end

--- Validate and wrap a credentials table (a new table; secrets registered for redaction).
-- Raises on a wrong shape: that is a programmer error in a user-supplied provider.
function M.new(t, source, level)
  if getmetatable(t) == Creds then return t end
  if type(t) ~= "table" or type(t.access_key_id) ~= "string" or t.access_key_id == ""
     or type(t.secret_access_key) ~= "string" or t.secret_access_key == "" then
    error((source or "laws.credentials") .. ": credentials need access_key_id and secret_access_key strings",
      level or 2)
  end
  if t.session_token ~= nil and type(t.session_token) ~= "string" then
    error((source or "laws.credentials") .. ": session_token must be a string", level or 2)
  end
  local exp = t.expiration
  if exp ~= nil then
    exp = M.parse_time(exp)
    if not exp then error((source or "laws.credentials") .. ": expiration must be epoch seconds or ISO-8601", level or 2) end
  end
  errors.register_secret(t.secret_access_key)
  errors.register_secret(t.session_token)
  local token = t.session_token
  if token == "" then token = nil end
  return setmetatable({ access_key_id = t.access_key_id, secret_access_key = t.secret_access_key,
    session_token = token, expiration = exp, account_id = t.account_id,
    source = t.source or source }, Creds)
end

function M.is_credentials(v) return getmetatable(v) == Creds end

--- A "not configured here" answer: the chain notes the reason and tries the next provider.
function M.decline(provider, reason)
  return nil, errors.new{ code = "CredentialsNotFound", provider = provider, reason = reason,
                          message = provider .. ": " .. reason }
end

-- ---------------------------------------------------------------------------------------
-- The caching provider. State (cached credentials, the running refresh) lives in a private
-- table so that dumping a provider object never shows a secret.
local state = setmetatable({}, { __mode = "k" })

local Provider = {}
Provider.__index = Provider
Provider.__name = "laws.credentials.provider"
function Provider:__tostring() return "laws.credentials.provider(" .. tostring(self.name) .. ")" end

M.DEFAULT_REFRESH_WINDOW = 300   -- seconds before expiration when a refresh starts
M.RETRY_AFTER_FAILURE = 10       -- while old credentials are valid, wait this long between tries
M.WAIT_TIMEOUT = 30              -- a waiter takes over a refresh that has not ended by then
M.WAIT_SLICE = 0.25              -- how often a waiter looks whether the fetching task still lives

--- The options a fetch function receives from get(opts): { deadline = runtime.now() value }
-- when opts.timeout (seconds) bounds this get, else nil. Nested providers pass them on.
function M.fetch_opts(opts)
  if opts == nil then return nil end
  if type(opts) ~= "table" then error("laws.credentials: get options must be a table", 3) end
  if opts.deadline ~= nil then return opts end
  local t = opts.timeout
  if t == nil then return nil end
  if type(t) ~= "number" or t ~= t or t < 0 then
    error("laws.credentials: option 'timeout' must be a number >= 0", 3)
  end
  return { deadline = runtime.now() + t }
end

--- Seconds left before the deadline of fetch options (never below 0), or nil: no deadline.
function M.time_left(fopts)
  local d = fopts and fopts.deadline
  if not d then return nil end
  local left = d - runtime.now()
  return left > 0 and left or 0
end

--- A timeout error for a fetch whose deadline passed (the transport's code for the same).
function M.timed_out(provider, what)
  return nil, errors.new{ code = "OPERATION_TIMEDOUT", provider = provider, transport = true,
                          retryable = true, message = provider .. ": " .. what .. " timed out" }
end

--- A provider from `fetch(provider, fetch_opts) -> creds | nil, err`, with caching, refresh
-- before expiry and a single refresh shared by concurrent callers.
-- opts.refresh_window (s), opts.retry_after_failure (s), opts.wait_timeout (s),
-- opts.cache = false (fetch every time).
function M.provider(name, fetch, opts)
  if type(name) ~= "string" then error("laws.credentials.provider: name must be a string", 2) end
  if type(fetch) ~= "function" then error("laws.credentials.provider: fetch must be a function", 2) end
  opts = opts or {}
  local p = setmetatable({ name = name, refresh_window = opts.refresh_window or M.DEFAULT_REFRESH_WINDOW,
    retry_after_failure = opts.retry_after_failure or M.RETRY_AFTER_FAILURE,
    wait_timeout = opts.wait_timeout or M.WAIT_TIMEOUT, cache = opts.cache ~= false }, Provider)
  state[p] = { fetch = fetch, fetches = 0 }
  return p
end

local function still_valid(c, now)
  return c and (not c.expiration or now < c.expiration)
end

local function fresh(p, c, now)
  return c and (not c.expiration or now < c.expiration - p.refresh_window)
end

--- Cached credentials, or a refresh (shared with callers already waiting for one).
-- opts.timeout (s) bounds this call: waiting for a refresh and the fetch itself.
function Provider:get(opts)
  local st = state[self]
  if not st then error("laws.credentials: call it as provider:get()", 2) end
  local c = st.cached
  if self.cache and c and not c.expiration then return c end  -- never expire: no clock needed
  local now = runtime.time()
  if self.cache and fresh(self, c, now) then return c end
  if self.cache and still_valid(c, now) and st.next_try and now < st.next_try then return c end
  return self:refresh(opts)
end

-- Who runs a fetch: the laws.async task, else the coroutine. A task cancelled in the middle
-- of its fetch never comes back to end it, so its waiters must notice it is gone.
local function owner()
  local async = package.loaded["laws.async"]
  return async and async.current() or coroutine.running()
end

local function gone(o)
  if o == nil then return false end
  if type(o) == "thread" then return coroutine.status(o) == "dead" end
  return o:done()
end

-- End a flight that gave no answer (its fetcher raised or is gone): its waiters wake and
-- the first to run fetches again while the others wait for that one.
local function abandon(st, flight)
  if st.flight == flight then st.flight = nil end
  flight.done, flight.abandoned = true, true
  runtime.wake(flight)
end

-- Wait for the flight running now. Returns true, creds | nil, err when it answered; false
-- when this caller should fetch itself (nothing runs, a stuck or abandoned refresh, or a
-- place where it cannot wait).
local function join(self, st, fopts)
  local started = runtime.now()
  while true do
    local flight = st.flight
    if not flight then return false end
    local now = runtime.now()
    local limit = started + self.wait_timeout
    local deadline = fopts and fopts.deadline
    if deadline and deadline < limit then limit = deadline end
    if now >= limit then
      if deadline and deadline <= limit then
        if still_valid(st.cached, runtime.time()) then return true, st.cached end
        return true, M.timed_out(self.name, "waiting for a refresh")
      end
      return false   -- its fetcher never came back: take over
    end
    local slice = limit - now
    if slice > M.WAIT_SLICE then slice = M.WAIT_SLICE end
    local woken = runtime.wait(flight, slice)
    if flight.done and not flight.abandoned then
      if flight.creds then return true, flight.creds end
      if still_valid(st.cached, runtime.time()) then return true, st.cached end
      return true, nil, flight.err
    end
    if not flight.done then
      if gone(flight.owner) then
        abandon(st, flight)
      elseif not woken and runtime.now() - now < slice / 2 then
        return false   -- cannot park here (an nginx phase without yields): fetch now
      end
    end
  end
end

--- Fetch now (or join the fetch already running). Old credentials that are still valid
-- are kept when the fetch fails. opts as for get.
function Provider:refresh(opts)
  local st = state[self]
  local fopts = M.fetch_opts(opts)
  if st.flight then
    local answered, creds, err = join(self, st, fopts)
    if answered then return creds, err end
  end
  local flight = { done = false, owner = owner() }
  st.flight = flight
  st.fetches = st.fetches + 1
  local ok, creds, err = pcall(st.fetch, self, fopts)
  if ok and creds then
    ok, creds = pcall(M.new, creds, self.name, 3)
  end
  if not ok then
    abandon(st, flight)
    error(creds, 0)
  end
  if st.flight == flight then st.flight = nil end
  flight.done = true
  local now = runtime.time()
  st.next_try = now + self.retry_after_failure
  if creds then
    if self.cache then st.cached = creds end
    flight.creds = creds
    runtime.wake(flight)
    return creds
  end
  if type(err) ~= "table" or not errors.is(err) then
    err = errors.new{ code = "CredentialsProviderError", provider = self.name,
                      message = self.name .. ": " .. tostring(err or "no credentials") }
  end
  if gone(flight.owner) then
    -- its task was cancelled mid-fetch (the error is that cancellation, not the provider's
    -- answer): the waiters go on, one of them fetches again
    abandon(st, flight)
    return nil, err
  end
  flight.err = err
  runtime.wake(flight)
  if still_valid(st.cached, now) then return st.cached end
  return nil, err
end

--- Forget cached credentials (the next get fetches).
function Provider:invalidate()
  state[self].cached = nil
  state[self].next_try = nil
end

--- How many fetches this provider started (for tests and metrics; no secrets).
function Provider:fetch_count() return state[self].fetches end

function M.is_provider(v)
  local mt = getmetatable(v)
  return mt == Provider or (mt ~= nil and mt.__name == "laws.credentials.chain")
end

-- ---------------------------------------------------------------------------------------
-- Explicit credentials and the chain.

function M.static(c)
  local creds = M.new(c, "laws.credentials.static", 2)
  return M.provider("static", function() return creds end)
end

--- Wrap whatever a user passed as `credentials`: a credentials table, a provider object
-- (anything with a :get method), or a function returning a credentials table.
function M.from(v, where)
  where = where or "credentials"
  if M.is_provider(v) then return v end
  if type(v) == "function" then return M.provider("function", function() return v() end) end
  if type(v) == "table" then
    if type(v.get) == "function" then
      return M.provider("custom", function(_, fopts) return v:get(fopts) end)
    end
    if v.access_key_id ~= nil or v.secret_access_key ~= nil then return M.static(v) end
  end
  error(("%s: expected a credentials table, a provider or a function, got %s"):format(where, type(v)), 3)
end

-- A chain is a provider too (same __tostring, usable as a link of another chain), but it
-- keeps no credentials of its own: the link that answered caches them.
local Chain = setmetatable({}, { __index = Provider })
Chain.__index = Chain
Chain.__name = "laws.credentials.chain"
Chain.__tostring = Provider.__tostring

--- Try providers in order; the first one that answers is kept for later calls.
function M.chain(list, opts)
  if type(list) ~= "table" then error("laws.credentials.chain: expected a list of providers", 2) end
  local providers = {}
  for i, p in ipairs(list) do providers[i] = M.from(p, "laws.credentials.chain[" .. i .. "]") end
  opts = opts or {}
  return setmetatable({ name = opts.name or "chain", providers = providers }, Chain)
end

function Chain:get(opts)
  if type(self) ~= "table" then error("laws.credentials: call it as chain:get()", 2) end
  local fopts = M.fetch_opts(opts)
  if self.chosen then return self.chosen:get(fopts) end
  local tried, reasons = {}, {}
  for _, p in ipairs(self.providers) do
    local c, err = p:get(fopts)
    if c then
      self.chosen = p
      return c
    end
    if not (errors.is(err) and err.code == "CredentialsNotFound") then return nil, err end
    -- a nested chain contributes its own list
    for _, t in ipairs(err.tried or { { provider = p.name, reason = err.reason or err.message } }) do
      tried[#tried + 1] = t
      reasons[#reasons + 1] = t.provider .. " (" .. tostring(t.reason) .. ")"
    end
  end
  return nil, errors.new{ code = "CredentialsNotFound", tried = tried, provider = self.name,
    reason = "no provider had credentials",
    message = "no AWS credentials found; tried: " .. table.concat(reasons, "; ") }
end

Chain.refresh = Chain.get
function Chain:invalidate()
  if self.chosen then self.chosen:invalidate() end
  self.chosen = nil
end
function Chain.fetch_count() return 0 end

-- Provider constructors, one file each.
local kinds = { "env", "profile", "process", "assume_role", "web_identity", "container", "imds" }
for _, k in ipairs(kinds) do
  M[k] = function(...) return require("laws.credentials." .. k)(...) end
end

--- The default chain, in the AWS SDK order: environment, web identity (environment),
-- shared files (profile), container endpoint, instance metadata.
function M.default_chain(opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("laws.credentials.default_chain: options must be a table", 2) end
  return M.chain({
    M.env(),
    M.web_identity{ from_env = true, region = opts.region, sts_endpoint = opts.sts_endpoint },
    M.profile{ profile = opts.profile, config_file = opts.config_file,
               credentials_file = opts.credentials_file, region = opts.region,
               sts_endpoint = opts.sts_endpoint },
    M.container(),
    M.imds{ profile = opts.profile, config_file = opts.config_file },
  }, { name = "default chain" })
end

--- Client options to a provider: opts.credentials (table, provider or function), else
-- the default chain. `credentials = false` means unsigned requests: returns nil.
function M.resolve(opts)
  if opts ~= nil and type(opts) ~= "table" then error("laws.credentials.resolve: options must be a table", 2) end
  local c = opts and opts.credentials
  if c == false then return nil end
  if c == nil then return M.default_chain(opts) end
  return M.from(c, "laws.client: option 'credentials'")
end

return M
