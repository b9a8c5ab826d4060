#!/bin/sh
# Runs the C unit tests and the busted suite, prints failures, and ends with one
# plain line "N passed, N failed[, N skipped]". Exit status 0 only when nothing failed.
#
#   LAWS_BUILD=build-asan  use another build folder (make check-asan sets it)
#   LAWS_SAN=1             the core is built with ASan/UBSan: preload the runtime into lua
#   LAWS_VALGRIND=1        run every process under valgrind memcheck (sets LAWS_TIME_SCALE=10:
#                          timing specs stretch their lags and bounds by it)
#   LAWS_ONLY=c|lua        run one half only
#   LAWS_SPEC=path         run only this spec file or folder
#   LAWS_LUAS="5.4 luajit" the Lua runtimes to run the busted suite on (default: 5.4, plus
#                          luajit when its build exists)
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${LAWS_BUILD:-build}
export LAWS_BUILD=$BUILD
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT INT TERM

pre=""
if [ "${LAWS_VALGRIND:-}" = 1 ]; then
  pre="valgrind -q --error-exitcode=97 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --suppressions=scripts/valgrind.supp"
  # specs with wall-clock bounds or server-side lags stretch them by this factor
  export LAWS_TIME_SCALE=${LAWS_TIME_SCALE:-10}
fi

status=0
run_tap() { # name, command...
  name=$1; shift
  log="$out/$(echo "$name" | tr '/ ' '__').tap"
  echo "== $name"
  "$@" > "$log" 2>&1
  rc=$?
  # each failure with the "#" lines that follow it (busted's "Failure message", the C asserts' detail)
  awk '/^not ok/ { why = 1; n = 0; print; next }
       /^ok / { why = 0 }
       why && /^#/ && n < 40 { print; n++; next }
       !/^#/ { why = 0 }' "$log" | head -400
  if [ $rc -ne 0 ] && ! grep -q '^not ok' "$log"; then
    # crashed or exited non-zero without a failing test: count it as one failure and show the tail
    echo "not ok - $name exited with status $rc" >> "$log"
    echo "!! $name exited with status $rc; last lines:"; tail -30 "$log"
  fi
  [ $rc -ne 0 ] && status=1
  return 0
}

if [ "${LAWS_ONLY:-c}" != lua ]; then
  for t in "$BUILD"/test/test_*; do
    [ -x "$t" ] || continue
    if [ -n "$pre" ]; then run_tap "$t" $pre "$t"; else run_tap "$t" "$t"; fi
  done
fi

if [ "${LAWS_ONLY:-lua}" != c ]; then
  luas=${LAWS_LUAS:-5.4}
  # LuaJIT too when its build is there; not in the sanitizer run (that core is not sanitized)
  if [ -z "${LAWS_LUAS:-}" ] && [ "${LAWS_SAN:-}" != 1 ] && [ -f build/luajit/laws/core.so ] \
     && command -v luajit >/dev/null 2>&1; then luas="5.4 luajit"; fi
  for v in $luas; do
    if [ "$v" = luajit ]; then bin=luajit; b=${LAWS_BUILD_LUAJIT:-build/luajit}; else bin=lua$v; b=$BUILD; fi
    [ "$v" = 5.4 ] || [ "$v" = luajit ] || b="build/lua$v"
    san=""
    if [ "${LAWS_SAN:-}" = 1 ]; then
      san="env LD_PRELOAD=$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so) ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1"
    fi
    LAWS_BUILD="$b" LAWS_LUA="$bin" run_tap "busted ($bin${san:+, sanitizers})" $san $pre $bin /usr/bin/busted --cpath="$b/?.so;" -o TAP ${LAWS_SPEC:-spec}
  done
fi

if [ "${LAWS_ONLY:-}" = "" ] && [ -z "${LAWS_SPEC:-}" ]; then
  if command -v luacheck >/dev/null 2>&1; then
    echo "== luacheck"
    if luacheck -q lua spec bench examples > "$out/luacheck.log" 2>&1; then
      echo "ok 1 - luacheck: lua spec bench examples" > "$out/luacheck.tap"
    else
      cat "$out/luacheck.log" | tail -30; echo "not ok 1 - luacheck: lua spec bench examples" > "$out/luacheck.tap"; status=1
    fi
  else
    echo "not ok 1 - luacheck not installed (Debian package lua-check)" > "$out/luacheck.tap"; status=1
  fi
fi

passed=$(cat "$out"/*.tap 2>/dev/null | grep -cE '^ok [0-9]+ - ' )
skipped=$(cat "$out"/*.tap 2>/dev/null | grep -cE '^ok [0-9]+ - # SKIP' )
failed=$(cat "$out"/*.tap 2>/dev/null | grep -cE '^not ok' )
passed=$((passed - skipped))
[ "$failed" -gt 0 ] && status=1
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
exit $status
