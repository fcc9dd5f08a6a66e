#!/usr/bin/env bash
# The conventional path from a source tree: configure --prefix, make, make
# install into a temporary prefix; then builds and runs programs outside the
# tree against it: tests/install/consumer.c with pkg-config and with CMake's
# find_package(pel), and (with gfortran) tests/fortran/consumer.f90, which
# calls gemm, an FFT and a stencil, with pkg-config pel-fortran.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
work=$(mktemp -d /tmp/pel-install.XXXXXX)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
mkdir -p "$work/build"
(cd "$work/build" && "$src/configure" --quiet --prefix="$prefix" && make -s -j"$(nproc)" >/dev/null &&
 make -s install >/dev/null 2>&1)
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
cc -o "$work/consumer-pc" "$here/consumer.c" $(pkg-config --cflags --libs pel)
"$work/consumer-pc"
cmake -S "$here" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cmake-build" >/dev/null
"$work/cmake-build/consumer"
if command -v gfortran >/dev/null 2>&1; then
  (cd "$work" && gfortran -o consumer-fortran "$src/tests/fortran/consumer.f90" $(pkg-config --cflags --libs pel-fortran) &&
   ./consumer-fortran)
fi
# libpel_mpi, when configure found MPI: an MPI program with pkg-config pel-mpi.
if pkg-config --exists pel-mpi; then
  cc -o "$work/consumer-mpi" "$src/tests/mpi/consumer.c" $(pkg-config --cflags --libs pel-mpi)
  OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader \
    timeout 120 mpirun --allow-run-as-root --oversubscribe -np 2 "$work/consumer-mpi"
fi
echo "install check: pkg-config, find_package(pel) and Fortran consumers passed"
