--- A small XML reader over lua-expat: enough for AWS query-protocol answers.
-- parse(text) -> root | nil, message. A node is { name = "Tag", attrs = {...},
-- children = { node, ... }, text = "concatenated character data" }.
local lxp = require "lxp"

local M = {}

function M.parse(s)
  if type(s) ~= "string" then return nil, "no XML body" end
  local root, stack = nil, {}
  local parser = lxp.new{
    StartElement = function(_, name, attrs)
      local node = { name = name:match("[^:]+$"), attrs = attrs, children = {}, parts = {} }
      local top = stack[#stack]
      if top then top.children[#top.children + 1] = node else root = root or node end
      stack[#stack + 1] = node
    end,
    EndElement = function()
      local node = table.remove(stack)
      node.text = table.concat(node.parts)
      node.parts = nil
    end,
    CharacterData = function(_, data)
      local top = stack[#stack]
      if top then top.parts[#top.parts + 1] = data end
    end,
  }
  local ok, msg, line = parser:parse(s)
  if ok then ok, msg, line = parser:parse() end
  pcall(parser.close, parser)  -- close raises on an unfinished document; we already know
  if not ok then return nil, "malformed XML: " .. tostring(msg) .. (line and (" (line " .. line .. ")") or "") end
  if not root then return nil, "empty XML document" end
  return root
end

--- First child named `name`, or nil.
function M.child(node, name)
  if not node then return nil end
  for _, c in ipairs(node.children) do
    if c.name == name then return c end
  end
end

--- Depth-first search for the first element named `name`.
function M.find(node, name)
  if not node then return nil end
  if node.name == name then return node end
  for _, c in ipairs(node.children) do
    local f = M.find(c, name)
    if f then return f end
  end
end

return M
