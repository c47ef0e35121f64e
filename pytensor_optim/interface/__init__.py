"""Interfaces for NumPy callables and for shared variables."""

from ._numpy import minimize, minimize_iterator

__all__ = ["minimize", "minimize_iterator"]
