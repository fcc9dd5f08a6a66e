#!/bin/sh
# Runs examples/heat3d_mpi at 2 ranks (bounded by timeout); the example
# checks its own result against a one-process run.
MPIRUN=${MPIRUN:-mpirun}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader OMPI_MCA_mpi_yield_when_idle=1
export OMP_WAIT_POLICY=passive OMP_NUM_THREADS=1
export LSAN_OPTIONS="suppressions=$(dirname "$0")/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" # see run.sh
# PEL_MPI_EXAMPLE picks another example (run_spectral_example.sh).
exec timeout "${PEL_MPI_EXAMPLE_TIMEOUT:-120}" "$MPIRUN" --allow-run-as-root --oversubscribe -np 2 \
    "examples/${PEL_MPI_EXAMPLE:-heat3d_mpi}"
