#!/bin/sh
# Endpoint rules engine speed: resolutions per second for s3 and dynamodb, cold (a parameter
# set not seen before: the rule tree runs) and warm (the resolution cache answers), on Lua 5.4
# and LuaJIT. Needs the endpoint test data (LAWS_ENDPOINTS_TESTDATA, default
# ../shared/testdata/endpoints).
#   ENDPOINTS_N=20000 sh bench/35-endpoints.sh
set -e
cd "$(dirname "$0")/.."
n=${ENDPOINTS_N:-20000}
data=${LAWS_ENDPOINTS_TESTDATA:-../shared/testdata/endpoints}
lua5.4 bench/endpoints.lua "$data" "$n"
if command -v luajit >/dev/null 2>&1; then luajit bench/endpoints.lua "$data" "$n"; fi
