#!/bin/sh
# Runs examples/spectral_poisson_mpi at 2 ranks (bounded by timeout); the
# example checks its spectral solve against the analytic solution and
# against pel's distributed Jacobi solver on the same discrete problem.
MPIRUN=${MPIRUN:-mpirun}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader OMPI_MCA_mpi_yield_when_idle=1
export OMP_WAIT_POLICY=passive OMP_NUM_THREADS=1
export LSAN_OPTIONS="suppressions=$(dirname "$0")/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" # see run.sh
exec timeout 240 "$MPIRUN" --allow-run-as-root --oversubscribe -np 2 examples/spectral_poisson_mpi
