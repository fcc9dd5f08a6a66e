"""The ctypes declarations agree with the C headers: struct sizes and field
offsets, and the enum values the bindings hard-code. Compiles a small C
program against include/pel (needs a C compiler and PEL_CFLAGS, which the
make check runner sets; skipped otherwise)."""

import ctypes
import os
import shutil
import subprocess

import pytest

import pel
from pel import fft as pfft
from pel import linalg, sparse
from pel import stencil as pstencil
from pel import tune as ptune

CFLAGS = os.environ.get("PEL_CFLAGS")
CC = os.environ.get("CC", "cc")
pytestmark = pytest.mark.skipif(not CFLAGS or not shutil.which(CC.split()[0]),
                                reason="PEL_CFLAGS or a C compiler is missing")

STRUCTS = {
    "pel_fft_options": pfft._Options,
    "pel_fft_cache_stats": pfft._CacheStats,
    "pel_fft_upgrade_stats": pfft._UpgradeStats,
    "pel_boundary": pstencil._Boundary,
    "pel_stencil_blocking": pstencil._Blocking,
    "pel_machine_cache": ptune._Cache,
    "pel_machine": ptune._Machine,
}
ENUMS = {
    "PEL_ROW_MAJOR": linalg.ROW_MAJOR, "PEL_COL_MAJOR": linalg.COL_MAJOR,
    "PEL_NO_TRANS": linalg.NO_TRANS, "PEL_TRANS": linalg.TRANS,
    "PEL_CONJ_TRANS": linalg.CONJ_TRANS, "PEL_UPPER": linalg.UPPER, "PEL_LOWER": linalg.LOWER,
    "PEL_MAX_THREADS": pel.MAX_THREADS, "PEL_THREAD_BUDGET_DEFAULT": pel.THREAD_BUDGET_DEFAULT,
    "PEL_FLOAT64": sparse._PRECISION[sparse.FLOAT64],
    "PEL_FLOAT32": sparse._PRECISION[sparse.FLOAT32],
    "PEL_FFT_C2C": pfft._C2C, "PEL_FFT_R2C": pfft._R2C, "PEL_FFT_C2R": pfft._C2R,
    "PEL_FFT_FORWARD": pfft._FORWARD, "PEL_FFT_BACKWARD": pfft._BACKWARD,
    "PEL_FFT_NORM_BACKWARD": pfft._NORMS["backward"], "PEL_FFT_NORM_ORTHO": pfft._NORMS["ortho"],
    "PEL_FFT_NORM_FORWARD": pfft._NORMS["forward"],
    "PEL_FFT_ESTIMATE": pfft._EFFORTS["estimate"], "PEL_FFT_MEASURE": pfft._EFFORTS["measure"],
    "PEL_FFT_PATIENT": pfft._EFFORTS["patient"],
    "PEL_FFT_EXHAUSTIVE": pfft._EFFORTS["exhaustive"],
    "PEL_FFT_WISDOM_ONLY": pfft._EFFORTS["wisdom_only"], "PEL_FFT_AUTO": pfft._EFFORTS["auto"],
    "PEL_FFT_UPGRADE_OFF": pfft._UPGRADE_MODES["off"], "PEL_FFT_UPGRADE_IDLE": pfft._UPGRADE_MODES["idle"],
    "PEL_FFT_UPGRADE_NORMAL": pfft._UPGRADE_MODES["normal"],
    "PEL_FFT_CONVOLVE_FULL": pfft._MODES["full"], "PEL_FFT_CONVOLVE_SAME": pfft._MODES["same"],
    "PEL_FFT_CONVOLVE_VALID": pfft._MODES["valid"],
    "PEL_FFT_MAX_RANK": pfft.MAX_RANK,
    "PEL_STENCIL_STAR": pstencil._SHAPES["star"], "PEL_STENCIL_BOX": pstencil._SHAPES["box"],
    "PEL_BOUNDARY_DIRICHLET": pstencil._DIRICHLET, "PEL_BOUNDARY_PERIODIC": pstencil._PERIODIC,
    "PEL_BOUNDARY_NEUMANN": pstencil._NEUMANN, "PEL_BOUNDARY_NEAREST": pstencil._NEAREST,
    "PEL_BOUNDARY_MIRROR": pstencil._MIRROR, "PEL_STENCIL_MAX_RADIUS": pstencil.MAX_RADIUS,
    "PEL_MACHINE_DEFAULT": ptune.SOURCES.index("default"),
    "PEL_MACHINE_REPORTED": ptune.SOURCES.index("reported"),
    "PEL_MACHINE_MEASURED": ptune.SOURCES.index("measured"),
}
ERRORS = [pel.InvalidArgumentError, pel.OutOfMemoryError, pel.UnsupportedError,
          pel.BackendError, pel.SizeOverflowError, pel.SingularMatrixError,
          pel.NotPositiveDefiniteError, pel.PelIOError, pel.ParseError, pel.NotConvergedError,
          pel.CallbackError, pel.InternalError]


def test_layouts_and_values_match_the_headers(tmp_path):
    lines = ["#include <stdio.h>", "#include <stddef.h>", "#include <pel.h>", "int main(void) {"]
    for name, cls in STRUCTS.items():
        lines.append(f'printf("sizeof {name} %zu\\n", sizeof({name}));')
        for field, _ in cls._fields_:
            lines.append(f'printf("offset {name}.{field} %zu\\n", offsetof({name}, {field}));')
    for name in ENUMS:
        lines.append(f'printf("value {name} %ld\\n", (long)({name}));')
    for cls in ERRORS:
        lines.append(f'printf("value {cls.status_name} %ld\\n", (long)({cls.status_name}));')
    lines.append("return 0; }")
    source = tmp_path / "abi.c"
    source.write_text("\n".join(lines) + "\n")
    exe = tmp_path / "abi"
    build = subprocess.run(CC.split() + CFLAGS.split() + [str(source), "-o", str(exe)],
                           capture_output=True, text=True, check=False)
    assert build.returncode == 0, build.stderr
    # An ASan preload in the environment is for the interpreter, not this.
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True, env=env).stdout
    got = {}
    for line in out.splitlines():
        kind, name, value = line.split()
        got[(kind, name)] = int(value)
    for name, cls in STRUCTS.items():
        assert got[("sizeof", name)] == ctypes.sizeof(cls), name
        for field, _ in cls._fields_:
            assert got[("offset", f"{name}.{field}")] == getattr(cls, field).offset, field
    for name, value in ENUMS.items():
        assert got[("value", name)] == value, name
    for cls in ERRORS:
        assert got[("value", cls.status_name)] == cls.status, cls
