--- laws.http: HTTP/1.1 (and HTTP/2 over TLS when libcurl offers it) through libcurl.
--   res, err = http.request{ method=, url=, headers=, body=, timeout=, connect_timeout=, max_body=,
--                            ca_file= }   (also resend = false, see below)
--   s = http.session{ timeout=, connect_timeout=, max_body=, ca_file=, resend= }; s:request(req); s:close()
--   http.defaults{ timeout=, connect_timeout=, max_body= } -> the process-wide defaults in force
-- res = { status = 200, headers = { ["content-type"] = "..." }, body = "..." }: header names
-- lower-cased; a repeated header is joined with ", " (RFC 9110 5.3), set-cookie with "\n".
-- Transport failures: nil, err (a laws.errors value) with err.code the libcurl CURLE_ name
-- without its prefix ("COULDNT_CONNECT", "OPERATION_TIMEDOUT", ...), err.message libcurl's
-- message, err.curl_code the number and err.transport = true. Misuse raises.
-- Redirects are never followed: a 3xx is returned as a response. The URL's path is sent byte for
-- byte (no "." / ".." removal: it must be the path that was signed).
-- Bounds: timeout (the whole attempt) and connect_timeout in seconds, max_body in bytes; the
-- request's value, else its session's, else the process default: core.http_limits, set from
-- csrc/http.h (connect 5 s, attempt 60 s, body 64 MiB) and changed by http.defaults.
-- timeout = 0 is the explicit "no bound" for the attempt; connect_timeout = 0 leaves the connect
-- bounded by timeout alone. A body over max_body (announced by Content-Length, or growing past
-- it) ends the transfer at once: err.code "ResponseTooLarge" (not retryable), the message names
-- the cap and the option.
-- An idle keep-alive connection with bytes nobody asked for waiting on it (a stray response) is
-- not reused: session:strays() counts them.
-- When a reused keep-alive connection dies before any response byte, libcurl sends the request
-- again on a fresh connection: res.resent (or err.resent) = number of such extra sends, and
-- session:resends() the session's total. Option resend = false (request or session) refuses the
-- re-send: the request fails with GOT_NOTHING instead, for the caller's retry logic to handle.
local core = require "laws.native"
-- Sessions made in C hand back errors with core.error_mt, which laws.errors fills in: loaded
-- here so those errors print and compare as laws.errors values.
require "laws.errors"

local M = {}

--- A session: its own connection cache, DNS cache, TLS sessions and easy-handle pool.
-- opts: timeout, connect_timeout (seconds), ca_file (defaults for its requests).
function M.session(opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #1 to 'session' (table expected, got " .. type(opts) .. ")", 2)
  end
  return core.http_session(opts)
end

-- The default session, made when laws.http is first loaded and kept for keep-alive.
local default = core.http_session()

--- One request on the default session: `session:request(req)` bound as a plain C function,
-- so the blocking path costs no Lua wrapper call.
M.request = core.http_bind(default)

--- The process-wide defaults for every request that sets no value of its own (nor its session):
-- defaults{ timeout =, connect_timeout =, max_body = } changes them (for every session, the
-- async transport and core.http_limits, which the other transports read); returns the values
-- now in force. Their starting values live in csrc/http.h.
function M.defaults(opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("bad argument #1 to 'defaults' (table expected, got " .. type(opts) .. ")", 2)
  end
  return core.http_defaults(opts)
end

--- The default session (tests count its connections with :connects()).
function M.default_session() return default end

return M
