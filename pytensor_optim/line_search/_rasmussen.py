"""The line search of Carl Rasmussen's ``minimize.m`` (Lua ``optim.cg``)."""

import copy
import numbers

import numpy as np
import pytensor.tensor as pt

from .._scan import check_mode
from .._validate import check_max_evals, check_range
from ._core import LineSearch, _check_fraction

__all__ = ["extrapolation_step", "interpolation_step", "rasmussen"]


class _Rasmussen(LineSearch):
    name = "rasmussen"

    def __init__(self, c1, c2, interpolation, extrapolation, max_evals, mode):
        self.mode = check_mode(mode)
        self.c1 = _check_fraction("c1", c1)
        self.c2 = _check_fraction("c2", c2, low=self.c1)
        self.interpolation = _check_fraction("interpolation", interpolation, high=0.5)
        if isinstance(extrapolation, bool) or not isinstance(
            extrapolation, numbers.Real
        ):
            raise TypeError(f"extrapolation must be a number, got {extrapolation!r}")
        check_range("extrapolation", float(extrapolation), low=1, low_open=True)
        self.extrapolation = float(extrapolation)
        self.max_evals = check_max_evals(max_evals, "max_evals")
        # A symbolic cap on the evaluations of one search (a rule's remaining
        # max_evals); see with_budget.
        self.budget = None

    @classmethod
    def from_checked(cls, c1, c2, interpolation, extrapolation, max_evals, mode):
        """A search with constants already validated (scalar tensors allowed)."""
        search = object.__new__(cls)
        search.mode = check_mode(mode)
        search.c1, search.c2 = c1, c2
        search.interpolation, search.extrapolation = interpolation, extrapolation
        search.max_evals = check_max_evals(max_evals, "max_evals")
        search.budget = None
        return search

    def with_budget(self, budget):
        """A copy whose searches make at most ``budget`` evaluations.

        ``budget`` is a symbolic integer scalar (at least 1 is used); the
        budget of a search is the smaller of it and ``max_evals``, as
        minimize.m's ``M = min(MAX, -length - i)``.
        """
        search = copy.copy(self)
        search.budget = budget
        return search

    def _options(self):
        return (
            ("c1", self.c1),
            ("c2", self.c2),
            ("interpolation", self.interpolation),
            ("extrapolation", self.extrapolation),
            ("max_evals", self.max_evals),
            *self._mode_option(),
        )

    def init(self, line):
        no = pt.constant(np.bool_(False))
        return {
            "trial": line.initial_step,
            # point 3 of minimize.m, its step relative to the current point
            "f3": line.cost,
            "d3": line.slope,
            "z3": -line.initial_step,
            # the smallest step known to be too long (-1: none yet)
            "limit": line.scalar(-1),
            "step": line.scalar(0),
            "cost": line.cost,
            "gradients": line.zeros(),
            "success": no,
            "finished": no,
        }

    def step(self, line, state, point, evals):
        s = line.scalar
        rho, sig = s(self.c1), s(self.c2)
        f1, d1 = line.cost, line.slope
        z1, f2, d2 = point.step, point.cost, point.slope
        total = line.max_evals
        if self.budget is not None:
            total = pt.maximum(pt.minimum(total, self.budget), 1)
        # minimize.m's M: the evaluations left
        left = total - evals
        first = pt.eq(evals, 1)
        f3 = pt.switch(first, f1, state["f3"])
        d3 = pt.switch(first, d1, state["d3"])
        z3 = pt.switch(first, -z1, state["z3"])
        limit = pt.switch(first, s(-1), state["limit"])

        # not (Armijo and d2 <= -sig d1): the step is too long
        too_long = pt.or_(pt.gt(f2, f1 + z1 * rho * d1), pt.gt(d2, -sig * d1))
        interpolating = pt.and_(too_long, pt.gt(left, 0))
        success = pt.and_(pt.invert(too_long), pt.gt(d2, sig * d1))
        # otherwise: interpolate (too long) or extrapolate, while budget lasts
        finished = pt.or_(success, pt.le(left, 0))

        inward = interpolation_step(
            f1, f2, d2, f3, d3, z3, s(self.interpolation), line.dtype
        )
        outward = extrapolation_step(
            z1,
            f2,
            d2,
            f3,
            d3,
            z3,
            limit,
            s(self.interpolation),
            s(self.extrapolation),
            line.dtype,
        )
        change = pt.switch(interpolating, inward, outward)
        return {
            "trial": z1 + change,
            # interpolating, point 3 stays (its relative step moves);
            # extrapolating, the current point becomes point 3
            "f3": pt.switch(interpolating, f3, f2),
            "d3": pt.switch(interpolating, d3, d2),
            "z3": pt.switch(interpolating, z3 - change, -change),
            "limit": pt.switch(interpolating, z1, limit),
            "step": z1,
            "cost": f2,
            "gradients": point.gradients,
            "success": success,
            "finished": finished,
        }

    def done(self, line, state):
        return state["finished"]

    def result(self, line, state):
        success = state["success"]
        return state["step"], state["cost"], state["gradients"], success, success


def _cubic_terms(f2, d2, f3, d3, z3, dtype):
    """minimize.m's ``A`` and ``B`` of the cubic through points 2 and 3."""
    s = _constant(dtype)
    a = s(6) * (f2 - f3) / z3 + s(3) * (d2 + d3)
    b = s(3) * (f3 - f2) - z3 * (d3 + s(2) * d2)
    return a, b


def interpolation_step(f1, f2, d2, f3, d3, z3, interpolation, dtype):
    r"""minimize.m's step from a too long point 2 back towards point 3.

    Point 3 lies at the relative step :math:`z_3 < 0`. If :math:`f_2 > f_1`
    the minimiser of the quadratic through :math:`f_3, d_3, f_2`,

    .. math:: z_2 = z_3 - \frac{d_3 z_3^2 / 2}{d_3 z_3 + f_2 - f_3},

    else the minimiser of the cubic through both points' values and slopes,

    .. math::

        A = \frac{6 (f_2 - f_3)}{z_3} + 3 (d_2 + d_3), \quad
        B = 3 (f_3 - f_2) - z_3 (d_3 + 2 d_2), \quad
        z_2 = \frac{\sqrt{B^2 - A d_2 z_3^2} - B}{A};

    a NaN or infinite :math:`z_2` becomes :math:`z_3/2` (bisection), and the
    result is kept in :math:`[(1 - \iota) z_3, \iota z_3]` (``interpolation``
    :math:`= \iota`), away from both points.
    """
    s = _constant(dtype)
    quadratic = z3 - (s(0.5) * d3 * z3 * z3) / (d3 * z3 + f2 - f3)
    a, b = _cubic_terms(f2, d2, f3, d3, z3, dtype)
    cubic = (pt.sqrt(b * b - a * d2 * z3 * z3) - b) / a
    change = pt.switch(pt.gt(f2, f1), quadratic, cubic)
    change = pt.switch(pt.isfinite(change), change, z3 / s(2))
    return pt.maximum(
        pt.minimum(change, interpolation * z3), (s(1) - interpolation) * z3
    )


def extrapolation_step(
    z1, f2, d2, f3, d3, z3, limit, interpolation, extrapolation, dtype
):
    r"""minimize.m's step beyond point 2, which is not yet far enough.

    The cubic extrapolation :math:`z_2 = -d_2 z_3^2 / (B + \sqrt{B^2 - A d_2
    z_3^2})` (``A``, ``B`` as in :func:`interpolation_step`), then the first
    rule that applies: a NaN, infinite or negative :math:`z_2` becomes
    :math:`z_1 (\epsilon - 1)` (``extrapolation`` :math:`= \epsilon`) without
    a ``limit``, else :math:`(\ell - z_1)/2`; beyond the limit :math:`\ell`,
    :math:`(\ell - z_1)/2`; without a limit, beyond :math:`\epsilon z_1`,
    :math:`z_1 (\epsilon - 1)`; less than :math:`-\iota z_3`,
    :math:`-\iota z_3`; with a limit, less than :math:`(\ell - z_1)(1 -
    \iota)`, that bound.
    """
    s = _constant(dtype)
    a, b = _cubic_terms(f2, d2, f3, d3, z3, dtype)
    change = -d2 * z3 * z3 / (b + pt.sqrt(b * b - a * d2 * z3 * z3))
    bounded = pt.gt(limit, s(-0.5))
    unbounded = pt.invert(bounded)
    to_limit = (limit - z1) / s(2)
    farthest = z1 * (extrapolation - s(1))
    nearest_to_limit = (limit - z1) * (s(1) - interpolation)
    wrong = pt.or_(pt.invert(pt.isfinite(change)), pt.lt(change, 0))
    chosen = pt.switch(
        wrong,
        pt.switch(bounded, to_limit, farthest),
        pt.switch(
            pt.and_(bounded, pt.gt(change + z1, limit)),
            to_limit,
            pt.switch(
                pt.and_(unbounded, pt.gt(change + z1, z1 * extrapolation)),
                farthest,
                pt.switch(
                    pt.lt(change, -z3 * interpolation),
                    -z3 * interpolation,
                    pt.switch(
                        pt.and_(bounded, pt.lt(change, nearest_to_limit)),
                        nearest_to_limit,
                        change,
                    ),
                ),
            ),
        ),
    )
    return chosen


def _constant(dtype):
    return lambda value: pt.constant(np.asarray(value, dtype=dtype))


def rasmussen(
    c1=0.01, c2=0.5, interpolation=0.1, extrapolation=3.0, max_evals=21, mode=None
):
    r"""The line search of Rasmussen's ``minimize.m`` (and Lua ``optim.cg``).

    With :math:`\phi(z) = f(x + z d)`, :math:`f_1 = \phi(0)` and
    :math:`d_1 = \phi'(0) < 0`, a step :math:`z` is accepted when

    .. math::

        \phi(z) \le f_1 + c_1 z d_1
        \quad\text{and}\quad
        c_2 d_1 < \phi'(z) \le -c_2 d_1,

    the strong Wolfe conditions (``RHO`` :math:`= c_1`, ``SIG``
    :math:`= c_2` in minimize.m). From the initial step, each evaluated point
    (point 2, at :math:`z_1`) is compared with the last point known to be
    too short (point 3, at first the start):

    * if it fails the first condition, or :math:`\phi'(z_1) > -c_2 d_1`, it
      is too long: :math:`z_1` becomes the ``limit`` and the next trial is
      interpolated between points 3 and 2 (quadratic if
      :math:`\phi(z_1) > f_1`, else cubic), at least a fraction
      ``interpolation`` of their distance from either;
    * if :math:`\phi'(z_1) > c_2 d_1` as well, it is accepted;
    * otherwise it is too short: it becomes point 3 and the next trial is
      extrapolated by a cubic, at most to ``extrapolation`` times
      :math:`z_1` (without a limit) or half-way to the limit, and at least
      ``interpolation`` times the last extrapolation beyond :math:`z_1`.

    The search fails when its budget of evaluations runs out first (or at
    a NaN or infinite value, where minimize.m has no check).

    Parameters
    ----------
    c1, c2 : float
        :math:`0 < c_1 < c_2 < 1`; minimize.m's ``RHO=0.01`` and ``SIG=0.5``.
    interpolation : float, default 0.1
        minimize.m's ``INT``: a trial is not placed within this fraction of
        the bracket from its ends; :math:`0 < \iota < 0.5`.
    extrapolation : float, default 3
        minimize.m's ``EXT``: extrapolate at most to this many times the
        current step; greater than 1.
    max_evals : int, default 21
        The most evaluations: minimize.m's ``MAX=20`` counts the evaluations
        after the first trial.
    mode : str, Mode or None
        The compilation mode of the search loop; see :class:`LineSearch`.

    Returns
    -------
    LineSearch

    Notes
    -----
    The search is minimize.m's inner loop, evaluation for evaluation. Where
    the cubic's square root has a negative argument, minimize.m (MATLAB)
    goes on with complex numbers and the Lua port with a NaN; here, as in
    Lua, the NaN makes the interpolation bisect and the extrapolation take
    its fallback step. :func:`~pytensor_optim.rasmussen_cg` uses this search.

    References
    ----------
    .. [1] Rasmussen, C. E. (2001). minimize.m: conjugate gradient
       minimisation with a line search using quadratic and cubic
       interpolation and the Wolfe-Powell conditions.
       http://www.gatsby.ucl.ac.uk/~edward/code/minimize/

    Examples
    --------
    >>> import numpy as np, pytensor
    >>> import pytensor_optim as po
    >>> from pytensor_optim.line_search import rasmussen
    >>> rasmussen(c2=0.1)
    rasmussen(c1=0.01, c2=0.1, interpolation=0.1, extrapolation=3.0, max_evals=21)
    >>> x = pytensor.shared(np.array([3.0, -1.0]), name="x")
    >>> cost = ((x - 1.0) ** 2).sum()
    >>> updates = po.gradient_descent(
    ...     [x], cost, line_search=rasmussen(mode="FAST_COMPILE"))
    >>> step = pytensor.function([], cost, updates=updates, mode="FAST_COMPILE")
    >>> _ = step()
    >>> x.get_value()
    array([1., 1.])
    """
    return _Rasmussen(c1, c2, interpolation, extrapolation, max_evals, mode)
