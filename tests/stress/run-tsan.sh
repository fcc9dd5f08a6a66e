#!/usr/bin/env bash
# Race testing (docs/reliability.md, "Race testing (ThreadSanitizer)"): in a
# build configured with CC=clang ../configure --enable-tsan, runs the C unit
# tests and the stress program under ThreadSanitizer with LLVM's libomp and
# its Archer tool, so that OpenMP's own synchronisation is visible to TSan.
#
# One OpenMP runtime must serve the whole process: FFTW's and OpenBLAS's
# OpenMP builds link libgomp.so.1, whose futex-based barriers TSan cannot see
# (false reports). A folder holding libgomp.so.1 -> libomp.so.5 goes first on
# LD_LIBRARY_PATH, so they load libomp instead (it implements the GOMP_ ABI).
#
# Any TSan report fails the run (exitcode 66), suppressions only from
# tests/stress/tsan.supp, each justified there.
#
# usage: run-tsan.sh SOURCE_DIR BUILD_DIR [STRESS_SECONDS]
set -euo pipefail
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
seconds=${3:-30}

libomp=$(readlink -f "$(clang -print-file-name=libomp.so.5)")
[ -e "$libomp" ] || libomp=$(ls /usr/lib/llvm-*/lib/libomp.so.5 2>/dev/null | head -n 1)
archer=$(dirname "$libomp")/libarcher.so
[ -e "$libomp" ] || { echo "run-tsan: libomp.so.5 not found (Debian: apt-get install libomp-14-dev)" >&2; exit 1; }
[ -e "$archer" ] || { echo "run-tsan: libarcher.so not found beside $libomp (Debian: libomp-14-dev)" >&2; exit 1; }
shim=$build/tsan-omp
mkdir -p "$shim"
ln -sf "$libomp" "$shim/libgomp.so.1"

export LD_LIBRARY_PATH=$shim${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export OMP_TOOL_LIBRARIES=$archer
export ARCHER_OPTIONS=${ARCHER_OPTIONS:-verbose=1}
# ignore_noninstrumented_modules=1: what Archer asks for. libomp, OpenBLAS
# and FFTW are not instrumented; without it TSan sees only the pthread calls
# inside libomp (a mutex initialised by a new worker, locked by the master
# after libomp's own untracked handshake) and reports them as races. pel's
# code, all instrumented, is checked in full either way.
# allocator_may_return_null=1: the unit tests ask for impossible sizes on
# purpose (as in the ASan step of .ci/run).
export TSAN_OPTIONS="exitcode=66 halt_on_error=0 second_deadlock_stack=1 ignore_noninstrumented_modules=1 allocator_may_return_null=1 suppressions=$src/tests/stress/tsan.supp ${TSAN_OPTIONS:-}"
export OMP_WAIT_POLICY=passive

cd "$build"
# The setup must see a race inside a pel parallel region, or a clean run
# below means nothing.
echo "=== TSan: the planted race must be reported" >&2
make tests/stress/planted_race >/dev/null
if ./tests/stress/planted_race > "$build/tsan-planted.log" 2>&1 ||
   ! grep -q 'WARNING: ThreadSanitizer: data race' "$build/tsan-planted.log"; then
  cat "$build/tsan-planted.log" >&2
  echo "run-tsan: the planted race in tests/stress/planted_race.c was not reported" >&2
  exit 1
fi
grep -m1 -A4 'WARNING: ThreadSanitizer: data race' "$build/tsan-planted.log" >&2

# The stress program first: it is what this run is for.
echo "=== TSan: stress, $seconds s, 8 user threads" >&2
log=$build/tsan-stress.log
set +e
./tests/stress/stress "$seconds" 8 > "$log" 2>&1
rc=$?
set -e
tail -n 14 "$log"
grep -q 'Archer detected OpenMP application with TSan' "$log" ||
  { echo "run-tsan: Archer was not loaded (OMP_TOOL_LIBRARIES=$archer)" >&2; exit 1; }
grep -q 'libomp' /proc/self/maps 2>/dev/null || true
if [ $rc -ne 0 ] || grep -q 'WARNING: ThreadSanitizer' "$log"; then
  grep -A 30 'WARNING: ThreadSanitizer' "$log" | head -n 120 >&2
  echo "run-tsan: stress failed (rc=$rc, $(grep -c 'WARNING: ThreadSanitizer' "$log") reports; log $log)" >&2
  exit 1
fi

echo "=== TSan: unit tests" >&2
ARCHER_OPTIONS= make -j"$(nproc)" check PEL_STRESS_SECONDS=2 || {
  grep -l 'ThreadSanitizer' tests/*.log tests/*/*.log 2>/dev/null | while read -r f; do
    echo "--- $f" >&2; grep -A 30 'WARNING: ThreadSanitizer' "$f" | head -n 60 >&2
  done
  exit 1
}
reports=$(cat tests/*.log tests/*/*.log examples/*.log 2>/dev/null | grep -c 'WARNING: ThreadSanitizer' || true)
[ "$reports" -eq 0 ] || { echo "run-tsan: $reports TSan reports in the unit tests" >&2; exit 1; }
echo "run-tsan: no ThreadSanitizer reports" >&2
