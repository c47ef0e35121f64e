"""The Moré–Thuente line search: MINPACK-2's ``dcsrch`` and ``dcstep``."""

import numbers

import numpy as np
import pytensor.tensor as pt

from .._interpolate import python_max, python_min
from .._validate import check_range
from ._core import LineSearch, _check_fraction, _check_mode, check_max_evals

# MINPACK-2's constants: the extrapolation interval of an unbracketed step is
# [stp + XTRAPL (stp - stx), stp + XTRAPU (stp - stx)], and a bracket that
# has not shrunk below P66 of its width two iterations ago is bisected.
_XTRAPL, _XTRAPU, _P66 = 1.1, 4.0, 0.66

# Why a search ended: MINPACK-1's ``info`` numbering (3, the budget, is the
# driver's business: the state is then still _RUNNING).
_RUNNING, _CONVERGED, _XTOL, _AT_MIN, _AT_MAX, _ROUNDING = 0, 1, 2, 4, 5, 6


class _MoreThuente(LineSearch):
    name = "more_thuente"
    # A NaN or infinite trial is handled by the search (see more_thuente).
    stop_on_non_finite = False

    def __init__(self, c1, c2, xtol, min_step, max_step, max_evals, mode):
        self.mode = _check_mode(mode)
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

    def init(self, line):
        step_min, step_max = self._bounds(line)
        # dcsrch refuses a first step outside [stpmin, stpmax]; we clip it
        trial = python_min(python_max(line.initial_step, step_min), step_max)
        zero = line.scalar(0)
        width = step_max - step_min
        return {
            "trial": trial,
            "status": pt.constant(np.int8(_RUNNING)),
            "stage_two": pt.constant(np.bool_(False)),
            "bracketed": pt.constant(np.bool_(False)),
            # stx: the best step so far; sty: the other end of the interval
            "stx": zero,
            "fx": line.cost,
            "gx": line.slope,
            "sty": zero,
            "fy": line.cost,
            "gy": line.slope,
            "stmin": zero,
            "stmax": trial + line.scalar(_XTRAPU) * trial,
            "width": width,
            "width1": width / line.scalar(0.5),
            # the smallest step above stx whose value was not finite
            "ceiling": line.scalar(np.inf),
            # the cost evaluated at stx (fx may differ from it by the
            # rounding of the modified function's round trip)
            "best_cost": line.cost,
            # the point evaluated last
            "point_step": zero,
            "point_cost": line.cost,
            # the gradients at stx, or at the point returned once done
            "gradients": line.zeros(),
        }

    def done(self, line, state):
        return pt.neq(state["status"], _RUNNING)

    def result(self, line, state):
        returns_point = _returns_point(state["status"])
        step = pt.switch(returns_point, state["point_step"], state["stx"])
        cost = pt.switch(returns_point, state["point_cost"], state["best_cost"])
        # the parameters move only to a point lower than the start
        success = pt.and_(pt.gt(step, 0), pt.lt(cost, line.cost))
        converged = pt.eq(state["status"], _CONVERGED)
        return step, cost, state["gradients"], success, converged

    def step(self, line, state, point, evals):
        c2, xtol = line.scalar(self.c2), line.scalar(self.xtol)
        step_min, step_max = self._bounds(line)
        finit, ginit = line.cost, line.slope
        gtest = line.scalar(self.c1) * ginit
        stp, f, g = point.step, point.cost, point.slope
        bracketed = state["bracketed"]
        stx, fx, gx = state["stx"], state["fx"], state["gx"]
        sty, fy, gy = state["sty"], state["fy"], state["gy"]
        stmin, stmax = state["stmin"], state["stmax"]

        # Stage two starts once psi(stp) <= 0 and phi'(stp) >= 0.
        ftest = finit + stp * gtest
        stage_two = pt.or_(state["stage_two"], pt.and_(pt.le(f, ftest), pt.ge(g, 0)))

        # The warnings and convergence, later tests taking precedence.
        sufficient = pt.le(f, ftest)
        rounding = pt.and_(bracketed, pt.or_(pt.le(stp, stmin), pt.ge(stp, stmax)))
        too_narrow = pt.and_(bracketed, pt.le(stmax - stmin, xtol * stmax))
        at_max = pt.and_(pt.eq(stp, step_max), pt.and_(sufficient, pt.le(g, gtest)))
        at_min = pt.and_(
            pt.eq(stp, step_min),
            pt.or_(pt.invert(sufficient), pt.ge(g, gtest)),
        )
        converged = pt.and_(sufficient, pt.le(pt.abs(g), c2 * -ginit))
        status = pt.constant(np.int8(_RUNNING))
        for test, code in (
            (rounding, _ROUNDING),
            (too_narrow, _XTOL),
            (at_max, _AT_MAX),
            (at_min, _AT_MIN),
            (converged, _CONVERGED),
        ):
            status = pt.switch(test, np.int8(code), status)

        # In stage one, a point lower than stx that fails the sufficient
        # decrease moves the interval by the modified function
        # psi(a) = phi(a) - phi(0) - c1 a phi'(0): its values are shifted
        # by a c1 phi'(0), and shifted back after dcstep. (A shift of zero
        # leaves the values of phi exactly as they are.)
        modified = pt.and_(pt.invert(stage_two), pt.and_(pt.le(f, fx), pt.gt(f, ftest)))
        shift = pt.switch(modified, gtest, line.scalar(0))
        new = _dcstep(
            line,
            stx,
            fx - stx * shift,
            gx - shift,
            sty,
            fy - sty * shift,
            gy - shift,
            stp,
            f - stp * shift,
            g - shift,
            bracketed,
            stmin,
            stmax,
        )
        stx_new, sty_new = new["stx"], new["sty"]
        fx_new = new["fx"] + stx_new * shift
        fy_new = new["fy"] + sty_new * shift
        gx_new = new["gx"] + shift
        gy_new = new["gy"] + shift
        bracketed_new = new["bracketed"]
        candidate = new["step"]

        # Bisect when the bracket did not shrink enough in two iterations.
        spread = pt.abs(sty_new - stx_new)
        bisect = pt.and_(
            bracketed_new, pt.ge(spread, line.scalar(_P66) * state["width1"])
        )
        candidate = pt.switch(
            bisect, stx_new + line.scalar(0.5) * (sty_new - stx_new), candidate
        )
        width1 = pt.switch(bracketed_new, state["width"], state["width1"])
        width = pt.switch(bracketed_new, spread, state["width"])
        trial, stmin_new, stmax_new = _next_trial(
            line,
            candidate,
            stx_new,
            sty_new,
            bracketed_new,
            state["ceiling"],
            (step_min, step_max),
            xtol,
        )

        # A trial with a NaN or infinite value moves nothing: the next trial
        # is halfway back to stx, and no later trial goes as far again.
        finite = point.finite
        ceiling = pt.switch(
            pt.and_(pt.invert(finite), pt.gt(stp, stx)),
            python_min(state["ceiling"], stp),
            state["ceiling"],
        )
        retreat, stmin_retreat, stmax_retreat = _retreat(
            line, stp, stx, bracketed, stmin, stmax, (step_min, step_max), xtol
        )

        # the interval moves on only from a finite point that ended nothing
        tested = pt.and_(finite, pt.eq(status, _RUNNING))
        # dcstep's arithmetic can fail (SciPy's driver stops on a NaN step)
        status = pt.switch(
            pt.and_(tested, pt.invert(pt.isfinite(trial))),
            np.int8(_ROUNDING),
            pt.switch(finite, status, np.int8(_RUNNING)),
        )

        def moved(value, old):
            return pt.switch(tested, value, old)

        took_point = pt.and_(tested, new["took_step"])
        takes_point = pt.or_(took_point, pt.and_(finite, _returns_point(status)))
        return {
            "trial": pt.switch(finite, pt.switch(tested, trial, stp), retreat),
            "status": status,
            "stage_two": pt.switch(finite, stage_two, state["stage_two"]),
            "bracketed": moved(bracketed_new, bracketed),
            "stx": moved(stx_new, stx),
            "fx": moved(fx_new, fx),
            "gx": moved(gx_new, gx),
            "sty": moved(sty_new, sty),
            "fy": moved(fy_new, fy),
            "gy": moved(gy_new, gy),
            "stmin": pt.switch(finite, moved(stmin_new, stmin), stmin_retreat),
            "stmax": pt.switch(finite, moved(stmax_new, stmax), stmax_retreat),
            "width": moved(width, state["width"]),
            "width1": moved(width1, state["width1"]),
            "ceiling": ceiling,
            "best_cost": pt.switch(took_point, f, state["best_cost"]),
            "point_step": stp,
            "point_cost": pt.switch(finite, f, state["point_cost"]),
            "gradients": tuple(
                pt.switch(takes_point, new_gradient, old_gradient)
                for new_gradient, old_gradient in zip(
                    point.gradients, state["gradients"], strict=True
                )
            ),
        }


def _returns_point(status):
    """Whether the search reports the last point (else the best point stx)."""
    return pt.or_(
        pt.eq(status, _CONVERGED),
        pt.or_(pt.eq(status, _AT_MAX), pt.eq(status, _AT_MIN)),
    )


def _number(name, value):
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if np.isnan(value):
        raise ValueError(f"{name} must be a number, not NaN")
    return value


def _next_trial(line, candidate, stx, sty, bracketed, ceiling, bounds, xtol):
    """dcsrch's last lines: the interval for the next step, and the step.

    Before them, a step at or beyond the ``ceiling`` (a step where the
    values were not finite) becomes the midpoint of stx and the ceiling.
    Returns ``(trial, stmin, stmax)``.
    """
    step_min, step_max = bounds
    candidate = pt.switch(
        pt.ge(candidate, ceiling),
        stx + line.scalar(0.5) * (ceiling - stx),
        candidate,
    )
    stmin = pt.switch(
        bracketed,
        python_min(stx, sty),
        candidate + line.scalar(_XTRAPL) * (candidate - stx),
    )
    stmax = pt.switch(
        bracketed,
        python_max(stx, sty),
        candidate + line.scalar(_XTRAPU) * (candidate - stx),
    )
    trial = python_min(python_max(candidate, step_min), step_max)
    # no progress is possible: evaluate the best point again (MINPACK's
    # choice; the next call ends the search with a warning)
    stuck = _stuck(trial, stmin, stmax, bracketed, xtol)
    return pt.switch(stuck, stx, trial), stmin, stmax


def _retreat(line, stp, stx, bracketed, stmin, stmax, bounds, xtol):
    """The next trial after a trial ``stp`` whose values were not finite.

    Halfway back to stx. Once bracketed the interval stays; before, the
    extrapolation interval is set as ``dcsrch`` sets it at the start,
    ``[stx, trial + 4 (trial - stx)]``: a search whose first trials were
    not finite goes on as ``dcsrch`` started at its first finite trial.
    Returns ``(trial, stmin, stmax)``.
    """
    step_min, step_max = bounds
    candidate = stx + line.scalar(0.5) * (stp - stx)
    trial = python_min(python_max(candidate, step_min), step_max)
    stmin = pt.switch(bracketed, stmin, stx)
    stmax = pt.switch(bracketed, stmax, trial + line.scalar(_XTRAPU) * (trial - stx))
    return (
        pt.switch(_stuck(trial, stmin, stmax, bracketed, xtol), stx, trial),
        stmin,
        stmax,
    )


def _stuck(trial, stmin, stmax, bracketed, xtol):
    """dcsrch's test that no progress is possible within the bracket."""
    return pt.and_(
        bracketed,
        pt.or_(
            pt.or_(pt.le(trial, stmin), pt.ge(trial, stmax)),
            pt.le(stmax - stmin, xtol * stmax),
        ),
    )


def _cubic_gamma(theta, slope_a, slope_b, clamp):
    """dcstep's ``s*sqrt((theta/s)**2 - (a/s)*(b/s))``, scaled against overflow.

    With ``clamp`` (a boolean tensor) the radicand is first raised to 0.
    """
    scale = python_max(python_max(pt.abs(theta), pt.abs(slope_a)), pt.abs(slope_b))
    radicand = (theta / scale) ** 2 - (slope_a / scale) * (slope_b / scale)
    radicand = pt.switch(clamp, python_max(radicand, 0), radicand)
    return scale * pt.sqrt(radicand)


def _dcstep(line, stx, fx, dx, sty, fy, dy, stp, fp, dp, bracketed, stpmin, stpmax):
    """MINPACK-2's ``dcstep`` on scalar tensors: the new interval and step.

    stx is the best step (value fx, slope dx), sty the other end of the
    interval, stp the step just evaluated; [stpmin, stpmax] bounds the new
    step while no minimiser is bracketed. Every case is computed and the
    one that applies is selected.
    """
    p66 = line.scalar(_P66)
    sgnd = dp * (dx / pt.abs(dx))
    higher = pt.gt(fp, fx)
    opposite = pt.and_(pt.invert(higher), pt.lt(sgnd, 0))
    smaller = pt.and_(
        pt.invert(pt.or_(higher, opposite)), pt.lt(pt.abs(dp), pt.abs(dx))
    )

    # Cases 1-3: the cubic through stx and stp.
    theta = 3 * (fx - fp) / (stp - stx) + dx + dp
    gamma = _cubic_gamma(theta, dx, dp, clamp=smaller)
    gamma = pt.switch(
        pt.switch(higher, pt.lt(stp, stx), pt.gt(stp, stx)), -gamma, gamma
    )

    # Case 1, a higher value: the minimum is bracketed. The cubic step if
    # it is closer to stx than the quadratic step, else their average.
    p = (gamma - dx) + theta
    q = ((gamma - dx) + gamma) + dp
    stpc = stx + (p / q) * (stp - stx)
    stpq = stx + ((dx / ((fx - fp) / (stp - stx) + dx)) / 2) * (stp - stx)
    step_higher = pt.switch(
        pt.lt(pt.abs(stpc - stx), pt.abs(stpq - stx)),
        stpc,
        stpc + (stpq - stpc) / 2,
    )

    # Case 2, a lower value and slopes of opposite sign: bracketed. The
    # cubic step if it is farther from stp than the secant step, else the
    # secant step.
    p = (gamma - dp) + theta
    q = ((gamma - dp) + gamma) + dx
    stpc = stp + (p / q) * (stx - stp)
    secant = stp + (dp / (dp - dx)) * (stx - stp)
    step_opposite = pt.switch(
        pt.gt(pt.abs(stpc - stp), pt.abs(secant - stp)), stpc, secant
    )

    # Case 3, a lower value, slopes of the same sign, and a smaller slope.
    # The cubic step only if the cubic tends to infinity in the direction
    # of the step or its minimum is beyond stp; else the bound.
    q = (gamma + (dx - dp)) + gamma
    r = p / q
    stpc = pt.switch(
        pt.and_(pt.lt(r, 0), pt.neq(gamma, 0)),
        stp + r * (stx - stp),
        pt.switch(pt.gt(stp, stx), stpmax, stpmin),
    )
    closer = pt.lt(pt.abs(stpc - stp), pt.abs(secant - stp))
    farther = pt.gt(pt.abs(stpc - stp), pt.abs(secant - stp))
    # bracketed: the step closer to stp, kept within 0.66 of the way to sty
    inside = pt.switch(closer, stpc, secant)
    limit = stp + p66 * (sty - stp)
    inside = pt.switch(
        pt.gt(stp, stx), python_min(limit, inside), python_max(limit, inside)
    )
    # not bracketed: the step farther from stp, within [stpmin, stpmax]
    outside = pt.switch(farther, stpc, secant)
    outside = python_max(stpmin, python_min(stpmax, outside))
    step_smaller = pt.switch(bracketed, inside, outside)

    # Case 4, a lower value, slopes of the same sign, and a slope that does
    # not decrease: the cubic through stp and sty if bracketed, else a bound.
    theta = 3 * (fp - fy) / (sty - stp) + dy + dp
    gamma = _cubic_gamma(theta, dy, dp, clamp=pt.constant(np.bool_(False)))
    gamma = pt.switch(pt.gt(stp, sty), -gamma, gamma)
    p = (gamma - dp) + theta
    q = ((gamma - dp) + gamma) + dy
    step_larger = pt.switch(
        bracketed,
        stp + (p / q) * (sty - stp),
        pt.switch(pt.gt(stp, stx), stpmax, stpmin),
    )

    step = pt.switch(
        higher,
        step_higher,
        pt.switch(
            opposite, step_opposite, pt.switch(smaller, step_smaller, step_larger)
        ),
    )

    # The new interval: a higher point becomes sty; a lower one becomes
    # stx, and the old stx becomes sty when the slopes have opposite signs.
    new_x = pt.invert(higher)
    old_x_to_y = pt.and_(new_x, pt.lt(sgnd, 0))
    return {
        "stx": pt.switch(new_x, stp, stx),
        "fx": pt.switch(new_x, fp, fx),
        "gx": pt.switch(new_x, dp, dx),
        "sty": pt.switch(higher, stp, pt.switch(old_x_to_y, stx, sty)),
        "fy": pt.switch(higher, fp, pt.switch(old_x_to_y, fx, fy)),
        "gy": pt.switch(higher, dp, pt.switch(old_x_to_y, dx, dy)),
        "step": step,
        "bracketed": pt.or_(bracketed, pt.or_(higher, opposite)),
        "took_step": new_x,
    }


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
    * A trial where the cost or a gradient is NaN or infinite is rejected
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
