#!/bin/sh
# Runs every bench/[0-9]*.sh in order. Each prints figures measured in this run.
cd "$(dirname "$0")/.." || exit 2
for b in bench/[0-9]*.sh; do
  [ -f "$b" ] || continue
  echo "=== $b"
  sh "$b" || echo "!!! $b exited with status $?"
done
