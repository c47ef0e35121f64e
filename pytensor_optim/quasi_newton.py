"""Quasi-Newton rules."""

import numbers

import numpy as np
import pytensor.tensor as pt

from ._docs import insert_docs
from ._flat import Flat
from ._initial_step import InitialStep, check_step0, first_guess
from ._protocol import Problem
from ._searched import current_point, line_search_step, searched
from ._stopping import Status
from ._two_loop import two_loop
from ._validate import check_flag, check_max_evals, check_range
from ._vec import MACHINE_EPSILON, axpy, constant, dot, sum_abs
from .line_search import more_thuente
from .line_search._strong_wolfe import _StrongWolfe as StrongWolfe

__all__ = ["bfgs", "lbfgs", "sr1"]

# PyTorch's (and Lua optim's) curvature test: a pair enters the history only
# when y's > 1e-10 (absolute).
_CURVATURE_THRESHOLD = 1e-10
# mize's relative tests: a BFGS pair is used when y's > 1e-8 |y| |s|, an SR1
# update is skipped when |v'y| <= 1e-8 |v| |y| (Nocedal & Wright, eq. 6.26).
_RELATIVE_TOLERANCE = 1e-8
# PyTorch's tolerance_change (Lua's tolX): no step when g'd > -1e-9
_TORCH_TOLERANCE_CHANGE = 1e-9


@insert_docs
def lbfgs(
    params,
    cost=None,
    gradients=None,
    stop=None,
    updates=None,
    *,
    history=10,
    step_size=1.0,
    line_search="lbfgsb",
    max_evals_per_iter=None,
    curvature_test=None,
    step0=None,
    tolerance_change=None,
    **stopping,
):
    r"""Limited-memory BFGS (Nocedal 1980; Liu & Nocedal 1989).

    By default, one call is one iteration of SciPy's L-BFGS-B (without
    bounds): its line search, first step and curvature test, hence its
    robustness on deterministic problems. ``line_search=None`` is
    ``torch.optim.LBFGS`` (one of its inner iterations, fixed steps) and
    ``line_search="strong_wolfe"`` its strong Wolfe search: the same
    directions, steps and history.

    Parameters
    ----------
    {protocol_parameters}
    history : int, default 10
        :math:`m`, the number of curvature pairs kept.
    step_size : float, shared/symbolic scalar or schedule, default 1
        :math:`\eta`: the step along the L-BFGS direction, or the first
        trial step of the line search. The very first step (trial) is
        :math:`\min(1, 1 / \|g\|_1)\, \eta`, as in PyTorch and Lua.
    line_search : str, callable or None, default "lbfgsb"
        ``"lbfgsb"``: SciPy's L-BFGS-B, Moré–Thuente's search with its
        tolerances (``more_thuente(c1=1e-3, c2=0.9, xtol=0.1)``), with
        ``step0="scipy"`` and ``curvature_test="relative"``; it needs
        ``cost``. ``None``: PyTorch's fixed steps. ``"strong_wolfe"``
        (PyTorch's ``line_search_fn="strong_wolfe"``), ``"more_thuente"``,
        ``"backtracking"``, ``"constant"``, a configured search such as
        ``strong_wolfe(c2=0.5)``, or a callable; see
        :mod:`pytensor_optim.line_search`. Every choice but ``"lbfgsb"``
        takes PyTorch's first step and curvature test by default.
    max_evals_per_iter : int, optional
        The most evaluations of one line search; default: the search's own
        ``max_evals`` (26 for ``strong_wolfe``). PyTorch's ``max_eval`` with
        ``max_iter=1`` gives its search the same budget.
    curvature_test : {"absolute", "relative"}, optional
        When a pair :math:`(s, y)` enters the history: ``"absolute"``,
        :math:`y^\top s > 10^{-10}` (PyTorch and Lua; the default with any
        ``line_search`` but ``"lbfgsb"``); ``"relative"`` (the default with
        ``"lbfgsb"``),
        :math:`y^\top s > 10^{-8} \|y\|_2 \|s\|_2` (mize, and the test
        of :func:`bfgs`). The absolute test stops updating the history once
        the steps are small, which slows the end of a run on an
        ill-conditioned problem (on the zoo's quadratic with condition
        number :math:`10^4`, 602 iterations instead of 187 to ``gtol=1e-6``
        with ``"more_thuente"``).
    step0 : {None, "torch", "scipy", "rasmussen", "schmidt", "hz"} or float, optional
        The first step (trial) of the run, along :math:`-g_0`. ``"torch"``:
        PyTorch's :math:`\min(1, 1 / \|g_0\|_1)\, \eta`; ``"scipy"``:
        :math:`1 / \|g_0\|_2`, SciPy's L-BFGS-B; the other choices are
        mize's (see :doc:`/line_search`); a number: that step. ``None``:
        ``"scipy"`` with ``line_search="lbfgsb"``, else ``"torch"``. Later
        steps start from :math:`\eta`.
    tolerance_change : float, optional
        PyTorch's ``tolerance_change`` (Lua's ``tolX``) on the slope: no step
        is taken when :math:`g^\top d > -\text{tolerance_change}`, and with
        ``stop`` the run ends there with ``Status.CONVERGED_SLOPE``. ``None``:
        PyTorch's :math:`10^{-9}` with ``line_search=None`` or
        ``"strong_wolfe"`` (PyTorch's configurations), else 0 (a step
        whenever :math:`g^\top d < 0`).
    {stopping_parameters}

    Returns
    -------
    {returns}

    Notes
    -----
    With :math:`s = x_k - x_{k-1}` and :math:`y = g_k - g_{k-1}`, the pair
    enters the history (dropping the oldest beyond :math:`m`) when it passes
    the curvature test (:math:`y^\top s > 10^{-10}` by default), and then
    :math:`\gamma = y^\top s / y^\top y`.
    The direction :math:`d = -H g` comes from the two-loop recursion with
    :math:`H_0 = \gamma I`, and

    .. math:: x_{k+1} = x_k + t_k d, \qquad
              t_0 = \min(1, 1/\|g_0\|_1)\,\eta, \quad t_k = \eta

    With a line search, :math:`t_k` is the step it accepts, starting from
    the step above. The search evaluates the cost and gradient at its trial
    points and returns them at the accepted one; they are kept
    (``lbfgs.cost``, ``slots["gradient"]``, ``lbfgs.known``) and the next call
    starts from them, so only the first call evaluates at the parameters. A
    call thus counts the evaluations of its search (plus one on the first
    call) towards ``max_evals``: PyTorch's ``func_evals`` after :math:`k`
    calls of ``step()`` is :math:`k - 1` more, as each of its steps
    evaluates the closure at its start again. See :doc:`/line_search`.

    If :math:`g^\top d \ge 0` (not a descent direction), or the search finds
    no acceptable step, the parameters do not move and, with ``stop``, the
    run ends with ``Status.LINE_SEARCH_FAILED`` (``Status.NON_FINITE`` if the
    search met a NaN or infinite value).
    The history lives in ``slots["s"]`` and ``slots["y"]`` (shape
    ``(m, *param.shape)``, oldest pair first, zeros where no pair is
    stored yet) with ``lbfgs.stored`` and ``lbfgs.gamma``;
    the previous
    gradient, direction and step in ``slots["previous_gradient"]``,
    ``slots["direction"]`` and ``lbfgs.previous_step``.

    References
    ----------
    .. [1] Nocedal (1980). Updating quasi-Newton matrices with limited storage.
       Math. Comp. 35.
    .. [2] Liu, Nocedal (1989). On the limited memory BFGS method for large
       scale optimization. Math. Prog. 45.
    """
    problem = Problem("lbfgs", params, cost, gradients, stop, updates, stopping)
    as_lbfgsb = isinstance(line_search, str) and line_search == "lbfgsb"
    if as_lbfgsb and problem.cost is None:
        raise ValueError(
            "lbfgs() needs cost for its default search, line_search='lbfgsb' "
            "(SciPy's L-BFGS-B); pass cost, or line_search=None for PyTorch's "
            "fixed steps"
        )
    search = searched(
        problem, more_thuente(c1=1e-3, xtol=0.1) if as_lbfgsb else line_search
    )
    # PyTorch's configurations: fixed steps, or its strong Wolfe search
    as_torch = search is None or isinstance(search, StrongWolfe)
    if curvature_test is None:
        curvature_test = "relative" if as_lbfgsb else "absolute"
    if step0 is None:
        step0 = "scipy" if as_lbfgsb else "torch"
    if tolerance_change is None:
        tolerance_change = _TORCH_TOLERANCE_CHANGE if as_torch else 0.0
    check_range("tolerance_change", tolerance_change, low=0)
    tolerance_change = float(tolerance_change)
    if max_evals_per_iter is not None:
        if search is None:
            raise ValueError(
                f"max_evals_per_iter={max_evals_per_iter!r} applies to line "
                "searches; it needs a line_search"
            )
        check_max_evals(max_evals_per_iter, "max_evals_per_iter")
    if (
        not isinstance(history, numbers.Integral)
        or isinstance(history, bool)
        or history < 1
    ):
        raise ValueError(f"history must be a positive integer, got {history!r}")
    m = int(history)
    if curvature_test not in ("absolute", "relative"):
        raise ValueError(
            f"curvature_test must be 'absolute' or 'relative', got {curvature_test!r}"
        )
    if step0 != "torch":
        step0 = check_step0(step0)
    hyper = problem.hyperparameters(step_size=(step_size, {"low": 0}))
    if search is None:
        g = list(problem.gradients)
    else:
        # the cost and gradient at the parameters, kept from the last search
        current = current_point(problem, search)
        g = list(current.gradients)

    # the history, oldest pair first; slots not yet filled hold zeros
    s_history = problem.slot("s", leading=(m,))
    y_history = problem.slot("y", leading=(m,))
    previous_gradient = problem.slot("previous_gradient")
    previous_direction = problem.slot("direction")
    stored = problem.scalar("stored", 0, "int64")
    gamma = problem.scalar("gamma", 1.0, "float64")
    previous_step = problem.scalar("previous_step", 0.0, "float64")

    # 1.-2. the newest curvature pair s = t d_prev, y = g - g_prev (zero
    # state: no pair on the first call), pushed onto the histories (the
    # oldest dropped) when it passes the curvature test, which also sets
    # gamma = y's / y'y; then d = -H g by the two-loop recursion. One node
    # over all parameters (see _two_loop).
    flat = Flat(problem.params, "lbfgs")
    relative = curvature_test == "relative"
    flat_direction, flat_s_history, flat_y_history, new_stored, new_gamma = two_loop(
        flat.join(g),
        (flat.join_rows(s_history), flat.join_rows(y_history)),
        (flat.join(previous_gradient), flat.join(previous_direction), previous_step),
        stored,
        gamma,
        relative=relative,
        tolerance=_RELATIVE_TOLERANCE if relative else _CURVATURE_THRESHOLD,
    )
    direction = flat.split(flat_direction)
    new_s_history = flat.split_rows(flat_s_history)
    new_y_history = flat.split_rows(flat_y_history)

    # 3. the step (the first trial step of a line search)
    first = pt.eq(problem.counter, 0)
    if step0 == "torch":
        first_step = pt.minimum(1.0, 1.0 / sum_abs(g)) * hyper.step_size
    else:
        cost_now = problem.cost if search is None else current.cost
        if cost_now is None and step0 == "hz":
            raise ValueError("lbfgs(step0='hz') needs cost")
        first_step = first_guess(
            step0, problem.params, cost_now, g, -dot(g, g), "float64"
        )
    step = pt.switch(first, first_step, hyper.step_size)
    # PyTorch's tolerance_change: a slope above -tolerance_change ends the run
    # where it is (before any search)
    slope = dot(g, direction)
    flat_slope = None
    if tolerance_change > 0:
        flat_slope = pt.gt(slope, -constant(tolerance_change, slope.dtype))
    if search is None:
        # a step only downhill, and (with tolerance_change) not on a flat slope
        descent = pt.lt(slope, 0) if flat_slope is None else pt.invert(flat_slope)
        moved = axpy(pt.switch(descent, step, 0.0), direction, list(problem.params))
        evals, reasons = 1, [(pt.invert(descent), Status.LINE_SEARCH_FAILED)]
        search_updates = []
    else:
        along = direction
        if flat_slope is not None:  # no search: a zero direction evaluates nothing
            along = [pt.switch(flat_slope, 0.0, d).astype(d.dtype) for d in direction]
        moved, search_updates, evals, reasons, result = line_search_step(
            problem, search, current, along, step, max_evals_per_iter
        )
        step = pt.cast(result.step, "float64")
    if flat_slope is not None:
        # judged first: the slope test precedes the search's verdict
        reasons = [(flat_slope, Status.CONVERGED_SLOPE), *reasons]

    state_updates = [
        *zip(s_history, new_s_history, strict=True),
        *zip(y_history, new_y_history, strict=True),
        *zip(previous_gradient, g, strict=True),
        *zip(previous_direction, direction, strict=True),
        (stored, new_stored),
        (gamma, new_gamma),
        (previous_step, step),
        *search_updates,
    ]
    return problem.finish(moved, state_updates, evals=evals, reasons=reasons)


# ---- dense quasi-Newton: BFGS and SR1 ------------------------------------------


def _norm(vector):
    return pt.sqrt(pt.dot(vector, vector))


def _has_bfgs_curvature(s, y):
    """mize's curvature test: :math:`y^\\top s > 10^{-8} \\|y\\| \\|s\\|`."""
    ys = pt.dot(y, s)
    scale = constant(_RELATIVE_TOLERANCE, ys.dtype) * _norm(y) * _norm(s)
    return pt.and_(pt.and_(pt.isfinite(ys), pt.isfinite(scale)), pt.gt(ys, scale))


def _bfgs_update(inverse_hessian, s, y):
    r"""The BFGS update of an inverse Hessian :math:`H` from one pair ``(s, y)``.

    .. math:: H^+ = (I - \rho s y^\top) H (I - \rho y s^\top) + \rho s s^\top,
              \qquad \rho = 1 / (y^\top s + \epsilon),

    computed in :math:`O(n^2)` as :math:`H - \rho (H y s^\top + s y^\top H) +
    (\rho^2 y^\top H y + \rho) s s^\top`. :math:`H` is returned unchanged when
    the pair fails the curvature test :math:`y^\top s > 10^{-8} \|y\| \|s\|`.
    """
    dtype = inverse_hessian.dtype
    rho = 1 / (pt.dot(y, s) + constant(MACHINE_EPSILON, dtype))
    h_y = pt.dot(inverse_hessian, y)
    y_h = pt.dot(y, inverse_hessian)
    updated = (
        inverse_hessian
        - rho * (pt.outer(h_y, s) + pt.outer(s, y_h))
        + (rho * rho * pt.dot(y, h_y) + rho) * pt.outer(s, s)
    )
    return pt.switch(_has_bfgs_curvature(s, y), updated, inverse_hessian)


def _sr1_update(inverse_hessian, s, y):
    r"""The symmetric rank-one update of an inverse Hessian :math:`H`.

    .. math:: v = s - H y, \qquad H^+ = H + \frac{v v^\top}{v^\top y},

    skipped (:math:`H` returned) when :math:`|v^\top y| \le 10^{-8} \|v\|
    \|y\|`.
    """
    v = s - pt.dot(inverse_hessian, y)
    vy = pt.dot(v, y)
    tolerance = constant(_RELATIVE_TOLERANCE, vy.dtype)
    skip = pt.le(pt.abs(vy), tolerance * _norm(v) * _norm(y))
    return pt.switch(skip, inverse_hessian, inverse_hessian + pt.outer(v, v) / vy)


def _is_descent(gradient, direction):
    # NaN compares false: a non-finite direction is not a descent direction
    return pt.lt(pt.dot(gradient, direction), 0)


def _dense_quasi_newton(
    update,
    retry,
    problem,
    *,
    scale_hess,
    line_search,
    c2,
    step0,
    step_next_init,
    try_newton_step,
    max_evals_per_iter,
):
    """The iteration BFGS and SR1 share; they differ in ``update`` (and ``retry``).

    ``update(H, s, y)`` gives the new inverse Hessian; when its direction is
    not a descent direction, ``retry(H, s, y)`` (if given) is tried on the
    same :math:`H`, and steepest descent is the last resort.
    """
    algo = problem.algo
    check_flag("scale_hess", scale_hess)
    search = searched(problem, line_search, required=True, c2=c2)
    if max_evals_per_iter is not None:
        check_max_evals(max_evals_per_iter, "max_evals_per_iter")
    initial_step = InitialStep(
        problem,
        search,
        step0=step0,
        step_next_init=step_next_init,
        try_newton_step=try_newton_step,
    )
    current = current_point(problem, search)
    flat = Flat(problem.params, algo)
    n, dtype = flat.size, flat.dtype
    inverse_hessian = problem.scalar("inverse_hessian", np.eye(n), dtype, (n, n))
    previous_gradient = problem.scalar("previous_gradient", 0.0, dtype, (n,))
    previous_direction = problem.scalar("direction", 0.0, dtype, (n,))
    previous_step = problem.scalar("previous_step", 0.0, dtype)

    # the pair of the last step (none on the first iteration)
    g = flat.join(current.gradients)
    s = previous_step * previous_direction
    y = g - previous_gradient
    has_pair = pt.gt(problem.counter, 0)
    hessian = inverse_hessian
    if scale_hess:
        # Nocedal & Wright eq. 6.20, before the first update only
        scale = pt.and_(pt.eq(problem.counter, 1), _has_bfgs_curvature(s, y))
        hessian = pt.switch(scale, pt.dot(s, y) / pt.dot(y, y) * hessian, hessian)
    new_hessian = pt.switch(has_pair, update(hessian, s, y), hessian)
    direction = -pt.dot(new_hessian, g)
    descent = _is_descent(g, direction)
    if retry is not None:
        retried = retry(hessian, s, y)
        retried_direction = -pt.dot(retried, g)
        use_retry = pt.and_(
            pt.and_(has_pair, pt.invert(descent)),
            _is_descent(g, retried_direction),
        )
        new_hessian = pt.switch(use_retry, retried, new_hessian)
        direction = pt.switch(use_retry, retried_direction, direction)
        descent = pt.or_(descent, use_retry)
    direction = pt.switch(descent, direction, -g)

    directions = flat.split(direction)
    trial = initial_step.trial(current.cost, current.gradients, directions)
    moved, search_updates, evals, reasons, result = line_search_step(
        problem, search, current, directions, trial, max_evals_per_iter
    )
    state_updates = [
        (inverse_hessian, new_hessian),
        (previous_gradient, g),
        (previous_direction, direction),
        (previous_step, pt.cast(result.step, dtype)),
        *search_updates,
        *initial_step.updates(result.step),
    ]
    return problem.finish(moved, state_updates, evals=evals, reasons=reasons)


@insert_docs
def bfgs(
    params,
    cost=None,
    gradients=None,
    stop=None,
    updates=None,
    *,
    line_search="more_thuente",
    scale_hess=True,
    step0=None,
    step_next_init="quadratic",
    try_newton_step=True,
    max_evals_per_iter=None,
    **stopping,
):
    r"""BFGS with a dense inverse Hessian and a line search (mize's ``BFGS``).

    One call is one iteration: the direction :math:`d = -H g` and a whole
    line search along it.

    Parameters
    ----------
    {protocol_parameters}
    line_search : str or callable, default "more_thuente"
        A search by name (given the curvature constant ``c2=0.9`` when it
        takes one), a configured search such as ``strong_wolfe(c2=0.5)``, or
        a callable; see :mod:`pytensor_optim.line_search`. ``"constant"``
        takes the first trial step as it is.
    scale_hess : bool, default True
        Scale :math:`H_0 = I` by :math:`s^\top y / y^\top y` before the first
        update (Nocedal & Wright, eq. 6.20).
    {initial_step_parameters}
    {max_evals_per_iter}
    {stopping_parameters}

    Returns
    -------
    {returns}

    Notes
    -----
    With :math:`s = x_k - x_{k-1} = \alpha_{k-1} d_{k-1}` and
    :math:`y = g_k - g_{k-1}`, the inverse Hessian approximation, starting
    from :math:`H_0 = I`, is updated by

    .. math::

        H_k = (I - \rho s y^\top) H_{k-1} (I - \rho y s^\top) + \rho s s^\top,
        \qquad \rho = \frac{1}{y^\top s + \epsilon},

    when the pair satisfies :math:`y^\top s > 10^{-8} \|y\|_2 \|s\|_2`, and
    kept otherwise (:math:`\epsilon` is the float64 machine epsilon, in every
    dtype). With ``scale_hess``, on the second iteration (the first update)
    :math:`H_1` is first multiplied by :math:`s^\top y / y^\top y` if the
    pair passes the test. The step is

    .. math:: d_k = -H_k g_k, \qquad x_{k+1} = x_k + \alpha_k d_k,

    with :math:`\alpha_k` from the line search (its Wolfe curvature constant
    is :math:`c_2 = 0.9` for a search given by name). As in mize, a
    direction that is not a descent direction (:math:`g_k^\top d_k \ge 0`,
    which the curvature test should prevent, or not finite) is replaced by
    :math:`-g_k`. The first iteration is steepest descent.

    The parameters are handled as one vector of length :math:`n` (their
    sizes summed, in their widest dtype) and :math:`H` is a dense
    :math:`n \times n` matrix in the state (``bfgs.inverse_hessian``): use
    :func:`~pytensor_optim.lbfgs` when :math:`n` is large. The previous
    gradient, direction and step are kept in ``bfgs.previous_gradient``,
    ``bfgs.direction`` and ``bfgs.previous_step``, and what the first trial
    step needs in ``bfgs.last_step``, ``bfgs.last_cost``,
    ``bfgs.last_slope``.

    The search evaluates the cost and gradients at the point it accepts; they
    are kept (``bfgs.cost``, ``slots["gradient"]``, ``bfgs.known``) and the
    next call starts from them, so only the first call evaluates at the
    parameters; the evaluations of each search count towards ``max_evals``
    (see :doc:`/line_search`). If the search fails the parameters do not
    move and, with ``stop``, the run ends with ``Status.LINE_SEARCH_FAILED``
    (``Status.NON_FINITE`` for a NaN or infinite value).

    References
    ----------
    .. [1] Nocedal, Wright (2006). Numerical Optimization, 2nd ed., §6.1
       (eq. 6.17, the update; eq. 6.20, the scaling of :math:`H_0`).
    .. [2] Melville, J. mize: unconstrained numerical optimization
       algorithms (R package), method ``"BFGS"``.

    Examples
    --------
    >>> import numpy as np, pytensor
    >>> from pytensor_optim import bfgs
    >>> x = pytensor.shared(np.array([-1.2, 1.0]), name="x")
    >>> cost = 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
    >>> updates = bfgs([x], cost)
    >>> step = pytensor.function([], cost, updates=updates, mode="FAST_COMPILE")
    >>> for _ in range(40):
    ...     _ = step()
    >>> x.get_value().round(6)
    array([1., 1.])
    """
    problem = Problem("bfgs", params, cost, gradients, stop, updates, stopping)
    return _dense_quasi_newton(
        _bfgs_update,
        None,
        problem,
        scale_hess=scale_hess,
        line_search=line_search,
        c2=0.9,
        step0=step0,
        step_next_init=step_next_init,
        try_newton_step=try_newton_step,
        max_evals_per_iter=max_evals_per_iter,
    )


@insert_docs
def sr1(
    params,
    cost=None,
    gradients=None,
    stop=None,
    updates=None,
    *,
    line_search="more_thuente",
    scale_hess=True,
    step0=None,
    step_next_init="quadratic",
    try_newton_step=True,
    max_evals_per_iter=None,
    **stopping,
):
    r"""Symmetric rank-one quasi-Newton with a line search (mize's ``SR1``).

    One call is one iteration: the direction :math:`d = -H g` and a whole
    line search along it. The same iteration as :func:`bfgs` with another
    update of :math:`H`.

    Parameters
    ----------
    {protocol_parameters}
    line_search : str or callable, default "more_thuente"
        A search by name (given the curvature constant ``c2=0.1`` when it
        takes one), a configured search such as ``strong_wolfe(c2=0.5)``, or
        a callable; see :mod:`pytensor_optim.line_search`. ``"constant"``
        takes the first trial step as it is.
    scale_hess : bool, default True
        Scale :math:`H_0 = I` by :math:`s^\top y / y^\top y` before the first
        update (Nocedal & Wright, eq. 6.20).
    {initial_step_parameters}
    {max_evals_per_iter}
    {stopping_parameters}

    Returns
    -------
    {returns}

    Notes
    -----
    With :math:`s = x_k - x_{k-1}`, :math:`y = g_k - g_{k-1}` and
    :math:`v = s - H_{k-1} y`, the inverse Hessian approximation, starting
    from :math:`H_0 = I`, is updated by

    .. math:: H_k = H_{k-1} + \frac{v v^\top}{v^\top y},

    skipped (:math:`H_k = H_{k-1}`) when :math:`|v^\top y| \le 10^{-8}
    \|v\|_2 \|y\|_2` (Nocedal & Wright's safeguard, eq. 6.26, with
    :math:`\le` so that :math:`v = 0` is skipped too). With ``scale_hess``,
    :math:`H_1` is first multiplied by :math:`s^\top y / y^\top y` as in
    :func:`bfgs`. The step is :math:`d_k = -H_k g_k`,
    :math:`x_{k+1} = x_k + \alpha_k d_k`.

    An SR1 matrix need not be positive definite, so :math:`d_k` may point
    uphill. Then, as in mize, the BFGS update (see :func:`bfgs`) of
    :math:`H_{k-1}` is tried instead and kept if its direction is a descent
    direction; otherwise :math:`d_k = -g_k` (with the SR1 matrix kept). The
    Wolfe curvature constant of a search given by name is :math:`c_2 = 0.1`,
    mize's default for SR1 (which is not in its list of methods with
    :math:`c_2 = 0.9`).

    The state is that of :func:`bfgs` under the prefix ``sr1.``: the dense
    :math:`n \times n` matrix ``sr1.inverse_hessian`` (:math:`n` the total
    size of the parameters), ``sr1.previous_gradient``, ``sr1.direction``,
    ``sr1.previous_step``, the first-trial state ``sr1.last_step``,
    ``sr1.last_cost``, ``sr1.last_slope``, and the kept point ``sr1.cost``,
    ``slots["gradient"]``, ``sr1.known``. Evaluation counts and failures are
    as for :func:`bfgs`.

    References
    ----------
    .. [1] Nocedal, Wright (2006). Numerical Optimization, 2nd ed., §6.2
       (eq. 6.25, the inverse update; eq. 6.26, the safeguard).
    .. [2] Melville, J. mize: unconstrained numerical optimization
       algorithms (R package), method ``"SR1"``.

    Examples
    --------
    >>> import numpy as np, pytensor
    >>> from pytensor_optim import sr1
    >>> x = pytensor.shared(np.array([3.0, -1.0]), name="x")
    >>> cost = (x[0] - 1.0) ** 2 + 10.0 * (x[1] + 2.0) ** 2
    >>> updates = sr1([x], cost)
    >>> step = pytensor.function([], cost, updates=updates, mode="FAST_COMPILE")
    >>> for _ in range(10):
    ...     _ = step()
    >>> x.get_value().round(6)
    array([ 1., -2.])
    """
    problem = Problem("sr1", params, cost, gradients, stop, updates, stopping)
    return _dense_quasi_newton(
        _sr1_update,
        _bfgs_update,
        problem,
        scale_hess=scale_hess,
        line_search=line_search,
        c2=0.1,
        step0=step0,
        step_next_init=step_next_init,
        try_newton_step=try_newton_step,
        max_evals_per_iter=max_evals_per_iter,
    )
