-- The main job and the examples run as a user runs them: `make demo` (scripts/demo.sh, the
-- Connect Cases story against the stand-in it starts), and each example on its own: a copy of
-- the file outside the repository, with only laws (lua/, the built core) on the Lua paths and
-- the stand-in given through AWS_ENDPOINT_URL and the AWS_* keys (scripts/standin.sh run).
-- Their output is checked for the story's steps and for secrets.
local proc = require "spec.support.proc"

local root = assert(io.popen("pwd")):read("*l")
-- the examples run under lua5.4 with the plain 5.4 build, whichever Lua runs this spec
local lua_env = ("env -u LD_PRELOAD LUA_PATH=%s LUA_CPATH=%s "):format(
  proc.quote(root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua"), proc.quote(root .. "/build/?.so;;"))

local function run(cmd)
  local f = assert(io.popen(lua_env .. "timeout 120 " .. cmd .. " 2>&1; echo \"rc=$?\""))
  local out = f:read("*a")
  f:close()
  return out, tonumber(out:match("rc=(%d+)%s*$"))
end

-- the example copied alone into a fresh folder and run from there
local function run_alone(example, standin_opts)
  local dir = assert(io.popen("mktemp -d")):read("*l")
  assert(os.execute("cp examples/" .. example .. " " .. dir .. "/"))
  local cmd = "lua5.4 " .. example
  if standin_opts then
    cmd = "sh " .. root .. "/scripts/standin.sh run " .. standin_opts .. " -- sh -c " .. proc.quote("cd " .. dir .. " && " .. cmd)
  else
    cmd = "sh -c " .. proc.quote("cd " .. dir .. " && " .. cmd)
  end
  local out, rc = run(cmd)
  os.execute("rm -rf " .. dir)
  return out, rc
end

local function count(s, pat)
  local n = 0
  for _ in s:gmatch(pat) do n = n + 1 end
  return n
end

describe("examples", function()
  it("make demo: create profile, create case, wait until SearchCases finds it, printing each retry", function()
    local out, rc = run("sh scripts/demo.sh")
    assert.equal(0, rc, out)
    assert.equal(3, count(out, "\nprofile created  %x+"), out)
    assert.equal(3, count(out, "\nprofile visible  after %d+ ms"), out)
    local ids = {}
    for id in out:gmatch("\ncase created     (%S+)") do ids[#ids + 1] = id end
    assert.equal(3, #ids, out)
    for _, id in ipairs(ids) do   -- each case found is the case just created
      local pat = "case found       " .. id:gsub("%-", "%%-") .. " by SearchCases %d+ ms after CreateCase"
      assert.truthy(out:find(pat), out)
      assert.truthy(out:find(pat .. '\ncase read back   title "Analytical engine jammed", customer profile %x+\n'), out)
    end
    -- the stand-in's lag (median 100 ms) makes the first search miss now and then; when it
    -- does, the retry is printed with its delay
    for line in out:gmatch("not in SearchCases yet[^\n]*") do
      assert.truthy(line:match("%(attempt %d+%), retrying in %d+ ms$"), line)
    end
    assert.is_nil(out:find("demo/secret", 1, true), "the demo's secret key is never printed")
  end)

  it("examples/create_case.lua creates a profile and a case and reads the case back", function()
    local out, rc = run_alone("create_case.lua", "--lag 0.2")
    assert.equal(0, rc, out)
    assert.is_nil(out:find("standin/secret", 1, true))
    local profile = out:match("\nprofile  (%x+)\n")
    assert.truthy(profile, out)
    assert.truthy(out:match("\ncase     %x+%-%x+%-%x+%-%x+%-%x+\n"), out)
    -- read back with GetCase: the fields written, the customer linked to the profile
    assert.truthy(out:find("title        Analytical engine jammed", 1, true), out)
    assert.truthy(out:find("customer_id  arn:aws:profile:[^\n]*/profiles/" .. profile), out)
    assert.truthy(out:find("profile, case and read-back in", 1, true), out)
  end)

  it("examples/sign.lua prints canonical request, string to sign and a presigned URL, no secret", function()
    local out, rc = run_alone("sign.lua")
    assert.equal(0, rc, out)
    assert.truthy(out:find("AWS4%-HMAC%-SHA256\n%d+T%d+Z\n%d+/us%-east%-1/cases/aws4_request\n%x+"), out)
    assert.truthy(out:find("POST\n/domains/", 1), out)
    assert.truthy(out:find("X%-Amz%-Signature=%x+"), out)
    assert.is_nil(out:find("wJalrXUtnFEMI", 1, true), "the secret key is never printed")
    assert.is_nil(out:find("FwoGZXIvYXdzEXAMPLESESSIONTOKEN", 1, true), "nor the session token")
  end)

  it("examples/async_game_loop.lua runs 100 create-and-wait flows from a frame loop", function()
    local out, rc = run_alone("async_game_loop.lua", "--lag 0.5")
    assert.equal(0, rc, out)
    assert.truthy(out:find("\n%d+ frames, worst frame [%d.]+ ms %(budget 16.7 ms%); 100 cases created and visible\n"), out)
  end)

  it("examples/async_luv.lua runs 50 create-and-wait flows inside uv's loop", function()
    local out, rc = run_alone("async_luv.lua", "--lag 0.3")
    assert.equal(0, rc, out)
    assert.equal(50, count(out, "\nflow +%d+: case %x+%-%x+%-%x+%-%x+%-%x+ visible"), out)
    assert.truthy(out:find("\n50 flows in [%d.]+ s inside uv's loop; the app's 100 ms timer ticked %d+ times meanwhile\n"), out)
  end)

  it("no example loads code from spec/ or bench/ or changes the Lua paths", function()
    for name in assert(io.popen("ls examples/*.lua examples/nginx/*.lua")):lines() do
      local text = assert(io.open(name)):read("*a")
      for _, bad in ipairs{ "require%s*%(?%s*[\"']spec%.", "require%s*%(?%s*[\"']bench%.",
                            "require%s*%(?%s*[\"']support%.", "dofile", "loadfile", "package%.c?path%s*=" } do
        assert.is_nil(text:find(bad), name .. " matches " .. bad)
      end
    end
  end)
end)
