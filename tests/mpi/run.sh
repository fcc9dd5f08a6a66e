#!/bin/sh
# Runs the MPI tests under mpirun at 1, 2, 3 and 4 ranks (4 oversubscribes
# this 2-core machine), each at 1 and 2 threads per rank, every run bounded
# by timeout so that a hang fails instead of blocking make check.
# MPIRUN comes from configure (make check exports it).
MPIRUN=${MPIRUN:-mpirun}
here=$(dirname "$0")
bin=${PEL_MPI_TEST_DIR:-tests/mpi}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
# Loopback only: no network probing, and ranks yield the CPU when idle.
export OMPI_MCA_btl=self,vader OMPI_MCA_mpi_yield_when_idle=1
export OMP_WAIT_POLICY=passive
# Under --enable-sanitizers: Open MPI's own allocations live until exit,
# many of them in components it has unloaded (stacks of "<unknown module>"
# that no suppression can match), so leak detection is off for the MPI
# processes; memory errors are still caught, and the tests count pel's live
# handles themselves. lsan.supp serves a run that turns detection back on.
export LSAN_OPTIONS="suppressions=$here/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
status=0
run() {
    np=$1; threads=$2; shift 2
    echo "== mpirun -np $np, $threads thread(s): $*"
    if ! OMP_NUM_THREADS=$threads PEL_NUM_THREADS=$threads timeout 240 \
        "$MPIRUN" --allow-run-as-root --oversubscribe -np "$np" "$@"; then
        echo "FAILED (or timed out): -np $np, $threads threads: $*"
        status=1
    fi
}
for np in 1 2 3 4; do
    for threads in 1 2; do
        run "$np" "$threads" "$bin/test_mpi"
    done
done
# Eight ranks give the 2x2x2 process grid that cuts every axis of a 3-D
# grid: only that subset (8 ranks oversubscribe the 2 cores 4 times).
run 8 1 "$bin/test_mpi" cube
run 2 2 "$bin/test_mpi_init"
# Distributed FFT and spectral solver (issue 14): 1..4 ranks (uneven slabs,
# an empty one at 4), 1 and 2 threads per rank.
for np in 1 2 3 4; do
    for threads in 1 2; do
        run "$np" "$threads" "$bin/test_mpi_fft"
    done
done
# The distributed CSR matrix (issue 14): 1..4 ranks (4 rows over 3 and 4
# ranks leave ranks empty), 1 and 2 threads.
for np in 1 2 3 4; do
    for threads in 1 2; do
        run "$np" "$threads" "$bin/test_mpi_dcsr"
    done
done
exit $status
