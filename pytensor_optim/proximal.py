"""Proximal gradient methods: FISTA and ISTA with backtracking, and prox operators."""

import numbers

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Variable
from pytensor.graph.replace import graph_replace
from pytensor.scan.utils import until

from ._docs import insert_docs
from ._protocol import Problem
from ._scan import check_mode, last_or, loop
from ._stopping import Status
from ._validate import (
    check_flag,
    check_max_evals,
    check_range,
    initial_value,
    is_zero,
    resolve,
)
from ._vec import dot

__all__ = ["fista", "prox_box", "prox_l1", "prox_nonneg"]


@insert_docs
def fista(
    params,
    cost=None,
    gradients=None,
    stop=None,
    updates=None,
    *,
    prox=None,
    nonsmooth_cost=None,
    L=0.1,  # the Lipschitz estimate is called L in the paper
    L_step=1.5,
    max_line=20,
    accelerated=True,
    errthres=1e-4,
    mode=None,
    **stopping,
):
    r"""FISTA (or ISTA) with backtracking on the Lipschitz constant.

    Minimises :math:`F(x) = f(x) + g(x)`, with :math:`f` smooth (``cost``)
    and :math:`g` convex, possibly non-smooth, known through its proximal
    operator (``prox``) (Beck & Teboulle 2009; Lua ``optim.FistaLS``). One
    call is one iteration, including its whole search on :math:`L`.

    Parameters
    ----------
    {protocol_parameters}
    prox : callable or None, default None
        ``prox(x, step) -> x'``, the proximal operator of :math:`g` with
        step :math:`1/L`, applied to each parameter tensor:
        :math:`\operatorname{prox}_{g/L}(x) = \arg\min_u g(u) + \tfrac{L}{2}
        \|u - x\|^2`. See :func:`prox_l1`, :func:`prox_box`,
        :func:`prox_nonneg`. ``None``: the identity (:math:`g = 0`, gradient
        steps of length :math:`1/L`).
    nonsmooth_cost : callable or None, default None
        ``nonsmooth_cost(xs) -> scalar``, :math:`g` evaluated at the list of
        tensors ``xs`` aligned with ``params``. Only used for the objective
        :math:`F = f + g` that ``errthres``, ``ftol`` and the non-finite
        check judge; ``None`` means that :math:`F = f` is judged.
    L : float, default 0.1
        The initial estimate :math:`L_0` of the Lipschitz constant of
        :math:`\nabla f` (the first trial step is :math:`1/L_0`). It
        initialises state, so it must be a positive number.
    L_step : float or scalar, default 1.5
        :math:`\eta > 1`, the factor by which the search increases
        :math:`L`.
    max_line : int, default 20
        The most trials of one search.
    accelerated : bool, default True
        True: FISTA. False: ISTA (no extrapolation, :math:`y_k = x_k`).
    errthres : float or None, default 1e-4
        With ``stop``: stop (``Status.CONVERGED_FTOL``) when
        :math:`|F(y_k) - F(y_{k-1})| \le` ``errthres`` (absolute, as Lua's
        ``FistaLS``). ``None`` or 0 never stops on it.
    mode : str, Mode or None
        The compilation mode of the search loop (``scan``'s ``mode``).
    {stopping_parameters}

    Returns
    -------
    {returns}

    Notes
    -----
    Iteration :math:`k` evaluates :math:`f(y_k)` and
    :math:`\nabla f(y_k)` at the extrapolated point :math:`y_k`, then tries
    :math:`L = \eta^i L_{k-1}`, :math:`i = 0, 1, \dots`, until

    .. math::

        p_L(y) = \operatorname{prox}_{g/L}\!\left(y - \tfrac{1}{L}
        \nabla f(y)\right), \qquad
        f(p_L(y)) \le f(y) + \langle p_L(y) - y, \nabla f(y)\rangle
        + \tfrac{L}{2} \|p_L(y) - y\|^2.

    This is Beck & Teboulle's test :math:`F(p_L(y)) \le Q_L(p_L(y), y)`:
    :math:`g(p_L(y))` appears on both sides and cancels, so the search only
    evaluates the smooth cost (as Lua's ``FistaLS`` does) and
    ``nonsmooth_cost`` never enters it. The test allows a rounding slack of
    :math:`8\epsilon (|f(y)| + |f(p_L(y))|)` (machine :math:`\epsilon` of
    the parameters' dtype): close to a minimiser both sides agree to
    rounding error, and the exact test would increase :math:`L` without
    end. Then, with :math:`t_1 = 1`,

    .. math::

        x_k = p_{L_k}(y_k), \quad
        t_{k+1} = \frac{1 + \sqrt{1 + 4 t_k^2}}{2}, \quad
        y_{k+1} = x_k + \frac{t_k - 1}{t_{k+1}} (x_k - x_{k-1}).

    ISTA takes :math:`y_{k+1} = x_k`. :math:`L` never decreases. With
    :math:`L_0 \le L(f)`, :math:`F(x_k) - F^*` is
    :math:`O(1/k^2)` for FISTA and :math:`O(1/k)` for ISTA.

    The parameters hold :math:`x_k`; :math:`y` is kept as
    :math:`x + m` with the momentum term :math:`m` in ``slots["momentum"]``
    (zero at the start, so the first iteration starts at the parameters,
    unlike Lua's ``FistaLS``, which starts from zeros), :math:`L` and
    :math:`t` in the scalars ``fista.L`` and ``fista.t``. A call makes
    one evaluation of the cost and gradients at :math:`y` and one cost
    evaluation per trial, all counted towards ``max_evals``.

    When ``max_line`` trials fail, the parameters stay, the momentum is
    dropped and :math:`L` keeps its last (largest) trial value, from which
    the next call's search goes on: as in Lua's ``FistaLS``, an exhausted
    search does not end the run (a small ``L`` far below the Lipschitz
    constant costs a few calls, not a failure).

    Stopping criteria are judged at :math:`y_k`: ``gtol`` on the gradient
    mapping :math:`G = L_k (y_k - x_k)`, which is :math:`\nabla f(y_k)` when
    ``prox`` is ``None`` and is zero exactly at a minimiser of :math:`F`;
    ``errthres`` on :math:`F(y_k)` (Lua's ``FistaLS`` records :math:`F` at
    :math:`y`); ``ftol`` on :math:`F(x_{k-1})`, the objective at the
    parameters (one more evaluation per call for FISTA). When one of them
    holds the parameters move to :math:`y_k` and stay there.

    References
    ----------
    .. [1] Beck, A., Teboulle, M. (2009). A fast iterative
       shrinkage-thresholding algorithm for linear inverse problems. SIAM J.
       Imaging Sciences 2(1), 183-202 (FISTA with backtracking, §4).
    .. [2] Collobert, R., Kavukcuoglu, K., Farabet, C. Lua Torch ``optim``,
       ``FistaLS``.

    Examples
    --------
    Non-negative least squares :math:`\min_{x \ge 0} \tfrac12\|x - c\|^2`:

    >>> import numpy as np, pytensor
    >>> from pytensor_optim import fista, prox_nonneg
    >>> x = pytensor.shared(np.array([1.0, 1.0]), name="x")
    >>> cost = 0.5 * ((x - np.array([2.0, -3.0])) ** 2).sum()
    >>> updates = fista([x], cost, prox=prox_nonneg(), L=1.0, mode="FAST_COMPILE")
    >>> step = pytensor.function([], cost, updates=updates, mode="FAST_COMPILE")
    >>> for _ in range(3):
    ...     _ = step()
    >>> x.get_value()
    array([2., 0.])
    """
    problem = Problem("fista", params, cost, gradients, stop, updates, stopping)
    if problem.cost is None:
        raise ValueError("fista() needs cost: its search on L compares costs")
    if prox is not None and not callable(prox):
        raise TypeError(
            f"prox must be a callable (x, step) -> x' or None, got {prox!r}"
        )
    if nonsmooth_cost is not None and not callable(nonsmooth_cost):
        raise TypeError(
            f"nonsmooth_cost must be a callable xs -> scalar or None, got "
            f"{nonsmooth_cost!r}"
        )
    initial_L = initial_value("L", L, low=0, low_open=True)
    max_line = check_max_evals(max_line, "max_line")
    check_flag("accelerated", accelerated)
    if errthres is not None:
        resolve(errthres, "errthres", "float64", low=0)
    mode = check_mode(mode)
    dtype = str(np.result_type(*(p.dtype for p in problem.params)))
    eta = problem.resolve("L_step", L_step, dtype, low=1, low_open=True)

    params_, n = problem.params, len(problem.params)
    lipschitz = problem.scalar("L", initial_L, dtype)
    if accelerated:
        momentum = problem.slot("momentum")
        t = problem.scalar("t", 1.0, dtype)
        y = [p + m for p, m in zip(params_, momentum, strict=True)]
    else:
        y = list(params_)

    # f and its gradient at y (one evaluation)
    at_y = dict(zip(params_, y, strict=True)) if accelerated else {}
    evaluated = graph_replace([problem.cost, *problem.gradients], at_y, strict=False)
    f_y = pt.cast(evaluated[0], dtype)
    g_y = [pt.cast(g, p.dtype) for g, p in zip(evaluated[1:], params_, strict=True)]

    def prox_point(point, gradient, lipschitz_value):
        step = pt.cast(1, dtype) / lipschitz_value
        moved = [
            yi - pt.cast(step, yi.dtype) * gi
            for yi, gi in zip(point, gradient, strict=True)
        ]
        if prox is None:
            return moved
        return [
            _same_type(prox(mi, pt.cast(step, mi.dtype)), mi, "prox") for mi in moved
        ]

    roundoff = pt.constant(np.asarray(8 * np.finfo(dtype).eps, dtype=dtype))

    def body(trial_L, trials, accepted, *invariants):
        point, gradient = invariants[:n], invariants[n : 2 * n]
        f_point = invariants[2 * n]
        lipschitz_value = pt.switch(pt.eq(trials, 0), trial_L, trial_L * eta)
        candidate = prox_point(point, gradient, lipschitz_value)
        f_candidate = pt.cast(
            graph_replace(problem.cost, dict(zip(params_, candidate, strict=True))),
            dtype,
        )
        difference = [c - yi for c, yi in zip(candidate, point, strict=True)]
        bound = (
            f_point
            + dot(difference, gradient, dtype)
            + lipschitz_value / 2 * dot(difference, difference, dtype)
        )
        # Near a minimiser both sides agree to rounding error, and the exact
        # test would fail by a few ulps and inflate L without end: a
        # difference within rounding of the costs is accepted.
        slack = roundoff * (pt.abs(f_point) + pt.abs(f_candidate))
        ok = pt.le(f_candidate, bound + slack)
        return [lipschitz_value, trials + 1, pt.cast(ok, "int8")], until(ok)

    initial = [
        pt.cast(lipschitz, dtype),
        pt.constant(np.int64(0)),
        pt.constant(np.int8(0)),
    ]
    outputs = loop(body, initial, [*y, *g_y, f_y], max_line, mode)
    final_L, trials, accepted = (
        last_or(i, o) for i, o in zip(initial, outputs, strict=True)
    )
    success = pt.eq(accepted, 1)
    x_new = prox_point(y, g_y, final_L)
    new_params = [
        pt.switch(success, xn, p) for xn, p in zip(x_new, params_, strict=True)
    ]

    state_updates = [(lipschitz, final_L)]
    if accelerated:
        t_next = (1 + pt.sqrt(1 + 4 * t * t)) / 2
        weight = (t - 1) / t_next
        state_updates.append((t, pt.cast(t_next, dtype)))
        state_updates += [
            (
                m,
                pt.switch(
                    success, pt.cast(weight, p.dtype) * (xn - p), pt.zeros_like(p)
                ),
            )
            for m, xn, p in zip(momentum, new_params, params_, strict=True)
        ]

    # stopping criteria are judged at y: F(y) and the gradient mapping
    objective = f_y
    if nonsmooth_cost is not None:
        g_value = pt.as_tensor_variable(nonsmooth_cost(list(y)))
        if g_value.ndim != 0:
            raise ValueError(f"nonsmooth_cost must return a scalar, got {g_value.type}")
        objective = objective + pt.cast(g_value, dtype)
    # ftol compares the objective at the parameters, the cost the caller
    # sees (as nag does); it costs one more evaluation when y differs from x
    extra_evals = 0
    if "ftol" in problem.stopping and accelerated:
        at_params = problem.cost
        if nonsmooth_cost is not None:
            at_params = at_params + pt.cast(
                pt.as_tensor_variable(nonsmooth_cost(list(params_))), dtype
            )
        problem.cost = pt.cast(at_params, dtype)
        extra_evals = 1
    else:
        problem.cost = objective
    problem.gradients = tuple(
        pt.cast(final_L, yi.dtype) * (yi - xn) for yi, xn in zip(y, x_new, strict=True)
    )
    problem.evaluated = tuple(y) if accelerated else None
    reasons = []
    if problem.stop is not None and errthres is not None and not is_zero(errthres):
        previous = problem.scalar("previous_objective", np.nan, dtype)
        threshold = resolve(errthres, "errthres", dtype, low=0)
        reasons.append(
            (pt.le(pt.abs(objective - previous), threshold), Status.CONVERGED_FTOL)
        )
        state_updates.append((previous, objective))
    evals = 1 + extra_evals + trials
    return problem.finish(new_params, state_updates, evals=evals, reasons=reasons)


def _same_type(value, template, name):
    value = pt.as_tensor_variable(value)
    if value.ndim != template.ndim:
        raise ValueError(
            f"{name} must return a tensor shaped like its input ({template.type}), "
            f"got {value.type}"
        )
    return pt.cast(value, template.dtype)


def _check_bound(name, value):
    if isinstance(value, Variable):
        return value
    if isinstance(value, bool | np.bool_) or value is None or isinstance(value, str):
        raise TypeError(f"{name} must be a number, array or tensor, got {value!r}")
    array = np.asarray(value, dtype="float64")
    if np.isnan(array).any():
        raise ValueError(f"{name} must not be NaN, got {value!r}")
    return array


def prox_l1(lam):
    r"""The proximal operator of :math:`\lambda \|x\|_1`: soft thresholding.

    Parameters
    ----------
    lam : float or scalar tensor
        :math:`\lambda \ge 0`.

    Returns
    -------
    callable
        ``prox(x, step)`` :math:`= \operatorname{sign}(x) \max(|x| -
        \lambda\,\mathrm{step}, 0)`, in ``x``'s dtype.

    Examples
    --------
    >>> import numpy as np, pytensor.tensor as pt
    >>> from pytensor_optim import prox_l1
    >>> prox_l1(1.0)(pt.as_tensor(np.array([-3.0, 0.5, 2.0])), 0.5).eval()
    array([-2.5,  0. ,  1.5])
    """
    if not isinstance(lam, Variable):
        if isinstance(lam, bool | np.bool_) or not isinstance(lam, numbers.Real):
            raise TypeError(f"lam must be a number or a scalar tensor, got {lam!r}")
        check_range("lam", float(lam), low=0)

    def prox(x, step):
        threshold = pt.cast(lam, x.dtype) * pt.cast(step, x.dtype)
        return pt.sign(x) * pt.maximum(pt.abs(x) - threshold, 0)

    return prox


def prox_box(lo, hi):
    r"""The proximal operator of the indicator of :math:`[lo, hi]`: clipping.

    Parameters
    ----------
    lo, hi : float, array or tensor
        Bounds broadcast against the parameter; ``-np.inf`` / ``np.inf``
        leave a side open. Plain values must satisfy ``lo <= hi``.

    Returns
    -------
    callable
        ``prox(x, step)`` :math:`= \min(\max(x, lo), hi)` (the step is not
        used), in ``x``'s dtype.

    Examples
    --------
    >>> import numpy as np, pytensor.tensor as pt
    >>> from pytensor_optim import prox_box
    >>> prox_box(-1.0, 1.0)(pt.as_tensor(np.array([-3.0, 0.5, 2.0])), 0.1).eval()
    array([-1. ,  0.5,  1. ])
    """
    lo, hi = _check_bound("lo", lo), _check_bound("hi", hi)
    if isinstance(lo, np.ndarray) and isinstance(hi, np.ndarray):
        try:
            wrong = np.any(
                np.broadcast_arrays(lo, hi)[0] > np.broadcast_arrays(lo, hi)[1]
            )
        except ValueError as error:
            raise ValueError(f"lo and hi do not broadcast: {error}") from error
        if wrong:
            raise ValueError(f"lo must be <= hi, got lo={lo!r}, hi={hi!r}")

    def prox(x, step):
        low = pt.cast(lo, x.dtype) if isinstance(lo, Variable) else lo.astype(x.dtype)
        high = pt.cast(hi, x.dtype) if isinstance(hi, Variable) else hi.astype(x.dtype)
        return pt.minimum(pt.maximum(x, low), high)

    return prox


def prox_nonneg():
    r"""The proximal operator of the indicator of :math:`x \ge 0`.

    Returns
    -------
    callable
        ``prox(x, step)`` :math:`= \max(x, 0)`, in ``x``'s dtype.

    Examples
    --------
    >>> import numpy as np, pytensor.tensor as pt
    >>> from pytensor_optim import prox_nonneg
    >>> prox_nonneg()(pt.as_tensor(np.array([-3.0, 0.5])), 0.1).eval()
    array([0. , 0.5])
    """

    def prox(x, step):
        return pt.maximum(x, pt.zeros((), dtype=x.dtype))

    return prox
