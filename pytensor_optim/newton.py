"""Newton-type rules: truncated Newton (Newton-CG)."""

import numbers

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.replace import graph_replace
from pytensor.scan.utils import until

from ._docs import insert_docs
from ._flat import Flat
from ._hessian import hessian_vector
from ._initial_step import InitialStep
from ._protocol import Problem
from ._scan import last_or, like, loop
from ._searched import current_point, line_search_step, searched
from ._validate import check_max_evals
from ._vec import constant

__all__ = ["truncated_newton"]

EXITS = ("curvature", "strong")
HESSIAN_PRODUCTS = ("auto", "exact", "finite_difference")
# mize's tolerance of the "strong" exit: g'z must fall by more than this
_STRONG_TOLERANCE = 1e-15


@insert_docs
def truncated_newton(
    params,
    cost=None,
    gradients=None,
    stop=None,
    updates=None,
    *,
    line_search="more_thuente",
    cg_max_iter=40,
    exit="curvature",
    hessian_product="auto",
    step0=None,
    step_next_init="quadratic",
    try_newton_step=True,
    max_evals_per_iter=None,
    **stopping,
):
    r"""Truncated Newton (line-search Newton-CG) with a line search (mize's ``TN``).

    One call is one outer iteration: the direction from a few iterations of
    linear conjugate gradients on the Newton equation :math:`H p = -g`, with
    exact Hessian-vector products (no Hessian is formed), and a whole line
    search along it.

    Parameters
    ----------
    {protocol_parameters}
    line_search : str or callable, default "more_thuente"
        A search by name (given the curvature constant ``c2=0.9`` when it
        takes one), a configured search such as ``strong_wolfe(c2=0.5)``, or
        a callable; see :mod:`pytensor_optim.line_search`. ``"constant"``
        takes the first trial step as it is.
    cg_max_iter : int, default 40
        The most inner conjugate-gradient iterations (Hessian-vector
        products) of one call; mize's (and TNPACK's) 40.
    exit : {"curvature", "strong"}, default "curvature"
        ``"curvature"``: the inner loop stops on convergence or non-positive
        curvature. ``"strong"`` (TNPACK's descent test) also stops it when
        :math:`g^\top z` stops decreasing, keeping the previous iterate.
    hessian_product : {"auto", "exact", "finite_difference"}, default "auto"
        ``"exact"``: Hessian-vector products by automatic differentiation
        (``pytensor.gradient.hessian_vector_product``); ``ValueError`` when
        the gradient cannot be differentiated (e.g. a cost given by a NumPy
        callable). ``"finite_difference"``: mize's forward differences of the
        gradient. ``"auto"``: exact when possible, else forward differences.
    {initial_step_parameters}
    {max_evals_per_iter}
    {stopping_parameters}

    Returns
    -------
    {returns}

    Notes
    -----
    With :math:`g = \nabla f(x_k)` and :math:`H = \nabla^2 f(x_k)`, the
    inner loop is linear CG on :math:`H p = -g` from :math:`z_0 = 0`,
    :math:`r_0 = g`, :math:`d_0 = -g` (Nocedal & Wright, Algorithm 7.1):

    .. math::

        \alpha_j = \frac{r_j^\top r_j}{d_j^\top H d_j}, \quad
        z_{j+1} = z_j + \alpha_j d_j, \quad
        r_{j+1} = r_j + \alpha_j H d_j, \quad
        d_{j+1} = -r_{j+1} + \frac{r_{j+1}^\top r_{j+1}{r_j^\top r_j} d_j,

    stopping with :math:`p = z_{j+1}` once

    .. math:: \|r_{j+1}\|_2 < \min(0.5, \sqrt{\|g\|_2})\, \|g\|_2,

    after ``cg_max_iter`` iterations, or with :math:`p = z_j` when the
    curvature :math:`d_j^\top H d_j` is not positive (or :math:`\alpha_j` is
    not finite); if that happens at :math:`j = 0`, :math:`p = -g`. With
    ``exit="strong"`` the loop also stops with :math:`p = z_j` (:math:`-g`
    at :math:`j = 0`) when :math:`g^\top z_{j+1} \ge g^\top z_j + 10^{-15}`.
    As in mize, :math:`p = -g` when :math:`g^\top p \ge 0`, and then

    .. math:: x_{k+1} = x_k + t_k p,

    with :math:`t_k` from the line search (Wolfe curvature constant
    :math:`c_2 = 0.9` for a search given by name; the first trial step from
    ``step0``/``step_next_init`` with ``try_newton_step``, so the unit Newton
    step is tried first near a solution).

    The inner loop is a ``scan`` of at most ``cg_max_iter`` iterations that
    ends early; its products :math:`H d_j` differ from mize's forward
    differences :math:`(\nabla f(x + h d) - g)/h`,
    :math:`h = 2\sqrt{\epsilon}(1 + \|x\|_2)/\|d\|_2`, which are only used
    (with ``hessian_product="finite_difference"``, or ``"auto"`` when the
    gradient has no derivative; :math:`\epsilon` the machine epsilon of the
    parameters' dtype) as the fallback. Each Hessian-vector product counts
    as one evaluation towards ``max_evals`` (mize counts each difference as
    a gradient evaluation), on top of the search's evaluations; mize's
    check of its gradient budget inside the inner loop is not reproduced.
    Unlike mize, the inner loop always starts from zero (mize's
    ``tn_init = 0``) and has no preconditioner.

    The parameters are handled as one vector (their sizes summed, in their
    widest dtype). The search evaluates the cost and gradients at the point
    it accepts; they are kept (``truncated_newton.cost``,
    ``slots["gradient"]``, ``truncated_newton.known``) and the next call
    starts from them, so only the first call evaluates at the parameters.
    What the first trial step needs is kept in ``truncated_newton.last_step``,
    ``truncated_newton.last_cost``, ``truncated_newton.last_slope``; the
    number of inner iterations of the last call in
    ``truncated_newton.cg_iterations``. If the search fails the parameters
    do not move and, with ``stop``, the run ends with
    ``Status.LINE_SEARCH_FAILED`` (``Status.NON_FINITE`` after a NaN or
    infinite value).

    References
    ----------
    .. [1] Nocedal, Wright (2006). Numerical Optimization, 2nd ed., §7.1
       (Algorithm 7.1, line search Newton-CG).
    .. [2] Xie, Schlick (1999). Efficient implementation of the truncated
       Newton algorithm for large-scale chemistry applications. SIAM J.
       Optim. 10 (TNPACK: 40 inner iterations, the descent exit test).
    .. [3] Melville, J. mize: unconstrained numerical optimization
       algorithms (R package), method ``"TN"``.

    Examples
    --------
    >>> import numpy as np, pytensor
    >>> from pytensor_optim import truncated_newton
    >>> x = pytensor.shared(np.array([3.0, -1.0]), name="x")
    >>> cost = (x[0] - 1.0) ** 2 + 10.0 * (x[1] + 2.0) ** 2 + (x[0] - 1.0) ** 4
    >>> updates = truncated_newton([x], cost)
    >>> step = pytensor.function([], cost, updates=updates, mode="FAST_COMPILE")
    >>> for _ in range(15):
    ...     _ = step()
    >>> x.get_value().round(6)
    array([ 1., -2.])
    """
    problem = Problem(
        "truncated_newton", params, cost, gradients, stop, updates, stopping
    )
    algo = problem.algo
    if problem.cost is None:
        raise ValueError(
            f"{algo}() needs cost: its Hessian-vector products and line search "
            "differentiate and compare costs"
        )
    if (
        not isinstance(cg_max_iter, numbers.Integral)
        or isinstance(cg_max_iter, bool | np.bool_)
        or cg_max_iter < 1
    ):
        raise ValueError(f"cg_max_iter must be a positive integer, got {cg_max_iter!r}")
    if exit not in EXITS:
        raise ValueError(f"exit must be one of {list(EXITS)}, got {exit!r}")
    if hessian_product not in HESSIAN_PRODUCTS:
        raise ValueError(
            f"hessian_product must be one of {list(HESSIAN_PRODUCTS)}, "
            f"got {hessian_product!r}"
        )
    search = searched(problem, line_search, required=True, c2=0.9)
    if max_evals_per_iter is not None:
        check_max_evals(max_evals_per_iter, "max_evals_per_iter")
    initial_step = InitialStep(
        problem,
        search,
        step0=step0,
        step_next_init=step_next_init,
        try_newton_step=try_newton_step,
    )

    # H v at the parameters, as a graph of placeholders v (before
    # current_point / line_search_step replace problem.gradients)
    flat = Flat(problem.params, algo)
    dtype = flat.dtype
    params = list(problem.params)
    placeholders = [param.type() for param in params]
    product = None
    if hessian_product != "finite_difference":
        product = hessian_vector(problem, placeholders)
        if product is None and hessian_product == "exact":
            raise ValueError(
                f"hessian_product='exact': {algo}() cannot differentiate the "
                "gradient of this cost (use 'auto' or 'finite_difference')"
            )
    gradient_graph = list(problem.gradients)

    current = current_point(problem, search)
    cg_iterations = problem.scalar("cg_iterations", 0, "int64")
    g = flat.join(current.gradients)
    x = flat.join(params)
    eps = constant(np.finfo(dtype).eps, dtype)
    zero = constant(0, dtype)

    def times_hessian(d):
        pieces = flat.split(d)
        if product is not None:
            return flat.join(
                graph_replace(product, dict(zip(placeholders, pieces, strict=True)))
            )
        # mize's forward difference, with the dtype's epsilon
        d_norm = pt.sqrt(pt.dot(d, d))
        h = 2 * pt.sqrt(eps) * (1 + pt.sqrt(pt.dot(x, x))) / d_norm
        shifted = [
            param + pt.cast(h, param.dtype) * piece
            for param, piece in zip(params, pieces, strict=True)
        ]
        ahead = flat.join(
            graph_replace(gradient_graph, dict(zip(params, shifted, strict=True)))
        )
        difference = (ahead - g) / h
        usable = pt.and_(
            pt.and_(pt.isfinite(h), pt.gt(h, 0)), pt.all(pt.isfinite(difference))
        )
        return pt.switch(usable, difference, pt.zeros_like(difference))

    g_norm = pt.sqrt(pt.dot(g, g))
    tolerance = pt.minimum(constant(0.5, dtype), pt.sqrt(g_norm)) * g_norm
    valid = pt.and_(pt.isfinite(g_norm), pt.gt(g_norm, 0))
    steepest = -g

    def inner(z, r, d, rr, j, g, tolerance, steepest):
        hd = times_hessian(d)
        curvature = pt.dot(d, hd)
        alpha = rr / curvature
        unusable = pt.or_(
            pt.invert(pt.and_(pt.isfinite(curvature), pt.gt(curvature, 0))),
            pt.invert(pt.isfinite(alpha)),
        )
        z_next = z + alpha * d
        if exit == "strong":
            rising = pt.ge(
                pt.dot(g, z_next),
                pt.dot(g, z) + constant(_STRONG_TOLERANCE, dtype),
            )
            unusable = pt.or_(unusable, rising)
        # a failed first iteration falls back to steepest descent
        kept = pt.switch(pt.eq(j, 0), steepest, z)
        r_next = r + alpha * hd
        r_norm = pt.sqrt(pt.dot(r_next, r_next))
        converged = pt.or_(pt.invert(pt.isfinite(r_norm)), pt.lt(r_norm, tolerance))
        rr_next = pt.dot(r_next, r_next)
        d_next = (rr_next / rr) * d - r_next
        new = [
            pt.switch(unusable, kept, z_next),
            r_next,
            d_next,
            rr_next,
            j + 1,
        ]
        templates = [z, r, d, rr, j]
        new = [like(value, old) for value, old in zip(new, templates, strict=True)]
        return new, until(pt.or_(unusable, converged))

    initial = [
        pt.zeros_like(g),
        g,
        -g,
        pt.dot(g, g),
        pt.constant(np.int64(0)),
    ]
    outputs = loop(
        inner,
        initial,
        (g, tolerance, steepest),
        pt.switch(valid, cg_max_iter, 0),
        getattr(search, "mode", None),
    )
    z = last_or(initial[0], outputs[0])
    # the iteration count, not the length of the iterates' history: the loop
    # then keeps no history (which JAX could not compile)
    products = last_or(initial[4], outputs[4])
    descent = pt.lt(pt.dot(g, z), zero)
    direction = pt.switch(descent, z, steepest)

    directions = flat.split(direction)
    trial = initial_step.trial(current.cost, current.gradients, directions)
    moved, search_updates, evals, reasons, result = line_search_step(
        problem, search, current, directions, trial, max_evals_per_iter
    )
    state_updates = [
        (cg_iterations, pt.cast(products, "int64")),
        *search_updates,
        *initial_step.updates(result.step),
    ]
    return problem.finish(moved, state_updates, evals=evals + products, reasons=reasons)
