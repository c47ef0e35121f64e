"""Interfaces for NumPy callables and for shared variables."""

from ._numpy import minimize, minimize_iterator
from ._optimize import optimize
from .scipy import ScipyOptimizer, as_scipy_method, scipy_minimize

__all__ = [
    "ScipyOptimizer",
    "as_scipy_method",
    "minimize",
    "minimize_iterator",
    "optimize",
    "scipy_minimize",
]
