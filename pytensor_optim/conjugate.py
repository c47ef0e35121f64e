r"""Conjugate gradient rules: nonlinear CG with a line search, and minimize.m.

In :func:`cg` each :math:`\beta` rule is a plain function of the current gradient
:math:`g`, the previous gradient :math:`g_{old}` and the previous direction
:math:`p_{old}` (lists of tensors aligned with the parameters) and of the
guard :math:`\epsilon` added to denominators; :data:`BETA` names them.
"""

import numbers

import numpy as np
import pytensor.tensor as pt

from ._docs import insert_docs
from ._initial_step import InitialStep
from ._interpolate import python_min
from ._protocol import Problem
from ._searched import current_point, line_search_step, searched
from ._stopping import Status
from ._validate import check_max_evals, concrete
from ._vec import MACHINE_EPSILON, constant, dot
from .line_search._rasmussen import _Rasmussen

__all__ = ["BETA", "cg", "rasmussen_cg"]


def _inner(a, b, eps):
    """:math:`a^\\top b` over lists of tensors, in the dtype of ``eps``."""
    return dot(a, b, eps.dtype)


def _difference(g, g_old):
    """:math:`y = g - g_{old}`."""
    return [gi - oi for gi, oi in zip(g, g_old, strict=True)]


def fletcher_reeves(g, g_old, p_old, eps):
    r""":math:`\beta_{FR} = g^\top g / (g_{old}^\top g_{old} + \epsilon)`."""
    return _inner(g, g, eps) / (_inner(g_old, g_old, eps) + eps)


def conjugate_descent(g, g_old, p_old, eps):
    r""":math:`\beta_{CD} = -g^\top g / (p_{old}^\top g_{old} + \epsilon)`."""
    return -_inner(g, g, eps) / (_inner(p_old, g_old, eps) + eps)


def dai_yuan(g, g_old, p_old, eps):
    r""":math:`\beta_{DY} = g^\top g / (p_{old}^\top y + \epsilon)`."""
    y = _difference(g, g_old)
    return _inner(g, g, eps) / (_inner(p_old, y, eps) + eps)


def hestenes_stiefel(g, g_old, p_old, eps):
    r""":math:`\beta_{HS} = y^\top g / (p_{old}^\top y + \epsilon)`."""
    y = _difference(g, g_old)
    return _inner(y, g, eps) / (_inner(p_old, y, eps) + eps)


def hestenes_stiefel_plus(g, g_old, p_old, eps):
    r""":math:`\max(0, \beta_{HS})`."""
    return pt.maximum(hestenes_stiefel(g, g_old, p_old, eps), 0)


def polak_ribiere(g, g_old, p_old, eps):
    r""":math:`\beta_{PR} = g^\top y / (g_{old}^\top g_{old} + \epsilon)`."""
    y = _difference(g, g_old)
    return _inner(g, y, eps) / (_inner(g_old, g_old, eps) + eps)


def polak_ribiere_plus(g, g_old, p_old, eps):
    r""":math:`\max(0, \beta_{PR})` (Powell)."""
    return pt.maximum(polak_ribiere(g, g_old, p_old, eps), 0)


def liu_storey(g, g_old, p_old, eps):
    r""":math:`\beta_{LS} = -y^\top g / (p_{old}^\top g_{old} + \epsilon)`."""
    y = _difference(g, g_old)
    return -_inner(y, g, eps) / (_inner(p_old, g_old, eps) + eps)


def hager_zhang(g, g_old, p_old, eps):
    r""":math:`\beta_{HZ} = \left(y^\top g - 2 \|y\|^2 \frac{p_{old}^\top g}
    {p_{old}^\top y + \epsilon}\right) / (p_{old}^\top y + \epsilon)`."""
    y = _difference(g, g_old)
    inverse = 1 / (_inner(p_old, y, eps) + eps)
    return (
        _inner(y, g, eps) * inverse
        - 2 * _inner(y, y, eps) * inverse * _inner(p_old, g, eps) * inverse
    )


def hager_zhang_plus(g, g_old, p_old, eps):
    r""":math:`\max(\eta, \beta_{HZ})`, :math:`\eta = -1 / (\|p_{old}\|^2
    \min(0.01, \|g_{old}\|^2))` (squared norms, as mize)."""
    bound = pt.minimum(pt.cast(0.01, eps.dtype), _inner(g_old, g_old, eps))
    eta = -1 / (_inner(p_old, p_old, eps) * bound)
    return pt.maximum(eta, hager_zhang(g, g_old, p_old, eps))


def polak_ribiere_fletcher_reeves(g, g_old, p_old, eps):
    r""":math:`\beta_{PR}` clipped to :math:`[-\beta_{FR}, \beta_{FR}]`
    (Gilbert & Nocedal)."""
    fr = fletcher_reeves(g, g_old, p_old, eps)
    return pt.minimum(pt.maximum(polak_ribiere(g, g_old, p_old, eps), -fr), fr)


#: The :math:`\beta` rules of :func:`cg` by (upper-case) name.
BETA = {
    "FR": fletcher_reeves,
    "CD": conjugate_descent,
    "DY": dai_yuan,
    "HS": hestenes_stiefel,
    "HS+": hestenes_stiefel_plus,
    "PR": polak_ribiere,
    "PR+": polak_ribiere_plus,
    "LS": liu_storey,
    "HZ": hager_zhang,
    "HZ+": hager_zhang_plus,
    "PRFR": polak_ribiere_fletcher_reeves,
}


def _check_variant(variant):
    if not isinstance(variant, str):
        raise TypeError(f"variant must be a string, one of {list(BETA)}")
    if variant.upper() not in BETA:
        raise ValueError(
            f"variant={variant!r} is not a conjugate gradient variant; use one "
            f"of {list(BETA)} (in any case)"
        )
    return BETA[variant.upper()]


def _check_restart_every(restart_every):
    if restart_every is None:
        return None
    if not isinstance(restart_every, numbers.Integral) or isinstance(
        restart_every, bool | np.bool_
    ):
        raise TypeError(
            f"restart_every must be None or a positive integer, got {restart_every!r}"
        )
    if restart_every < 1:
        raise ValueError(
            f"restart_every must be None or a positive integer, got {restart_every!r}"
        )
    return int(restart_every)


@insert_docs
def cg(
    params,
    cost=None,
    gradients=None,
    stop=None,
    updates=None,
    *,
    variant="PR+",
    line_search="more_thuente",
    restart_every=None,
    step0=None,
    step_next_init="quadratic",
    try_newton_step=False,
    max_evals_per_iter=None,
    **stopping,
):
    r"""Nonlinear conjugate gradients with a line search (mize's ``CG``).

    One call is one iteration: the direction :math:`p = -g + \beta p_{old}`
    and a whole line search along it.

    Parameters
    ----------
    {protocol_parameters}
    variant : str, default "PR+"
        The :math:`\beta` rule, by name in any case: ``"FR"``, ``"CD"``,
        ``"DY"``, ``"HS"``, ``"HS+"``, ``"PR"``, ``"PR+"``, ``"LS"``,
        ``"HZ"``, ``"HZ+"`` or ``"PRFR"`` (see the table below).
    line_search : str or callable, default "more_thuente"
        A search by name (given the curvature constant ``c2=0.1`` when it
        takes one), a configured search such as ``strong_wolfe(c2=0.1)``, or
        a callable; see :mod:`pytensor_optim.line_search`. ``"constant"``
        takes the first trial step as it is.
    restart_every : int, optional
        Restart with :math:`p = -g` on the iterations :math:`0, k, 2k,
        \dots` (counted from 0). ``None``: only the first iteration (and
        directions that are not descent directions) use :math:`-g`.
    {initial_step_parameters}
    {max_evals_per_iter}
    {stopping_parameters}

    Returns
    -------
    {returns}

    Notes
    -----
    With the gradient :math:`g`, the previous gradient :math:`g_{old}`, the
    previous direction :math:`p_{old}` (not the previous step) and
    :math:`y = g - g_{old}`,

    .. math:: p = -g + \beta p_{old}, \qquad x_{k+1} = x_k + \alpha_k p,

    with :math:`\alpha_k` from the line search (its Wolfe curvature constant
    is :math:`c_2 = 0.1` for a search given by name) and :math:`\beta` from

    ========  ==========================================================
    variant   :math:`\beta`
    ========  ==========================================================
    FR        :math:`g^\top g / g_{old}^\top g_{old}` (Fletcher–Reeves)
    CD        :math:`-g^\top g / p_{old}^\top g_{old}` (conjugate descent)
    DY        :math:`g^\top g / p_{old}^\top y` (Dai–Yuan)
    HS        :math:`y^\top g / p_{old}^\top y` (Hestenes–Stiefel)
    HS+       :math:`\max(0, \beta_{HS})`
    PR        :math:`g^\top y / g_{old}^\top g_{old}` (Polak–Ribière)
    PR+       :math:`\max(0, \beta_{PR})` (Powell)
    LS        :math:`-y^\top g / p_{old}^\top g_{old}` (Liu–Storey)
    HZ        :math:`\left(y^\top g - 2 \|y\|^2 \frac{p_{old}^\top g}
              {p_{old}^\top y}\right) / p_{old}^\top y` (Hager–Zhang)
    HZ+       :math:`\max(\eta, \beta_{HZ})`, :math:`\eta = -1 /
              (\|p_{old}\|^2 \min(0.01, \|g_{old}\|^2))`
    PRFR      :math:`\beta_{PR}` clipped to :math:`[-\beta_{FR},
              \beta_{FR}]` (Gilbert–Nocedal)
    ========  ==========================================================

    Every denominator has :math:`\epsilon` (the float64 machine epsilon, in
    every dtype) added, as in mize, and HZ+ uses squared norms in
    :math:`\eta`, as mize does (CG_DESCENT uses plain norms). The first
    iteration, every ``restart_every``-th, and any iteration whose
    :math:`p` is not a descent direction (:math:`g^\top p \ge 0`, or not
    finite) use :math:`p = -g`, as mize resets a non-descent direction.

    The previous gradient and direction are kept in
    ``slots["previous_gradient"]`` and ``slots["direction"]``, the first
    trial step's state in ``cg.last_step``, ``cg.last_cost``,
    ``cg.last_slope``, and the point the search accepted in ``cg.cost``,
    ``slots["gradient"]`` and ``cg.known``: only the first call evaluates
    at the parameters, and the evaluations of each search count towards
    ``max_evals`` (see :doc:`/line_search`). If the search fails the
    parameters do not move and, with ``stop``, the run ends with
    ``Status.LINE_SEARCH_FAILED`` (``Status.NON_FINITE`` for a NaN or
    infinite value).

    References
    ----------
    .. [1] Hager, Zhang (2006). A survey of nonlinear conjugate gradient
       methods. Pacific Journal of Optimization 2(1), 35–58.
    .. [2] Gilbert, Nocedal (1992). Global convergence properties of
       conjugate gradient methods for optimization. SIAM J. Optim. 2(1).
    .. [3] Nocedal, Wright (2006). Numerical Optimization, 2nd ed., §5.2.
    .. [4] Melville, J. mize: unconstrained numerical optimization
       algorithms (R package), method ``"CG"``.

    Examples
    --------
    >>> import numpy as np, pytensor
    >>> from pytensor_optim import cg
    >>> x = pytensor.shared(np.array([3.0, -1.0]), name="x")
    >>> cost = (x[0] - 1.0) ** 2 + 10.0 * (x[1] + 2.0) ** 2
    >>> updates = cg([x], cost, variant="HZ")
    >>> step = pytensor.function([], cost, updates=updates, mode="FAST_COMPILE")
    >>> for _ in range(10):
    ...     _ = step()
    >>> x.get_value().round(6)
    array([ 1., -2.])
    """
    problem = Problem("cg", params, cost, gradients, stop, updates, stopping)
    beta_rule = _check_variant(variant)
    restart_every = _check_restart_every(restart_every)
    search = searched(problem, line_search, required=True, c2=0.1)
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
    dtype = str(np.result_type(*(p.dtype for p in problem.params)))
    eps = constant(MACHINE_EPSILON, dtype)
    previous_gradient = problem.slot("previous_gradient")
    previous_direction = problem.slot("direction")

    g = list(current.gradients)
    beta = beta_rule(g, previous_gradient, previous_direction, eps)
    steepest = [-gi for gi in g]
    conjugate = [
        -gi + pt.cast(beta, gi.dtype) * pi
        for gi, pi in zip(g, previous_direction, strict=True)
    ]
    restart = pt.eq(problem.counter, 0)
    if restart_every is not None:
        restart = pt.or_(restart, pt.eq(problem.counter % restart_every, 0))
    # NaN compares false: a non-finite direction is not a descent direction
    descent = pt.lt(dot(g, conjugate, dtype), 0)
    use_steepest = pt.or_(restart, pt.invert(descent))
    direction = [
        pt.switch(use_steepest, sd, cj)
        for sd, cj in zip(steepest, conjugate, strict=True)
    ]

    trial = initial_step.trial(current.cost, current.gradients, direction)
    moved, search_updates, evals, reasons, result = line_search_step(
        problem, search, current, direction, trial, max_evals_per_iter
    )
    state_updates = [
        *zip(previous_gradient, g, strict=True),
        *zip(previous_direction, direction, strict=True),
        *search_updates,
        *initial_step.updates(result.step),
    ]
    return problem.finish(moved, state_updates, evals=evals, reasons=reasons)


@insert_docs
def rasmussen_cg(
    params,
    cost=None,
    gradients=None,
    stop=None,
    updates=None,
    *,
    max_line=20,
    max_evals_per_iter=None,
    rho=0.01,
    sig=0.5,
    int=0.1,  # minimize.m's and Lua's name (API.md), shadowing the builtin
    ext=3.0,
    ratio=100.0,
    mode=None,
    **stopping,
):
    r"""Rasmussen's conjugate gradients, ``minimize.m`` (Lua ``optim.cg``).

    One call is one outer iteration of minimize.m: a line search along the
    direction :math:`s` (:func:`~pytensor_optim.line_search.rasmussen`),
    then the Polak–Ribière direction and the next initial step. The steps,
    values and evaluation counts are minimize.m's.

    Parameters
    ----------
    {protocol_parameters}
    max_line : int, default 20
        minimize.m's ``MAX`` (Lua's ``maxIter``): the most evaluations of one
        line search after its first trial, so a search makes at most
        ``max_line + 1``. With ``max_evals``, a search also stops where the
        run's budget ends, as minimize.m with a negative ``length``.
    max_evals_per_iter : int, optional
        The most evaluations of one call, first trial included, as for the
        other rules with a line search: a search makes at most
        ``min(max_line + 1, max_evals_per_iter)``.
    rho, sig : float or scalar, default 0.01 and 0.5
        The constants of the Wolfe conditions, :math:`0 < \rho < \sigma < 1`
        (minimize.m's ``RHO`` and ``SIG``).
    int : float or scalar, default 0.1
        minimize.m's ``INT``: no trial within this fraction of a bracket from
        its ends, :math:`0 < \iota < 0.5`.
    ext : float or scalar, default 3
        minimize.m's ``EXT``: extrapolate at most to this many times the
        current step, greater than 1.
    ratio : float or scalar, default 100
        minimize.m's ``RATIO``: the most by which the initial step may grow
        from one search to the next, positive.
    mode : str, Mode or None
        The compilation mode of the line search loop (see
        :class:`~pytensor_optim.line_search.LineSearch`).
    {stopping_parameters}

    Returns
    -------
    {returns}

    Notes
    -----
    With :math:`g` the gradient at :math:`x` and :math:`d_1 = g^\top s`, the
    first call (and the one after a failed search) starts along steepest
    descent with the step :math:`z = 1 / (1 - d_1)`:

    .. math:: s = -g, \qquad z = \frac{1}{1 + \|g\|^2} .

    The line search accepts :math:`z` with :math:`f(x + z s) \le f(x) +
    \rho z d_1` and :math:`|g_+^\top s| \le -\sigma d_1`; the parameters
    move to :math:`x + z s`, and with the gradient :math:`g_+` there

    .. math::

        \beta = \frac{g_+^\top g_+ - g^\top g_+}{g^\top g}, \quad
        s_+ = \beta s - g_+, \quad
        d_2 = g_+^\top s_+ ,

    the direction is reset to :math:`s_+ = -g_+`, :math:`d_2 = -\|g_+\|^2`
    when :math:`d_2 > 0`, and the next search starts from

    .. math:: z_+ = z \min\left(\text{ratio}, \frac{d_1}{d_2 - \text{tiny}}\right)

    (``tiny`` is the dtype's smallest normal number, minimize.m's
    ``realmin``; Lua writes ``1e-320``). The search's evaluations are
    counted towards ``max_evals``; the cost and gradient at the accepted
    point are kept (``rasmussen_cg.cost``, ``slots["gradient"]``), so only
    the first call evaluates at the parameters. With ``max_evals`` a search
    may make at most the evaluations left, so a run stops after exactly
    ``max_evals`` of them when it does not converge first.

    When a search fails (the budget ends before the conditions hold), the
    parameters stay where the search started and, as minimize.m does, the
    next call tries once more along steepest descent; a second failure in a
    row ends the run with ``Status.LINE_SEARCH_FAILED``. A failure because
    ``max_evals`` ran out ends it with ``Status.MAX_EVALS``; a NaN or
    infinite value met by the search with ``Status.NON_FINITE``. Two
    deliberate differences: minimize.m restarts from the gradient of the
    search's last trial point (a swap meant for the success branch), here
    from the gradient at the restored point; and Lua's ``optim.cg`` ends the
    run at the first failure (its ``if ls_failed or ...`` is always true,
    since Lua's 0 is true). The state is ``slots["direction"]``,
    ``rasmussen_cg.step`` (the next :math:`z`), and the flags
    ``rasmussen_cg.restart`` and ``rasmussen_cg.failed``.

    minimize.m's ``length`` is ``max_iter`` when positive (line searches,
    failed ones included) and ``max_evals`` when negative (evaluations, the
    first included); its reduction ``red`` is 1, as in Lua. Its published
    example, ``minimize([0 0]', 'rosenbrock', -25)``, gives the values
    0.78251060908545, ..., 0.01810891772958 after its eight successful
    searches, and so does ``max_evals=25`` here (see the tests); the ninth
    search runs out of evaluations, and the run ends at the eighth point,
    :math:`(0.87247360052103, 0.75691374884517)`. The :math:`x` printed on
    that page, :math:`(0.86905063456945, 0.75343426564357)`, is where the
    ninth search ends with a 26th evaluation (``max_evals=26``), with the
    value 0.01747706436156 of the page's other example.

    References
    ----------
    .. [1] Rasmussen, C. E. (2001). minimize.m.
       http://www.gatsby.ucl.ac.uk/~edward/code/minimize/
    .. [2] Polak, E., Ribière, G. (1969). Note sur la convergence de méthodes
       de directions conjuguées. Rev. Française Informat. Recherche
       Opérationnelle 3(16).

    Examples
    --------
    Rosenbrock's function from :math:`(0, 0)` with 25 evaluations, as in
    minimize.m's example; the cost after each call:

    >>> import numpy as np, pytensor
    >>> from pytensor_optim import rasmussen_cg
    >>> x = pytensor.shared(np.zeros(2), name="x")
    >>> cost = 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
    >>> stop = pytensor.shared(0)
    >>> updates = rasmussen_cg([x], cost, stop=stop, max_evals=25,
    ...                        mode="FAST_COMPILE")
    >>> step = pytensor.function([], [], updates=updates, mode="FAST_COMPILE")
    >>> while not stop.get_value():
    ...     _ = step()
    ...     print(f"{updates.state_dict()['rasmussen_cg.cost']:.8f}")
    0.78251061
    0.39556534
    0.21891184
    0.08594363
    0.08167279
    0.04803800
    0.03385004
    0.01810892
    0.01810892
    >>> updates.state_dict()["rasmussen_cg.evals"], updates.status.get_value()
    (array(25), array(5, dtype=int8))
    """
    problem = Problem("rasmussen_cg", params, cost, gradients, stop, updates, stopping)
    if problem.cost is None:
        raise ValueError("rasmussen_cg() needs cost: its line search compares costs")
    per_search = check_max_evals(max_line, "max_line") + 1
    if max_evals_per_iter is not None:
        per_search = min(
            per_search, check_max_evals(max_evals_per_iter, "max_evals_per_iter")
        )
    fraction = {"low": 0, "high": 1, "low_open": True, "high_open": True}
    hyper = problem.hyperparameters(
        rho=(rho, fraction),
        sig=(sig, fraction),
        int=(int, {**fraction, "high": 0.5}),
        ext=(ext, {"low": 1, "low_open": True}),
        ratio=(ratio, {"low": 0, "low_open": True}),
    )
    low, high = concrete(rho), concrete(sig)
    if low is not None and high is not None and high <= low:
        raise ValueError(f"sig must be greater than rho={rho!r}, got {sig!r}")
    widest = str(np.result_type(*(p.dtype for p in problem.params)))
    search = _Rasmussen.from_checked(
        hyper.rho, hyper.sig, hyper.int, hyper.ext, per_search, mode
    )

    # the cost and gradient at the parameters, kept from the last search
    current = current_point(problem, search)
    if "max_evals" in problem.stopping:
        # minimize.m's M = min(MAX, -length - i): the evaluations left
        used = problem.evaluations + current.evals
        search = search.with_budget(problem.stopping["max_evals"] - used)
    kept_direction = problem.slot("direction")
    kept_step = problem.scalar("step", 0.0, widest)
    restart = problem.scalar("restart", 1, "int8")
    failed = problem.scalar("failed", 0, "int8")

    g = list(current.gradients)
    restarting = pt.eq(restart, 1)
    direction = [
        pt.switch(restarting, -gi, si) for gi, si in zip(g, kept_direction, strict=True)
    ]
    one = pt.constant(np.asarray(1, dtype=widest))
    initial_step = pt.switch(restarting, one / (one + dot(g, g, widest)), kept_step)
    new_params, state_updates, evals, reasons, result = line_search_step(
        problem, search, current, direction, initial_step, None
    )

    # Polak-Ribiere, with minimize.m's reset to steepest descent and its
    # slope ratio for the next initial step
    new_g = list(result.gradients)
    slope = dot(g, direction, widest)
    beta = (dot(new_g, new_g, widest) - dot(g, new_g, widest)) / dot(g, g, widest)
    conjugate = [
        pt.cast(beta, si.dtype) * si - gi
        for si, gi in zip(direction, new_g, strict=True)
    ]
    new_slope = dot(new_g, conjugate, widest)
    uphill = pt.gt(new_slope, 0)
    new_direction = [
        pt.switch(uphill, -gi, ci) for gi, ci in zip(new_g, conjugate, strict=True)
    ]
    new_slope = pt.switch(uphill, -dot(new_g, new_g, widest), new_slope)
    tiny = pt.constant(np.finfo(widest).tiny)
    ratio_bound = pt.cast(hyper.ratio, widest)
    next_step = result.step * python_min(ratio_bound, slope / (new_slope - tiny))

    success = result.success
    state_updates += [
        *(
            (kept, pt.switch(success, new, kept))
            for kept, new in zip(kept_direction, new_direction, strict=True)
        ),
        (kept_step, pt.switch(success, next_step, kept_step)),
        (restart, pt.switch(success, np.int8(0), np.int8(1))),
        (failed, pt.switch(success, np.int8(0), np.int8(1))),
    ]

    # minimize.m gives up after two failed searches in a row; a search cut
    # short by max_evals ends the run with MAX_EVALS instead
    gave_up = pt.and_(
        pt.and_(pt.invert(success), pt.invert(result.non_finite)), pt.eq(failed, 1)
    )
    if "max_evals" in problem.stopping:
        left = pt.lt(problem.evaluations + evals, problem.stopping["max_evals"])
        gave_up = pt.and_(gave_up, left)
    reasons = [
        reason for reason in reasons if reason[1] != Status.LINE_SEARCH_FAILED
    ] + [(gave_up, Status.LINE_SEARCH_FAILED)]
    return problem.finish(new_params, state_updates, evals=evals, reasons=reasons)
