"""Steepest descent with momentum and adaptive restart (mize's ``MOM``)."""

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.replace import graph_replace

from ._docs import insert_docs
from ._protocol import Problem
from ._validate import check_flag, initial_value, resolve

__all__ = ["momentum_descent"]

RESTARTS = ("fn", "gr", "speed")


def momentum_coefficient(problem, momentum, steps_since_start):
    r"""The momentum :math:`\mu_t` of this step (float64) and its new state.

    ``momentum`` is a number in [0, 1], a shared/symbolic scalar, a schedule
    (a callable of ``steps_since_start``), or ``"nsconvex"``. Returns
    ``(mu, nesterov_a, new_nesterov_a)``; the last two are ``None`` unless
    ``"nsconvex"`` was asked for.
    """
    if isinstance(momentum, str):
        if momentum.lower() != "nsconvex":
            raise ValueError(
                "momentum must be a number in [0, 1], a schedule or 'nsconvex', "
                f"got {momentum!r}"
            )
        # Nesterov's convex sequence: a_k = (1 + sqrt(4 a_{k-1}^2 + 1)) / 2
        a_old = problem.scalar("nesterov_a", 1.0, "float64")
        a_new = (1 + pt.sqrt(4 * a_old**2 + 1)) / 2
        return (a_old - 1) / a_new, a_old, a_new
    mu = resolve(
        momentum, "momentum", "float64", lambda: steps_since_start, low=0, high=1
    )
    # mize clamps scheduled values to [0, 1] and uses no momentum on the first
    # step after a (re)start (its default use_init_mom = FALSE)
    mu = pt.switch(pt.gt(steps_since_start, 0), pt.clip(mu, 0, 1), 0.0)
    return mu, None, None


def _sum(terms):
    terms = list(terms)
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


@insert_docs
def momentum_descent(
    params,
    cost=None,
    gradients=None,
    stop=None,
    updates=None,
    *,
    step_size,
    momentum=0.9,
    nesterov=False,
    restart=None,
    restart_wait=10,
    **stopping,
):
    r"""Steepest descent with classical or Nesterov momentum and adaptive restart.

    Parameters
    ----------
    {protocol_parameters}
    step_size : float, shared/symbolic scalar or schedule
        The step size :math:`\alpha` of the gradient step (required).
    momentum : float, shared/symbolic scalar, schedule or "nsconvex", default 0.9
        The momentum :math:`\mu_t`. A number or scalar must lie in [0, 1]; a
        schedule (see :mod:`pytensor_optim.schedules`) is called with the
        number of steps since the start or the last restart (0 on the first)
        and its value is clipped to [0, 1]. ``"nsconvex"`` is Nesterov's
        sequence for convex functions, :math:`\mu_k = (a_{k-1} - 1) / a_k`
        with :math:`a_0 = 1`, :math:`a_k = (1 + \sqrt{4 a_{k-1}^2 + 1})/2`
        (0, 0.2818, 0.4340, ...), restarted at :math:`a = 1` by a restart.
    nesterov : bool, default False
        Nesterov momentum in mize's formulation (see Notes).
    restart : {None, "fn", "gr", "speed"}, default None
        Adaptive restart test (O'Donoghue & Candès): ``"fn"`` restarts when
        the cost does not decrease (one more cost evaluation per call, needs
        ``cost``), ``"gr"`` when the update is not a descent direction for
        the gradient at the start of the step, ``"speed"`` when the update is
        not longer than the previous one.
    restart_wait : int, default 10
        Steps after a restart during which no other restart happens (>= 1).
    {stopping_parameters}

    Returns
    -------
    {returns}

    Notes
    -----
    With :math:`s_t = -\alpha g_t` the gradient step, :math:`u_{t-1}` the
    previous update and :math:`m_{t-1} = u_{t-1} - s_{t-1}` its momentum
    part (all zero at the start and after a restart), mize's ``MOM`` is

    .. math::

        u_t &= s_t + \mu_t u_{t-1} \quad \text{(classical)} \\
        u_t &= s_t + \mu_t (s_t + m_{t-1}) \quad \text{(Nesterov)} \\
        x_{t+1} &= x_t + u_t

    The Nesterov form follows the look-ahead sequence of Sutskever et al.'s
    NAG with the gradient taken at :math:`x_t`. :math:`\mu_t = 0` on the first
    step after the start or a restart for numbers and schedules (mize's
    default ``use_init_mom = FALSE``).

    Adaptive restart (mize's validation step) judges the step once at least
    ``restart_wait`` steps have passed since the last restart: the step is
    kept when :math:`f(x_t + u_t) < f(x_t)` (``"fn"``), :math:`g_t^\top u_t
    < 0` (``"gr"``) or :math:`\|u_t\|^2 > \|u_{t-1}\|^2` (``"speed"``), all
    parameters taken together. Otherwise the step is rolled back (the
    parameters do not move in that call) and the momentum restarts:
    :math:`u = m = 0`, the schedule's step count and the ``"nsconvex"``
    sequence start again. The state ``restart_at`` holds the iteration of the
    last restart. A rolled-back call moves nothing on purpose, so ``xtol``
    does not judge it (mize exempts restart iterations from its step
    tolerance too).

    References
    ----------
    .. [1] Sutskever, Martens, Dahl, Hinton (2013). On the importance of
       initialization and momentum in deep learning. ICML.
    .. [2] O'Donoghue, Candès (2015). Adaptive restart for accelerated gradient
       schemes. Foundations of Computational Mathematics 15, 715-732.
    .. [3] Melville, J. mize: unconstrained numerical optimization (R package),
       method ``"MOM"``.

    Examples
    --------
    >>> import numpy as np, pytensor
    >>> from pytensor_optim import momentum_descent
    >>> w = pytensor.shared(np.array([1.0, -2.0]), name="w")
    >>> cost = (w ** 2).sum()
    >>> updates = momentum_descent([w], cost, step_size=0.1, momentum=0.5)
    >>> step = pytensor.function([], cost, updates=updates, mode="FAST_COMPILE")
    >>> _ = step(); w.get_value()
    array([ 0.8, -1.6])
    >>> _ = step(); w.get_value()  # 0.8 - 0.16 + 0.5 * (-0.2)
    array([ 0.54, -1.08])
    """
    problem = Problem(
        "momentum_descent", params, cost, gradients, stop, updates, stopping
    )
    check_flag("nesterov", nesterov)
    if restart is not None and restart not in RESTARTS:
        raise ValueError(
            f"restart must be None, 'fn', 'gr' or 'speed', got {restart!r}"
        )
    if restart == "fn" and problem.cost is None:
        raise ValueError("momentum_descent(restart='fn') needs cost")
    wait = initial_value("restart_wait", restart_wait, low=1)
    if wait != int(wait):
        raise ValueError(f"restart_wait must be an integer, got {restart_wait!r}")
    hyper = problem.hyperparameters(step_size=(step_size, {"low": 0}))
    steps_since_start = problem.scalar("momentum_steps", 0, "int64")
    mu, nesterov_a, new_nesterov_a = momentum_coefficient(
        problem, momentum, steps_since_start
    )
    previous = problem.slot("update")
    parts = problem.slot("momentum_part") if nesterov else None

    gradient_steps, new_updates = [], []
    for index, (param, gradient) in enumerate(
        zip(problem.params, problem.gradients, strict=True)
    ):
        gradient_step = -pt.cast(hyper.step_size, param.dtype) * gradient
        direction = previous[index] if parts is None else gradient_step + parts[index]
        gradient_steps.append(gradient_step)
        new_updates.append(gradient_step + pt.cast(mu, param.dtype) * direction)
    stepped = [p + u for p, u in zip(problem.params, new_updates, strict=True)]

    state = []
    keep = None
    evals = 1
    if restart is not None:
        if restart == "fn":
            replaced = graph_replace(
                problem.cost, dict(zip(problem.params, stepped, strict=True))
            )
            ok = pt.lt(replaced, problem.cost)
            evals = 2
        elif restart == "gr":
            ok = pt.lt(
                _sum(
                    pt.sum(g * u)
                    for g, u in zip(problem.gradients, new_updates, strict=True)
                ),
                0,
            )
        else:
            ok = pt.gt(
                _sum(pt.sum(u**2) for u in new_updates),
                _sum(pt.sum(u**2) for u in previous),
            )
        restart_at = problem.scalar("restart_at", -(int(wait) + 1), "int64")
        iteration = problem.counter
        judged = pt.gt(iteration - restart_at, int(wait))
        keep = pt.or_(pt.invert(judged), ok)
        state.append((restart_at, pt.switch(keep, restart_at, iteration)))
        # a rolled-back call moves nothing on purpose: no xtol there (mize
        # exempts restart iterations from its step tolerance too)
        problem.no_step = pt.invert(keep)

    def kept(value, reset):
        return value if keep is None else pt.switch(keep, value, reset)

    new_params = [
        kept(new, param) for new, param in zip(stepped, problem.params, strict=True)
    ]
    state += [
        (slot, kept(u, pt.zeros_like(u)))
        for slot, u in zip(previous, new_updates, strict=True)
    ]
    if parts is not None:
        state += [
            (slot, kept(u - s, pt.zeros_like(u)))
            for slot, u, s in zip(parts, new_updates, gradient_steps, strict=True)
        ]
    state.append(
        (
            steps_since_start,
            kept(steps_since_start + 1, pt.zeros_like(steps_since_start)),
        )
    )
    if nesterov_a is not None:
        state.append((nesterov_a, kept(new_nesterov_a, np.float64(1.0))))
    return problem.finish(new_params, state, evals=evals)
