#!/bin/sh
# Runs fuzz targets one after another on one core: run.sh OUT SECONDS TARGET...
# Each target starts from a working corpus in OUT/corpus/NAME plus the committed seeds in
# tests/fuzz/corpus/NAME (read only), with the dictionary dict/NAME.dict or, failing
# that, dict/PREFIX.dict (PREFIX: NAME up to its first '_'). A crash, leak or timeout
# leaves its input in OUT/artifacts, prints the end of the log and fails the run.
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=$1 seconds=$2
shift 2
mkdir -p "$out/artifacts"
for target in "$@"; do
  name=${target#fuzz_}
  dict=$here/dict/$name.dict
  [ -f "$dict" ] || dict=$here/dict/${name%%_*}.dict
  set -- -max_len=65536 -timeout=10 -rss_limit_mb=2048 -detect_leaks=1 \
    -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$out/artifacts/"
  [ -f "$dict" ] && set -- "$@" -dict="$dict"
  mkdir -p "$out/corpus/$name"
  echo "== $target: $seconds s"
  if ! "$out/$target" "$@" "$out/corpus/$name" "$here/corpus/$name" >"$out/$target.log" 2>&1; then
    tail -60 "$out/$target.log"
    echo "FAIL $target (input in $out/artifacts)"
    exit 1
  fi
  grep -E 'stat::number_of_executed_units|stat::new_units_added' "$out/$target.log"
done
