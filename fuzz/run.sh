#!/bin/sh
# Builds every fuzz/fuzz_*.c with libFuzzer + ASan/UBSan and runs each for $1 seconds in all
# (split evenly). Corpora live in build/fuzz/corpus-<name> (seeded from fuzz/seeds-<name>/).
set -e
cd "$(dirname "$0")/.."
total=${1:-600}
targets=$(ls fuzz/fuzz_*.c 2>/dev/null || true)
[ -n "$targets" ] || { echo "fuzz: no targets"; exit 0; }
n=$(echo "$targets" | wc -w); per=$((total / n)); [ "$per" -ge 5 ] || per=5
mkdir -p build/fuzz
pure=$(ls csrc/*.c | grep -v -e '/l_' -e '/core.c')
for t in $targets; do
  name=$(basename "$t" .c)
  clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -D_GNU_SOURCE -Icsrc \
    $(pkg-config --cflags libcurl openssl) -o "build/fuzz/$name" "$t" $pure $(pkg-config --libs libcurl openssl) -lm
  mkdir -p "build/fuzz/corpus-$name"
  seeds=""; [ -d "fuzz/seeds-$name" ] && seeds="fuzz/seeds-$name"
  echo "fuzz: $name for ${per}s"
  "build/fuzz/$name" -max_total_time="$per" -print_final_stats=1 "build/fuzz/corpus-$name" $seeds 2>&1 | tail -12
done
