#!/bin/sh
# 10,000 concurrent create -> wait-until-visible flows against the Connect Cases stand-in from
# one process and one thread (laws.async), at most a few hundred transfers in flight; the
# stand-in's own capacity measured alone; the same flows with no visibility lag; libcurl alone
# (bench/multi_floor.c, plain C) replaying a signed request against the same stand-in, as the
# floor of CPU per request; 200 of the same flows one after another; the flows on LuaJIT.
# Every figure is measured in this run. Knobs: ASYNC_FLOWS (10000), ASYNC_IN_FLIGHT (200),
# ASYNC_SEQ_FLOWS (200), ASYNC_LAG_MEDIAN / ASYNC_LAG_P95 (stand-in visibility lag, s; default
# 0.1 / 1.0 as bench/30-consistency.sh).
cd "$(dirname "$0")/.." || exit 2
mkdir -p build/bench
CURL_FLAGS=$(pkg-config --cflags --libs libcurl 2>/dev/null || echo -lcurl)
# shellcheck disable=SC2086
cc -O2 -Wall -Wextra -o build/bench/multi_floor bench/multi_floor.c $CURL_FLAGS || exit 1
exec lua5.4 bench/async_bench.lua
