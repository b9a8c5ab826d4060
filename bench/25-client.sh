#!/bin/sh
# Per-call cost of a full client call (validate, JSON encode, SigV4 sign, send, decode) on top
# of raw HTTP: dynamodb:GetItem through laws.client vs laws.http.request with the same body,
# over one keep-alive connection to a local C server answering a small JSON item
# (bench/client_server.c), plus the client call with the transport replaced by a canned
# answer (what laws adds, no I/O). Best of 3 rounds; Lua 5.4 (and LuaJIT when built).
#   LAWS_BENCH_CLIENT_N   calls per round (default 5000)
set -u
cd "$(dirname "$0")/.." || exit 2
B=build/bench
mkdir -p "$B"
cc -O2 -Wall -Wextra -Itest/c -o "$B/client_server" bench/client_server.c || exit 1
N=${LAWS_BENCH_CLIENT_N:-5000}
"$B/client_server" > "$B/client_server.port" &
spid=$!
trap 'kill $spid 2>/dev/null; rm -f "$B/client_server.port"' EXIT INT TERM
i=0
while [ ! -s "$B/client_server.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
url="http://127.0.0.1:$(cat "$B/client_server.port")"

run() { # lua binary, cpath
  out=$(LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="$2/?.so;;" $1 bench/client_lua.lua "$url" "$N") || { echo "  $1: bench failed"; return; }
  raw=$(echo "$out" | awk '$1=="raw"{print $2}'); full=$(echo "$out" | awk '$1=="full"{print $2}')
  loc=$(echo "$out" | awk '$1=="local"{print $2}')
  echo "client call cost, $N calls, $1:"
  echo "  laws.http.request (raw POST):               $raw us/call"
  echo "  dynamodb:GetItem via laws.client (full):    $full us/call"
  awk -v r="$raw" -v f="$full" -v l="$loc" 'BEGIN {
    printf "  full - raw:                                 %.1f us/call (%.0f%% more than raw)\n", f - r, 100 * (f - r) / r
    printf "  client work alone (canned answer, no I/O):  %.1f us/call\n", l }'
}
run lua5.4 build
if [ -f build/luajit/laws/core.so ] && command -v luajit >/dev/null 2>&1; then run luajit build/luajit; fi
exit 0
