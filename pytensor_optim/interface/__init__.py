"""Interfaces for NumPy callables and for shared variables."""

from ._numpy import minimize, minimize_iterator
from ._optimize import optimize


def __getattr__(name):
    # scipy.optimize is imported when the bridge is first used
    if name in ("ScipyOptimizer", "as_scipy_method", "scipy_minimize"):
        from . import scipy

        return getattr(scipy, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ScipyOptimizer",
    "as_scipy_method",
    "minimize",
    "minimize_iterator",
    "optimize",
    "scipy_minimize",
]
