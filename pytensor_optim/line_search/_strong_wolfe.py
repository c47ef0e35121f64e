"""The strong Wolfe search of torch.optim.LBFGS (minFunc, Lua lswolfe)."""

import numbers
from typing import NamedTuple

import numpy as np
import pytensor.tensor as pt

from .._interpolate import cubic_minimizer, python_max, python_min
from .._scan import check_mode
from .._validate import check_max_evals, check_range
from ._core import LineSearch, _check_fraction

_BRACKETING, _ZOOM, _FINISHED = 0, 1, 2


class _StrongWolfe(LineSearch):
    name = "strong_wolfe"

    def __init__(self, c1, c2, tolerance_change, max_evals, mode):
        self.mode = check_mode(mode)
        self.c1 = _check_fraction("c1", c1)
        self.c2 = _check_fraction("c2", c2, low=self.c1)
        if isinstance(tolerance_change, bool) or not isinstance(
            tolerance_change, numbers.Real
        ):
            raise TypeError(
                f"tolerance_change must be a number, got {tolerance_change!r}"
            )
        check_range("tolerance_change", float(tolerance_change), low=0)
        self.tolerance_change = float(tolerance_change)
        self.max_evals = check_max_evals(max_evals, "max_evals")

    def _options(self):
        return (
            ("c1", self.c1),
            ("c2", self.c2),
            ("tolerance_change", self.tolerance_change),
            ("max_evals", self.max_evals),
            *self._mode_option(),
        )

    def init(self, line):
        start = _start_record(line)
        return {
            "trial": line.initial_step,
            "phase": pt.constant(np.int8(_BRACKETING)),
            "done": pt.constant(np.bool_(False)),
            "insufficient": pt.constant(np.bool_(False)),
            "low_is_b": pt.constant(np.bool_(False)),
            # bracket[0] ("a"): in the bracketing phase the previous point
            **{f"a_{key}": value for key, value in start.items()},
            # bracket[1] ("b")
            **{f"b_{key}": value for key, value in start.items()},
            # The gradients of the low end (of the previous point while
            # bracketing): only the low end is ever returned, and a point
            # becomes the low end when it is evaluated. Those of the start
            # are never returned from here (the start means failure).
            "gradients": line.zeros(),
        }

    def done(self, line, state):
        return pt.eq(state["phase"], _FINISHED)

    def result(self, line, state):
        low_is_b = state["low_is_b"]
        step = pt.switch(low_is_b, state["b_step"], state["a_step"])
        cost = pt.switch(low_is_b, state["b_cost"], state["a_cost"])
        # the start (step 0) can be the lowest bracket end: then nothing moves
        return step, cost, state["gradients"], pt.neq(step, 0), state["done"]

    def step(self, line, state, point, evals):
        c1, c2 = line.scalar(self.c1), line.scalar(self.c2)
        f0, slope0 = line.cost, line.slope
        # torch's ls_iter: the evaluations after the first one
        iteration = evals - 1
        in_budget = pt.lt(iteration, line.max_evals - 1)
        bracketing = pt.eq(state["phase"], _BRACKETING)
        low_is_b = state["low_is_b"]
        trial = state["trial"]
        a = {key: state[f"a_{key}"] for key in _RECORD}
        b = {key: state[f"b_{key}"] for key in _RECORD}
        new = {"step": trial, "cost": point.cost, "slope": point.slope}
        armijo_fails = pt.gt(point.cost, f0 + c1 * trial * slope0)
        curvature = pt.le(pt.abs(point.slope), -c2 * slope0)

        bracket = _bracketing(point, a, iteration, in_budget, armijo_fails, curvature)
        zoom = _zooming(point, a, b, low_is_b, armijo_fails, curvature)

        a_source = pt.switch(bracketing, bracket.a_source, zoom.a_source)
        b_source = pt.switch(bracketing, bracket.b_source, zoom.b_source)
        new_a = _pick(a_source, a, b, new, _start_record(line))
        new_b = _pick(b_source, b, a, new)
        new_low_is_b = pt.switch(
            bracketing,
            pt.or_(bracket.found, pt.gt(new_a["cost"], new_b["cost"])),
            pt.switch(zoom.replace_high, pt.gt(new_a["cost"], new_b["cost"]), low_is_b),
        )
        # the new point's gradients are kept when it is the low end (or,
        # extrapolating, the previous point of the next trial)
        extrapolating = pt.and_(bracketing, bracket.extrapolate)
        new_in_b = pt.switch(
            bracketing, pt.invert(bracket.extrapolate), pt.invert(zoom.new_to_a)
        )
        takes_new = pt.or_(extrapolating, pt.eq(new_in_b, new_low_is_b))
        gradients = tuple(
            pt.switch(takes_new, g_new, g_low)
            for g_new, g_low in zip(point.gradients, state["gradients"], strict=True)
        )
        done = pt.switch(bracketing, bracket.found, zoom.wolfe)

        # The zoom goes on while not done, in budget, and the bracket times
        # max|d| is at least tolerance_change.
        width = pt.abs(new_b["step"] - new_a["step"])
        too_short = pt.lt(
            width * line.direction_max_abs, line.scalar(self.tolerance_change)
        )
        zooming = pt.or_(pt.invert(bracketing), bracket.closed)
        keep_zooming = pt.and_(
            pt.and_(zooming, pt.invert(done)), pt.and_(in_budget, pt.invert(too_short))
        )
        phase = pt.switch(
            pt.and_(bracketing, bracket.extrapolate),
            _BRACKETING,
            pt.switch(keep_zooming, _ZOOM, _FINISHED),
        )
        next_trial, insufficient = _next_trial(
            line, state, trial, a, new, new_a, new_b, bracketing, extrapolating
        )
        return {
            "trial": next_trial,
            "phase": phase,
            "done": done,
            "insufficient": insufficient,
            "low_is_b": new_low_is_b,
            **{f"a_{key}": value for key, value in new_a.items()},
            **{f"b_{key}": value for key, value in new_b.items()},
            "gradients": gradients,
        }


class _Bracketing(NamedTuple):
    a_source: object  # where the ends' new records come from (see _pick)
    b_source: object
    found: object  # strong Wolfe holds at the new point
    closed: object  # the bracket [a, new] is found: zoom next
    extrapolate: object  # no bracket yet: a longer trial next


class _Zoom(NamedTuple):
    a_source: object
    b_source: object
    replace_high: object  # the new point is the bracket's high end
    wolfe: object  # strong Wolfe holds at the new point
    new_to_a: object  # the new point's record goes to end a


def _bracketing(point, a, iteration, in_budget, armijo_fails, curvature):
    """The bracketing phase (``a`` is the previous trial).

    The first test that holds decides: out of budget, the bracket is
    [0, new]; not lower (from the third trial on) or failing Armijo,
    [a, new]; strong Wolfe, done at new; a non-negative slope, [a, new];
    else extrapolate.
    """
    not_lower = pt.and_(pt.gt(iteration, 1), pt.ge(point.cost, a["cost"]))
    by_value = pt.or_(armijo_fails, not_lower)
    by_slope = pt.and_(pt.invert(curvature), pt.ge(point.slope, 0))
    exhausted = pt.invert(in_budget)
    found = pt.and_(in_budget, pt.and_(pt.invert(by_value), curvature))
    closed = pt.and_(in_budget, pt.or_(by_value, by_slope))
    extrapolate = pt.and_(
        in_budget, pt.invert(pt.or_(by_value, pt.or_(curvature, by_slope)))
    )
    a_source = pt.switch(exhausted, _START, pt.switch(extrapolate, _NEW, _KEEP))
    b_source = pt.switch(extrapolate, _KEEP, _NEW)
    return _Bracketing(a_source, b_source, found, closed, extrapolate)


def _zooming(point, a, b, low_is_b, armijo_fails, curvature):
    """The zoom phase: the new point replaces the high end when it fails
    Armijo or is not below the low end; else it becomes the low end, and the
    old low end becomes the high end when the slope points away from it."""
    low_cost = pt.switch(low_is_b, b["cost"], a["cost"])
    low_step = pt.switch(low_is_b, b["step"], a["step"])
    high_step = pt.switch(low_is_b, a["step"], b["step"])
    replace_high = pt.or_(armijo_fails, pt.ge(point.cost, low_cost))
    wolfe = pt.and_(pt.invert(replace_high), curvature)
    flip = pt.and_(
        pt.and_(pt.invert(replace_high), pt.invert(curvature)),
        pt.ge(point.slope * (high_step - low_step), 0),
    )
    new_to_a = pt.eq(replace_high, low_is_b)
    a_source = pt.switch(new_to_a, _NEW, pt.switch(flip, _OTHER, _KEEP))
    b_source = pt.switch(new_to_a, pt.switch(flip, _OTHER, _KEEP), _NEW)
    return _Zoom(a_source, b_source, replace_high, wolfe, new_to_a)


def _next_trial(line, state, trial, a, new, new_a, new_b, bracketing, extrapolating):
    """The next trial and the insufficient-progress flag.

    The cubic through a and the new point within [t + 0.01 (t - t_prev),
    10 t] when extrapolating, else through the bracket ends within the
    bracket, kept away from its ends.
    """
    top = python_max(new_a["step"], new_b["step"])
    bottom = python_min(new_a["step"], new_b["step"])
    first, second = (
        {
            key: pt.switch(extrapolating, old[key], bracket[key])
            for key in ("step", "cost", "slope")
        }
        for old, bracket in ((a, new_a), (new, new_b))
    )
    low = pt.switch(
        extrapolating, trial + line.scalar(0.01) * (trial - a["step"]), bottom
    )
    high = pt.switch(extrapolating, trial * line.scalar(10), top)
    cubic = cubic_minimizer(
        first["step"],
        first["cost"],
        first["slope"],
        second["step"],
        second["cost"],
        second["slope"],
        low=low,
        high=high,
    )
    insufficient = pt.and_(pt.invert(bracketing), state["insufficient"])
    safeguarded, insufficient = _away_from_ends(line, cubic, bottom, top, insufficient)
    return pt.switch(extrapolating, cubic, safeguarded), insufficient


# where a bracket end's new record comes from (see _pick)
_KEEP, _OTHER, _NEW, _START = 0, 1, 2, 3
_RECORD = ("step", "cost", "slope")


def _pick(source, keep, other, new, start=None):
    """The record (step, cost, slope) chosen by the scalar code ``source``.

    ``source`` is _KEEP, _OTHER, _NEW, or _START (only when ``start`` is
    given).
    """
    is_new, is_other = pt.eq(source, _NEW), pt.eq(source, _OTHER)
    picked = {}
    for key in _RECORD:
        kept = keep[key]
        if start is not None:
            kept = pt.switch(pt.eq(source, _START), start[key], kept)
        picked[key] = pt.switch(is_new, new[key], pt.switch(is_other, other[key], kept))
    return picked


def _start_record(line):
    """The record of the start, step 0."""
    return {"step": line.scalar(0), "cost": line.cost, "slope": line.slope}


def _away_from_ends(line, trial, bottom, top, insufficient):
    """torch's insufficient-progress safeguard of a zoom step in [bottom, top].

    A trial within 10% of the bracket's width from an end is kept the first
    time (and ``insufficient`` set); the next time, or when it is on or past
    an end, it moves to 10% of the width from the nearer end.
    """
    margin = line.scalar(0.1) * (top - bottom)
    near_end = pt.lt(python_min(top - trial, trial - bottom), margin)
    at_end = pt.or_(insufficient, pt.or_(pt.ge(trial, top), pt.le(trial, bottom)))
    moved = pt.switch(
        pt.lt(pt.abs(trial - top), pt.abs(trial - bottom)),
        top - margin,
        bottom + margin,
    )
    trial = pt.switch(pt.and_(near_end, at_end), moved, trial)
    return trial, pt.and_(near_end, pt.invert(at_end))


def strong_wolfe(c1=1e-4, c2=0.9, tolerance_change=1e-9, max_evals=26, mode=None):
    r"""The strong Wolfe search of ``torch.optim.LBFGS`` (minFunc, Lua ``lswolfe``).

    With :math:`\phi(\alpha) = f(x + \alpha d)`, a step is accepted when

    .. math::

        \phi(\alpha) \le \phi(0) + c_1 \alpha \phi'(0)
        \quad\text{and}\quad
        |\phi'(\alpha)| \le -c_2 \phi'(0).

    Bracketing from the initial step: a trial that fails the first
    condition (or, from the third trial on, is not lower than the previous
    one), or whose slope is non-negative, closes a bracket with the previous
    trial; otherwise the next trial is the minimiser of the cubic through
    the last two, within :math:`[\alpha + 0.01(\alpha - \alpha_{prev}),
    10\alpha]`. Zoom: the cubic minimiser within the bracket, moved to 10% of
    the bracket's width from its nearer end when it comes close to an end
    twice in a row (or lands on or past one); the trial replaces the high
    end when it fails the first condition or is not lower than the low end,
    else becomes the low end (the old low end becomes the high end when the
    slope points away from it). The zoom stops when the bracket times
    :math:`\max|d|` is shorter than ``tolerance_change``.

    When the budget runs out, or the bracket becomes too short, the lowest
    bracket end is returned, as in torch: ``success`` (the parameters move)
    when it is not the start, but ``converged`` is false. The start is one of
    the ends only when the first bracket starts at 0 or after ``max_evals``
    bracketing trials.

    Parameters
    ----------
    c1, c2 : float
        The sufficient decrease and curvature constants,
        :math:`0 < c_1 < c_2 < 1` (use ``c2=0.1`` for conjugate gradients).
    tolerance_change : float
        The shortest bracket, in units of :math:`\max|d|`.
    max_evals : int, default 26
        The most evaluations: torch's ``max_ls=25`` iterations after the
        first trial.
    mode : str, Mode or None
        The compilation mode of the search loop; see :class:`LineSearch`.

    Returns
    -------
    LineSearch

    Examples
    --------
    >>> from pytensor_optim.line_search import strong_wolfe
    >>> strong_wolfe(c2=0.1)
    strong_wolfe(c1=0.0001, c2=0.1, tolerance_change=1e-09, max_evals=26)
    """
    return _StrongWolfe(c1, c2, tolerance_change, max_evals, mode)
