--- A small XML reader over lua-expat: enough for AWS query-protocol answers.
-- parse(text) -> root | nil, message. A node is { name = "Tag", attrs = {...},
-- children = { node, ... }, text = "concatenated character data" }.
-- Never raises on server input: a document nested deeper than MAX_DEPTH is an error
-- answer like a malformed one, and nothing here recurses (the tree is walked with a stack).
local lxp = require "lxp"
local json = require "laws.json"

local M = {}

local MAX_DEPTH = json.MAX_DEPTH

function M.parse(s)
  if type(s) ~= "string" then return nil, "no XML body" end
  local root, stack, too_deep = nil, {}, false
  local parser
  parser = lxp.new{
    StartElement = function(_, name, attrs)
      if #stack >= MAX_DEPTH then
        too_deep = true
        parser:stop()
        return
      end
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
  if too_deep then return nil, "XML nested deeper than " .. MAX_DEPTH .. " levels" end
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

--- Depth-first search (document order) for the first element named `name`.
function M.find(node, name)
  local stack, n = { node }, 1
  while n > 0 do
    local x = stack[n]
    stack[n] = nil
    n = n - 1
    if x.name == name then return x end
    local ch = x.children
    for i = #ch, 1, -1 do
      n = n + 1
      stack[n] = ch[i]
    end
  end
end

return M
