#!/usr/bin/env bash
# Runs each libFuzzer harness for a bounded time (docs/reliability.md,
# "Fuzzing"): FUZZ_SECONDS (default 30) per harness, -timeout=10 per input
# (a hang is a failure), 2 GB of RSS, leaks and every sanitizer report fatal.
# Each harness starts from its seed corpus and its regression inputs; new
# inputs collect in BUILD/fuzz-corpus/NAME, crashes in BUILD/fuzz-artifacts/.
# Prints one summary line per harness (executions, exec/s, coverage, features)
# and fails if any harness failed.
#
# usage: run-fuzzers.sh SOURCE_FUZZ_DIR BUILD_FUZZ_DIR NAME...
set -u
src=$1
build=$2
shift 2
seconds=${FUZZ_SECONDS:-30}
summary=$build/fuzz-summary.txt
: > "$summary"
failed=()
# allocator_may_return_null: pel's own out-of-memory paths are tested instead
# of ASan aborting on a large request; -malloc_limit_mb still reports any
# single allocation over 2 GB as a crash (issue 11, item 7: memory must follow
# the entries present, not a declared size).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export OMP_WAIT_POLICY=passive
# FUZZ_JOBS harnesses at a time (default: the CPU count; each is one
# process on one core, so two on two cores run as fast as one, and CI's
# 18 harnesses take half the wall time).
jobs=${FUZZ_JOBS:-$(nproc)}
run_one() {
  local name=$1 corpus=$build/fuzz-corpus/$1 artifacts=$build/fuzz-artifacts/$1 log=$build/fuzz-$1.log
  mkdir -p "$corpus" "$artifacts"
  # The FFT layer probes, with a malloc that it frees at once and never
  # touches, the memory FFTW may need before planning a transform (FFTW aborts
  # when its own malloc fails; docs/fft.md): for a plan of fuzzed large dims
  # that probe is legitimately above 2 GB. Its RSS stays bounded by
  # -rss_limit_mb like every other harness's.
  # ASan poisons the shadow of a freed block (one byte per eight), so a
  # probe of tens of GB would still take GBs of RSS: ASan refuses blocks over
  # 4 GB for this harness (allocator_may_return_null turns that into the
  # PEL_ERROR_OUT_OF_MEMORY path, which the harness checks).
  local malloc_limit=2048 asan_extra=
  if [ "$name" = fft ]; then
    malloc_limit=1048576
    asan_extra=:max_allocation_size_mb=4096
  fi
  ASAN_OPTIONS="$ASAN_OPTIONS$asan_extra" \
  "$build/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=$malloc_limit \
    -max_len=4096 -print_final_stats=1 -artifact_prefix="$artifacts/" \
    "$corpus" "$src/corpus/$name" "$src/regressions/$name" > "$log" 2>&1
  echo $? > "$build/fuzz-$name.rc"
}
running=0
for name in "$@"; do
  echo "=== fuzz_$name: $seconds s" >&2
  rm -f "$build/fuzz-$name.rc"
  run_one "$name" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
done
wait
for name in "$@"; do
  corpus=$build/fuzz-corpus/$name
  artifacts=$build/fuzz-artifacts/$name
  log=$build/fuzz-$name.log
  rc=$(cat "$build/fuzz-$name.rc" 2>/dev/null || echo 127)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
  line="fuzz_$name: rc=$rc seconds=$seconds execs=${execs:-?} exec/s=${rate:-?} cov=${cov:-?} ft=${ft:-?} peak_rss_mb=${rss:-?} corpus=$(ls "$corpus" | wc -l)"
  echo "$line" | tee -a "$summary"
  if [ "$rc" -ne 0 ]; then
    failed+=("$name")
    grep -E 'ERROR|fuzz invariant|SUMMARY|runtime error|Test unit written|deadly signal|timeout' "$log" | head -n 20
    ls "$artifacts" >&2
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzers that failed: ${failed[*]} (inputs in $build/fuzz-artifacts/; logs $build/fuzz-NAME.log)" >&2
  exit 1
fi
