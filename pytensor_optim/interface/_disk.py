"""The NumPy interface's compiled iterations, kept on disk across processes.

A fresh process that runs a rule of this package as an earlier process did
(same options, same structure of ``x0``, same kind of ``df``) loads the
iteration that process compiled: the graph PyTensor has already rewritten,
linked against the C code that PyTensor's own compile cache holds. Building
the graph and rewriting it, most of a warm first call, are skipped.

Where: the directory ``PYTENSOR_OPTIM_CACHE`` names (``off`` for none), else
``pytensor_optim`` in PyTensor's ``config.compiledir`` (which is already per
platform and Python version). A file's name is a SHA-256 of everything that
decides the compiled function: the rule and its options, the structure of
``x0``, ``df``'s kind, the sources of this package, the versions of PyTensor,
NumPy and Python and PyTensor's compilation flags. An edited package or a new
PyTensor never loads what an older one wrote. Options compared by identity
(a schedule) and rules from outside the package are not kept on disk.

At most ``LIMIT`` iterations are kept (the least recently used go first).
Next to an iteration, a folder ``NAME.starts`` keeps where it starts for
each other size of ``x0`` it has served (see ``_Iteration.adopt``): a later
process serves those sizes at once.
"""

import functools
import hashlib
import logging
import os
import pickle
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytensor

__all__ = ["directory", "key", "load", "load_starts", "save", "save_start"]

_LOG = logging.getLogger("pytensor_optim")
_PACKAGE = Path(__file__).resolve().parent.parent


def directory():
    """The cache directory, or ``None`` when switched off."""
    setting = os.environ.get("PYTENSOR_OPTIM_CACHE", "")
    if setting.lower() == "off":
        return None
    if setting:
        return Path(setting)
    return Path(pytensor.config.compiledir) / "pytensor_optim"


@functools.cache
def package_hash():
    """A SHA-256 of this package's Python sources."""
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        digest.update(str(path.relative_to(_PACKAGE)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def key(algo, structure_key):
    """The file name of an iteration, or ``None`` if it is not kept on disk:
    ``structure_key`` is the in-process key without the rule (reproducible
    from one process to the next)."""
    module = getattr(algo, "__module__", "") or ""
    if not module.startswith("pytensor_optim.") or directory() is None:
        return None
    config = pytensor.config
    text = repr(
        (
            f"{module}.{algo.__qualname__}",
            structure_key,
            package_hash(),
            pytensor.__version__,
            np.__version__,
            sys.version,
            config.floatX,
            config.cxx,
            config.gcc__cxxflags,
            config.blas__ldflags,
        )
    )
    return hashlib.sha256(text.encode()).hexdigest() + ".pkl"


def load(name):
    """The iteration saved as ``name``, or ``None`` (absent or unreadable:
    an unreadable file is removed)."""
    path = directory() / name
    try:
        data = path.read_bytes()
        os.utime(path)  # recently used: the last to be pruned
    except OSError:
        return None
    try:
        iteration = pickle.loads(data)
    except Exception as error:  # a partial or foreign file: compile anew
        _LOG.debug("could not load %s (%s); removing it", path, error)
        path.unlink(missing_ok=True)
        return None
    iteration.add_starts(load_starts(name))
    return iteration


#: The most iterations kept; saving one more removes the least recently used
#: (an edited package or another PyTensor leaves its files behind).
LIMIT = 256


def save(name, iteration):
    """Write ``iteration`` as ``name`` (atomically; a failure only logs)."""
    folder = directory()
    _write(folder, name, iteration)
    try:
        kept = sorted(folder.glob("*.pkl"), key=lambda path: path.stat().st_mtime)
        for path in kept[: max(0, len(kept) - LIMIT)]:
            path.unlink(missing_ok=True)
            shutil.rmtree(folder / f"{path.name}.starts", ignore_errors=True)
    except OSError as error:  # another process removed it first
        _LOG.debug("could not prune the disk cache: %s", error)


def save_start(name, shapes, start):
    """Keep, next to the iteration ``name``, where it starts for ``x0`` of
    ``shapes`` (so that a later process serves that size without building
    the rule's graph for it)."""
    digest = hashlib.sha256(repr(shapes).encode()).hexdigest()[:16]
    _write(directory() / f"{name}.starts", f"{digest}.pkl", (shapes, start))


def load_starts(name):
    """``{shapes: start}`` kept by :func:`save_start` for ``name``."""
    starts = {}
    for path in sorted((directory() / f"{name}.starts").glob("*.pkl")):
        try:
            shapes, start = pickle.loads(path.read_bytes())
        except Exception:  # a partial or foreign file
            path.unlink(missing_ok=True)
            continue
        starts[shapes] = start
    return starts


def _write(folder, name, value):
    temporary = None
    try:
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, folder / name)
    except Exception as error:  # unpicklable options, a read-only disk
        _LOG.debug("could not keep %s on disk: %s", name, error)
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
