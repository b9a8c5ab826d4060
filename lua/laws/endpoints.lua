--- Where a client sends its requests, and for which region it signs.
-- Order (as the AWS SDKs): the `endpoint` option, AWS_ENDPOINT_URL_<SERVICE>,
-- AWS_ENDPOINT_URL (both ignored when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true), then
-- https://<prefix>[-fips].<region>.<dns suffix>; dual-stack uses the api.aws suffixes.
local M = {}

M.getenv = os.getenv  -- specs swap this to test environment handling

local function env_bool(name)
  local v = M.getenv(name)
  return v ~= nil and v:lower() == "true"
end

--- "Customer Profiles" -> "CUSTOMER_PROFILES", as AWS_ENDPOINT_URL_<SERVICE> spells it.
function M.env_name(service_id)
  return (service_id:upper():gsub("[%s%-]", "_"))
end

-- Partition DNS suffixes: { plain, dual-stack }.
local function suffixes(region)
  if region:match("^cn%-") then return "amazonaws.com.cn", "api.amazonwebservices.com.cn" end
  if region:match("^us%-iso%-") then return "c2s.ic.gov", nil end
  if region:match("^us%-isob%-") then return "sc2s.sgov.gov", nil end
  return "amazonaws.com", "api.aws"
end

--- Hook for the profile's region (shared config file). The creds/config area owns that
-- file; until laws.config exists this finds nothing. Replace M.profile_region to change it.
function M.profile_region(opts)
  local ok, config = pcall(require, "laws.config")
  if not ok or type(config) ~= "table" or type(config.profile) ~= "function" then return nil end
  local ok2, p = pcall(config.profile, opts.profile or M.getenv("AWS_PROFILE") or "default")
  return ok2 and type(p) == "table" and p.region or nil
end

--- Region: opts.region, AWS_REGION, AWS_DEFAULT_REGION, the profile's region; nil if none.
function M.region(opts)
  local r = opts.region
  if r == nil or r == "" then r = M.getenv("AWS_REGION") end
  if r == nil or r == "" then r = M.getenv("AWS_DEFAULT_REGION") end
  if r == nil or r == "" then r = M.profile_region(opts) end
  if r == "" then r = nil end
  return r
end

--- Resolve the endpoint URL (no trailing slash) for a service model's metadata.
-- opts: endpoint, use_fips, use_dualstack (default from AWS_USE_FIPS_ENDPOINT /
-- AWS_USE_DUALSTACK_ENDPOINT). Returns url, or nil, message.
function M.resolve(meta, region, opts)
  local url = opts.endpoint
  if not url and not env_bool("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") then
    local id = meta.serviceId or meta.endpointPrefix or ""
    url = M.getenv("AWS_ENDPOINT_URL_" .. M.env_name(id))
    if url == "" then url = nil end
    if not url then url = M.getenv("AWS_ENDPOINT_URL") end
    if url == "" then url = nil end
  end
  if url then
    if not url:match("^https?://[^/]") then return nil, "endpoint must be an http:// or https:// URL: " .. url end
    return (url:gsub("/+$", ""))
  end
  local fips = opts.use_fips
  if fips == nil then fips = env_bool("AWS_USE_FIPS_ENDPOINT") end
  local dual = opts.use_dualstack
  if dual == nil then dual = env_bool("AWS_USE_DUALSTACK_ENDPOINT") end
  if not region:match("^[%w%-]+$") then return nil, "invalid region: " .. region end
  local plain, ds = suffixes(region)
  if dual and not ds then return nil, "dual-stack is not available in region " .. region end
  local prefix = meta.endpointPrefix or error("laws.endpoints: model has no endpointPrefix", 0)
  if region == "aws-global" and meta.globalEndpoint and not fips and not dual then
    return "https://" .. meta.globalEndpoint
  end
  return "https://" .. prefix .. (fips and "-fips" or "") .. "." .. region .. "." .. (dual and ds or plain)
end

return M
