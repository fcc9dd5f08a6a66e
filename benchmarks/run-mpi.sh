#!/bin/sh
# Runs pel-bench-mpi's table at N = 1, 2 (1 and 2 threads per rank) and 4
# (1 thread; oversubscribed on a 2-core machine, reported as such) and writes
# one JSON file per run into OUT, with uptime before and after.
#   benchmarks/run-mpi.sh _build/benchmarks/pel-bench-mpi OUT [SIZES] [REPS]
set -eu
bench=$1; out=$2; sizes=${3:-256x256x256,8192x8192}; reps=${4:-3}
mkdir -p "$out"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader OMP_WAIT_POLICY=passive
for run in "1 1,2" "2 1,2" "4 1"; do
    set -- $run
    echo "uptime before np=$1: $(uptime)" >&2
    mpirun --allow-run-as-root --oversubscribe -np "$1" "$bench" --kernel mpi-stencil --size "$sizes" \
        --threads "$2" --reps "$reps" --format json > "$out/np$1.json"
    echo "uptime after np=$1: $(uptime)" >&2
done
