#!/bin/sh
# Capacity of the Connect Cases stand-in alone (the test double every end-to-end figure runs
# against): botocore-signed GetCase over keep-alive, SigV4 verified by botocore on every request,
# with 1, 8 and 64 connections, and CreateCase with 8. One JSON line each, measured in this run; see
# spec/support/standin_load.py. STANDIN_BENCH_SECONDS (default 3) per line.
cd "$(dirname "$0")/.." || exit 2
s=${STANDIN_BENCH_SECONDS:-3}
for c in 1 8 64; do
  sh scripts/standin.sh load --seconds "$s" --conns "$c" 2>/dev/null || echo "standin load with $c connections failed"
done
sh scripts/standin.sh load --seconds "$s" --conns 8 --op CreateCase 2>/dev/null || echo "standin CreateCase load failed"
