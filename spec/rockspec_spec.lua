-- The rockspec must build what the tree has: every csrc/*.c in laws.core, every Lua module
-- mapped to an existing file (regenerate with: lua5.4 tools/gen_rockspec.lua).
local function ls(cmd)
  local out, p = {}, assert(io.popen(cmd))
  for l in p:lines() do out[l] = true end
  p:close()
  return out
end

describe("rockspec/laws-scm-1.rockspec", function()
  local spec = {}
  local chunk = assert(loadfile("rockspec/laws-scm-1.rockspec", "t", spec))
  if setfenv then setfenv(chunk, spec) end
  chunk()

  it("is a builtin build with CURL and OPENSSL as external dependencies", function()
    assert.equal("builtin", spec.build.type)
    assert.truthy(spec.external_dependencies.CURL)
    assert.truthy(spec.external_dependencies.OPENSSL)
  end)

  it("compiles every C file of the core", function()
    local listed = {}
    for _, f in ipairs(spec.build.modules["laws.core"].sources) do listed[f] = true end
    assert.same(ls("ls csrc/*.c"), listed)
  end)

  it("maps every Lua module to its file", function()
    local listed = {}
    for mod, f in pairs(spec.build.modules) do
      if mod ~= "laws.core" then
        listed[f] = true
        local expect = f:gsub("^lua/", ""):gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", ".")
        assert.equal(expect, mod)
      end
    end
    assert.same(ls("find lua/laws -name '*.lua'"), listed)
  end)
end)
