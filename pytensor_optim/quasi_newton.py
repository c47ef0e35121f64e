"""Quasi-Newton rules."""

import numbers

import numpy as np
import pytensor.tensor as pt

from ._docs import insert_docs
from ._protocol import Problem
from ._searched import current_point, line_search_step, searched
from ._stopping import Status
from ._vec import axpy, dot, sum_abs
from .line_search._core import check_max_evals

__all__ = ["lbfgs"]

# PyTorch's (and Lua optim's) curvature test: a pair enters the history only
# when y's > 1e-10 (absolute).
_CURVATURE_THRESHOLD = 1e-10


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
    line_search=None,
    max_evals_per_iter=None,
    **stopping,
):
    r"""Limited-memory BFGS (Nocedal 1980; Liu & Nocedal 1989).

    One call is one iteration of ``torch.optim.LBFGS`` (one of its inner
    iterations), with a fixed step or with its strong Wolfe line search: the
    same directions, steps and history.

    Parameters
    ----------
    {protocol_parameters}
    history : int, default 10
        :math:`m`, the number of curvature pairs kept.
    step_size : float, shared/symbolic scalar or schedule, default 1
        :math:`\eta`: the step along the L-BFGS direction, or the first
        trial step of the line search. The very first step (trial) is
        :math:`\min(1, 1 / \|g\|_1)\, \eta`, as in PyTorch and Lua.
    line_search : str, callable or None, default None
        ``None``: fixed steps. ``"strong_wolfe"`` (PyTorch's
        ``line_search_fn="strong_wolfe"``), ``"backtracking"``,
        ``"constant"``, a configured search such as ``strong_wolfe(c2=0.5)``,
        or a callable; see :mod:`pytensor_optim.line_search`.
    max_evals_per_iter : int, optional
        The most evaluations of one line search; default: the search's own
        ``max_evals`` (26 for ``strong_wolfe``). PyTorch's ``max_eval`` with
        ``max_iter=1`` gives its search the same budget.
    {stopping_parameters}

    Returns
    -------
    {returns}

    Notes
    -----
    With :math:`s = x_k - x_{k-1}` and :math:`y = g_k - g_{k-1}`, the pair
    enters the history (dropping the oldest beyond :math:`m`) when
    :math:`y^\top s > 10^{-10}`, and then :math:`\gamma = y^\top s / y^\top y`.
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
    ``(m, *param.shape)``, a ring buffer) with ``lbfgs.rho``,
    ``lbfgs.head``, ``lbfgs.stored`` and ``lbfgs.gamma``; the previous
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
    search = searched(problem, line_search)
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
    hyper = problem.hyperparameters(step_size=(step_size, {"low": 0}))
    if search is None:
        g = list(problem.gradients)
    else:
        # the cost and gradient at the parameters, kept from the last search
        current = current_point(problem, search)
        g = list(current.gradients)

    s_history = problem.slot("s", leading=(m,))
    y_history = problem.slot("y", leading=(m,))
    previous_gradient = problem.slot("previous_gradient")
    previous_direction = problem.slot("direction")
    # 1/y's per pair, in the parameters' (widest) dtype: float32 stays float32
    widest = str(np.result_type(*(p.dtype for p in problem.params)))
    rho = problem.scalar("rho", 0.0, widest, shape=(m,))
    head = problem.scalar("head", 0, "int64")
    stored = problem.scalar("stored", 0, "int64")
    gamma = problem.scalar("gamma", 1.0, "float64")
    previous_step = problem.scalar("previous_step", 0.0, "float64")

    # 1. the newest curvature pair (zero state: no pair on the first call)
    s = [pt.cast(previous_step, d.dtype) * d for d in previous_direction]
    y = [gi - pi for gi, pi in zip(g, previous_gradient, strict=True)]
    ys = dot(y, s)
    accept = pt.gt(ys, _CURVATURE_THRESHOLD)
    new_s_history = [
        pt.set_subtensor(h[head], pt.switch(accept, si, h[head]))
        for h, si in zip(s_history, s, strict=True)
    ]
    new_y_history = [
        pt.set_subtensor(h[head], pt.switch(accept, yi, h[head]))
        for h, yi in zip(y_history, y, strict=True)
    ]
    new_rho = pt.set_subtensor(
        rho[head], pt.switch(accept, pt.cast(1 / ys, widest), rho[head])
    )
    new_head = pt.switch(accept, (head + 1) % m, head)
    new_stored = pt.switch(accept, pt.minimum(stored + 1, m), stored)
    new_gamma = pt.switch(accept, ys / dot(y, y), gamma)

    # 2. the two-loop recursion, newest pair first, over the stored pairs
    q = [-gi for gi in g]
    alphas = []
    for j in range(m):
        index = (new_head - 1 - j) % m
        active = pt.lt(j, new_stored)
        alpha = pt.switch(
            active, new_rho[index] * dot([h[index] for h in new_s_history], q), 0.0
        )
        q = axpy(-alpha, [h[index] for h in new_y_history], q)
        alphas.append((index, active, alpha))
    r = [pt.cast(new_gamma, qi.dtype) * qi for qi in q]
    for index, active, alpha in reversed(alphas):
        beta = new_rho[index] * dot([h[index] for h in new_y_history], r)
        r = axpy(
            pt.switch(active, alpha - beta, 0.0), [h[index] for h in new_s_history], r
        )
    direction = r

    # 3. the step (the first trial step of a line search)
    first = pt.eq(problem.counter, 0)
    step = pt.switch(first, pt.minimum(1.0, 1.0 / sum_abs(g)), 1.0) * hyper.step_size
    if search is None:
        descent = pt.lt(dot(g, direction), 0)
        moved = axpy(pt.switch(descent, step, 0.0), direction, list(problem.params))
        evals, reasons = 1, [(pt.invert(descent), Status.LINE_SEARCH_FAILED)]
        search_updates = []
    else:
        moved, search_updates, evals, reasons, result = line_search_step(
            problem, search, current, direction, step, max_evals_per_iter
        )
        step = pt.cast(result.step, "float64")

    state_updates = [
        *zip(s_history, new_s_history, strict=True),
        *zip(y_history, new_y_history, strict=True),
        *zip(previous_gradient, g, strict=True),
        *zip(previous_direction, direction, strict=True),
        (rho, new_rho),
        (head, new_head),
        (stored, new_stored),
        (gamma, new_gamma),
        (previous_step, step),
        *search_updates,
    ]
    return problem.finish(moved, state_updates, evals=evals, reasons=reasons)
