"""Arithmetic over lists of tensors (one entry per parameter)."""

from functools import reduce

import numpy as np
import pytensor.tensor as pt

__all__ = ["MACHINE_EPSILON", "axpy", "constant", "dot", "max_abs", "sum_abs"]

# mize's guard in denominators, R's .Machine$double.eps, in every dtype: it
# only prevents a division by zero (float32's own epsilon would distort the
# quotients of small numbers)
MACHINE_EPSILON = np.finfo(np.float64).eps


def constant(value, dtype):
    """``value`` as a constant tensor of ``dtype`` (no upcast of a float32 graph)."""
    return pt.constant(np.asarray(value, dtype=dtype))


def dot(a, b, dtype="float64"):
    """The inner product of two aligned tensor lists, as a ``dtype`` scalar."""
    return reduce(
        pt.add, (pt.cast(pt.sum(x * y), dtype) for x, y in zip(a, b, strict=True))
    )


def sum_abs(a, dtype="float64"):
    """The l1 norm of a tensor list."""
    return reduce(pt.add, (pt.cast(pt.sum(pt.abs(x)), dtype) for x in a))


def max_abs(a, dtype="float64"):
    """The infinity norm of a tensor list; a tensor with no element adds nothing."""
    return reduce(pt.maximum, (pt.cast(_max_abs(x), dtype) for x in a))


def _max_abs(x):
    if all(length is not None and length > 0 for length in x.type.shape):
        return pt.max(pt.abs(x))
    # A maximum over no element has no identity (PyTensor raises): a leading
    # 0 is the identity of a maximum of absolute values.
    return pt.max(pt.abs(pt.concatenate([constant([0], x.dtype), x.ravel()])))


def axpy(alpha, x, y):
    """``alpha * x + y`` for aligned lists; the scalar is cast to each dtype."""
    return [pt.cast(alpha, xi.dtype) * xi + yi for xi, yi in zip(x, y, strict=True)]
