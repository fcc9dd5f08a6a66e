#!/usr/bin/env bash
# Installs pel into a temporary prefix (configure --prefix, make, make
# install) and builds a Fortran program outside the tree against it with
# `pkg-config --cflags --libs pel-fortran`, then runs it.
# Usage: tests/fortran/install_check.sh  (from anywhere; needs gfortran)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
work=$(mktemp -d /tmp/pel-fortran-install.XXXXXX)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
mkdir -p "$work/build"
(cd "$work/build" && "$src/configure" --quiet --prefix="$prefix" && make -s -j"$(nproc)" >/dev/null &&
 make -s install >/dev/null 2>&1)
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
cd "$work"
gfortran -o consumer "$here/consumer.f90" $(pkg-config --cflags --libs pel-fortran)
./consumer
echo "install check: Fortran consumer built with pkg-config pel-fortran passed"
