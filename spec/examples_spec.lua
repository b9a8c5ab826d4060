-- The main job and the examples run as a user runs them: `make demo` (scripts/demo.sh, the
-- Connect Cases story against the stand-in it starts), examples/create_case.lua and
-- examples/sign.lua. Their output is checked for the story's steps and for secrets.
local function run(cmd)
  -- the examples run under lua5.4 with the plain 5.4 build, whichever Lua runs this spec
  local f = assert(io.popen("env -u LD_PRELOAD LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/?.so;;' "
    .. "timeout 120 " .. cmd .. " 2>&1; echo \"rc=$?\""))
  local out = f:read("*a")
  f:close()
  return out, tonumber(out:match("rc=(%d+)%s*$"))
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
    local out, rc = run("lua5.4 examples/create_case.lua")
    assert.equal(0, rc, out)
    assert.is_nil(out:find("story/secret", 1, true))
    local profile = out:match("\nprofile  (%x+)\n")
    assert.truthy(profile, out)
    assert.truthy(out:match("\ncase     %x+%-%x+%-%x+%-%x+%-%x+\n"), out)
    -- read back with GetCase: the fields written, the customer linked to the profile
    assert.truthy(out:find("title        Analytical engine jammed", 1, true), out)
    assert.truthy(out:find("customer_id  arn:aws:profile:[^\n]*/profiles/" .. profile), out)
    assert.truthy(out:find("profile, case and read-back in", 1, true), out)
  end)

  it("examples/sign.lua prints canonical request, string to sign and a presigned URL, no secret", function()
    local out, rc = run("lua5.4 examples/sign.lua")
    assert.equal(0, rc, out)
    assert.truthy(out:find("AWS4%-HMAC%-SHA256\n%d+T%d+Z\n%d+/us%-east%-1/cases/aws4_request\n%x+"), out)
    assert.truthy(out:find("POST\n/domains/", 1), out)
    assert.truthy(out:find("X%-Amz%-Signature=%x+"), out)
    assert.is_nil(out:find("wJalrXUtnFEMI", 1, true), "the secret key is never printed")
    assert.is_nil(out:find("FwoGZXIvYXdzEXAMPLESESSIONTOKEN", 1, true), "nor the session token")
  end)
end)
