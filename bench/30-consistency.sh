#!/bin/sh
# Consistency wait benchmark: laws.retry's default policy vs the naive 1 s/2 s
# schedule against the stand-in's log-normal visibility lag. Figures are measured here.
#   CONSISTENCY_RUNS=300 CONSISTENCY_CONC=16 sh bench/30-consistency.sh
#   CONSISTENCY_CANDIDATES=1 also measures a few other exponential policies (tuning).
set -e
cd "$(dirname "$0")/.."
[ -f build/laws/core.so ] || make --no-print-directory all >/dev/null
LUA_PATH="lua/?.lua;lua/?/init.lua;./?.lua;;" LUA_CPATH="build/?.so;;" \
  lua5.4 bench/consistency.lua "${CONSISTENCY_RUNS:-300}" "${CONSISTENCY_CONC:-16}"
