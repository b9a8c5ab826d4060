-- Every Lua laws supports: the compat header compiles warning-free against each Lua's own
-- headers and behaves the same, each build of the core loads in its interpreter, and every
-- Lua file of laws parses there (no 5.3+ syntax slips into code LuaJIT must run).
-- Under LuaJIT only the LuaJIT row runs (the 5.4 run covers the whole matrix).
local proc = require "spec.support.proc"
local q = proc.quote

local rows = {
  { v = "5.1", bin = "lua5.1", pc = "lua5.1", build = "build/lua5.1" },
  { v = "5.2", bin = "lua5.2", pc = "lua5.2", build = "build/lua5.2" },
  { v = "5.3", bin = "lua5.3", pc = "lua5.3", build = "build/lua5.3" },
  { v = "5.4", bin = "lua5.4", pc = "lua5.4", build = "build" },
  { v = "luajit", bin = "luajit", pc = "luajit", build = "build/luajit" },
}

-- Without LD_PRELOAD: the sanitizer run preloads ASan into the Lua running busted only.
local function run(cmd)
  local f = assert(io.popen("env -u LD_PRELOAD sh -c " .. q(cmd) .. " 2>&1; echo \"rc=$?\""))
  local out = f:read("*a")
  f:close()
  local rc = tonumber(out:match("rc=(%d+)%s*$"))
  return rc, out:gsub("rc=%d+%s*$", "")
end

local function lua_files()
  local _, out = run("find lua -name '*.lua' | sort")
  local files = {}
  for line in out:gmatch("[^\n]+") do files[#files + 1] = line end
  return files
end

local tmp = os.tmpname()
os.remove(tmp)
assert(os.execute("mkdir -p " .. q(tmp)))
teardown(function() os.execute("rm -rf " .. q(tmp)) end)

for _, row in ipairs(rows) do
  if not jit or row.v == "luajit" then
    describe("Lua " .. row.v, function()
      it("compiles csrc/compat.h with the strict flags and its shims behave", function()
        local so = tmp .. "/probe" .. row.v .. "/compat_probe.so"
        local cmd = ("mkdir -p %s && cc -shared -fPIC -std=c99 -O1 -Wall -Wextra -Wmissing-prototypes " ..
          "-Wshadow -Werror -Icsrc $(pkg-config --cflags %s) -o %s spec/support/compat_probe.c")
          :format(q(tmp .. "/probe" .. row.v), row.pc, q(so))
        local rc, out = run(cmd)
        assert.are.equal(0, rc, out)
        local script = [[
          local p = require "compat_probe"
          local ok, raw, len = p.types({ 7, 8, 9, name = "x" })
          assert(ok == true and raw == 3 and len == 3, "types")
          assert(p.tointegerx(42) == 42 and p.tointegerx("x") == nil, "tointegerx")
          local b = p.box(5, "held")
          local n, v = p.unbox(b)
          assert(n == 5 and v == "held", "box/unbox")
          assert(p.unbox(io.stdout) == nil, "testudata rejects other userdata")
          local same, got = p.upvalue("k")
          assert(same and got == "k", "rawgetp/rawsetp on an upvalue")
          assert(p.traceback("boom"):find("^boom\nstack traceback:"), "traceback")
          assert(p.absindex(1, 2, 3) == 3, "absindex")
          assert(p.globals == _G, "pushglobaltable")
          print("probe ok")
        ]]
        rc, out = run(("%s -e %s -e %s"):format(row.bin,
          q(("package.cpath=%q"):format(tmp .. "/probe" .. row.v .. "/?.so")), q(script)))
        assert.are.equal(0, rc, out)
        assert.matches("probe ok", out)
      end)

      it("loads the core built for it (" .. row.build .. ")", function()
        local so = row.build .. "/laws/core.so"
        assert.is_truthy(io.open(so), so .. " missing: run `make LUA=" .. row.v .. "` (make test builds all)")
        local rc, out = run(("%s -e %s"):format(row.bin, q(([[
          package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
          package.cpath = %q .. "/?.so;" .. package.cpath
          local core = require "laws.core"
          assert(type(core._VERSION) == "string", "core._VERSION")
          local laws = require "laws"
          assert(laws.errors and laws.runtime, "facade")
          print("core ok", core._VERSION)
        ]]):format(row.build))))
        assert.are.equal(0, rc, out)
        assert.matches("core ok%s+laws%.core", out)
      end)

      it("parses every Lua file of laws", function()
        local files = lua_files()
        assert.is_true(#files > 0)
        local list = {}
        for i, f in ipairs(files) do list[i] = ("%q"):format(f) end
        local rc, out = run(("%s -e %s"):format(row.bin, q(([[
          local bad = {}
          for _, f in ipairs({ %s }) do
            local fn, err = loadfile(f)
            if not fn then bad[#bad + 1] = err end
          end
          print(#bad == 0 and "all parsed" or table.concat(bad, "\n"))
        ]]):format(table.concat(list, ", ")))))
        assert.are.equal(0, rc, out)
        assert.matches("all parsed", out)
      end)

      it("requires every module of laws with its core", function()
        local names = {}
        for i, f in ipairs(lua_files()) do
          names[i] = ("%q"):format((f:gsub("^lua/", ""):gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", ".")))
        end
        local rc, out = run(("%s -e %s"):format(row.bin, q(([[
          package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
          package.cpath = %q .. "/?.so;" .. package.cpath
          local bad = {}
          for _, m in ipairs({ %s }) do
            local ok, err = pcall(require, m)
            if not ok then bad[#bad + 1] = m .. ": " .. tostring(err) end
          end
          print(#bad == 0 and "all required" or table.concat(bad, "\n"))
        ]]):format(row.build, table.concat(names, ", ")))))
        assert.are.equal(0, rc, out)
        assert.matches("all required", out)
      end)
    end)
  end
end

-- The bare loader error ("undefined symbol: lua_rotate") does not say what is wrong: laws
-- modules load the core through laws.native, which names the build to use.
describe("a core built for another Lua", function()
  local function load_with(bin, build)
    return run(("%s -e %s"):format(bin, q(([[
      package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
      package.cpath = %q .. "/?.so;" .. package.cpath
      local ok, err = pcall(require, "laws.sigv4")
      print(ok and "loaded" or tostring(err))
    ]]):format(build))))
  end

  it("LuaJIT loading build/laws/core.so (Lua 5.4) is told to build with make LUA=luajit", function()
    local rc, out = load_with("luajit", "build")
    assert.are.equal(0, rc, out)
    assert.matches("laws.core at build/laws/core.so was built for Lua 5.4; this is LuaJIT: build it with "
      .. "`make LUA=luajit` and put build/luajit/?.so on package.cpath", out, 1, true)
    assert.matches("undefined symbol: lua_", out, 1, true)
  end)

  it("Lua 5.4 loading build/luajit/laws/core.so is told to build with make", function()
    local rc, out = load_with("lua5.4", "build/luajit")
    assert.are.equal(0, rc, out)
    assert.matches("laws.core at build/luajit/laws/core.so was built for LuaJIT; this is Lua 5.4: build it "
      .. "with `make` and put build/?.so on package.cpath", out, 1, true)
  end)

  it("any other load failure is raised as it came", function()
    local rc, out = run(("lua5.4 -e %s"):format(q([[
      package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
      package.cpath = "/nonexistent/?.so"
      package.loaded["laws.core"] = nil
      local ok, err = pcall(require, "laws.native")
      print(ok and "loaded" or tostring(err))
    ]])))
    assert.are.equal(0, rc, out)
    assert.matches("module 'laws.core' not found", out, 1, true)
  end)
end)
