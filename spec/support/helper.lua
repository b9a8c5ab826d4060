-- Loaded by busted before every spec file (see .busted).
-- LAWS_BUILD selects the C core folder (build, build-asan, build/luajit, ...).
local build = os.getenv("LAWS_BUILD")
if build and build ~= "" then
  package.cpath = build .. "/?.so;" .. package.cpath
end
