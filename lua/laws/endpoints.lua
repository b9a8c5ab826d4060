--- Where a client sends its requests, and for which region it signs.
-- Order (as the AWS SDKs): the `endpoint` option, AWS_ENDPOINT_URL_<SERVICE>,
-- AWS_ENDPOINT_URL, the config file's services-block / profile endpoint_url (all but the
-- option ignored when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true), then
-- https://<prefix>[-fips].<region>.<dns suffix>; dual-stack uses the api.aws suffixes.
local config = require "laws.config"

local M = {}

local function env_bool(name)
  local v = config.getenv(name)
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

local function file_opts(opts)
  return { profile = opts.profile, config_file = opts.config_file, credentials_file = opts.credentials_file }
end

-- A setting of the selected profile (nil when it is absent or the files cannot be read).
local function setting(key, opts)
  local v = config.get(key, file_opts(opts))
  return type(v) == "string" and v ~= "" and v or nil
end

--- endpoint_url from the shared config file: the profile's `services` block for this
-- service, then the profile's own endpoint_url (as the AWS SDKs read them).
function M.profile_endpoint(service_id, opts)
  local fo = file_opts(opts)
  local ignore = setting("ignore_configured_endpoint_urls", opts)
  if ignore and ignore:lower() == "true" then return nil end
  local block = config.service(service_id, fo)
  if type(block) == "table" and type(block.endpoint_url) == "string" then return block.endpoint_url end
  return setting("endpoint_url", opts)
end

-- A FIPS / dual-stack switch: option, environment, then the profile's setting.
local function switch(option, env, key, opts)
  if option ~= nil then return option end
  local v = config.getenv(env)
  if v ~= nil then return v:lower() == "true" end
  local s = setting(key, opts)
  return s ~= nil and s:lower() == "true"
end

--- Region: laws.config.region without instance metadata (option, AWS_REGION,
-- AWS_DEFAULT_REGION, the profile's region); nil if none.
function M.region(opts)
  return (config.region{ region = opts.region, profile = opts.profile, config_file = opts.config_file,
                         credentials_file = opts.credentials_file, imds = false })
end

--- Resolve the endpoint URL (no trailing slash) for a service model's metadata.
-- opts: endpoint, use_fips, use_dualstack (default from AWS_USE_FIPS_ENDPOINT /
-- AWS_USE_DUALSTACK_ENDPOINT). Returns url, or nil, message.
function M.resolve(meta, region, opts)
  local url = opts.endpoint
  if not url and not env_bool("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") then
    local id = meta.serviceId or meta.endpointPrefix or ""
    url = config.getenv("AWS_ENDPOINT_URL_" .. M.env_name(id)) or config.getenv("AWS_ENDPOINT_URL")
    if not url then url = M.profile_endpoint(id, opts) end
  end
  if url then
    if not url:match("^https?://[^/]") then return nil, "endpoint must be an http:// or https:// URL: " .. url end
    return (url:gsub("/+$", ""))
  end
  local fips = switch(opts.use_fips, "AWS_USE_FIPS_ENDPOINT", "use_fips_endpoint", opts)
  local dual = switch(opts.use_dualstack, "AWS_USE_DUALSTACK_ENDPOINT", "use_dualstack_endpoint", opts)
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
