-- The shared refresh under laws.async: a fetching task that is cancelled or raises must
-- not leave the callers waiting for it stuck; one of them fetches again.
local credentials = require "laws.credentials"
local runtime = require "laws.runtime"
local async = require "laws.async"

local function creds(n)
  return { access_key_id = "AKIDREFRESH" .. n, secret_access_key = "refresh-secret-" .. n .. "-xxxxxxxx",
           expiration = runtime.time() + 3600 }
end

describe("laws.credentials shared refresh under laws.async", function()
  -- `n` tasks call p:get() at once; the first one starts the fetch and gets `fetcher_deadline`.
  -- Every other task is bounded by 5 s so a stuck refresh fails the spec rather than hangs it.
  local function crowd(p, n, fetcher_deadline)
    local t0 = runtime.now()
    local out = { at = {}, got = {} }
    async.run(function()
      local tasks = {}
      for i = 1, n do
        tasks[i] = async.spawn(function()
          local c, err = p:get()
          out.at[i] = runtime.now() - t0
          return c and c.access_key_id or (err and err.code)
        end)
        tasks[i]:set_deadline(i == 1 and fetcher_deadline or 5)
      end
      for i = 1, n do
        local r, err = async.wait(tasks[i])
        out.got[i] = r or (err and err.code)
      end
    end)
    out.total = runtime.now() - t0
    return out
  end

  it("releases the waiters at once when the fetching task is cancelled; one of them fetches again", function()
    local fetches = 0
    local p = credentials.provider("slow", function()
      fetches = fetches + 1
      local n = fetches
      local ok, err = runtime.sleep(1)      -- a fetch that takes 1 s
      if not ok then return nil, err end
      return creds(n)
    end)
    local out = crowd(p, 21, 0.2)
    assert.equal("DeadlineExceeded", out.got[1], "the fetcher was cancelled by its deadline")
    for i = 2, 21 do
      assert.equal("AKIDREFRESH2", out.got[i], ("task %d got %s"):format(i, tostring(out.got[i])))
      assert.is_true(out.at[i] < 2, ("task %d waited %.2f s"):format(i, out.at[i]))
    end
    assert.equal(2, fetches, "the cancelled fetch and one more")
    print(("# 21 tasks, fetcher cancelled at 0.2 s, 1 s fetch: all done in %.2f s, %d fetches")
      :format(out.total, fetches))
  end)

  it("releases the waiters when the fetch raises; one of them fetches again", function()
    local fetches = 0
    local p = credentials.provider("raising", function()
      fetches = fetches + 1
      local n = fetches
      runtime.sleep(0.3)
      if n == 1 then error("fetch broke", 0) end
      return creds(n)
    end)
    local out = crowd(p, 10, 5)
    assert.equal("TaskError", out.got[1], "the raise ended the fetching task")
    for i = 2, 10 do
      assert.equal("AKIDREFRESH2", out.got[i], ("task %d got %s"):format(i, tostring(out.got[i])))
      assert.is_true(out.at[i] < 1.5, ("task %d waited %.2f s"):format(i, out.at[i]))
    end
    assert.equal(2, fetches)
  end)

  it("shares a failed answer with the waiters (no stampede on a failing source)", function()
    local errors = require "laws.errors"
    local fetches = 0
    local p = credentials.provider("failing", function()
      fetches = fetches + 1
      runtime.sleep(0.2)
      return nil, errors.new{ code = "CredentialsProviderError", message = "the source said no" }
    end)
    local out = crowd(p, 10, 5)
    for i = 1, 10 do assert.equal("CredentialsProviderError", out.got[i]) end
    assert.equal(1, fetches)
  end)
end)
