#!/bin/sh
# The rows this session's closing note cites, in one quiet run (nothing else
# running; uptime written before and after each): the tune choices (issue
# 16), the stencil forms (issue 15), FFT default-vs-measure (issue 16),
# and at N = 2 the MPI stencil at the full sizes (issue 12), the
# distributed SpMV and FFT (issue 14).
#   benchmarks/run-quiet-checks.sh BUILD_DIR OUT
set -eu
b=$1; out=$2
mkdir -p "$out"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader OMP_WAIT_POLICY=passive
lscpu | grep "Model name" > "$out/lscpu.txt"
step() { name=$1; shift; echo "uptime before $name: $(uptime)" >> "$out/uptime.txt"
         ext=json; [ "$name" = machine ] && ext=txt
         "$@" > "$out/$name.$ext" 2> "$out/$name.err" || echo "$name: rc=$?" >> "$out/uptime.txt"
         echo "uptime after $name: $(uptime)" >> "$out/uptime.txt"; }
step machine "$b/benchmarks/pel-bench" --machine
step tune "$b/benchmarks/pel-bench" --kernel tune --threads 2 --reps 3 --format json
step stencil-forms "$b/benchmarks/pel-bench" --kernel stencil --threads 2 --reps 3 --format json \
    --size 3d7-varcoef:256x256x256:100,3d25r4-wave:256x256x256:100,3d7-rowfn:256x256x256:100,2d5-2field:4096x4096:100,3d7:256x256x256:100:fma
step stencil-forms-1step "$b/benchmarks/pel-bench" --kernel stencil --threads 2 --reps 5 --format json \
    --size 3d7-varcoef:256x256x256:1,3d25r4-wave:256x256x256:1,3d7-rowfn:256x256x256:1,2d5-2field:4096x4096:1,3d7:256x256x256:1:fma
step fft "$b/benchmarks/pel-bench" --kernel fft --size 1048576,256x256x256 --threads 2 --reps 5 --format json
step mpi-stencil mpirun --allow-run-as-root --oversubscribe -np 2 "$b/benchmarks/pel-bench-mpi" --kernel mpi-stencil \
    --size 256x256x256,8192x8192 --threads 1 --reps 3 --format json
step mpi-spmv mpirun --allow-run-as-root --oversubscribe -np 2 "$b/benchmarks/pel-bench-mpi" --kernel mpi-spmv --threads 1 --reps 5 --format json
step mpi-fft mpirun --allow-run-as-root --oversubscribe -np 2 "$b/benchmarks/pel-bench-mpi" --kernel mpi-fft --threads 1 --reps 5 --format json
