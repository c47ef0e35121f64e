"""Evolution strategies: CMA-ES, derivative-free, one generation per call."""

import math
import numbers

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.graph.replace import graph_replace, vectorize_graph

from ._compat import ifelse
from ._docs import insert_docs
from ._flat import Flat
from ._protocol import Problem
from ._stopping import Status

__all__ = ["cmaes"]

# purecma's termination thresholds (N. Hansen, cma.purecma.CMAES.stop)
_TOLFUN = 1e-12
_TOLX = 1e-11
_MAX_CONDITION = 1e14


def strategy_parameters(n, popsize, active=False):
    """The constants of (mu/mu_w, lambda)-CMA-ES in dimension ``n``.

    ``active=False``: purecma's; ``active=True``: the defaults of Hansen's
    tutorial (arXiv:1604.00772, Table 1), with negative weights for the
    ``popsize - mu`` worst candidates and the tutorial's step-size damping.
    """
    mu = popsize // 2
    raw = np.log(popsize / 2 + 0.5) - np.log(np.arange(1, popsize + 1))
    weights = raw[:mu] / raw[:mu].sum()
    mueff = 1.0 / float((weights**2).sum())
    cc = (4 + mueff / n) / (n + 4 + 2 * mueff / n)
    cs = (mueff + 2) / (n + mueff + 5)
    c1 = 2 / ((n + 1.3) ** 2 + mueff)
    cmu = min(1 - c1, 2 * (mueff - 2 + 1 / mueff) / ((n + 2) ** 2 + mueff))
    negative = np.zeros(popsize - mu)
    if active:
        damps = 1 + 2 * max(0.0, math.sqrt((mueff - 1) / (n + 1)) - 1) + cs
        total = -float(raw[mu:].sum())  # the raw weights beyond mu are <= 0
        if total > 0 and cmu > 0:  # else (mueff = 1) the rank-mu update is off
            mueff_minus = total**2 / float((raw[mu:] ** 2).sum())
            scale = min(
                1 + c1 / cmu,  # alpha_mu^-: no decay of C, c1 + cmu sum w = 0
                1 + 2 * mueff_minus / (mueff + 2),  # alpha_mueff^-
                (1 - c1 - cmu) / (n * cmu),  # alpha_posdef^-: C stays pos. def.
            )
            negative = scale * raw[mu:] / total
    else:
        damps = 2 * mueff / popsize + 0.3 + cs
    lazy_gap = 0.5 * popsize / ((c1 + cmu) * n)
    return {
        "mu": mu,
        "weights": weights,
        "negative_weights": negative,
        "mueff": mueff,
        "cc": cc,
        "cs": cs,
        "c1": c1,
        "cmu": cmu,
        "damps": damps,
        "chi_n": math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n**2)),
        "lazy_gap": lazy_gap,
    }


def _canonical_signs(eigenvectors, n):
    """The ``n`` eigenvectors (columns), each with its largest component positive.

    An eigenvector's sign is arbitrary, and LAPACK builds differ in it: the
    C and Python backends (NumPy's ``eigh``) and Numba's give some columns
    opposite signs. The samples ``B (D z)`` then differ, and so do the runs
    from the next generation on; a fixed sign makes them, and a checkpoint
    resumed on another backend, continue alike.
    """
    largest = pt.argmax(pt.abs(eigenvectors), axis=0)
    # a constant range: JAX needs the length of an arange when it compiles
    leading = eigenvectors[largest, np.arange(n)]
    return eigenvectors * pt.switch(pt.lt(leading, 0), -1, 1).astype(eigenvectors.dtype)


def _number(name, value, *, integer=False, low=None, allow_none=False):
    if value is None and allow_none:
        return None
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        expected = "an integer" if integer else "a number"
        raise TypeError(
            f"{name} sets the initial state of cmaes and must be {expected}, got "
            f"{type(value).__name__}: {value!r}"
        )
    if not math.isfinite(value) or (low is not None and value < low):
        raise ValueError(f"{name}={value!r} is out of range: expected >= {low}")
    return value


def _population_cost(cost, flat, params, vector, candidates):
    """``cost`` at each row of ``candidates``: vectorised, else a scan."""
    at_vector = graph_replace(
        cost, dict(zip(params, flat.split(vector), strict=True)), strict=False
    )
    try:
        values = vectorize_graph(at_vector, {vector: candidates})
    except Exception:  # an Op without a batched form (e.g. a Python callable)
        values = pytensor.scan(
            lambda row: graph_replace(at_vector, {vector: row}, strict=False),
            sequences=[candidates],
            return_updates=False,
        )
    return values


@insert_docs
def cmaes(
    params,
    cost=None,
    gradients=None,
    stop=None,
    updates=None,
    *,
    sigma=0.5,
    popsize=None,
    ftarget=None,
    seed=None,
    active=False,
    **stopping,
):
    r"""Hansen's :math:`(\mu/\mu_w, \lambda)`-CMA-ES: one generation per call.

    A derivative-free evolution strategy: each call samples a population of
    :math:`\lambda` candidates from a normal distribution around the
    parameters, evaluates the cost at all of them inside the graph, and moves
    the mean, the step size and the covariance of the distribution (the
    algorithm of Hansen's ``purecma``, as Lua ``optim.cmaes`` ports it; with
    ``active=True``, the active CMA-ES of Hansen's tutorial, which the ``cma``
    package runs by default). The gradients are never computed.

    Parameters
    ----------
    {protocol_parameters}
        ``cost`` is required; ``gradients``, when given, are checked and not
        used.
    sigma : float, default 0.5
        The initial step size :math:`\sigma_0` (a positive number).
    popsize : int, optional
        The population size :math:`\lambda \ge 2`; default
        :math:`4 + \lfloor 3 \ln n \rfloor` for :math:`n` parameter entries.
    ftarget : float, optional
        With ``stop``: stop with ``Status.TARGET_REACHED`` once the best cost
        seen is at most ``ftarget``; the parameters then take the best point.
        A number, shared variable or symbolic scalar.
    seed : int, optional
        Seeds the random generator of the samples (``None``: fresh entropy).
    active : bool, default False
        ``False``: purecma's update, non-negative weights (Lua
        ``optim.cmaes``). ``True``: the active covariance matrix update of
        Jastrebski and Arnold [3]_ with the default parameters of Hansen's
        tutorial [1]_ (the default of the ``cma`` package): the
        :math:`\lambda - \mu` worst candidates get negative weights, which
        shrink :math:`C` along their directions, and the step size follows the
        tutorial. It needs fewer evaluations on ill-conditioned costs (about
        1.5 times fewer on a 10-D ellipsoid of condition :math:`10^6`).
    {stopping_parameters}
        ``gtol`` is not available (no gradient). ``max_evals`` counts
        :math:`\lambda` evaluations per call.

    Returns
    -------
    {returns}
        State (``updates.state_dict()`` names ``cmaes.<name>``): ``sigma``,
        ``C``, ``B``, ``D``, ``path_sigma``, ``path_c``, ``eigen_evals``,
        ``best_cost``, ``counter``, ``rng``; ``slots["best"]`` holds the best
        point seen.

    Notes
    -----
    The parameters hold the mean :math:`m` of the distribution; all of them
    form one vector of :math:`n` entries (in their widest dtype). With
    :math:`\mu = \lfloor\lambda/2\rfloor` and weights
    :math:`w_i \propto \ln(\lambda/2 + 1/2) - \ln i`, :math:`\sum w_i = 1`,
    :math:`\mu_\mathrm{eff} = 1/\sum w_i^2`, :math:`c_c = (4 +
    \mu_\mathrm{eff}/n)/(n + 4 + 2\mu_\mathrm{eff}/n)`, :math:`c_\sigma =
    (\mu_\mathrm{eff} + 2)/(n + \mu_\mathrm{eff} + 5)`, :math:`c_1 =
    2/((n+1.3)^2 + \mu_\mathrm{eff})`, :math:`c_\mu = \min(1 - c_1,
    2(\mu_\mathrm{eff} - 2 + 1/\mu_\mathrm{eff})/((n+2)^2 +
    \mu_\mathrm{eff}))`, :math:`d_\sigma = 2\mu_\mathrm{eff}/\lambda + 0.3 +
    c_\sigma`, generation :math:`g` (after :math:`e = g\lambda` evaluations)
    is

    .. math::

        x_k &= m + \sigma B (D \odot z_k), \quad z_k \sim N(0, I),
            \quad k = 1..\lambda, \quad
            f(x_{1:\lambda}) \le \dots \le f(x_{\lambda:\lambda}) \\
        m' &= \textstyle\sum_{i=1}^{\mu} w_i x_{i:\lambda}, \quad
            y = m' - m \\
        p_\sigma &\leftarrow (1 - c_\sigma) p_\sigma +
            \sqrt{c_\sigma (2 - c_\sigma) \mu_\mathrm{eff}}\,
            C^{-1/2} y / \sigma \\
        h_\sigma &= \left[\frac{\|p_\sigma\|^2 / n}
            {1 - (1 - c_\sigma)^{2(e + \lambda)/\lambda}}
            < 2 + \frac{4}{n+1}\right] \\
        p_c &\leftarrow (1 - c_c) p_c + h_\sigma
            \sqrt{c_c (2 - c_c) \mu_\mathrm{eff}}\, y / \sigma \\
        C &\leftarrow (1 - c_{1a} - c_\mu) C + c_1 p_c p_c^\top +
            \frac{c_\mu}{\sigma^2} \textstyle\sum_{i=1}^{\mu} w_i
            (x_{i:\lambda} - m)(x_{i:\lambda} - m)^\top, \quad
            c_{1a} = c_1 (1 - (1 - h_\sigma) c_c (2 - c_c)) \\
        \sigma &\leftarrow \sigma \exp\left(\min\left(1,
            \frac{c_\sigma}{2 d_\sigma}
            \left(\frac{\|p_\sigma\|^2}{n} - 1\right)\right)\right)

    with :math:`C = B\,\mathrm{diag}(D^2) B^\top` and :math:`C^{-1/2} = B\,
    \mathrm{diag}(1/D) B^\top`. As purecma does, the eigendecomposition
    (``eigh`` of the symmetrised :math:`C`) is lazy: it is recomputed, inside
    the graph by an ``ifelse``, only when more than :math:`\lambda / (2 n
    (c_1 + c_\mu))` evaluations were made since the last one; the other
    generations reuse :math:`B, D`. Each eigenvector (column of
    :math:`B`) is given the sign that makes its largest component positive:
    LAPACK builds differ in the signs they return, and with this choice the
    C, Python and Numba backends continue a run (or a checkpoint) alike.
    These are the non-negative weights of purecma (Lua ``optim.cmaes``), used
    with ``active=False``.

    ``active=True`` is the tutorial's algorithm with its Table 1 defaults
    [1]_: from the raw weights :math:`w'_i = \ln((\lambda + 1)/2) - \ln i`,
    :math:`i = 1..\lambda` (the same :math:`w_i, \mu_\mathrm{eff}, c_c,
    c_\sigma, c_1, c_\mu` as above for :math:`i \le \mu`), the worst
    :math:`\lambda - \mu` candidates get negative weights

    .. math::

        w_i &= \alpha^- \frac{w'_i}{\sum_{j > \mu} |w'_j|}
            \quad (i > \mu), \qquad
            \mu_\mathrm{eff}^- = \frac{(\sum_{j > \mu} w'_j)^2}
            {\sum_{j > \mu} w'^2_j} \\
        \alpha^- &= \min\left(\alpha_\mu^-, \alpha_{\mu_\mathrm{eff}}^-,
            \alpha_\mathrm{posdef}^-\right) = \min\left(1 + \frac{c_1}{c_\mu},
            \; 1 + \frac{2 \mu_\mathrm{eff}^-}{\mu_\mathrm{eff} + 2},
            \; \frac{1 - c_1 - c_\mu}{n c_\mu}\right)

    (:math:`\alpha_\mu^-` makes :math:`c_1 + c_\mu \sum_{i=1}^\lambda w_i =
    0`, no decay of :math:`C`; :math:`\alpha_\mathrm{posdef}^-` keeps
    :math:`C` positive definite; no negative weights when :math:`c_\mu = 0`,
    :math:`\lambda \le 3`). The covariance matrix takes all :math:`\lambda`
    candidates, the negative weights scaled by the Mahalanobis length of their
    step, and the step size follows the length of :math:`p_\sigma`, with
    :math:`\chi_n = \sqrt{n}(1 - 1/(4n) + 1/(21 n^2)) \approx
    E\|N(0, I)\|` and :math:`d_\sigma = 1 + 2 \max(0,
    \sqrt{(\mu_\mathrm{eff} - 1)/(n + 1)} - 1) + c_\sigma`:

    .. math::

        C &\leftarrow \left(1 - c_{1a} - c_\mu \textstyle\sum_{i=1}^\lambda
            w_i\right) C + c_1 p_c p_c^\top + c_\mu
            \textstyle\sum_{i=1}^{\lambda} w_i^\circ y_i y_i^\top, \quad
            y_i = \frac{x_{i:\lambda} - m}{\sigma} \\
        w_i^\circ &= w_i \ (w_i \ge 0), \qquad
            w_i^\circ = w_i \frac{n}{\|C^{-1/2} y_i\|^2}
            = w_i \frac{n}{\|z_{i:\lambda}\|^2} \ (w_i < 0) \\
        h_\sigma &= \left[\frac{\|p_\sigma\|}
            {\sqrt{1 - (1 - c_\sigma)^{2(e + \lambda)/\lambda}}}
            < \left(1.4 + \frac{2}{n+1}\right) \chi_n\right] \\
        \sigma &\leftarrow \sigma \exp\left(\min\left(1,
            \frac{c_\sigma}{d_\sigma}
            \left(\frac{\|p_\sigma\|}{\chi_n} - 1\right)\right)\right)

    (the cap at 1 is purecma's and ``cma``'s, not the tutorial's); the mean,
    :math:`p_\sigma`, :math:`p_c`, the lazy eigendecomposition and the stopping
    criteria are as above. The ``cma`` package refines these defaults further
    (e.g. :math:`c_\mu` with an offset :math:`1/4` in its numerator).

    The cost of the population is evaluated by vectorising the cost graph
    (``vectorize_graph``) or, when one of its Ops has no batched form (a
    Python callable), by a ``scan`` over the candidates. Candidates whose
    cost is NaN rank last. Sampling uses a shared NumPy ``Generator``
    (``pytensor.tensor.random``) whose update is part of the result, so runs
    are reproducible from ``seed`` and checkpointed by ``state_dict``.

    Stopping (with ``stop``): besides the stopping keywords and ``ftarget``,
    purecma's own criteria end the run: the costs of one generation within
    ``1e-12`` of each other (reported as ``CONVERGED_FTOL``, the generation
    is not applied), and :math:`\sigma \max D < 10^{-11}` or a condition
    number of :math:`C` above :math:`10^{14}` (both ``CONVERGED_XTOL``).
    The non-finite check and ``ftol`` judge the cost at the mean (the
    parameters), which is not counted in the evaluations. The NumPy interface
    reports the best point it saw among the means; ``slots["best"]`` holds the
    best candidate.

    float32 parameters keep every vector and matrix in float32 (``eigh``
    included); the sample count and thresholds are scalars.

    References
    ----------
    .. [1] N. Hansen, "The CMA Evolution Strategy: A Tutorial",
       arXiv:1604.00772, 2016.
    .. [2] N. Hansen, ``purecma.py`` (``cma.purecma``), and Lua ``optim.cmaes``
       (a port of Hansen's ``barecmaes2``).
    .. [3] G. A. Jastrebski and D. V. Arnold, "Improving Evolution Strategies
       through Active Covariance Matrix Adaptation", IEEE Congress on
       Evolutionary Computation (CEC), 2006.

    Examples
    --------
    >>> import numpy as np
    >>> import pytensor
    >>> import pytensor_optim as po
    >>> x = pytensor.shared(np.full(3, 2.0), name="x")
    >>> cost = ((x - 1.0) ** 2).sum()
    >>> stop = pytensor.shared(0)
    >>> updates = po.cmaes([x], cost, stop=stop, sigma=0.5, seed=1,
    ...                    ftarget=1e-10, max_iter=500)
    >>> step = pytensor.function([], cost, updates=updates, mode="FAST_COMPILE")
    >>> while not stop.get_value():
    ...     _ = step()
    >>> po.Status(int(updates.status.get_value())).name
    'TARGET_REACHED'
    >>> bool(np.allclose(x.get_value(), 1.0, atol=1e-4))
    True

    The active update, from the same start:

    >>> x.set_value(np.full(3, 2.0))
    >>> stop.set_value(0)
    >>> updates = po.cmaes([x], cost, stop=stop, sigma=0.5, seed=1,
    ...                    ftarget=1e-10, max_iter=500, active=True)
    >>> step = pytensor.function([], cost, updates=updates, mode="FAST_COMPILE")
    >>> while not stop.get_value():
    ...     _ = step()
    >>> po.Status(int(updates.status.get_value())).name
    'TARGET_REACHED'
    """
    problem = Problem(
        "cmaes", params, cost, gradients, stop, updates, stopping, derivative_free=True
    )
    if problem.cost is None:
        raise ValueError("cmaes() needs cost: it evaluates the cost of its samples")
    sigma = _number("sigma", sigma, low=np.finfo(float).tiny)
    popsize = _number("popsize", popsize, integer=True, low=2, allow_none=True)
    seed = _number("seed", seed, integer=True, low=0, allow_none=True)
    if not isinstance(active, bool | np.bool_):
        raise TypeError(
            "active selects the covariance update of cmaes and must be True or "
            f"False, got {type(active).__name__}: {active!r}"
        )
    if ftarget is not None and problem.stop is None:
        raise ValueError(
            f"ftarget={ftarget!r} has no effect without stop: pass a shared integer "
            "scalar as stop to cmaes()"
        )
    flat = Flat(problem.params, "cmaes")
    n, dtype = flat.size, flat.dtype
    if n == 0:
        raise ValueError(
            "params have no element: cmaes samples a distribution over at least "
            "one dimension (a size-0 parameter beside others is fine)"
        )
    lam = int(popsize) if popsize is not None else 4 + int(3 * math.log(n))
    par = strategy_parameters(n, lam, bool(active))
    ftarget = None if ftarget is None else problem.resolve("ftarget", ftarget, dtype)

    def const(value):
        return pt.constant(np.asarray(value, dtype=dtype))

    step_size = problem.scalar("sigma", sigma, dtype)
    cov = problem.scalar("C", np.eye(n), dtype, shape=(n, n))
    basis = problem.scalar("B", np.eye(n), dtype, shape=(n, n))
    scales = problem.scalar("D", 1, dtype, shape=(n,))
    path_sigma = problem.scalar("path_sigma", 0, dtype, shape=(n,))
    path_c = problem.scalar("path_c", 0, dtype, shape=(n,))
    eigen_evals = problem.scalar("eigen_evals", 0, "int64")
    best_cost = problem.scalar("best_cost", np.inf, dtype)
    best = problem.slot("best")
    generation = problem.counter
    rng = problem.random_generator("rng", seed)

    # ask: the lazy eigendecomposition, then lambda samples
    evals = generation * lam
    decompose = pt.gt(pt.cast(evals, "float64"), eigen_evals + par["lazy_gap"])
    eigenvalues, eigenvectors = pt.linalg.eigh((cov + cov.T) / const(2))
    eigenvectors = _canonical_signs(eigenvectors, n)
    tiny = const(np.finfo(dtype).tiny)
    basis_now, scales_now = ifelse(
        decompose,
        [eigenvectors, pt.sqrt(pt.maximum(eigenvalues, tiny))],
        [basis, scales],
    )
    next_rng, z = pt.random.normal(
        const(0), const(1), size=(lam, n), rng=rng, dtype=dtype, return_next_rng=True
    )
    mean = flat.join(problem.params)
    candidates = mean + step_size * pt.dot(z * scales_now, basis_now.T)

    # evaluate and rank
    vector = pt.vector("cmaes_point", dtype=dtype, shape=(n,))
    values = pt.cast(
        _population_cost(problem.cost, flat, problem.params, vector, candidates),
        dtype,
    )
    ranked = pt.switch(pt.isnan(values), const(np.inf), values)
    order = pt.argsort(ranked)
    chosen = candidates[order[: par["mu"]]]
    weights = const(par["weights"])

    # tell: purecma's update, or the tutorial's with active=True
    new_mean = pt.dot(weights, chosen)
    shift = new_mean - mean
    inv_sqrt_cov = pt.dot(basis_now / scales_now, basis_now.T)
    cs, cc, c1, cmu = (const(par[key]) for key in ("cs", "cc", "c1", "cmu"))
    mueff = par["mueff"]
    one = const(1)
    new_path_sigma = (one - cs) * path_sigma + const(
        math.sqrt(par["cs"] * (2 - par["cs"]) * mueff)
    ) * pt.dot(inv_sqrt_cov, shift) / step_size
    norm2 = pt.sum(new_path_sigma**2)
    calls = pt.cast(2 * (generation + 1), dtype)
    if active:  # the tutorial's test and step size, on the length of p_sigma
        chi_n = const(par["chi_n"])
        norm = pt.sqrt(norm2)
        short_path = pt.lt(
            norm / pt.sqrt(one - (one - cs) ** calls),
            const(1.4 + 2 / (n + 1)) * chi_n,
        )
        log_change = const(par["cs"] / par["damps"]) * (norm / chi_n - one)
    else:  # purecma's, on the squared length
        short_path = pt.lt(
            norm2 / const(n) / (one - (one - cs) ** calls),
            const(2 + 4 / (n + 1)),
        )
        log_change = const(par["cs"] / par["damps"]) * (norm2 / const(n) - one) / 2
    hsig = pt.cast(short_path, dtype)  # else the rank-one update stalls
    new_path_c = (one - cc) * path_c + hsig * const(
        math.sqrt(par["cc"] * (2 - par["cc"]) * mueff)
    ) * shift / step_size
    c1a = c1 * (one - (one - hsig) * cc * (const(2) - cc))
    deviations = chosen - mean
    rank_mu = pt.dot(deviations.T * weights, deviations)
    weights_sum = 1.0
    if active:
        # the lambda - mu worst, with negative weights scaled by n / ||C^-1/2 y||^2;
        # C^-1/2 (x - m) / sigma = B z, so that norm is the sample's ||z||
        worst = order[par["mu"] :]
        squared = pt.maximum(pt.sum(z[worst] ** 2, axis=1), tiny)
        negative = const(par["negative_weights"]) * const(n) / squared
        deviations = candidates[worst] - mean
        rank_mu = rank_mu + pt.dot(deviations.T * negative, deviations)
        weights_sum += float(par["negative_weights"].sum())
    new_cov = (
        (one - c1a - cmu * const(weights_sum)) * cov
        + c1 * pt.outer(new_path_c, new_path_c)
        + cmu / step_size**2 * rank_mu
    )
    new_step_size = step_size * pt.exp(pt.minimum(one, log_change))

    # bookkeeping: the best candidate seen
    generation_best = ranked[order[0]]
    improved = pt.lt(generation_best, best_cost)
    new_best_cost = pt.switch(improved, generation_best, best_cost)
    new_best = pt.switch(improved, candidates[order[0]], flat.join(best))

    reasons = [
        (
            pt.lt(ranked[order[-1]] - generation_best, const(_TOLFUN)),
            Status.CONVERGED_FTOL,
        ),
        (
            pt.lt(new_step_size * pt.max(scales_now), const(_TOLX)),
            Status.CONVERGED_XTOL,
        ),
        (
            pt.gt(
                pt.max(scales_now) ** 2, const(_MAX_CONDITION) * pt.min(scales_now) ** 2
            ),
            Status.CONVERGED_XTOL,
        ),
    ]
    if ftarget is not None:
        reached = pt.le(new_best_cost, ftarget)
        reasons.insert(0, (reached, Status.TARGET_REACHED))
        new_mean = pt.switch(reached, new_best, new_mean)
    state_updates = [
        (step_size, new_step_size),
        (cov, new_cov),
        (basis, basis_now),
        (scales, scales_now),
        (path_sigma, new_path_sigma),
        (path_c, new_path_c),
        (eigen_evals, pt.switch(decompose, evals, eigen_evals)),
        (best_cost, new_best_cost),
        *zip(best, flat.split(new_best), strict=True),
        (rng, next_rng),
    ]
    return problem.finish(
        flat.split(new_mean), state_updates, evals=lam, reasons=reasons
    )


cmaes.derivative_free = True
