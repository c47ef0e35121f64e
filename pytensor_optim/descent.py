"""Steepest descent with a line search."""

import pytensor.tensor as pt

from ._docs import insert_docs
from ._protocol import Problem
from ._searched import current_point, line_search_step, searched
from ._validate import check_max_evals

__all__ = ["gradient_descent"]


@insert_docs
def gradient_descent(
    params,
    cost=None,
    gradients=None,
    stop=None,
    updates=None,
    *,
    step_size=1.0,
    line_search="backtracking",
    max_evals_per_iter=None,
    **stopping,
):
    r"""Steepest descent, the step found by a line search (mize's ``SD``).

    One call is one iteration: the direction :math:`d = -g` and a whole
    line search along it.

    Parameters
    ----------
    {protocol_parameters}
    step_size : float, shared/symbolic scalar or schedule, default 1
        :math:`\alpha_0`, the first trial step of every search (the step
        itself with ``line_search="constant"`` or ``None``).
    line_search : str, callable or None, default "backtracking"
        ``"backtracking"`` (Armijo), ``"strong_wolfe"``, ``"constant"``, a
        configured search such as ``backtracking(shrink=0.3)``, or a callable
        (see :mod:`pytensor_optim.line_search`). ``None``: the fixed step
        :math:`x - \alpha_0 g` with the gradient evaluated at the start of
        every call, as :func:`~pytensor_optim.sgd` does.
    {max_evals_per_iter}
    {stopping_parameters}

    Returns
    -------
    {returns}

    Notes
    -----
    With :math:`\phi(\alpha) = f(x_k - \alpha g_k)`,

    .. math:: x_{k+1} = x_k - \alpha_k g_k,

    with :math:`\alpha_k` the step the search accepts starting from
    :math:`\alpha_0` (for ``backtracking``, the first of
    :math:`\alpha_0, \rho\alpha_0, \rho^2\alpha_0, \dots` with
    :math:`\phi(\alpha) \le \phi(0) - c_1 \alpha \|g_k\|^2`).

    The search evaluates the cost and gradients at the point it accepts;
    they are kept in the state (``gradient_descent.cost``,
    ``slots["gradient"]``) and the next call starts from them, so only the
    first call evaluates at the parameters: with backtracking a call costs
    the number of trials of its search (plus one on the first call). The
    evaluations count towards ``max_evals``. If the search fails (no
    acceptable step within its budget, or :math:`g = 0`) the parameters do
    not move and, with ``stop``, the run ends with
    ``Status.LINE_SEARCH_FAILED``; a NaN or infinite value met by the search
    ends it with ``Status.NON_FINITE``. The kept values assume a
    deterministic cost: after changing the parameters or the data by hand,
    set ``gradient_descent.known`` to 0 (or call ``reset()``).

    References
    ----------
    .. [1] Nocedal, Wright (2006). Numerical Optimization, 2nd ed., §3.1
       (backtracking, Algorithm 3.1).
    .. [2] Melville, J. mize: unconstrained numerical optimization
       algorithms (R package), method ``"SD"``.

    Examples
    --------
    >>> import numpy as np, pytensor
    >>> from pytensor_optim import gradient_descent
    >>> x = pytensor.shared(np.array([3.0, -1.0]), name="x")
    >>> cost = ((x - 1.0) ** 2).sum()
    >>> updates = gradient_descent([x], cost)
    >>> step = pytensor.function([], cost, updates=updates, mode="FAST_COMPILE")
    >>> for _ in range(3):
    ...     _ = step()
    >>> x.get_value()
    array([1., 1.])
    """
    problem = Problem(
        "gradient_descent", params, cost, gradients, stop, updates, stopping
    )
    search = searched(problem, line_search)
    if max_evals_per_iter is not None:
        if search is None:
            raise ValueError(
                f"max_evals_per_iter={max_evals_per_iter!r} applies to line "
                "searches; it needs a line_search"
            )
        check_max_evals(max_evals_per_iter, "max_evals_per_iter")
    hyper = problem.hyperparameters(step_size=(step_size, {"low": 0, "low_open": True}))
    if search is None:
        new_params = [
            param - pt.cast(hyper.step_size, param.dtype) * gradient
            for param, gradient in zip(problem.params, problem.gradients, strict=True)
        ]
        return problem.finish(new_params)
    current = current_point(problem, search)
    direction = [-gradient for gradient in current.gradients]
    new_params, state_updates, evals, reasons, _ = line_search_step(
        problem, search, current, direction, hyper.step_size, max_evals_per_iter
    )
    return problem.finish(new_params, state_updates, evals=evals, reasons=reasons)
