"""Finding and loading libpel, declaring its prototypes, turning status codes
into exceptions.

The library is opened with :class:`ctypes.CDLL`, whose foreign calls release
the GIL, so several Python threads can run pel kernels at the same time. The
error message is read with ``pel_last_error()`` inside the function's
``errcheck`` hook, i.e. on the same thread and right after the failing call:
the message is thread-local in C, so reading it later or from another thread
could report someone else's error.
"""

import ctypes
import ctypes.util
import os
import subprocess
import sys

from ._errors import error_from_status

# The library's shared-object names, newest ABI first. libpel.so (the
# development symlink) is accepted in build trees only; installed copies are
# opened through their SONAME so that a newer, incompatible ABI is never picked
# up by accident.
_SONAME = "libpel.so.0"


def _build_tree_candidates():
    """libpel.so in the libtool build trees this source tree may have."""
    here = os.path.dirname(os.path.abspath(__file__))
    source_root = os.path.dirname(os.path.dirname(here))
    roots = []
    build_dir = os.environ.get("PEL_BUILD_DIR")
    if build_dir:
        roots.append(build_dir)
    # Only a package sitting in pel's source tree looks for build trees beside
    # it; an installed copy must not pick up whatever lies near site-packages.
    if os.path.basename(os.path.dirname(here)) == "python-bindings":
        roots += [source_root, os.path.join(source_root, "_build"),
                  os.path.join(source_root, "build")]
    return [os.path.join(root, ".libs", "libpel.so") for root in roots]


def _pkg_config_libdir():
    try:
        result = subprocess.run(["pkg-config", "--variable=libdir", "pel"], capture_output=True,
                                text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    libdir = result.stdout.strip()
    return libdir if result.returncode == 0 and libdir else None


def _installed_candidates():
    """Installed copies: the dynamic loader's cache, pkg-config's libdir, the
    usual prefixes (make install defaults to /usr/local)."""
    found = []
    name = ctypes.util.find_library("pel")
    if name:
        found.append(name)
    libdir = _pkg_config_libdir()
    dirs = [libdir] if libdir else []
    dirs += [os.path.join(sys.prefix, "lib"), "/usr/local/lib", "/usr/lib", "/usr/lib64"]
    found += [os.path.join(d, _SONAME) for d in dirs]
    return list(dict.fromkeys(found))


def _load():
    """Opens libpel: $PEL_LIBRARY if set (and nothing else, so that a wrong
    setting is reported instead of silently replaced), else the build tree,
    else the installed library."""
    tried = []
    explicit = os.environ.get("PEL_LIBRARY")
    if explicit:
        try:
            return ctypes.CDLL(explicit), explicit
        except OSError as exc:
            raise ImportError(f"pel: cannot load PEL_LIBRARY={explicit!r}: {exc}") from exc
    for path in _build_tree_candidates():
        if os.path.exists(path):
            try:
                return ctypes.CDLL(path), path
            except OSError as exc:
                tried.append(f"{path} ({exc})")
        else:
            tried.append(f"{path} (not found)")
    for path in _installed_candidates():
        try:
            return ctypes.CDLL(path), path
        except OSError as exc:
            tried.append(f"{path} ({exc})" if os.path.exists(path) else f"{path} (not found)")
    raise ImportError(
        "pel: cannot find the shared library libpel. Set PEL_LIBRARY to the path of "
        "libpel.so, or PEL_BUILD_DIR to a build directory, or install pel (make install; "
        "ldconfig). Looked for:\n  " + "\n  ".join(tried))


lib, path = _load()


def _errcheck(status, func, args):
    # Runs on the calling thread immediately after the foreign call returns, so
    # pel_last_error() still holds this call's message.
    if status != 0:
        raise error_from_status(status, _last_error(), func.__name__)
    return status


def declare(name, restype, argtypes, *, status=True, required=True):
    """Sets the prototype of one C function and returns it. With status=True
    the function returns pel_status and a failure raises the matching
    PelError. A symbol missing from an older or partial library gives a stub
    that raises NotImplementedError naming it (unless required)."""
    try:
        func = getattr(lib, name)
    except AttributeError:
        if required:
            raise ImportError(f"pel: {path} lacks the function {name}; "
                              "the Python package is newer than the library") from None

        def missing(*_args):
            raise NotImplementedError(f"{name} is not in the loaded libpel ({path})")
        missing.__name__ = name
        return missing
    func.restype = ctypes.c_int if status else restype
    func.argtypes = argtypes
    if status:
        func.errcheck = _errcheck
    return func


def has_symbol(name):
    """True when the loaded libpel exports the C function @p name (a library
    built from a partial tree may lack a layer; its wrappers then raise
    NotImplementedError)."""
    return hasattr(lib, name)


_last_error_fn = lib.pel_last_error
_last_error_fn.restype = ctypes.c_char_p
_last_error_fn.argtypes = []


def _last_error():
    message = _last_error_fn()
    return message.decode("utf-8", "replace") if message else ""
