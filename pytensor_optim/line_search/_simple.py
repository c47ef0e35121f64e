"""Armijo backtracking and the constant step."""

import numpy as np
import pytensor.tensor as pt

from .._scan import check_mode
from .._validate import check_max_evals
from ._core import LineSearch, _check_fraction


class _Backtracking(LineSearch):
    name = "backtracking"
    stop_on_non_finite = False

    def __init__(self, c1, shrink, max_evals, mode):
        self.mode = check_mode(mode)
        self.c1 = _check_fraction("c1", c1)
        self.shrink = _check_fraction("shrink", shrink)
        self.max_evals = check_max_evals(max_evals, "max_evals")

    def _options(self):
        return (
            ("c1", self.c1),
            ("shrink", self.shrink),
            ("max_evals", self.max_evals),
            *self._mode_option(),
        )

    def init(self, line):
        start = line.start()
        return {
            "trial": line.initial_step,
            "accepted": pt.constant(np.bool_(False)),
            "step": start.step,
            "cost": start.cost,
            "gradients": line.zeros(),
        }

    def step(self, line, state, point, evals):
        bound = line.cost + line.scalar(self.c1) * point.step * line.slope
        # NaN compares false: a non-finite trial is rejected and shrunk
        accepted = pt.and_(point.finite, pt.le(point.cost, bound))
        return {
            "trial": point.step * line.scalar(self.shrink),
            "accepted": accepted,
            "step": point.step,
            "cost": point.cost,
            "gradients": point.gradients,
        }

    def done(self, line, state):
        return state["accepted"]

    def result(self, line, state):
        accepted = state["accepted"]
        return state["step"], state["cost"], state["gradients"], accepted, accepted


def backtracking(c1=1e-4, shrink=0.5, max_evals=20, mode=None):
    r"""Armijo backtracking: shrink the step until the cost decreases enough.

    Trials :math:`\alpha_k = \alpha_0 \rho^k` (``shrink`` :math:`= \rho`)
    until

    .. math:: \phi(\alpha_k) \le \phi(0) + c_1 \alpha_k \phi'(0),

    which is mize's ``backtracking`` with a fixed ``step_down`` factor
    (minFunc's ``ArmijoBacktrack`` without interpolation). A NaN or infinite
    trial is rejected like one that fails the condition. Unlike mize, the
    factor is used as given (mize caps it at 0.6) and no minimum step ends
    the search early: it fails when ``max_evals`` trials were rejected.

    Parameters
    ----------
    c1 : float
        The sufficient decrease constant, :math:`0 < c_1 < 1`.
    shrink : float
        :math:`0 < \rho < 1`.
    max_evals : int, default 20
        The most evaluations (mize's ``ls_max_fn``).
    mode : str, Mode or None
        The compilation mode of the search loop; see :class:`LineSearch`.

    Returns
    -------
    LineSearch

    Examples
    --------
    >>> from pytensor_optim.line_search import backtracking
    >>> backtracking(shrink=0.3)
    backtracking(c1=0.0001, shrink=0.3, max_evals=20)
    """
    return _Backtracking(c1, shrink, max_evals, mode)


# ---- constant step -------------------------------------------------------------
class _Constant(LineSearch):
    name = "constant"
    max_evals = 1

    def init(self, line):
        start = line.start()
        return {
            "trial": line.initial_step,
            "step": start.step,
            "cost": start.cost,
            "gradients": line.zeros(),
        }

    def step(self, line, state, point, evals):
        return {
            "trial": point.step,
            "step": point.step,
            "cost": point.cost,
            "gradients": point.gradients,
        }

    def done(self, line, state):
        return pt.constant(np.bool_(True))

    def result(self, line, state):
        yes = pt.constant(np.bool_(True))
        return state["step"], state["cost"], state["gradients"], yes, yes


def constant():
    r"""The initial step, always accepted: :math:`\alpha = \alpha_0`.

    One evaluation, at :math:`x + \alpha_0 d`: the rule keeps the cost and
    gradients found there for its next call, so a rule with this search
    evaluates once per call like a first-order rule, only at the end of the
    call instead of its start. A NaN or infinite value there ends the search
    with ``non_finite`` (the parameters do not move).

    Returns
    -------
    LineSearch

    Examples
    --------
    >>> from pytensor_optim.line_search import constant
    >>> constant()
    constant()
    """
    return _Constant()
