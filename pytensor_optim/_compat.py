"""Where PyTensor 3.0 and 3.3 differ, in one place.

The package supports PyTensor 3.0 (Python 3.11) and 3.3 (Python 3.12+,
what PyMC 6.4 installs). The rest of the package imports what differs from
here, and never asks for PyTensor's version:

- ``ifelse`` and ``IfElse`` moved from ``pytensor.ifelse`` to
  ``pytensor.conditional`` (the old module warns on use).
- ``Op.infer_shape`` lost its ``fgraph`` parameter: :func:`shape_inference`
  turns a function of ``(node, input_shapes)`` into a method that either
  line calls as it expects.
- ``scan``'s ``mode`` is deprecated (the inner graph inherits the outer
  compilation) but still honoured: :func:`scan` passes an explicit mode
  where ``scan`` takes one, silently, and none where it does not.
- The inner graphs of ``OpFromGraph`` (and ``Scan``) are frozen, immutable
  nodes that cannot be cloned into a new graph or rewritten:
  :func:`inner_graph` and :func:`mutable_inner_fgraph` give a mutable copy
  where they are.
"""

import inspect
import warnings

import pytensor

try:  # PyTensor 3.3
    from pytensor.conditional import IfElse, ifelse
except ImportError:  # PyTensor 3.0
    from pytensor.ifelse import IfElse, ifelse

__all__ = [
    "IfElse",
    "ifelse",
    "inner_graph",
    "mutable_inner_fgraph",
    "scan",
    "shape_inference",
]

_SCAN_TAKES_MODE = "mode" in inspect.signature(pytensor.scan).parameters


def shape_inference(function):
    """An ``infer_shape`` method from ``function(op, node, input_shapes)``.

    PyTensor 3.0 calls ``infer_shape(fgraph, node, input_shapes)``; 3.3 calls
    ``infer_shape(node, input_shapes)`` and warns about a method that takes
    ``fgraph``. The method returned takes either.
    """

    def infer_shape(self, *arguments):
        node, input_shapes = arguments[-2:]
        return function(self, node, input_shapes)

    infer_shape.__doc__ = function.__doc__
    return infer_shape


def scan(fn, *, mode=None, **kwargs):
    """``pytensor.scan(fn, **kwargs)``, with the inner function compiled in
    ``mode`` where one is given (PyTensor 3.3 deprecates the argument but
    honours it; without it the inner graph inherits the outer mode)."""
    if mode is None or not _SCAN_TAKES_MODE:
        return pytensor.scan(fn, **kwargs)
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="The `mode` argument of `scan`", category=FutureWarning
        )
        return pytensor.scan(fn, mode=mode, **kwargs)


def inner_graph(op):
    """The inputs and outputs of ``op``'s inner graph (an ``OpFromGraph``),
    as a graph that can be cloned or given to a new ``OpFromGraph``."""
    fgraph = mutable_inner_fgraph(op)
    return fgraph.inputs, fgraph.outputs


def mutable_inner_fgraph(op):
    """``op.fgraph`` where it is mutable (PyTensor 3.0: rewriting it rewrites
    the op's inner graph), else a mutable copy of it (3.3)."""
    unfreeze = getattr(op.fgraph, "unfreeze", None)
    return op.fgraph if unfreeze is None else unfreeze()
