#!/bin/sh
# make demo: the main job. Runs examples/demo.lua with the built core.
cd "$(dirname "$0")/.." || exit 2
export LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="build/?.so;;"
exec lua5.4 examples/demo.lua
