"""How this package's own nodes compile their Numba kernels.

A kernel is a Python function that Numba compiles with IEEE arithmetic (no
fast-math) and NumPy's error model (1 / 0 is inf, not an error): for the
calls of a node's ``perform`` (:func:`compiled`, kept in Numba's disk cache
where a directory is writable) and inside PyTensor's Numba backend
(:func:`backend_kernel`, with a key for PyTensor's cache from
:func:`cache_key`). Numba is imported only when a kernel is compiled.
"""

import functools
import inspect
from hashlib import sha256

__all__ = ["backend_kernel", "cache_key", "compiled"]

_IEEE = {"fastmath": False, "error_model": "numpy"}


@functools.cache
def compiled(kernel):
    """``kernel`` compiled for calls from Python, once per process."""
    import numba

    try:
        return numba.njit(kernel, cache=True, **_IEEE)
    except RuntimeError:  # no writable cache directory: compile each run
        return numba.njit(kernel, **_IEEE)


def backend_kernel(kernel):
    """``kernel`` for the functions of PyTensor's Numba backend to call."""
    from pytensor.link.numba.dispatch import basic as numba_basic

    return numba_basic.numba_njit(kernel, **_IEEE)


def cache_key(name, *functions, constants=()):
    """A key for PyTensor's Numba cache from the sources of ``functions`` and
    the ``constants`` they read (None, no caching, where the sources are not
    installed)."""
    try:
        sources = [inspect.getsource(function) for function in functions]
    except (OSError, TypeError):
        return None
    text = "\n".join([name, repr(tuple(constants)), *sources])
    return sha256(text.encode()).hexdigest()
