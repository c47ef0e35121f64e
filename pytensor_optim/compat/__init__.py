"""Calling conventions of other libraries, on top of the native rules' core.

:mod:`pytensor_optim.compat.pymc` is a drop-in replacement for
``pymc.variational.updates`` (Lasagne's update functions): import it in place
of pymc's module and get the same numbers, with float32-safe graphs and named
state. See :doc:`/migrating`.
"""

from . import pymc

__all__ = ["pymc"]
