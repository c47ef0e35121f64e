"""One iteration of MINPACK-2's ``dcsrch`` (with ``dcstep``) as one graph node.

Written with PyTensor's scalar operations, an iteration of the Moré–Thuente
search is some two hundred nodes, and its state some twenty scalars that a
``scan`` carries one by one: under Numba every scalar state is a 0-d array
made anew at each evaluation, and on a small problem the search then costs
more than the rest of an L-BFGS iteration. :class:`DcsrchStep` takes the
search's state packed in one vector and computes the iteration in one node:

- for the Numba backend and for ``perform`` (the C VM and the Python
  linkers), one kernel compiled by Numba (a dependency of PyTensor), with
  IEEE arithmetic (no fast-math) in the state's dtype;
- for the JAX backend, the same iteration written with PyTensor's
  operations (:func:`symbolic_step`), the node's inner graph: the node is an
  :class:`~pytensor.compile.builders.OpFromGraph`.

The kernel computes what the inner graph computes, operation for operation,
so the two agree to the bit (``tests/test_dcsrch.py`` checks it, on every
branch, in float64 and float32).
"""

import functools

import numpy as np
import pytensor.tensor as pt
from pytensor.compile.builders import OpFromGraph

from .._interpolate import python_max, python_min
from .._kernels import backend_kernel, cache_key, compiled

__all__ = [
    "FIELDS",
    "DcsrchStep",
    "dcsrch_step",
    "packed_graph",
    "returns_point",
    "symbolic_step",
]

# MINPACK-2's constants: the extrapolation interval of an unbracketed step is
# [stp + XTRAPL (stp - stx), stp + XTRAPU (stp - stx)], and a bracket that
# has not shrunk below P66 of its width two iterations ago is bisected.
XTRAPL, XTRAPU, P66 = 1.1, 4.0, 0.66

# Why a search ended: MINPACK-1's ``info`` numbering (3, the budget, is the
# driver's business: the state is then still RUNNING).
RUNNING, CONVERGED, XTOL, AT_MIN, AT_MAX, ROUNDING = 0, 1, 2, 4, 5, 6

# the module's constants, which the kernel reads: part of its compiled code
CONSTANTS = (XTRAPL, XTRAPU, P66, RUNNING, CONVERGED, XTOL, AT_MIN, AT_MAX, ROUNDING)

# The packed state, in the line's dtype (the two flags as 0 or 1):
FIELDS = (
    "stage_two",
    "bracketed",
    # stx: the best step so far; sty: the other end of the interval
    "stx",
    "fx",
    "gx",
    "sty",
    "fy",
    "gy",
    "stmin",
    "stmax",
    "width",
    "width1",
    # the smallest step above stx whose value was not finite
    "ceiling",
    # the cost evaluated at stx (fx may differ from it by the rounding of
    # the modified function's round trip)
    "best_cost",
    # the point evaluated last
    "point_step",
    "point_cost",
)
_FLAGS = ("stage_two", "bracketed")


def returns_point(status):
    """Whether the search reports the last point (else the best point stx)."""
    return pt.or_(
        pt.eq(status, CONVERGED),
        pt.or_(pt.eq(status, AT_MAX), pt.eq(status, AT_MIN)),
    )


def symbolic_step(state, point, line_start, options):
    """One iteration of ``dcsrch`` with PyTensor's operations.

    ``state`` maps :data:`FIELDS` to scalars (the flags boolean); ``point``
    is ``(step, cost, slope, finite)`` of the trial just evaluated;
    ``line_start`` is ``(cost, slope)`` at step 0;
    ``options`` is ``(c1, c2, xtol, min_step, max_step)``, scalars of the
    line's dtype. Returns ``(trial, status, state, takes_point)``:
    ``takes_point`` tells whether the gradients to keep are the trial's.
    """
    stp, f, g, finite = point
    finit, ginit = line_start
    c1, c2, xtol, step_min, step_max = options
    bounds = (step_min, step_max)

    def scalar(value):
        # a constant of the step's dtype (no float64 node in a float32 graph)
        return pt.constant(np.asarray(value, dtype=stp.dtype))

    # a cost above an eighth of the dtype's largest number would overflow
    # dcstep's arithmetic (3 (fx - fp)): too far, as a non-finite one
    finite = pt.and_(finite, pt.isfinite(scalar(8) * f))

    gtest = c1 * ginit
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
    new_status = pt.constant(np.int8(RUNNING))
    for test, code in (
        (rounding, ROUNDING),
        (too_narrow, XTOL),
        (at_max, AT_MAX),
        (at_min, AT_MIN),
        (converged, CONVERGED),
    ):
        new_status = pt.switch(test, np.int8(code), new_status)

    # In stage one, a point lower than stx that fails the sufficient
    # decrease moves the interval by the modified function
    # psi(a) = phi(a) - phi(0) - c1 a phi'(0): its values are shifted
    # by a c1 phi'(0), and shifted back after dcstep. (A shift of zero
    # leaves the values of phi exactly as they are.)
    modified = pt.and_(pt.invert(stage_two), pt.and_(pt.le(f, fx), pt.gt(f, ftest)))
    shift = pt.switch(modified, gtest, scalar(0))
    new = _dcstep(
        scalar,
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
    bisect = pt.and_(bracketed_new, pt.ge(spread, scalar(P66) * state["width1"]))
    candidate = pt.switch(
        bisect, stx_new + scalar(0.5) * (sty_new - stx_new), candidate
    )
    width1 = pt.switch(bracketed_new, state["width"], state["width1"])
    width = pt.switch(bracketed_new, spread, state["width"])
    trial, stmin_new, stmax_new = _next_trial(
        scalar,
        candidate,
        stx_new,
        sty_new,
        bracketed_new,
        state["ceiling"],
        bounds,
        xtol,
    )

    # A trial with a NaN or infinite value moves nothing: the next trial
    # is halfway back to stx, and no later trial goes as far again.
    ceiling = pt.switch(
        pt.and_(pt.invert(finite), pt.gt(stp, stx)),
        python_min(state["ceiling"], stp),
        state["ceiling"],
    )
    retreat, stmin_retreat, stmax_retreat = _retreat(
        scalar, stp, stx, bracketed, stmin, stmax, bounds, xtol
    )

    # the interval moves on only from a finite point that ended nothing
    tested = pt.and_(finite, pt.eq(new_status, RUNNING))
    # dcstep's arithmetic can fail (SciPy's driver stops on a NaN step)
    new_status = pt.switch(
        pt.and_(tested, pt.invert(pt.isfinite(trial))),
        np.int8(ROUNDING),
        pt.switch(finite, new_status, np.int8(RUNNING)),
    )

    def moved(value, old):
        return pt.switch(tested, value, old)

    took_point = pt.and_(tested, new["took_step"])
    takes_point = pt.or_(took_point, pt.and_(finite, returns_point(new_status)))
    new_state = {
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
    }
    next_trial = pt.switch(finite, pt.switch(tested, trial, stp), retreat)
    return next_trial, new_status, new_state, takes_point


def _next_trial(scalar, candidate, stx, sty, bracketed, ceiling, bounds, xtol):
    """dcsrch's last lines: the interval for the next step, and the step.

    Before them, a step at or beyond the ``ceiling`` (a step where the
    values were not finite) becomes the midpoint of stx and the ceiling.
    Returns ``(trial, stmin, stmax)``.
    """
    step_min, step_max = bounds
    candidate = pt.switch(
        pt.ge(candidate, ceiling),
        stx + scalar(0.5) * (ceiling - stx),
        candidate,
    )
    stmin = pt.switch(
        bracketed,
        python_min(stx, sty),
        candidate + scalar(XTRAPL) * (candidate - stx),
    )
    stmax = pt.switch(
        bracketed,
        python_max(stx, sty),
        candidate + scalar(XTRAPU) * (candidate - stx),
    )
    trial = python_min(python_max(candidate, step_min), step_max)
    # no progress is possible: evaluate the best point again (MINPACK's
    # choice; the next call ends the search with a warning)
    stuck = _stuck(trial, stmin, stmax, bracketed, xtol)
    return pt.switch(stuck, stx, trial), stmin, stmax


def _retreat(scalar, stp, stx, bracketed, stmin, stmax, bounds, xtol):
    """The next trial after a trial ``stp`` whose values were not finite.

    Halfway back to stx. Once bracketed the interval stays; before, the
    extrapolation interval is set as ``dcsrch`` sets it at the start,
    ``[stx, trial + 4 (trial - stx)]``: a search whose first trials were
    not finite goes on as ``dcsrch`` started at its first finite trial.
    Returns ``(trial, stmin, stmax)``.
    """
    step_min, step_max = bounds
    candidate = stx + scalar(0.5) * (stp - stx)
    trial = python_min(python_max(candidate, step_min), step_max)
    stmin = pt.switch(bracketed, stmin, stx)
    stmax = pt.switch(bracketed, stmax, trial + scalar(XTRAPU) * (trial - stx))
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
    radicand = pt.sqr(theta / scale) - (slope_a / scale) * (slope_b / scale)
    radicand = pt.switch(clamp, python_max(radicand, 0), radicand)
    return scale * pt.sqrt(radicand)


def _dcstep(scalar, stx, fx, dx, sty, fy, dy, stp, fp, dp, bracketed, stpmin, stpmax):
    """MINPACK-2's ``dcstep`` on scalar tensors: the new interval and step.

    stx is the best step (value fx, slope dx), sty the other end of the
    interval, stp the step just evaluated; [stpmin, stpmax] bounds the new
    step while no minimiser is bracketed. Every case is computed and the
    one that applies is selected.
    """
    p66 = scalar(P66)
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


def _kernel(state, stp, f, g, finite, finit, ginit, c1, c2, xtol, step_min, step_max):
    """:func:`symbolic_step` on the packed state, operation for operation.

    Numba-compilable; every scalar is in the dtype of ``state``, and each
    branch computes what the inner graph selects in that case. Returns
    ``(trial, status, state, takes_point)``.
    """
    real = state.dtype.type
    zero, one, half, two, three = real(0), real(1), real(0.5), real(2), real(3)
    p66, xtrapl, xtrapu = real(P66), real(XTRAPL), real(XTRAPU)

    # Python's min and max (the second only when it is smaller or larger)
    def smaller_of(a, b):
        return b if b < a else a

    def larger_of(a, b):
        return b if b > a else a

    def cubic_gamma(theta, slope_a, slope_b, clamp):
        scale = larger_of(larger_of(abs(theta), abs(slope_a)), abs(slope_b))
        ratio = theta / scale
        radicand = ratio * ratio - (slope_a / scale) * (slope_b / scale)
        if clamp:
            radicand = larger_of(radicand, zero)
        return scale * np.sqrt(radicand)

    def stuck(trial, low, high, bracketed):
        return bracketed and (
            trial <= low or trial >= high or high - low <= xtol * high
        )

    bracketed = state[1] != 0
    stx, fx, gx = state[2], state[3], state[4]
    sty, fy, gy = state[5], state[6], state[7]
    stmin, stmax = state[8], state[9]
    new = state.copy()
    # the flags as the inner graph stores them, 1 for any nonzero value
    new[0] = one if state[0] != 0 else zero
    new[1] = one if bracketed else zero
    new[14] = stp

    # a cost above an eighth of the dtype's largest number would overflow
    # dcstep's arithmetic (3 (fx - fp)): too far, as a non-finite one
    if not finite or not np.isfinite(real(8) * f):
        if stp > stx:
            new[12] = smaller_of(state[12], stp)
        trial = smaller_of(larger_of(stx + half * (stp - stx), step_min), step_max)
        if not bracketed:
            new[8] = stx
            new[9] = trial + xtrapu * (trial - stx)
        if stuck(trial, new[8], new[9], bracketed):
            trial = stx
        return trial, np.int8(RUNNING), new, False

    new[15] = f
    gtest = c1 * ginit
    ftest = finit + stp * gtest
    sufficient = f <= ftest
    stage_two = state[0] != 0 or (sufficient and g >= zero)
    new[0] = one if stage_two else zero
    if sufficient and abs(g) <= c2 * -ginit:
        status = CONVERGED
    elif stp == step_min and (not sufficient or g >= gtest):
        status = AT_MIN
    elif stp == step_max and sufficient and g <= gtest:
        status = AT_MAX
    elif bracketed and stmax - stmin <= xtol * stmax:
        status = XTOL
    elif bracketed and (stp <= stmin or stp >= stmax):
        status = ROUNDING
    else:
        status = RUNNING
    if status != RUNNING:
        takes_point = status == CONVERGED or status == AT_MAX or status == AT_MIN
        return stp, np.int8(status), new, takes_point

    # dcstep, on the values of psi when modified
    shift = gtest if not stage_two and f <= fx and f > ftest else zero
    fx, gx = fx - stx * shift, gx - shift
    fy, gy = fy - sty * shift, gy - shift
    fp, dp = f - stp * shift, g - shift
    sgnd = dp * (gx / abs(gx))
    higher = fp > fx
    opposite = not higher and sgnd < zero
    theta = three * (fx - fp) / (stp - stx) + gx + dp
    if higher:
        gamma = cubic_gamma(theta, gx, dp, False)
        if stp < stx:
            gamma = -gamma
        p = (gamma - gx) + theta
        q = ((gamma - gx) + gamma) + dp
        stpc = stx + (p / q) * (stp - stx)
        stpq = stx + ((gx / ((fx - fp) / (stp - stx) + gx)) / two) * (stp - stx)
        if abs(stpc - stx) < abs(stpq - stx):
            step = stpc
        else:
            step = stpc + (stpq - stpc) / two
    elif opposite:
        gamma = cubic_gamma(theta, gx, dp, False)
        if stp > stx:
            gamma = -gamma
        p = (gamma - dp) + theta
        q = ((gamma - dp) + gamma) + gx
        stpc = stp + (p / q) * (stx - stp)
        secant = stp + (dp / (dp - gx)) * (stx - stp)
        step = stpc if abs(stpc - stp) > abs(secant - stp) else secant
    elif abs(dp) < abs(gx):
        gamma = cubic_gamma(theta, gx, dp, True)
        if stp > stx:
            gamma = -gamma
        p = (gamma - dp) + theta
        q = (gamma + (gx - dp)) + gamma
        r = p / q
        if r < zero and gamma != zero:
            stpc = stp + r * (stx - stp)
        else:
            stpc = stmax if stp > stx else stmin
        secant = stp + (dp / (dp - gx)) * (stx - stp)
        if bracketed:
            step = stpc if abs(stpc - stp) < abs(secant - stp) else secant
            limit = stp + p66 * (sty - stp)
            if stp > stx:
                step = smaller_of(limit, step)
            else:
                step = larger_of(limit, step)
        else:
            step = stpc if abs(stpc - stp) > abs(secant - stp) else secant
            step = larger_of(stmin, smaller_of(stmax, step))
    else:
        theta = three * (fp - fy) / (sty - stp) + gy + dp
        gamma = cubic_gamma(theta, gy, dp, False)
        if stp > sty:
            gamma = -gamma
        p = (gamma - dp) + theta
        q = ((gamma - dp) + gamma) + gy
        if bracketed:
            step = stp + (p / q) * (sty - stp)
        else:
            step = stmax if stp > stx else stmin
    if higher:
        sty, fy, gy = stp, fp, dp
    else:
        if sgnd < zero:
            sty, fy, gy = stx, fx, gx
        stx, fx, gx = stp, fp, dp
    bracketed = bracketed or higher or opposite
    # back from psi to phi
    fx, fy, gx, gy = fx + stx * shift, fy + sty * shift, gx + shift, gy + shift

    # Bisect when the bracket did not shrink enough in two iterations.
    spread = abs(sty - stx)
    if bracketed and spread >= p66 * state[11]:
        step = stx + half * (sty - stx)
    if bracketed:
        new[11] = state[10]
        new[10] = spread
    if step >= state[12]:
        step = stx + half * (state[12] - stx)
    if bracketed:
        stmin, stmax = smaller_of(stx, sty), larger_of(stx, sty)
    else:
        stmin = step + xtrapl * (step - stx)
        stmax = step + xtrapu * (step - stx)
    trial = smaller_of(larger_of(step, step_min), step_max)
    if stuck(trial, stmin, stmax, bracketed):
        trial = stx
    status = RUNNING if np.isfinite(trial) else ROUNDING
    new[1] = one if bracketed else zero
    new[2], new[3], new[4] = stx, fx, gx
    new[5], new[6], new[7] = sty, fy, gy
    new[8], new[9] = stmin, stmax
    if not higher:
        new[13] = f
    return trial, np.int8(status), new, not higher


class DcsrchStep(OpFromGraph):
    """One iteration of ``dcsrch``: an ``OpFromGraph`` of :func:`symbolic_step`
    whose ``perform`` and Numba implementation run its kernel.

    Inputs: the packed state (a vector of :data:`FIELDS`); the trial's step,
    cost, slope and finiteness; the cost and slope at step 0; ``c1``,
    ``c2``, ``xtol``, ``min_step`` and ``max_step``. Outputs: the next
    trial, the int8 status, the packed state and ``takes_point``. Build it
    with :func:`dcsrch_step`.
    """

    def perform(self, node, inputs, output_storage):
        state, *scalars = inputs
        trial, status, new, takes_point = compiled(_kernel)(
            state, *(scalar[()] for scalar in scalars)
        )
        output_storage[0][0] = np.asarray(trial, dtype=state.dtype)
        output_storage[1][0] = np.asarray(status, dtype=np.int8)
        output_storage[2][0] = new
        output_storage[3][0] = np.asarray(takes_point, dtype=bool)


def packed_graph(dtype):
    """The node's inner graph, built anew: ``(inputs, outputs)`` of
    :func:`symbolic_step` on the packed state (see :class:`DcsrchStep`)."""
    state = pt.vector("state", dtype=dtype, shape=(len(FIELDS),))
    stp, f, g, finit, ginit, c1, c2, xtol, step_min, step_max = (
        pt.scalar(name, dtype=dtype)
        for name in (
            "step",
            "cost",
            "slope",
            "start_cost",
            "start_slope",
            "c1",
            "c2",
            "xtol",
            "min_step",
            "max_step",
        )
    )
    finite = pt.scalar("finite", dtype="bool")
    fields = {name: state[i] for i, name in enumerate(FIELDS)}
    for name in _FLAGS:
        fields[name] = pt.neq(fields[name], 0)
    trial, status, new, takes_point = symbolic_step(
        fields,
        (stp, f, g, finite),
        (finit, ginit),
        (c1, c2, xtol, step_min, step_max),
    )
    packed = pt.stack([pt.cast(new[name], dtype) for name in FIELDS])
    inputs = [state, stp, f, g, finite, finit, ginit, c1, c2, xtol, step_min, step_max]
    outputs = [trial, status, packed, takes_point]
    return inputs, outputs


@functools.cache
def _dcsrch_step_op(dtype):
    return DcsrchStep(*packed_graph(dtype), name="DcsrchStep")


def dcsrch_step(state, point, line_start, options):
    """:class:`DcsrchStep` applied: ``(trial, status, state, takes_point)``.

    ``state`` is the packed state; ``point`` is ``(step, cost, slope,
    finite)``; ``line_start`` ``(cost, slope)`` at step 0; ``options``
    ``(c1, c2, xtol, min_step, max_step)``, all scalars cast to the dtype
    of ``state``.
    """
    dtype = state.dtype
    stp, f, g, finite = point
    scalars = [pt.cast(value, dtype) for value in (stp, f, g)]
    scalars.append(pt.as_tensor_variable(finite))
    scalars.extend(pt.cast(value, dtype) for value in (*line_start, *options))
    return _dcsrch_step_op(dtype)(state, *scalars)


def register_numba():
    """Register :class:`DcsrchStep` with PyTensor's Numba dispatch (idempotent)."""
    from pytensor.link.numba.dispatch import basic as numba_basic

    registry = numba_basic.numba_funcify_and_cache_key
    if DcsrchStep in registry.registry:
        return
    kernel = backend_kernel(_kernel)

    def dcsrch_node(state, stp, f, g, finite, finit, ginit, c1, c2, xtol, lo, hi):
        trial, status, new, takes_point = kernel(
            state,
            stp.item(),
            f.item(),
            g.item(),
            finite.item(),
            finit.item(),
            ginit.item(),
            c1.item(),
            c2.item(),
            xtol.item(),
            lo.item(),
            hi.item(),
        )
        return np.asarray(trial), np.asarray(status), new, np.asarray(takes_point)

    node_function = numba_basic.numba_njit(dcsrch_node)
    key = cache_key(
        "pytensor_optim.DcsrchStep", _kernel, dcsrch_node, constants=CONSTANTS
    )
    registry.register(DcsrchStep, lambda *args, **kwargs: (node_function, key))
    numba_basic.numba_funcify.register(
        DcsrchStep, lambda *args, **kwargs: node_function
    )
