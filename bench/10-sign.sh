#!/bin/sh
# SigV4 signing speed: laws.sigv4 from Lua 5.4 against a plain C floor (SHA-256 of the
# payload + SHA-256 of the canonical request + HMAC / ECDSA of the string to sign) measured
# in this same run on the same inputs; then memory over one million signatures.
#   SIGN_N=200000 SIGN_MILLION=1000000 sh bench/10-sign.sh
set -e
cd "$(dirname "$0")/.."
out=build/bench
mkdir -p "$out"
[ -f build/laws/core.so ] || make --no-print-directory all >/dev/null
cc -O2 -Wall -Wextra -o "$out/sign_floor" bench/sign_floor.c $(pkg-config --cflags --libs openssl)
n=${SIGN_N:-200000}
million=${SIGN_MILLION:-1000000}
lua5.4 bench/sign.lua "$out" "$n" 0 > "$out/lua.txt"
floor_h=$("$out/sign_floor" "$out" header "$n")
floor_q=$("$out/sign_floor" "$out" query "$n")
floor_a=$("$out/sign_floor" "$out" v4a $((n / 20)))
awk -v fh="$floor_h" -v fq="$floor_q" -v fa="$floor_a" '
  $1 == "request" { printf "Connect Cases SearchCases: POST, %d-byte JSON body, session token, key cached; canonical request %d bytes\n", $2, $3
                    printf "CPU time per signature (process CPU clock), same inputs for laws and the floor:\n"
                    printf "  %-8s %14s %14s %8s\n", "mode", "laws.sigv4 us", "C floor us", "ratio" }
  $1 == "lua" { f = ($2 == "sign") ? fh : ($2 == "presign") ? fq : fa
                printf "  %-8s %14.3f %14.3f %7.2fx  (%d signatures; target <= 2x)\n", $2, $3, f, $3 / f, $4 }
' "$out/lua.txt"
if [ "$million" -gt 0 ]; then
  lua5.4 bench/sign.lua "$out" 1 "$million" | awk '$1 == "memory" {
    printf "memory over %d signatures in one process (%.1f s): RSS %d kB -> %d kB, Lua heap %d kB -> %d kB\n", $2, $3, $4, $5, $6, $7 }'
fi
