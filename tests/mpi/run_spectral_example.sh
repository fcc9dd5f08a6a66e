#!/bin/sh
# Runs examples/spectral_poisson_mpi at 2 ranks through run_example.sh
# (same environment, bounded by timeout); the example checks its spectral
# solve against the analytic solution and against pel's distributed Jacobi
# solver on the same discrete problem.
PEL_MPI_EXAMPLE=spectral_poisson_mpi PEL_MPI_EXAMPLE_TIMEOUT=240 exec "$(dirname "$0")/run_example.sh"
