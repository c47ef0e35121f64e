"""Interfaces for NumPy callables and for shared variables."""

from ._numpy import minimize, minimize_iterator
from ._optimize import optimize

__all__ = ["minimize", "minimize_iterator", "optimize"]
