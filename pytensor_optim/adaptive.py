"""Rules that adapt a per-element step: delta-bar-delta and SGD-QN."""

import pytensor.tensor as pt
from pytensor.graph.replace import graph_replace

from ._compat import ifelse
from ._docs import insert_docs
from ._protocol import Problem
from ._validate import initial_value

__all__ = ["delta_bar_delta", "sgd_qn"]

INCREASES = ("add", "multiply")


@insert_docs
def delta_bar_delta(
    params,
    cost=None,
    gradients=None,
    stop=None,
    updates=None,
    *,
    step_size,
    kappa=0.2,
    phi=0.5,
    theta=0.1,
    increase="add",
    momentum=None,
    min_gain=0.0,
    **stopping,
):
    r"""Delta-bar-delta: per-element gains grown while the gradient keeps its sign.

    Parameters
    ----------
    {protocol_parameters}
    step_size : float, shared/symbolic scalar or schedule
        The base step size :math:`\epsilon_0` (required).
    kappa : float, default 0.2
        Gain increase :math:`\kappa` (> 0): added to the gain, or a factor
        with ``increase="multiply"``.
    phi : float, default 0.5
        Gain decrease factor :math:`\phi` in [0, 1].
    theta : float, default 0.1
        Weight :math:`\theta` in [0, 1] of the old trace in the new one.
    increase : {"add", "multiply"}, default "add"
        :math:`\gamma + \kappa` (Jacobs) or :math:`\gamma \kappa` (mize's
        default, with ``kappa=1.1``).
    momentum : None, float, shared/symbolic scalar or schedule, default None
        ``None``: Jacobs' rule with the gradient trace. Otherwise the t-SNE
        variant: a classical momentum step is added and the sign test compares
        the gradient with the previous update instead of the trace (a
        schedule is called with the iteration counter; values are clipped to
        [0, 1], and the first step uses none).
    min_gain : float, default 0
        Lower bound on the gains (t-SNE uses 0.01).
    {stopping_parameters}

    Returns
    -------
    {returns}

    Notes
    -----
    With :math:`\delta_t = g_t` the gradient, gains :math:`\gamma` starting
    at 1 and the trace :math:`\bar\delta` at 0,

    .. math::

        a_i &= [\operatorname{sign} \bar\delta^{old}_i =
               \operatorname{sign} \delta_{t,i}]
               \text{, or all true when } \bar\delta^{old} = 0 \\
        \gamma_i &\leftarrow \max(\gamma_i + \kappa \text{ (or }
               \gamma_i\kappa) \text{ if } a_i, \text{ else } \phi\gamma_i,
               \; \gamma_{min}) \\
        u_t &= -\epsilon_0 \gamma \odot g_t + \mu_t u_{t-1} \\
        \bar\delta &\leftarrow (1 - \theta)\,\delta_t + \theta\,\bar\delta^{old}

    Without momentum :math:`\bar\delta^{old}` is the stored trace and
    :math:`\mu = 0`; with it (the t-SNE variant) :math:`\bar\delta^{old} =
    -u_{t-1}`, the direction of the previous update, and no trace is kept.

    Sign convention (mize's ``DBD``): the test compares signs, with a zero
    counting as a sign of its own, so a zero gradient element whose trace is
    non-zero loses gain; Jacobs' :math:`\bar\delta\delta > 0` / :math:`< 0`
    would leave it unchanged. The trace and the gradient are both slopes
    (:math:`\partial f / \partial x`), so agreement means "keep going". A
    first step (zero trace) increases every gain, as in mize and t-SNE, so it
    uses :math:`\epsilon_0 (1 + \kappa)`. The "all zero" test is taken over
    all parameters together. The decrease multiplies by :math:`\phi` (mize);
    Jacobs writes it as :math:`\Delta\epsilon = -\phi\epsilon`, i.e. this
    rule's :math:`1 - \phi`. Gains live in ``slots["gain"]``, the trace in
    ``slots["trace"]``, the previous update (with momentum) in
    ``slots["update"]``.

    References
    ----------
    .. [1] Jacobs, R. A. (1988). Increased rates of convergence through
       learning rate adaptation. Neural Networks 1(4), 295-307.
    .. [2] van der Maaten, L., Hinton, G. (2008). Visualizing data using
       t-SNE. JMLR 9, 2579-2605 (gains with momentum).
    .. [3] Melville, J. mize (R package), method ``"DBD"``.

    Examples
    --------
    >>> import numpy as np, pytensor
    >>> from pytensor_optim import delta_bar_delta
    >>> w = pytensor.shared(np.array([1.0, -2.0]), name="w")
    >>> cost = (w ** 2).sum()
    >>> updates = delta_bar_delta([w], cost, step_size=0.1, kappa=0.2)
    >>> step = pytensor.function([], cost, updates=updates, mode="FAST_COMPILE")
    >>> _ = step(); w.get_value()  # gains 1.2: w - 0.12 * 2 w
    array([ 0.76, -1.52])
    >>> updates.slots["gain"][0].get_value()
    array([1.2, 1.2])
    """
    problem = Problem(
        "delta_bar_delta", params, cost, gradients, stop, updates, stopping
    )
    if increase not in INCREASES:
        raise ValueError(f"increase must be 'add' or 'multiply', got {increase!r}")
    specs = dict(
        step_size=(step_size, {"low": 0}),
        kappa=(kappa, {"low": 0, "low_open": True}),
        phi=(phi, {"low": 0, "high": 1}),
        theta=(theta, {"low": 0, "high": 1}),
        min_gain=(min_gain, {"low": 0}),
    )
    if momentum is not None:
        specs["momentum"] = (momentum, {"low": 0, "high": 1})
    hyper = problem.hyperparameters(**specs)
    gains = problem.slot("gain", 1.0)
    if momentum is None:
        olds = traces = problem.slot("trace")
        mu = None
    else:
        previous = problem.slot("update")
        olds, traces = [-u for u in previous], None
        first = pt.eq(problem.counter, 0)
        mu = pt.switch(first, 0.0, pt.clip(hyper.momentum, 0, 1))
    all_zero = pt.all([pt.all(pt.eq(old, 0)) for old in olds])

    new_params, state = [], []
    for index, (param, gradient) in enumerate(
        zip(problem.params, problem.gradients, strict=True)
    ):
        h = hyper.cast(param.dtype)
        old, gain = olds[index], gains[index]
        agree = pt.or_(all_zero, pt.eq(pt.sign(old), pt.sign(gradient)))
        grown = gain + h.kappa if increase == "add" else gain * h.kappa
        new_gain = pt.maximum(pt.switch(agree, grown, gain * h.phi), h.min_gain)
        update = -pt.maximum(h.step_size * new_gain, 0) * gradient
        if mu is None:
            state.append((traces[index], (1 - h.theta) * gradient + h.theta * old))
        else:
            update = update + pt.cast(mu, param.dtype) * previous[index]
            state.append((previous[index], update))
        state.append((gain, new_gain))
        new_params.append(param + update)
    return problem.finish(new_params, state)


@insert_docs
def sgd_qn(
    params,
    cost=None,
    gradients=None,
    stop=None,
    updates=None,
    *,
    step_size=1.0,
    lambd=1e-4,
    t0=1e4,
    skip=16,
    **stopping,
):
    r"""SGD-QN: stochastic gradient descent with a diagonal quasi-Newton scaling.

    Minimises ``cost`` :math:`+ \frac{\lambda}{2} \|w\|^2`.

    Parameters
    ----------
    {protocol_parameters}
    step_size : float, shared/symbolic scalar or schedule, default 1
        Factor :math:`\eta` of the paper's gain :math:`1/(t + t_0)`
        (1 is the paper's algorithm).
    lambd : float, default 1e-4
        Regularisation :math:`\lambda > 0`; also sets the initial scaling
        :math:`B = \lambda^{-1}` and its floor :math:`10^{-2}\lambda^{-1}`,
        so it must be a positive number.
    t0 : float, default 1e4
        Offset :math:`t_0 \ge 0` of the step count in the gain.
    skip : int, default 16
        Steps between regularisation steps and between updates of :math:`B`.
    {stopping_parameters}

    Returns
    -------
    {returns}

    Notes
    -----
    Algorithm 2 of Bordes, Bottou & Gallinari (2009), with :math:`g_t(w)`
    the gradient of the cost at :math:`w` (the rule's gradients), the full
    gradient :math:`G(w) = g_t(w) + \lambda w`, :math:`t` counted from 0, and
    ``count`` starting at ``skip``, ``r`` at 2, ``updateB`` false, and
    :math:`B_{ii} = \lambda^{-1}`:

    .. math::

        w_{t+1} &= w_t - \frac{\eta}{t + t_0} B\, g_t(w_t) \\
        \text{if updateB:}\quad p_t &= G(w_{t+1}) - G(w_t), \quad
            B_{ii} \leftarrow B_{ii} + \tfrac{2}{r}\left(
            \frac{[w_{t+1} - w_t]_i}{[p_t]_i} - B_{ii}\right), \\
            B_{ii} &\leftarrow \max(B_{ii}, 10^{-2} \lambda^{-1}), \quad
            r \leftarrow r + 1, \quad \text{updateB} \leftarrow \text{false} \\
        \text{count} &\leftarrow \text{count} - 1; \text{ if count} \le 0:
            \; w_{t+1} \leftarrow w_{t+1} - \frac{\eta\, \text{skip}\,
            \lambda}{t + t_0} B\, w_{t+1}, \;
            \text{count} \leftarrow \text{skip}, \;
            \text{updateB} \leftarrow \text{true}

    :math:`g_t(w_{t+1})` is the gradient of the same cost (the same
    mini-batch) at the new point: on the calls that update :math:`B` the
    gradients are evaluated a second time there, by graph substitution, and
    such calls count two evaluations. An element whose :math:`[p_t]_i` is 0
    keeps its :math:`B_{ii}` (the paper leaves the ratio undefined). State:
    ``slots["scaling"]`` (:math:`B`), and the scalars ``count``, ``update_b``
    and ``r``.

    This is the algorithm as the 2009 paper gives it. The authors' erratum
    [2]_ shows that its scaling is estimated less carefully than intended
    and describes a corrected variant, which this rule does not implement.

    References
    ----------
    .. [1] Bordes, A., Bottou, L., Gallinari, P. (2009). SGD-QN: Careful
       quasi-Newton stochastic gradient descent. JMLR 10, 1737-1754.
    .. [2] Bordes, A., Bottou, L., Gallinari, P., Chang, J., Smith, S. A.
       (2010). Erratum: SGDQN is less careful than expected. JMLR 11.

    Examples
    --------
    >>> import numpy as np, pytensor
    >>> from pytensor_optim import sgd_qn
    >>> w = pytensor.shared(np.array([1.0, -2.0]), name="w")
    >>> cost = 0.5 * (w ** 2).sum()
    >>> updates = sgd_qn([w], cost, lambd=0.1, t0=20.0, skip=4)
    >>> step = pytensor.function([], cost, updates=updates, mode="FAST_COMPILE")
    >>> _ = step(); w.get_value()  # w - B w / t0 with B = 1 / lambd = 10
    array([ 0.5, -1. ])
    """
    problem = Problem("sgd_qn", params, cost, gradients, stop, updates, stopping)
    regularisation = initial_value("lambd", lambd, low=0, low_open=True)
    period = initial_value("skip", skip, low=1)
    if period != int(period):
        raise ValueError(f"skip must be an integer, got {skip!r}")
    hyper = problem.hyperparameters(
        step_size=(step_size, {"low": 0}), t0=(t0, {"low": 0})
    )
    scaling = problem.slot("scaling", 1.0 / regularisation)
    count = problem.scalar("count", int(period), "int64")
    update_b = problem.scalar("update_b", 0, "int8")
    r = problem.scalar("r", 2.0, "float64")
    gain = hyper.step_size / (pt.cast(problem.counter, "float64") + hyper.t0)

    stepped = [
        param - pt.cast(gain, param.dtype) * b * gradient
        for param, gradient, b in zip(
            problem.params, problem.gradients, scaling, strict=True
        )
    ]
    updating = pt.neq(update_b, 0)
    # the second evaluation happens only on the calls that update B
    at_new = graph_replace(
        list(problem.gradients), dict(zip(problem.params, stepped, strict=True))
    )
    at_new = ifelse(updating, at_new, list(problem.gradients))
    if not isinstance(at_new, list | tuple):
        at_new = [at_new]
    new_count = count - 1
    regularise = pt.le(new_count, 0)

    new_params, state = [], []
    for param, gradient, b, new, new_gradient in zip(
        problem.params, problem.gradients, scaling, stepped, at_new, strict=True
    ):
        dtype = param.dtype
        lam = pt.cast(regularisation, dtype)
        moved = new - param
        secant = new_gradient - gradient + lam * moved
        safe = pt.neq(secant, 0)
        ratio = moved / pt.switch(safe, secant, 1)
        refreshed = b + pt.cast(2 / r, dtype) * (ratio - b)
        refreshed = pt.maximum(
            pt.switch(safe, refreshed, b), pt.cast(1e-2 / regularisation, dtype)
        )
        new_b = pt.switch(updating, refreshed, b)
        shrunk = new - pt.cast(gain * period * regularisation, dtype) * new_b * new
        new_params.append(pt.switch(regularise, shrunk, new))
        state.append((b, new_b))
    state += [
        (r, pt.switch(updating, r + 1, r)),
        (count, pt.switch(regularise, int(period), new_count)),
        (update_b, pt.switch(regularise, 1, 0)),
    ]
    return problem.finish(new_params, state, evals=1 + pt.cast(updating, "int64"))
