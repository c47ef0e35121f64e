"""One-dimensional interpolation kernels of the line searches, on scalar tensors."""

import pytensor.tensor as pt

__all__ = ["cubic_minimizer", "python_max", "python_min"]


def python_max(a, b):
    """``max(a, b)`` as Python computes it: ``b`` only when ``b > a``.

    Unlike :func:`pytensor.tensor.maximum` this keeps ``a`` when either is
    NaN, which is what a search written with Python's ``max`` does.
    """
    return pt.switch(pt.gt(b, a), b, a)


def python_min(a, b):
    """``min(a, b)`` as Python computes it: ``b`` only when ``b < a``."""
    return pt.switch(pt.lt(b, a), b, a)


def cubic_minimizer(x1, f1, g1, x2, f2, g2, low=None, high=None):
    r"""The minimiser of the cubic through two points with values and slopes.

    The cubic :math:`c` with :math:`c(x_i) = f_i` and :math:`c'(x_i) = g_i`
    has its local minimiser at

    .. math::

        d_1 = g_1 + g_2 - 3 \frac{f_1 - f_2}{x_1 - x_2}, \quad
        d_2 = \sqrt{d_1^2 - g_1 g_2}, \quad
        x^* = x_2 - (x_2 - x_1) \frac{g_2 + d_2 - d_1}{g_2 - g_1 + 2 d_2}

    (written from the larger of the two points, with the roles of the points
    swapped when :math:`x_1 > x_2`). The result is clipped to
    ``[low, high]`` (default: the interval between the points); when
    :math:`d_1^2 < g_1 g_2` the cubic has no minimiser and the midpoint of
    ``[low, high]`` is returned. This is the two-point case of the
    ``polyinterp`` routine of minFunc and Lua ``optim``.

    Parameters
    ----------
    x1, f1, g1, x2, f2, g2 : scalar tensors
        The two points, their values and their slopes.
    low, high : scalar tensors, optional
        Bounds of the result; both or neither.

    Returns
    -------
    scalar tensor
    """
    if (low is None) != (high is None):
        raise ValueError("give both low and high, or neither")
    if low is None:
        ordered = pt.le(x1, x2)
        low = pt.switch(ordered, x1, x2)
        high = pt.switch(ordered, x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    real = pt.ge(d2_square, 0)
    # the square root is taken only where it is real; the other branch is unused
    d2 = pt.sqrt(pt.switch(real, d2_square, 0))
    # Behind a switch d1 is opaque to the algebraic rewrites, which would
    # otherwise cancel g2 in g2 + d2 - d1 and round differently.
    d1 = pt.switch(real, d1, 0)
    from_second = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    from_first = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    minimizer = pt.switch(pt.le(x1, x2), from_second, from_first)
    clipped = python_min(python_max(minimizer, low), high)
    return pt.switch(real, clipped, (low + high) / 2.0)
