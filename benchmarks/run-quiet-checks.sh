#!/bin/sh
# The rows this session's closing note cites, in one quiet run (nothing else
# running; uptime written before and after each): the tune choices (issue
# 16, with the gemm_batch cutoff rows), gemm_batch against LIBXSMM and the
# transpose bandwidth line (issue 16 item 6), the stencil forms (issue 15),
# FFT default-vs-measure (issue 16),
# and at N = 2 the MPI stencil at the issue's full sizes (issue 12), the
# distributed SpMV and FFT (issue 14, N = 1, 2, 4; N = 4 oversubscribes 2
# CPUs), pencils against slabs; SpMV against the expert loop and small SpMV
# calls (issue 16 items 6 and 7); issue 13's Python table (step python);
# the quick suite and the small stencil calls (issue 16 item 7), and
# pel-tune's wall time with its default stencil rows (issue 16 item 5).
#   benchmarks/run-quiet-checks.sh BUILD_DIR OUT [STEP ...]
# With STEP names, only those steps run (in this file's order).
set -eu
b=$1; out=$2; shift 2; only=" $* "
mkdir -p "$out"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader OMP_WAIT_POLICY=passive
lscpu | grep -E "Model name|CPU family|^Model:|L1d|L2|L3" > "$out/lscpu.txt"
step() { name=$1; shift; [ "$only" = "  " ] || case "$only" in *" $name "*) ;; *) return 0 ;; esac
         echo "uptime before $name: $(uptime)" >> "$out/uptime.txt"
         ext=json; [ "$name" = machine ] || [ "$name" = pel-tune ] && ext=txt
         "$@" > "$out/$name.$ext" 2> "$out/$name.err" || echo "$name: rc=$?" >> "$out/uptime.txt"
         echo "uptime after $name: $(uptime)" >> "$out/uptime.txt"; }
step machine "$b/benchmarks/pel-bench" --machine
step tune "$b/benchmarks/pel-bench" --kernel tune --threads 2 --reps 3 --format json
step stencil-forms "$b/benchmarks/pel-bench" --kernel stencil --threads 2 --reps 3 --format json \
    --size 3d7-varcoef:256x256x256:100,3d25r4-wave:256x256x256:100,3d7-rowfn:256x256x256:100,2d5-2field:4096x4096:100,3d7:256x256x256:100:fma
step stencil-forms-1step "$b/benchmarks/pel-bench" --kernel stencil --threads 2 --reps 5 --format json \
    --size 3d7-varcoef:256x256x256:1,3d25r4-wave:256x256x256:1,3d7-rowfn:256x256x256:1,2d5-2field:4096x4096:1,3d7:256x256x256:1:fma
# gemm_batch against LIBXSMM and OpenBLAS (issue 16 item 6): the default
# sizes (n = 2..32, square and not, batches of 10 to 10^5 items), on the
# CPU's table and on the AVX2 table against LIBXSMM's AVX2 code; the
# transpose row's "% of the level's bandwidth" line.
step gemm-batch "$b/benchmarks/pel-bench" --kernel gemm_batch --threads 2 --reps 9 --format json
step gemm-batch-1thread "$b/benchmarks/pel-bench" --kernel gemm_batch --threads 1 --reps 9 --format json
step gemm-batch-avx2 env PEL_MATRIX_KERNELS=avx2 LIBXSMM_TARGET=hsw "$b/benchmarks/pel-bench" --kernel gemm_batch \
    --threads 2 --reps 9 --format json
step transpose "$b/benchmarks/pel-bench" --kernel transpose --size 2048,8192 --threads 2 --reps 5 --format json
step fft "$b/benchmarks/pel-bench" --kernel fft --size 1048576,256x256x256 --threads 2 --reps 5 --format json
step mpi-stencil mpirun --allow-run-as-root --oversubscribe -np 2 "$b/benchmarks/pel-bench-mpi" --kernel mpi-stencil \
    --size 256x256x256,8192x8192 --threads 1 --reps 3 --format json
step spmv "$b/benchmarks/pel-bench" --kernel spmv --threads 1,2 --reps 9 --format json
step spmv-small "$b/benchmarks/pel-bench" --kernel spmv --size 4096,32768 --threads 2 --reps 21 --format json
# --bind-to none: Open MPI binds a lone rank to one core (checked with
# --report-bindings), so its 2-thread rows ran both threads on one vCPU.
step mpi-spmv-np1 mpirun --allow-run-as-root --oversubscribe --bind-to none -np 1 "$b/benchmarks/pel-bench-mpi" --kernel mpi-spmv --threads 1,2 --reps 5 --format json
step mpi-spmv mpirun --allow-run-as-root --oversubscribe -np 2 "$b/benchmarks/pel-bench-mpi" --kernel mpi-spmv --threads 1 --reps 5 --format json
step mpi-spmv-np4 mpirun --allow-run-as-root --oversubscribe -np 4 "$b/benchmarks/pel-bench-mpi" --kernel mpi-spmv --threads 1 --reps 5 --format json
step mpi-fft mpirun --allow-run-as-root --oversubscribe -np 2 "$b/benchmarks/pel-bench-mpi" --kernel mpi-fft --threads 1 --reps 5 --format json
# Pencils (issue 14, item 1): the FFTW-MPI baseline rows at N = 1 and 4 (N = 2
# above), and pel's pencils against its slabs at N = 4 (oversubscribed on 2
# vCPUs: the rows say so).
step mpi-fft-n1 mpirun --allow-run-as-root --oversubscribe -np 1 "$b/benchmarks/pel-bench-mpi" --kernel mpi-fft \
    --size 256x256x256 --threads 1 --reps 5 --format json
step mpi-fft-n4 mpirun --allow-run-as-root --oversubscribe -np 4 "$b/benchmarks/pel-bench-mpi" --kernel mpi-fft \
    --size 256x256x256 --threads 1 --reps 5 --format json
step mpi-fft-pencil-n4 mpirun --allow-run-as-root --oversubscribe -np 4 "$b/benchmarks/pel-bench-mpi" --kernel mpi-fft \
    --size 256x256x256:P,256x256x256:PT --threads 1 --reps 5 --format json
# Issue 13's Python table (pel with default arguments against scipy.fft
# workers=2 and numpy.linalg; steady state after the plan upgrades, first
# calls apart), and the same on one thread in CPU time.
src=$(cd "$(dirname "$0")/.." && pwd)
step python env PEL_LIBRARY="$b/.libs/libpel.so" /usr/bin/python3 "$src/python-bindings/bench.py" \
    --case scipy_fft --case linalg_stacks --format json
step python-cpu env OPENBLAS_NUM_THREADS=1 PEL_LIBRARY="$b/.libs/libpel.so" /usr/bin/python3 "$src/python-bindings/bench.py" \
    --case scipy_fft --case linalg_stacks --threads 1 --timer cpu --rounds 5 --format json
step quick "$b/benchmarks/pel-bench" --suite quick --threads 2 --format json
step small-stencil "$b/benchmarks/pel-bench" --kernel stencil --threads 1,2 --reps 11 --format json \
    --size 3d7:16x16x16:1,3d7:48x48x48:1,3d25r4:32x32x32:1,3d25r4:32x32x32:4,3d27:32x32x32:5,2d5:256x256:10
step pel-tune "$b/tools/pel-tune" --output "$out/pel.wisdom"
