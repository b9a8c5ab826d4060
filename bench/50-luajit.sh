#!/bin/sh
# laws under LuaJIT and inside nginx, figures measured in this run:
#  1. signing µs/signature (SigV4, SigV4a) under Lua 5.4 and LuaJIT, same request, same core
#     code (bench/luajit_sign.lua);
#  2. requests per second of examples/nginx's consistency endpoint (POST /cases: CreateCase,
#     then GetCase until visible) through Debian's nginx + lua module, one worker and two,
#     against the local Connect Cases stand-in with no lag (the stand-in, a Python process
#     verifying every signature with botocore, is what bounds this figure; its own
#     requests/s is printed beside it) (bench/luajit_nginx.lua).
#   LAWS_BENCH_SIGN_N   signatures per round (default 5000)
#   LAWS_BENCH_NGINX_N  POST /cases per run (default 2000), LAWS_BENCH_NGINX_C concurrency (32)
set -u
cd "$(dirname "$0")/.." || exit 2
make --no-print-directory -s LUA=luajit all || exit 1
N=${LAWS_BENCH_SIGN_N:-5000}
echo "-- signing, one request (POST CreateCase, session token), one core:"
LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="build/?.so;;" lua5.4 bench/luajit_sign.lua "$N" || exit 1
LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="build/luajit/?.so;;" luajit bench/luajit_sign.lua "$N" || exit 1
echo "-- nginx, consistency endpoint:"
LUA_PATH="lua/?.lua;lua/?/init.lua;./?.lua;;" LUA_CPATH="build/?.so;;" lua5.4 bench/luajit_nginx.lua \
  "${LAWS_BENCH_NGINX_N:-2000}" "${LAWS_BENCH_NGINX_C:-32}"
