"""The Moré–Thuente line search: MINPACK-2's ``dcsrch`` and ``dcstep``."""

import numbers

import numpy as np
import pytensor.tensor as pt

from .._interpolate import python_max, python_min
from .._scan import check_mode
from .._validate import check_max_evals, check_range
from . import _fused
from ._core import LineSearch, _check_fraction, run
from ._dcsrch import CONVERGED, FIELDS, RUNNING, XTRAPU, dcsrch_step, returns_point


class _MoreThuente(LineSearch):
    name = "more_thuente"
    # A NaN or infinite trial is handled by the search (see more_thuente).
    stop_on_non_finite = False

    def __init__(self, c1, c2, xtol, min_step, max_step, max_evals, mode):
        self.mode = check_mode(mode)
        self.c1 = _check_fraction("c1", c1)
        self.c2 = _number("c2", c2)
        check_range("c2", self.c2, low=self.c1, high=1.0, high_open=True)
        self.xtol = _number("xtol", xtol)
        check_range("xtol", self.xtol, low=0.0)
        self.min_step = _number("min_step", min_step)
        check_range("min_step", self.min_step, low=0.0)
        self.max_step = _number("max_step", max_step)
        if self.max_step != np.inf:
            check_range("max_step", self.max_step, low=self.min_step)
        if not self.max_step > 0:
            raise ValueError(f"max_step must be positive, got {max_step!r}")
        self.max_evals = check_max_evals(max_evals, "max_evals")

    def _options(self):
        return (
            ("c1", self.c1),
            ("c2", self.c2),
            ("xtol", self.xtol),
            ("min_step", self.min_step),
            ("max_step", self.max_step),
            ("max_evals", self.max_evals),
            *self._mode_option(),
        )

    def _bounds(self, line):
        return line.scalar(self.min_step), line.scalar(self.max_step)

    def __call__(self, line):
        # In the loop's default mode the whole search is one node, which
        # Numba runs as one loop and every other mode inlines (see _fused).
        if self.mode is not None:
            return run(self, line)
        return _fused.search_node(self, line)

    def init(self, line):
        step_min, step_max = self._bounds(line)
        # dcsrch refuses a first step outside [stpmin, stpmax]; we clip it
        trial = python_min(python_max(line.initial_step, step_min), step_max)
        zero = line.scalar(0)
        width = step_max - step_min
        fields = {
            "stage_two": zero,
            "bracketed": zero,
            "stx": zero,
            "fx": line.cost,
            "gx": line.slope,
            "sty": zero,
            "fy": line.cost,
            "gy": line.slope,
            "stmin": zero,
            "stmax": trial + line.scalar(XTRAPU) * trial,
            "width": width,
            "width1": width / line.scalar(0.5),
            "ceiling": line.scalar(np.inf),
            "best_cost": line.cost,
            "point_step": zero,
            "point_cost": line.cost,
        }
        return {
            "trial": trial,
            "status": pt.constant(np.int8(RUNNING)),
            # the rest of dcsrch's state in one vector (see _dcsrch.FIELDS):
            # one node computes an iteration, and scan carries one state
            "packed": pt.stack([fields[name] for name in FIELDS]),
            # the gradients at stx, or at the point returned once done
            "gradients": line.zeros(),
        }

    def done(self, line, state):
        return pt.neq(state["status"], RUNNING)

    def result(self, line, state):
        packed = state["packed"]

        def field(name):
            return packed[FIELDS.index(name)]

        last = returns_point(state["status"])
        step = pt.switch(last, field("point_step"), field("stx"))
        cost = pt.switch(last, field("point_cost"), field("best_cost"))
        # the parameters move only to a point lower than the start
        success = pt.and_(pt.gt(step, 0), pt.lt(cost, line.cost))
        converged = pt.eq(state["status"], CONVERGED)
        return step, cost, state["gradients"], success, converged

    def step(self, line, state, point, evals):
        trial, status, packed, takes_point = dcsrch_step(
            state["packed"],
            (point.step, point.cost, point.slope, point.finite),
            (line.cost, line.slope),
            (
                line.scalar(self.c1),
                line.scalar(self.c2),
                line.scalar(self.xtol),
                *self._bounds(line),
            ),
        )
        return {
            "trial": trial,
            "status": status,
            "packed": packed,
            "gradients": tuple(
                pt.switch(takes_point, new_gradient, old_gradient)
                for new_gradient, old_gradient in zip(
                    point.gradients, state["gradients"], strict=True
                )
            ),
        }


def _number(name, value):
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if np.isnan(value):
        raise ValueError(f"{name} must be a number, not NaN")
    return value


def more_thuente(
    c1=1e-4,
    c2=0.9,
    xtol=1e-14,
    min_step=0.0,
    max_step=np.inf,
    max_evals=20,
    mode=None,
):
    r"""The Moré–Thuente line search (MINPACK-2 ``dcsrch``), in the graph.

    Finds a step satisfying the strong Wolfe conditions

    .. math::

        \phi(\alpha) \le \phi(0) + c_1 \alpha \phi'(0)
        \quad\text{and}\quad
        |\phi'(\alpha)| \le c_2 |\phi'(0)|

    for :math:`\phi(\alpha) = f(x + \alpha d)`, by the algorithm of Moré
    and Thuente (1994) as MINPACK-2's ``dcsrch`` and ``dcstep`` implement it:
    the trials and the evaluation count are those of ``dcsrch`` (and of
    SciPy's translation ``scipy.optimize._dcsrch.DCSRCH``, used by
    ``line_search_wolfe1``) with the same options, up to the rounding of
    the last bits.

    Parameters
    ----------
    c1 : float, default 1e-4
        The sufficient decrease constant :math:`c_1` (``ftol``),
        :math:`0 < c_1 < 1`.
    c2 : float, default 0.9
        The curvature constant :math:`c_2` (``gtol``),
        :math:`c_1 \le c_2 < 1`; 0.9 suits quasi-Newton directions, 0.1
        conjugate gradients.
    xtol : float, default 1e-14
        The relative width of the interval of uncertainty under which the
        search stops (``xtol``), :math:`\ge 0`.
    min_step, max_step : float, default 0 and inf
        Bounds of the step (``stpmin``, ``stpmax``),
        :math:`0 \le \alpha_{min} \le \alpha_{max}`, :math:`\alpha_{max} > 0`.
    max_evals : int, default 20
        The most evaluations (mize's default ``ls_max_fn``); a rule's
        ``max_evals_per_iter`` replaces it.
    mode : str, Mode or None
        The compilation mode of the search loop; see :class:`LineSearch`.
        With None, the default, the search is one node of the graph: the
        Numba backend runs it as one loop, every other backend as the
        driver's ``scan`` (see ``line_search/_fused.py``); with a mode, the
        ``scan`` in that mode.

    Returns
    -------
    LineSearch

    Notes
    -----
    The search keeps an interval of uncertainty with ends :math:`\alpha_x`
    (``stx``, the best step so far) and :math:`\alpha_y` (``sty``), both 0
    at first. Each evaluated trial :math:`\alpha_t` first meets the tests
    below; if none ends the search, ``dcstep`` updates the interval and
    proposes the next trial from cubic, quadratic and secant fits of the
    values and slopes at :math:`\alpha_x`, :math:`\alpha_y` and
    :math:`\alpha_t`, in four cases: (1) a higher value than at
    :math:`\alpha_x` (bracketed; the cubic step if it is closer to
    :math:`\alpha_x` than the quadratic step, else their average); (2) a
    lower value and slopes of opposite signs (bracketed; the cubic or the
    secant step, whichever is farther from :math:`\alpha_t`); (3) a lower
    value, slopes of the same sign, and a smaller slope (a safeguarded
    cubic or secant step); (4) otherwise (the cubic through
    :math:`\alpha_t` and :math:`\alpha_y`, or a bound of the extrapolation
    interval). Until a minimiser is bracketed the trial after
    :math:`\alpha_t` lies in :math:`[\alpha_t + 1.1(\alpha_t - \alpha_x),
    \alpha_t + 4(\alpha_t - \alpha_x)]` (:math:`\alpha_x` the best step
    before :math:`\alpha_t`; :math:`[0, 5\alpha_0]` for the first);
    once bracketed, a bracket that has not shrunk to 0.66 of its width two
    trials earlier is bisected. Every trial is kept within ``[min_step,
    max_step]``.

    In *stage one*, as long as no trial has had

    .. math:: \psi(\alpha) = \phi(\alpha) - \phi(0) - c_1 \alpha \phi'(0)
              \le 0 \quad\text{and}\quad \phi'(\alpha) \ge 0,

    a trial lower than :math:`\alpha_x` that fails the sufficient decrease
    updates the interval with the values and slopes of :math:`\psi` instead
    of :math:`\phi` (MINPACK-2's test; MINPACK-1's ``cvsrch``, and mize,
    test :math:`\phi'(\alpha) \ge \min(c_1, c_2)\phi'(0)`).

    A trial ends the search when (later tests taking precedence, as in
    ``dcsrch``)

    * the interval is bracketed and the trial is not inside it (*rounding
      errors prevent progress*),
    * the interval is bracketed and :math:`\alpha_{max}^I - \alpha_{min}^I
      \le` ``xtol`` :math:`\alpha_{max}^I` (*xtol test satisfied*),
    * :math:`\alpha_t = \alpha_{max}` with :math:`\psi(\alpha_t) \le 0` and
      :math:`\phi'(\alpha_t) \le c_1\phi'(0)` (*at max_step*),
    * :math:`\alpha_t = \alpha_{min}` with :math:`\psi(\alpha_t) > 0` or
      :math:`\phi'(\alpha_t) \ge c_1\phi'(0)` (*at min_step*),
    * the strong Wolfe conditions hold (*convergence*).

    As in ``dcsrch``, when no progress is possible the next trial is
    :math:`\alpha_x` itself, evaluated again, and that evaluation ends the
    search with one of the first two warnings. The search also ends when
    ``max_evals`` trials were evaluated, or when ``dcstep``'s arithmetic
    gives a NaN or infinite next step (where SciPy's driver stops too).

    What is returned, and when the parameters move:

    * on convergence, the last trial: ``success`` and ``converged``;
    * at ``max_step`` or ``min_step``, the last trial, as MINPACK and mize
      return it; at ``max_step`` it satisfies the sufficient decrease;
    * on the other warnings and when the budget runs out, the best step
      :math:`\alpha_x`, as mize does. MINPACK returns the last trial, which
      is :math:`\alpha_x` on the warnings but any trial (possibly higher
      than the start) on a budget imposed from outside; :math:`\alpha_x` has
      the lowest value of :math:`\psi` or :math:`\phi` seen, and a value
      below :math:`\phi(0)` whenever it is not 0.

    ``success`` (the parameters move) is true only when the returned step
    is positive and its cost lower than :math:`\phi(0)`; ``converged`` only
    when the strong Wolfe conditions hold there.

    Conventions:

    * ``xtol`` defaults to ``1e-14``, SciPy's ``line_search_wolfe1`` value
      (mize uses the machine epsilon, L-BFGS-B 0.1). In
      float32 the interval reaches the resolution of the dtype first: the
      rounding test then ends the search, with the same result (the best
      step).
    * The first trial is the rule's step clipped to ``[min_step,
      max_step]`` (``dcsrch`` refuses a step outside them).
    * :math:`c_1 = c_2` is allowed, as in the experiments of Moré and
      Thuente (1994, §5), where a step satisfying both conditions still
      exists for smooth functions bounded below.
    * A trial where the cost or a gradient is NaN or infinite, or the cost
      is above an eighth of the largest number of its dtype (where
      ``dcstep``'s arithmetic would overflow: a "huge" value such as
      ``1.797e308`` that marks the outside of a domain), is rejected
      (it counts as an evaluation): the interval does not change, the next
      trial is :math:`\alpha_x + (\alpha_t - \alpha_x)/2`, halfway back to
      the best step, and while no minimiser is bracketed the extrapolation
      interval restarts there as at the start of ``dcsrch``, so a search
      whose first trials leave the domain of a cost such as :math:`-\log x`
      goes on as ``dcsrch`` started at its first finite trial (mize's
      ``find_finite`` also halves the first step). No later trial goes to
      or beyond the smallest rejected step above :math:`\alpha_x`: one that
      would is replaced by their midpoint. When the search ends with no
      lower point and its last trial was not finite, it reports
      ``non_finite`` (a rule then stops with ``Status.NON_FINITE``); else a
      failure is ``Status.LINE_SEARCH_FAILED``.
    * :math:`\phi'(0) \ge 0` fails at once with no evaluation (``dcsrch``
      reports ``ERROR: INITIAL G .GE. ZERO``).
    * The arithmetic is in the parameters' dtype: a float32 problem runs
      the whole search in float32.

    References
    ----------
    .. [1] Moré, J. J., Thuente, D. J. (1994). Line search algorithms with
       guaranteed sufficient decrease. ACM Transactions on Mathematical
       Software 20(3), 286–307.
    .. [2] Averick, B. M., Carter, R. G., Moré, J. J. (1993). MINPACK-2,
       subroutines ``dcsrch`` and ``dcstep``. Argonne National Laboratory.
    .. [3] Melville, J. mize: unconstrained numerical optimization
       algorithms (R package), line search ``"More-Thuente"``.

    Examples
    --------
    >>> from pytensor_optim.line_search import more_thuente
    >>> more_thuente(c2=0.1)  # doctest: +NORMALIZE_WHITESPACE
    more_thuente(c1=0.0001, c2=0.1, xtol=1e-14, min_step=0.0, max_step=inf,
                 max_evals=20)
    """
    return _MoreThuente(c1, c2, xtol, min_step, max_step, max_evals, mode)
