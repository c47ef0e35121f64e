"""The approximate Wolfe line search of Hager and Zhang (CG_DESCENT)."""

import numbers

import numpy as np
import pytensor.tensor as pt

from .._scan import check_mode
from .._validate import check_max_evals, check_range
from ._core import LineSearch, _check_fraction

# The stage a trial belongs to: expanding the initial bracket (B1-B3), the
# secant step of secant^2 (S1), its second secant step (S2-S4), or the
# bisection of a bracket that did not shrink enough (L2). Two more codes
# name the outcome of the steps that evaluate nothing: a trial is ready, or
# the bracket cannot be split any more.
_EXPAND, _SECANT, _SECOND_SECANT, _BISECT, _READY, _STOP = range(6)
# The most stages passed in one step without an evaluation: a second secant
# step outside the bracket, no bisection, a secant step outside the next
# bracket, then its bisection (inside, or the bracket cannot be split).
_SKIPS = 4
# the stage after an update of each stage ends
_FOLLOWING = {
    _EXPAND: _SECANT,
    _SECANT: _SECOND_SECANT,
    _SECOND_SECANT: _BISECT,
    _BISECT: _SECANT,
}
_RECORD = ("step", "slope")


def _number(name, value):
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    return float(value)


class _HagerZhang(LineSearch):
    name = "hager_zhang"
    # a NaN or infinite trial counts as too high: the bracket shrinks away
    # from it (update rule U3)
    stop_on_non_finite = False

    def __init__(self, c1, c2, epsilon, theta, gamma, expansion, max_evals, mode):
        self.mode = check_mode(mode)
        # the approximate Wolfe conditions need 2 c1 - 1 < 0
        self.c1 = _check_fraction("c1", c1, high=0.5)
        # delta <= sigma < 1 (Hager and Zhang allow equality)
        self.c2 = _number("c2", c2)
        check_range("c2", self.c2, low=self.c1, high=1.0, high_open=True)
        self.epsilon = _number("epsilon", epsilon)
        check_range("epsilon", self.epsilon, low=0.0)
        self.theta = _check_fraction("theta", theta)
        self.gamma = _check_fraction("gamma", gamma)
        self.expansion = _number("expansion", expansion)
        check_range("expansion", self.expansion, low=1.0, low_open=True)
        self.max_evals = check_max_evals(max_evals, "max_evals")

    def _options(self):
        return (
            ("c1", self.c1),
            ("c2", self.c2),
            ("epsilon", self.epsilon),
            ("theta", self.theta),
            ("gamma", self.gamma),
            ("expansion", self.expansion),
            ("max_evals", self.max_evals),
            *self._mode_option(),
        )

    def init(self, line):
        start = {"step": line.scalar(0), "slope": line.slope}
        no = pt.constant(np.bool_(False))
        return {
            "trial": line.initial_step,
            "stage": pt.constant(np.int8(_EXPAND)),
            # inside U3's weighted bisection (of an update, or of B2)
            "bisecting": no,
            "accepted": no,
            "done": no,
            # the bracket [a, b]; while expanding, a is the previous trial
            **{f"a_{key}": value for key, value in start.items()},
            **{f"b_{key}": value for key, value in start.items()},
            # the bracket at the start of the current secant^2 iteration
            **{f"a0_{key}": value for key, value in start.items()},
            **{f"b0_{key}": value for key, value in start.items()},
            # the accepted point, or else the lowest one evaluated
            "best_step": line.scalar(0),
            "best_cost": line.cost,
            "gradients": line.zeros(),
        }

    def done(self, line, state):
        return state["done"]

    def result(self, line, state):
        accepted = state["accepted"]
        success = pt.or_(accepted, pt.lt(state["best_cost"], line.cost))
        return (
            state["best_step"],
            state["best_cost"],
            state["gradients"],
            success,
            accepted,
        )

    def step(self, line, state, point, evals):
        scalar = line.scalar
        trial, finite = point.step, point.finite
        low = pt.and_(
            finite,
            pt.le(point.cost, line.cost + scalar(self.epsilon) * pt.abs(line.cost)),
        )
        accepted = self._acceptable(line, point, low)
        take = pt.or_(accepted, pt.and_(finite, pt.lt(point.cost, state["best_cost"])))
        gradients = tuple(
            pt.switch(take, new, old)
            for new, old in zip(point.gradients, state["gradients"], strict=True)
        )

        # The bracket. A trial with phi' >= 0 becomes b (B1, U1, and the end
        # of U3); one below phi(0) + eps_k with phi' < 0 becomes a (B3, U2,
        # U3b); one above (or not finite) becomes b and starts, or goes on
        # with, U3's bisection (U3c) -- from a = 0 while expanding (B2).
        stage, bisecting = state["stage"], state["bisecting"]
        expanding = pt.and_(pt.eq(stage, _EXPAND), pt.invert(bisecting))
        rising = pt.and_(finite, pt.ge(point.slope, 0))
        to_a = pt.and_(low, pt.invert(rising))
        from_start = pt.and_(expanding, pt.invert(pt.or_(to_a, rising)))
        new = {"step": trial, "slope": point.slope}
        start = {"step": scalar(0), "slope": line.slope}
        a = {
            key: pt.switch(
                to_a, new[key], pt.switch(from_start, start[key], state[f"a_{key}"])
            )
            for key in _RECORD
        }
        b = {key: pt.switch(to_a, state[f"b_{key}"], new[key]) for key in _RECORD}
        new_bisecting = pt.and_(pt.invert(rising), pt.or_(bisecting, pt.invert(low)))
        still_expanding = pt.and_(expanding, to_a)
        next_trial = pt.switch(
            new_bisecting,
            scalar(1 - self.theta) * a["step"] + scalar(self.theta) * b["step"],
            scalar(self.expansion) * trial,
        )

        # The trial that ends an update (or the initial bracket) hands over
        # to the next stage; S2/S3 follow a secant step that became b (U1)
        # or a (U2), not one that went through U3.
        finished = pt.invert(pt.or_(new_bisecting, still_expanding))
        following = pt.constant(np.int8(_SECANT))
        for this, then in _FOLLOWING.items():
            following = pt.switch(pt.eq(stage, this), then, following)
        second_from = {
            "b": pt.and_(rising, pt.invert(bisecting)),
            "a": pt.and_(to_a, pt.invert(bisecting)),
        }
        a0 = {key: state[f"a0_{key}"] for key in _RECORD}
        b0 = {key: state[f"b0_{key}"] for key in _RECORD}
        action, next_trial, stage, a0, b0 = self._skip_to_a_trial(
            line,
            pt.switch(finished, following, _READY),
            next_trial,
            pt.cast(stage, "int8"),
            a,
            b,
            a0,
            b0,
            second_from,
        )
        return {
            "trial": next_trial,
            "stage": stage,
            "bisecting": new_bisecting,
            "accepted": accepted,
            # not ready: the bracket cannot be split
            "done": pt.or_(accepted, pt.neq(action, _READY)),
            **{f"a_{key}": value for key, value in a.items()},
            **{f"b_{key}": value for key, value in b.items()},
            **{f"a0_{key}": value for key, value in a0.items()},
            **{f"b0_{key}": value for key, value in b0.items()},
            "best_step": pt.switch(take, trial, state["best_step"]),
            "best_cost": pt.switch(take, point.cost, state["best_cost"]),
            "gradients": gradients,
        }

    def _acceptable(self, line, point, low):
        """The Wolfe conditions (T1) or the approximate Wolfe conditions (T2)."""
        scalar = line.scalar
        slope0 = line.slope
        curvature = pt.ge(point.slope, scalar(self.c2) * slope0)
        decrease = pt.le(point.cost - line.cost, scalar(self.c1) * point.step * slope0)
        wolfe = pt.and_(pt.and_(point.finite, curvature), decrease)
        flat_enough = pt.ge(scalar(2 * self.c1 - 1) * slope0, point.slope)
        return pt.or_(wolfe, pt.and_(pt.and_(low, curvature), flat_enough))

    def _skip_to_a_trial(self, line, action, trial, stage, a, b, a0, b0, second_from):
        """Pass the stages that evaluate nothing until a trial is ready.

        ``action`` is the stage to enter (or ``_READY``). A secant step
        outside the bracket changes nothing (U0) and the next stage follows;
        so does a bracket that shrank enough (no bisection in L2). Returns
        ``(action, trial, stage, a0, b0)``: ``action`` is ``_READY``, or
        ``_STOP`` when the bracket cannot be split.
        """
        scalar = line.scalar
        for _ in range(_SKIPS):
            secant, second, bisect = (
                pt.eq(action, code) for code in (_SECANT, _SECOND_SECANT, _BISECT)
            )
            middle = scalar(0.5) * (a["step"] + b["step"])
            splittable = _inside(middle, a, b)
            # L1: an iteration of secant^2 starts from the bracket
            a0 = {key: pt.switch(secant, a[key], a0[key]) for key in _RECORD}
            b0 = {key: pt.switch(secant, b[key], b0[key]) for key in _RECORD}
            second_step = pt.switch(second_from["b"], _secant(b0, b), _secant(a0, a))
            candidate = pt.switch(
                secant, _secant(a, b), pt.switch(second, second_step, middle)
            )
            shrunk = pt.le(
                b["step"] - a["step"], scalar(self.gamma) * (b0["step"] - a0["step"])
            )
            proposed = pt.or_(
                pt.or_(
                    pt.and_(secant, splittable),
                    pt.and_(second, pt.or_(second_from["a"], second_from["b"])),
                ),
                pt.and_(bisect, pt.invert(shrunk)),
            )
            ready = pt.and_(proposed, _inside(candidate, a, b))
            trial = pt.switch(ready, candidate, trial)
            stage = pt.switch(ready, pt.cast(action, "int8"), stage)
            stopped = pt.and_(secant, pt.invert(splittable))
            skipped = pt.switch(bisect, _SECANT, _BISECT)
            action = pt.switch(
                pt.or_(secant, pt.or_(second, bisect)),
                pt.switch(ready, _READY, pt.switch(stopped, _STOP, skipped)),
                action,
            )
        return action, trial, stage, a0, b0


def _secant(a, b):
    r"""The secant step :math:`(a \phi'(b) - b \phi'(a)) / (\phi'(b) - \phi'(a))`."""
    return (a["step"] * b["slope"] - b["step"] * a["slope"]) / (b["slope"] - a["slope"])


def _inside(step, a, b):
    """Whether ``step`` lies strictly inside the bracket (false for NaN)."""
    return pt.and_(pt.lt(a["step"], step), pt.lt(step, b["step"]))


def hager_zhang(
    c1=0.1,
    c2=0.9,
    epsilon=1e-6,
    theta=0.5,
    gamma=0.66,
    expansion=5.0,
    max_evals=20,
    mode=None,
):
    r"""The approximate Wolfe line search of Hager and Zhang (CG_DESCENT).

    With :math:`\phi(\alpha) = f(x + \alpha d)`, a trial step is accepted
    when it satisfies the Wolfe conditions

    .. math::

        \phi(\alpha) - \phi(0) \le \delta \alpha \phi'(0)
        \quad\text{and}\quad
        \phi'(\alpha) \ge \sigma \phi'(0),

    or the *approximate Wolfe conditions*

    .. math::

        (2\delta - 1) \phi'(0) \ge \phi'(\alpha) \ge \sigma \phi'(0)
        \quad\text{and}\quad
        \phi(\alpha) \le \phi(0) + \epsilon_k,
        \qquad \epsilon_k = \epsilon |\phi(0)|,

    which replace the sufficient decrease test by one on the slope, accurate
    where :math:`\phi(\alpha) - \phi(0)` is lost in rounding [1]_.

    Parameters
    ----------
    c1 : float, default 0.1
        :math:`\delta`, :math:`0 < \delta < 1/2`.
    c2 : float, default 0.9
        :math:`\sigma`, :math:`\delta \le \sigma < 1`.
    epsilon : float, default 1e-6
        :math:`\epsilon \ge 0`: how far above :math:`\phi(0)`, relative to
        :math:`|\phi(0)|`, the approximate conditions and the bracket's
        lower end may go.
    theta : float, default 0.5
        :math:`\theta \in (0, 1)`, the weight of the bisection of U3.
    gamma : float, default 0.66
        :math:`\gamma \in (0, 1)`: an iteration of secant² that leaves a
        bracket longer than :math:`\gamma` times the previous one is followed
        by a bisection.
    expansion : float, default 5
        :math:`\rho > 1`, the factor that expands the initial bracket.
    max_evals : int, default 20
        The most evaluations (mize's ``ls_max_fn``).
    mode : str, Mode or None
        The compilation mode of the search loop; see :class:`LineSearch`.

    Returns
    -------
    LineSearch

    Notes
    -----
    The defaults are those of the paper and of CG_DESCENT [1]_ [2]_
    (:math:`\delta = 0.1`, :math:`\sigma = 0.9`, :math:`\epsilon = 10^{-6}`,
    :math:`\theta = 0.5`, :math:`\gamma = 0.66`, :math:`\rho = 5`); mize
    uses ``c1=1e-4``, and ``c2=0.9`` for Newton and quasi-Newton methods,
    0.1 otherwise. A rule may ask for its own ``c2``
    (``get_line_search("hager_zhang", c2=0.1)``): :math:`\sigma = \delta`
    is allowed, as in the paper.

    The search keeps a bracket :math:`[a, b]` with :math:`\phi'(a) < 0`,
    :math:`\phi(a) \le \phi(0) + \epsilon_k` and :math:`\phi'(b) \ge 0`.
    Every evaluated trial is tested first, and the first that satisfies
    either set of conditions ends the search.

    *Initial bracket* from the initial step :math:`c`: if
    :math:`\phi'(c) \ge 0`, :math:`[a, b]` is the previous trial (or 0) and
    :math:`c` (B1); else if :math:`\phi(c) > \phi(0) + \epsilon_k`, the
    bisection U3 on :math:`[0, c]` (B2); else the next trial is
    :math:`\rho c` (B3).

    *Update* of :math:`[a, b]` by a step :math:`c`: nothing if
    :math:`c \notin (a, b)` (U0, no evaluation); :math:`[a, c]` if
    :math:`\phi'(c) \ge 0` (U1); :math:`[c, b]` if
    :math:`\phi(c) \le \phi(0) + \epsilon_k` (U2); otherwise (U3) the
    bisection of :math:`[\hat a, \hat b] = [a, c]` at
    :math:`d = (1 - \theta)\hat a + \theta \hat b`: it ends with
    :math:`[\hat a, d]` when :math:`\phi'(d) \ge 0`, and else replaces
    :math:`\hat a` (if :math:`\phi(d) \le \phi(0) + \epsilon_k`) or
    :math:`\hat b` by :math:`d`.

    *Secant²* of :math:`[a, b]`: the update :math:`[A, B]` by the secant
    step :math:`c = (a\phi'(b) - b\phi'(a)) / (\phi'(b) - \phi'(a))`; if
    :math:`c = B` (U1) a second update by the secant step of :math:`b` and
    :math:`B`, if :math:`c = A` (U2) by that of :math:`a` and :math:`A`.
    Each iteration is one secant², then, if the bracket did not shrink to
    :math:`\gamma` times its length, an update by its midpoint.

    Choices where the paper is silent, or different from it:

    * the budget: after ``max_evals`` evaluations without an acceptable
      trial, the search returns the lowest point it evaluated if it is
      lower than :math:`\phi(0)` (``success``: the parameters move, but
      ``converged`` is false), and fails otherwise; the same happens when
      the bracket can no longer be split (its midpoint is not strictly
      inside). mize returns the lower end of the bracket, which is never
      lower than the lowest point evaluated;
    * a NaN or infinite trial counts as one above :math:`\phi(0) +
      \epsilon_k` with :math:`\phi' < 0`: the bracket shrinks away from it
      (B2 or U3) and the search goes on;
    * both sets of conditions are tested from the first search on;
      CG_DESCENT turns to the approximate ones only once the cost changes
      little between iterations;
    * the first trial is the rule's initial step; the paper's choice of it
      (I0--I2) belongs to the rule's step initialisation.

    References
    ----------
    .. [1] Hager, W. W., Zhang, H. (2005). A new conjugate gradient method
       with guaranteed descent and an efficient line search. SIAM Journal
       on Optimization 16(1), 170--192.
    .. [2] Hager, W. W., Zhang, H. (2006). Algorithm 851: CG_DESCENT, a
       conjugate gradient method with guaranteed descent. ACM Transactions
       on Mathematical Software 32(1), 113--137.

    Examples
    --------
    >>> from pytensor_optim.line_search import hager_zhang
    >>> hager_zhang(c2=0.1)  # doctest: +NORMALIZE_WHITESPACE
    hager_zhang(c1=0.1, c2=0.1, epsilon=1e-06, theta=0.5, gamma=0.66,
                expansion=5.0, max_evals=20)
    """
    return _HagerZhang(c1, c2, epsilon, theta, gamma, expansion, max_evals, mode)
