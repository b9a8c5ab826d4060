#!/bin/sh
# make demo: the main job. Runs examples/demo.lua with the built core against the local
# stand-in, started with a visibility lag like a real service's (log-normal, median 100 ms,
# p95 1 s) and the demo's own test key.
cd "$(dirname "$0")/.." || exit 2
export LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="build/?.so;;"
exec sh scripts/standin.sh run --key "AKIDEXAMPLEDEMO:demo/secret/KEY+0123456789abcdefghijklm" \
  --lag-median 0.1 --lag-p95 1 --seed "$(date +%s)" -- lua5.4 examples/demo.lua
