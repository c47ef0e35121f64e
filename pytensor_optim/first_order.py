"""First-order update rules: one gradient, one step per call."""

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Variable
from pytensor.graph.replace import graph_replace

from ._docs import insert_docs
from ._protocol import Problem
from ._state import param_shape
from ._validate import check_flag, concrete, initial_value, is_zero

__all__ = [
    "adadelta",
    "adagrad",
    "adam",
    "adamax",
    "adamw",
    "asgd",
    "nadam",
    "nag",
    "radam",
    "rmsprop",
    "rprop",
    "sgd",
]

# Common ranges, as torch.optim validates them.
NON_NEGATIVE = {"low": 0}
UNIT = {"low": 0, "high": 1, "high_open": True}
UNIT_CLOSED = {"low": 0, "high": 1}
# Stricter than torch.optim, which accepts eps = 0 and RMSprop's alpha > 1:
# epsilon keeps a denominator away from 0 (with eps = 0 a gradient component
# that is 0 from the start gives 0/0), and a decay above 1 makes a mean
# square negative (the square root of a negative number).
EPSILON = {"low": 0, "low_open": True}


def cast(scalar, like):
    """A float64 scalar in the dtype of ``like`` (constants stay exact)."""
    return pt.cast(scalar, like.dtype)


def _decayed(h, gradient, param, weight_decay):
    """Coupled L2 weight decay: the gradient of ``cost + wd/2 |param|^2``."""
    return gradient if is_zero(weight_decay) else gradient + h.weight_decay * param


def _ema(decay, average, value):
    r"""One step of an exponential moving average, :math:`\beta a + (1 - \beta) v`."""
    return decay * average + (1 - decay) * value


def _adam_hyperparameters(
    problem, step_size, beta1, beta2, epsilon, weight_decay, **more
):
    """The hyperparameters the Adam family shares, validated as torch.optim does."""
    return problem.hyperparameters(
        step_size=(step_size, NON_NEGATIVE),
        beta1=(beta1, UNIT),
        beta2=(beta2, UNIT),
        epsilon=(epsilon, EPSILON),
        weight_decay=(weight_decay, NON_NEGATIVE),
        **more,
    )


def _annealed(problem, step_size, decay):
    r"""Annealing :math:`\eta / (1 + \kappa t)` with ``t`` the steps taken so far."""
    if is_zero(decay):
        return step_size
    kappa = problem.resolve("step_size_decay", decay, "float64", low=0)
    return step_size / (1 + pt.cast(problem.counter, "float64") * kappa)


@insert_docs
def sgd(
    params,
    cost=None,
    gradients=None,
    stop=None,
    updates=None,
    *,
    step_size,
    momentum=0.0,
    dampening=0.0,
    nesterov=False,
    weight_decay=0.0,
    step_size_decay=0.0,
    step_sizes=None,
    **stopping,
):
    r"""Stochastic gradient descent with momentum, Nesterov momentum and annealing.

    Parameters
    ----------
    {protocol_parameters}
    step_size : float, shared/symbolic scalar or schedule
        The step size :math:`\eta` (required).
    momentum : float, default 0
        Momentum factor :math:`\mu`; 0 keeps no momentum buffer.
    dampening : float, default 0
        Dampening :math:`\delta` of the gradient added to the buffer.
    nesterov : bool, default False
        Nesterov momentum; needs ``momentum > 0`` and ``dampening == 0``.
    weight_decay : float, default 0
        Coupled L2 penalty :math:`\lambda` added to the gradient.
    step_size_decay : float, default 0
        Annealing :math:`\kappa`: the step size of step :math:`t` (from 0) is
        :math:`\eta / (1 + \kappa t)` (Lua ``optim.sgd``'s ``learningRateDecay``).
    step_sizes : list of arrays or shared variables, optional
        Per-element step-size multipliers :math:`s`, one per parameter, each
        shaped like it (Lua ``learningRates``).
    {stopping_parameters}

    Returns
    -------
    {returns}

    Notes
    -----
    With gradient :math:`g_t` at :math:`\theta_t` and :math:`t` counted from 0,

    .. math::

        d_t &= g_t + \lambda \theta_t \\
        b_t &= \mu b_{t-1} + (1 - \delta) d_t, \quad b_0 = d_0 \\
        u_t &= d_t + \mu b_t \text{ (Nesterov)}, \quad u_t = b_t \text{ (otherwise)} \\
        \theta_{t+1} &= \theta_t - \frac{\eta}{1 + \kappa t}\, s \odot u_t

    This is ``torch.optim.SGD`` (the first buffer is the gradient itself,
    undamped), plus Lua ``optim.sgd``'s annealing and per-element step sizes.
    Lua's ``dampening`` defaults to the momentum value; here, as in PyTorch,
    it defaults to 0. Without momentum the buffer is not kept; without any
    option needing it there is no counter (``sgd([p], gradients=[g],
    step_size=.1)`` is exactly ``{p: p - 0.1 * g}``).

    The buffer ``slots["momentum_buffer"]`` starts at zero; the first-step rule
    :math:`b_0 = d_0` costs nothing when ``dampening`` is 0 and one scalar
    comparison with the counter otherwise.

    References
    ----------
    .. [1] Sutskever, Martens, Dahl, Hinton (2013). On the importance of
       initialization and momentum in deep learning. ICML.
    .. [2] ``torch.optim.SGD`` and Lua ``optim.sgd``.

    Examples
    --------
    >>> import numpy as np, pytensor, pytensor.tensor as pt
    >>> from pytensor_optim import sgd
    >>> w = pytensor.shared(np.array([1.0, -2.0]), name="w")
    >>> cost = (w ** 2).sum()
    >>> step = pytensor.function([], cost, updates=sgd([w], cost, step_size=0.25))
    >>> float(step()), w.get_value()
    (5.0, array([ 0.5, -1. ]))
    """
    problem = Problem("sgd", params, cost, gradients, stop, updates, stopping)
    check_flag("nesterov", nesterov)
    momentum_number, dampening_number = concrete(momentum), concrete(dampening)
    if nesterov and (
        (momentum_number is not None and momentum_number <= 0)
        or (dampening_number is not None and dampening_number != 0)
    ):
        raise ValueError(
            "nesterov=True requires a momentum > 0 and dampening == 0, got "
            f"momentum={momentum!r}, dampening={dampening!r}"
        )
    hyper = problem.hyperparameters(
        step_size=(step_size, NON_NEGATIVE),
        momentum=(momentum, NON_NEGATIVE),
        dampening=(dampening, {}),
        weight_decay=(weight_decay, NON_NEGATIVE),
    )
    step_size = _annealed(problem, hyper.step_size, step_size_decay)
    multipliers = _per_parameter(problem, "step_sizes", step_sizes)
    buffers = () if is_zero(momentum) else (problem.slot("momentum_buffer"),)
    # b_0 = d_0 undamped (PyTorch's first-step copy), free when dampening is 0
    undamped = (
        None
        if is_zero(dampening)
        else 1 - hyper.dampening * pt.cast(pt.gt(problem.counter, 0), "float64")
    )

    def update(param, gradient, *buffer, multiplier=None):
        h = hyper.cast(param.dtype)
        direction = _decayed(h, gradient, param, weight_decay)
        new_buffer = []
        if buffer:
            added = direction if undamped is None else cast(undamped, param) * direction
            new_buffer = [h.momentum * buffer[0] + added]
            direction = (
                direction + h.momentum * new_buffer[0] if nesterov else new_buffer[0]
            )
        if multiplier is not None:
            direction = multiplier * direction
        return param - cast(step_size, param) * direction, new_buffer

    return problem.finish(*problem.map(update, *buffers, multiplier=multipliers))


def _per_parameter(problem, name, values):
    """Per-element arrays aligned with the parameters, in their dtypes."""
    if values is None:
        return None
    if not isinstance(values, list | tuple) or len(values) != len(problem.params):
        raise ValueError(
            f"{name} must be a list with one array per parameter "
            f"({len(problem.params)}), got {values!r}"
        )
    result = []
    for index, (param, value) in enumerate(zip(problem.params, values, strict=True)):
        where = f"{name}[{index}]"
        if isinstance(value, Variable):
            variable = value
        else:
            array = np.asarray(value)
            if array.dtype.kind not in "iuf":
                raise TypeError(f"{where} must be real, got {array.dtype}")
            if not np.all(np.isfinite(array)) or np.any(array < 0):
                raise ValueError(f"{where} must be finite and non-negative")
            expected = param_shape(param, problem.algo)
            if array.shape != expected:
                raise ValueError(
                    f"{where} has shape {array.shape}, expected {expected} like "
                    f"params[{index}]"
                )
            variable = pt.constant(array.astype(param.dtype))
        if variable.ndim != param.ndim:
            raise ValueError(
                f"{where} has {variable.ndim} dimensions, expected {param.ndim} like "
                f"params[{index}]"
            )
        result.append(pt.cast(variable, param.dtype))
    return result


@insert_docs
def nag(
    params,
    cost=None,
    gradients=None,
    stop=None,
    updates=None,
    *,
    step_size,
    momentum=0.9,
    step_size_decay=0.0,
    weight_decay=0.0,
    **stopping,
):
    r"""Nesterov's accelerated gradient in Sutskever et al.'s form (Lua ``optim.nag``).

    Parameters
    ----------
    {protocol_parameters}
    step_size : float, shared/symbolic scalar or schedule
        The step size :math:`\eta` (required).
    momentum : float, default 0.9
        :math:`\mu > 0`.
    step_size_decay : float, default 0
        Annealing :math:`\kappa`: step :math:`t` (from 0) uses
        :math:`\eta / (1 + \kappa t)`.
    weight_decay : float, default 0
        Coupled L2 penalty :math:`\lambda`, applied at the look-ahead point.
    {stopping_parameters}

    Returns
    -------
    {returns}

    Notes
    -----
    The parameters hold :math:`\theta_t`; the gradient is taken at the
    look-ahead point :math:`\phi_t = \theta_t + \mu v_t`:

    .. math::

        v_{t+1} &= \mu v_t - \frac{\eta}{1 + \kappa t}
                   \bigl(\nabla f(\phi_t) + \lambda \phi_t\bigr) \\
        \theta_{t+1} &= \theta_t + v_{t+1}

    The look-ahead gradient is obtained by substituting :math:`\phi_t` for the
    parameters in ``gradients`` (or in ``pytensor.grad(cost, params)``), so
    gradients must be expressions of the parameters. The stopping criteria
    on gradients (``gtol``, non-finite) test this look-ahead gradient; when
    ``gtol`` or ``ftol`` ends the run the parameters are set to the look-ahead
    point, where convergence was observed.
    PyTorch has no separate NAG; ``sgd(nesterov=True)`` is the reformulated
    variant that stores the look-ahead point instead. The velocity is in
    ``slots["velocity"]``.

    References
    ----------
    .. [1] Sutskever, Martens, Dahl, Hinton (2013). On the importance of
       initialization and momentum in deep learning. ICML.
    """
    problem = Problem("nag", params, cost, gradients, stop, updates, stopping)
    hyper = problem.hyperparameters(
        step_size=(step_size, NON_NEGATIVE),
        momentum=(momentum, {"low": 0, "low_open": True}),
        weight_decay=(weight_decay, NON_NEGATIVE),
    )
    step_size = _annealed(problem, hyper.step_size, step_size_decay)
    (velocities,) = (problem.slot("velocity"),)
    look_ahead = {
        param: param + hyper.cast(param.dtype).momentum * velocity
        for param, velocity in zip(problem.params, velocities, strict=True)
    }
    problem.evaluated = list(look_ahead.values())
    problem.gradients = tuple(
        _decayed(hyper.cast(param.dtype), gradient, look_ahead[param], weight_decay)
        for param, gradient in zip(
            problem.params,
            graph_replace(list(problem.gradients), look_ahead),
            strict=True,
        )
    )

    def update(param, gradient, velocity):
        new_velocity = (
            hyper.cast(param.dtype).momentum * velocity
            - cast(step_size, param) * gradient
        )
        return param + new_velocity, [new_velocity]

    return problem.finish(*problem.map(update, velocities))


@insert_docs
def asgd(
    params,
    cost=None,
    gradients=None,
    stop=None,
    updates=None,
    *,
    step_size=1e-2,
    lambd=1e-4,
    alpha=0.75,
    t0=1e6,
    weight_decay=0.0,
    **stopping,
):
    r"""Averaged stochastic gradient descent (Polyak & Juditsky; Bottou 2012).

    Parameters
    ----------
    {protocol_parameters}
    step_size : float, default 1e-2
        :math:`\eta_0`.
    lambd : float, default 1e-4
        Decay term :math:`\lambda`.
    alpha : float, default 0.75
        Power :math:`\alpha` of the step-size decay.
    t0 : float, default 1e6
        The step from which averaging starts.
    weight_decay : float, default 0
        Coupled L2 penalty.
    {stopping_parameters}

    Returns
    -------
    {returns}

    Notes
    -----
    With :math:`s = 1, 2, \dots` the step number,

    .. math::

        \eta_s &= \eta_0 / (1 + \lambda \eta_0 (s - 1))^{\alpha}, \quad
        \mu_s = 1 / \max(1, s - 1 - t_0) \\
        \theta_{s} &= (1 - \lambda \eta_s)\, \theta_{s-1} - \eta_s g \\
        \bar\theta_s &= \bar\theta_{s-1} + \mu_s (\theta_s - \bar\theta_{s-1})

    as ``torch.optim.ASGD`` (and Lua ``optim.asgd``, whose default
    :math:`\eta_0` is 1e-4). The average :math:`\bar\theta` is in
    ``slots["ax"]``: use it as the estimate once :math:`s > t_0`.

    References
    ----------
    .. [1] Polyak, Juditsky (1992). Acceleration of stochastic approximation by
       averaging. SIAM J. Control Optim. 30(4).
    .. [2] Bottou (2012). Stochastic gradient descent tricks. Neural Networks:
       Tricks of the Trade.
    """
    problem = Problem("asgd", params, cost, gradients, stop, updates, stopping)
    hyper = problem.hyperparameters(
        step_size=(step_size, NON_NEGATIVE),
        lambd=(lambd, NON_NEGATIVE),
        alpha=(alpha, NON_NEGATIVE),
        t0=(t0, NON_NEGATIVE),
        weight_decay=(weight_decay, NON_NEGATIVE),
    )
    s = problem.step_number
    eta = hyper.step_size / (1 + hyper.lambd * hyper.step_size * (s - 1)) ** hyper.alpha
    mu = 1 / pt.maximum(1.0, s - 1 - hyper.t0)

    def update(param, gradient, average):
        h = hyper.cast(param.dtype)
        gradient = _decayed(h, gradient, param, weight_decay)
        new_param = (
            param * cast(1 - hyper.lambd * eta, param) - cast(eta, param) * gradient
        )
        # torch copies the parameter while mu == 1 (exactly, not by arithmetic)
        new_average = pt.switch(
            pt.eq(mu, 1), new_param, average + (new_param - average) * cast(mu, param)
        )
        return new_param, [new_average]

    return problem.finish(*problem.map(update, problem.slot("ax")))


@insert_docs
def adagrad(
    params,
    cost=None,
    gradients=None,
    stop=None,
    updates=None,
    *,
    step_size=1e-2,
    step_size_decay=0.0,
    weight_decay=0.0,
    initial_accumulator=0.0,
    epsilon=1e-10,
    **stopping,
):
    r"""AdaGrad (Duchi, Hazan & Singer 2011).

    Parameters
    ----------
    {protocol_parameters}
    step_size : float, default 1e-2
        :math:`\eta`.
    step_size_decay : float, default 0
        Annealing :math:`\kappa` (PyTorch's ``lr_decay``).
    weight_decay : float, default 0
        Coupled L2 penalty :math:`\lambda`.
    initial_accumulator : float, default 0
        Initial value of the sum of squares (a number: it initialises state).
    epsilon : float, default 1e-10
        Added to the square root; positive (``torch.optim`` also accepts 0,
        which divides 0 by 0 where a gradient component is 0).
    {stopping_parameters}

    Returns
    -------
    {returns}

    Notes
    -----
    .. math::

        d &= g + \lambda\theta, \qquad G \leftarrow G + d^2 \\
        \theta &\leftarrow \theta - \frac{\eta}{1 + \kappa t}
                 \frac{d}{\sqrt{G} + \epsilon}

    as ``torch.optim.Adagrad``; Lua ``optim.adagrad`` is the same with
    :math:`\epsilon = 10^{-10}` fixed and default step size 1e-3. The sum of
    squares is in ``slots["sum"]``.

    References
    ----------
    .. [1] Duchi, Hazan, Singer (2011). Adaptive subgradient methods for online
       learning and stochastic optimization. JMLR 12.
    """
    problem = Problem("adagrad", params, cost, gradients, stop, updates, stopping)
    hyper = problem.hyperparameters(
        step_size=(step_size, NON_NEGATIVE),
        weight_decay=(weight_decay, NON_NEGATIVE),
        epsilon=(epsilon, EPSILON),
    )
    step_size = _annealed(problem, hyper.step_size, step_size_decay)

    def update(param, gradient, total):
        h = hyper.cast(param.dtype)
        gradient = _decayed(h, gradient, param, weight_decay)
        new_total = total + gradient * gradient
        step = gradient / (pt.sqrt(new_total) + h.epsilon)
        return param - cast(step_size, param) * step, [new_total]

    init = initial_value("initial_accumulator", initial_accumulator, low=0)
    return problem.finish(*problem.map(update, problem.slot("sum", init)))


@insert_docs
def adadelta(
    params,
    cost=None,
    gradients=None,
    stop=None,
    updates=None,
    *,
    step_size=1.0,
    rho=0.9,
    epsilon=1e-6,
    weight_decay=0.0,
    **stopping,
):
    r"""AdaDelta (Zeiler 2012).

    Parameters
    ----------
    {protocol_parameters}
    step_size : float, default 1
        :math:`\eta`, scaling the step (the paper and Lua have none: 1).
    rho : float, default 0.9
        Decay :math:`\rho` of both running averages.
    epsilon : float, default 1e-6
        Added inside both square roots; positive (``torch.optim`` also
        accepts 0, which divides 0 by 0 where a gradient component is 0).
    weight_decay : float, default 0
        Coupled L2 penalty.
    {stopping_parameters}

    Returns
    -------
    {returns}

    Notes
    -----
    .. math::

        E_g &\leftarrow \rho E_g + (1 - \rho) g^2 \\
        \Delta &= \frac{\sqrt{E_\Delta + \epsilon}}{\sqrt{E_g + \epsilon}}\, g \\
        E_\Delta &\leftarrow \rho E_\Delta + (1 - \rho) \Delta^2, \qquad
        \theta \leftarrow \theta - \eta \Delta

    as ``torch.optim.Adadelta``. The averages are ``slots["square_avg"]`` and
    ``slots["acc_delta"]``.

    References
    ----------
    .. [1] Zeiler (2012). ADADELTA: an adaptive learning rate method.
       arXiv:1212.5701.
    """
    problem = Problem("adadelta", params, cost, gradients, stop, updates, stopping)
    hyper = problem.hyperparameters(
        step_size=(step_size, NON_NEGATIVE),
        rho=(rho, UNIT_CLOSED),
        epsilon=(epsilon, EPSILON),
        weight_decay=(weight_decay, NON_NEGATIVE),
    )

    def update(param, gradient, square_avg, acc_delta):
        h = hyper.cast(param.dtype)
        gradient = _decayed(h, gradient, param, weight_decay)
        new_square_avg = _ema(h.rho, square_avg, gradient * gradient)
        delta = (
            pt.sqrt(acc_delta + h.epsilon)
            / pt.sqrt(new_square_avg + h.epsilon)
            * gradient
        )
        new_acc_delta = _ema(h.rho, acc_delta, delta * delta)
        return param - h.step_size * delta, [new_square_avg, new_acc_delta]

    slots = problem.slot("square_avg"), problem.slot("acc_delta")
    return problem.finish(*problem.map(update, *slots))


@insert_docs
def rmsprop(
    params,
    cost=None,
    gradients=None,
    stop=None,
    updates=None,
    *,
    step_size=1e-2,
    alpha=0.99,
    epsilon=1e-8,
    momentum=0.0,
    centered=False,
    weight_decay=0.0,
    **stopping,
):
    r"""RMSprop (Hinton 2012), optionally centered (Graves 2013) and with momentum.

    Parameters
    ----------
    {protocol_parameters}
    step_size : float, default 1e-2
        :math:`\eta`.
    alpha : float, default 0.99
        Decay :math:`\alpha` of the mean square, in [0, 1] (``torch.optim``
        also accepts :math:`\alpha > 1`, which makes the mean square
        negative).
    epsilon : float, default 1e-8
        Added to the square root; positive (``torch.optim`` also accepts 0,
        which divides 0 by 0 where a gradient component is 0).
    momentum : float, default 0
        Momentum :math:`\mu` of the normalised step; 0 keeps no buffer.
    centered : bool, default False
        Normalise by the variance estimate :math:`E_{g^2} - E_g^2`.
    weight_decay : float, default 0
        Coupled L2 penalty.
    {stopping_parameters}

    Returns
    -------
    {returns}

    Notes
    -----
    .. math::

        E_{g^2} &\leftarrow \alpha E_{g^2} + (1 - \alpha) g^2, \qquad
        E_g \leftarrow \alpha E_g + (1 - \alpha) g \ \text{(centered)} \\
        a &= \sqrt{E_{g^2}} + \epsilon \quad\text{or}\quad
             \sqrt{E_{g^2} - E_g^2} + \epsilon \ \text{(centered)} \\
        b &\leftarrow \mu b + g / a, \qquad \theta \leftarrow \theta - \eta b
        \quad (\mu = 0:\ \theta \leftarrow \theta - \eta g / a)

    as ``torch.optim.RMSprop`` (Lua ``optim.rmsprop`` is the plain form).
    Slots: ``square_avg``, ``grad_avg`` (centered), ``momentum_buffer``.

    References
    ----------
    .. [1] Tieleman, Hinton (2012). Lecture 6.5 - RMSprop. COURSERA.
    .. [2] Graves (2013). Generating sequences with recurrent neural networks.
       arXiv:1308.0850.
    """
    problem = Problem("rmsprop", params, cost, gradients, stop, updates, stopping)
    check_flag("centered", centered)
    hyper = problem.hyperparameters(
        step_size=(step_size, NON_NEGATIVE),
        alpha=(alpha, UNIT_CLOSED),
        epsilon=(epsilon, EPSILON),
        momentum=(momentum, NON_NEGATIVE),
        weight_decay=(weight_decay, NON_NEGATIVE),
    )
    slots = [problem.slot("square_avg")]
    if centered:
        slots.append(problem.slot("grad_avg"))
    if not is_zero(momentum):
        slots.append(problem.slot("momentum_buffer"))

    def update(param, gradient, square_avg, *rest):
        h = hyper.cast(param.dtype)
        gradient = _decayed(h, gradient, param, weight_decay)
        new_state = [_ema(h.alpha, square_avg, gradient * gradient)]
        variance = new_state[0]
        if centered:
            grad_avg, *rest = rest
            new_state.append(_ema(h.alpha, grad_avg, gradient))
            variance = variance - new_state[-1] * new_state[-1]
        step = gradient / (pt.sqrt(variance) + h.epsilon)
        if rest:
            new_state.append(h.momentum * rest[0] + step)
            step = new_state[-1]
        return param - h.step_size * step, new_state

    return problem.finish(*problem.map(update, *slots))


@insert_docs
def adam(
    params,
    cost=None,
    gradients=None,
    stop=None,
    updates=None,
    *,
    step_size=1e-3,
    beta1=0.9,
    beta2=0.999,
    epsilon=1e-8,
    weight_decay=0.0,
    decoupled_weight_decay=False,
    amsgrad=False,
    **stopping,
):
    r"""Adam (Kingma & Ba 2015), with AMSGrad and L2 or decoupled weight decay.

    Parameters
    ----------
    {protocol_parameters}
    step_size : float, default 1e-3
        :math:`\eta`.
    beta1, beta2 : float, default 0.9, 0.999
        Decay rates :math:`\beta_1, \beta_2 \in [0, 1)` of the moment estimates.
    epsilon : float, default 1e-8
        Added to :math:`\sqrt{\hat v}`; positive (``torch.optim`` also accepts
        0, which divides 0 by 0 where a gradient component is 0).
    weight_decay : float, default 0
        :math:`\lambda`: an L2 term added to the gradient, or with
        ``decoupled_weight_decay`` a shrinkage of the parameters (AdamW).
    decoupled_weight_decay : bool, default False
        :math:`\theta \leftarrow (1 - \eta\lambda)\theta` before the step
        (Loshchilov & Hutter 2019) instead of :math:`g + \lambda\theta`.
    amsgrad : bool, default False
        Use the running maximum of :math:`v` (Reddi et al. 2018).
    {stopping_parameters}

    Returns
    -------
    {returns}

    Notes
    -----
    With :math:`s = 1, 2, \dots` the step number,

    .. math::

        m &\leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
        v \leftarrow \beta_2 v + (1 - \beta_2) g^2 \\
        \theta &\leftarrow \theta - \frac{\eta}{1 - \beta_1^s}
            \frac{m}{\sqrt{v} / \sqrt{1 - \beta_2^s} + \epsilon}

    as ``torch.optim.Adam`` (:math:`\epsilon` added after the bias
    correction). Lua ``optim.adam`` adds :math:`\epsilon` to the uncorrected
    :math:`\sqrt{v}`, an effective :math:`\epsilon / \sqrt{1 - \beta_2^s}`.
    Slots: ``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq`` (AMSGrad).

    References
    ----------
    .. [1] Kingma, Ba (2015). Adam: a method for stochastic optimization. ICLR.
    .. [2] Loshchilov, Hutter (2019). Decoupled weight decay regularization.
       ICLR.
    .. [3] Reddi, Kale, Kumar (2018). On the convergence of Adam and beyond.
       ICLR.
    """
    problem = Problem("adam", params, cost, gradients, stop, updates, stopping)
    return _adam(
        problem,
        step_size=step_size,
        beta1=beta1,
        beta2=beta2,
        epsilon=epsilon,
        weight_decay=weight_decay,
        decoupled=decoupled_weight_decay,
        amsgrad=amsgrad,
    )


@insert_docs
def adamw(
    params,
    cost=None,
    gradients=None,
    stop=None,
    updates=None,
    *,
    step_size=1e-3,
    beta1=0.9,
    beta2=0.999,
    epsilon=1e-8,
    weight_decay=1e-2,
    amsgrad=False,
    **stopping,
):
    r"""AdamW: :func:`adam` with decoupled weight decay (default 1e-2).

    Parameters
    ----------
    {protocol_parameters}
    step_size, beta1, beta2, epsilon, amsgrad
        As :func:`adam`.
    weight_decay : float, default 1e-2
        :math:`\lambda`: :math:`\theta \leftarrow (1 - \eta\lambda)\theta`
        before each Adam step.
    {stopping_parameters}

    Returns
    -------
    {returns}

    Notes
    -----
    ``torch.optim.AdamW``; state names start with ``adamw.``.

    References
    ----------
    .. [1] Loshchilov, Hutter (2019). Decoupled weight decay regularization.
       ICLR.
    """
    problem = Problem("adamw", params, cost, gradients, stop, updates, stopping)
    return _adam(
        problem,
        step_size=step_size,
        beta1=beta1,
        beta2=beta2,
        epsilon=epsilon,
        weight_decay=weight_decay,
        decoupled=True,
        amsgrad=amsgrad,
    )


def _adam(
    problem, *, step_size, beta1, beta2, epsilon, weight_decay, decoupled, amsgrad
):
    """The Adam step of :func:`adam` and :func:`adamw` on ``problem``."""
    check_flag("decoupled_weight_decay", decoupled)
    check_flag("amsgrad", amsgrad)
    hyper = _adam_hyperparameters(
        problem, step_size, beta1, beta2, epsilon, weight_decay
    )
    s = problem.step_number
    corrected_step = hyper.step_size / (1 - hyper.beta1**s)
    root_correction2 = pt.sqrt(1 - hyper.beta2**s)
    slots = [problem.slot("exp_avg"), problem.slot("exp_avg_sq")]
    if amsgrad:
        slots.append(problem.slot("max_exp_avg_sq"))

    def update(param, gradient, exp_avg, exp_avg_sq, *max_exp_avg_sq):
        h = hyper.cast(param.dtype)
        param, gradient = _weight_decay(h, param, gradient, weight_decay, decoupled)
        new_exp_avg = _ema(h.beta1, exp_avg, gradient)
        new_exp_avg_sq = _ema(h.beta2, exp_avg_sq, gradient * gradient)
        new_state = [new_exp_avg, new_exp_avg_sq]
        second = new_exp_avg_sq
        if amsgrad:
            second = pt.maximum(max_exp_avg_sq[0], new_exp_avg_sq)
            new_state.append(second)
        denominator = pt.sqrt(second) / cast(root_correction2, param) + h.epsilon
        return param - cast(
            corrected_step, param
        ) * new_exp_avg / denominator, new_state

    return problem.finish(*problem.map(update, *slots))


def _weight_decay(h, param, gradient, weight_decay, decoupled):
    """L2 (into the gradient) or decoupled (shrink the parameter) weight decay."""
    if is_zero(weight_decay):
        return param, gradient
    if decoupled:
        return param * (1 - h.step_size * h.weight_decay), gradient
    return param, gradient + h.weight_decay * param


@insert_docs
def adamax(
    params,
    cost=None,
    gradients=None,
    stop=None,
    updates=None,
    *,
    step_size=2e-3,
    beta1=0.9,
    beta2=0.999,
    epsilon=1e-8,
    weight_decay=0.0,
    **stopping,
):
    r"""AdaMax, Adam with the infinity norm (Kingma & Ba 2015, section 7).

    Parameters
    ----------
    {protocol_parameters}
    step_size : float, default 2e-3
        :math:`\eta`.
    beta1, beta2 : float, default 0.9, 0.999
        Decay rates in :math:`[0, 1)`.
    epsilon : float, default 1e-8
        Added to :math:`|g|` inside the maximum (Lua uses 1e-38); positive.
    weight_decay : float, default 0
        Coupled L2 penalty.
    {stopping_parameters}

    Returns
    -------
    {returns}

    Notes
    -----
    .. math::

        m &\leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
        u \leftarrow \max(\beta_2 u, |g| + \epsilon) \\
        \theta &\leftarrow \theta - \frac{\eta}{1 - \beta_1^s} \frac{m}{u}

    as ``torch.optim.Adamax``. Slots: ``exp_avg``, ``exp_inf``.
    """
    problem = Problem("adamax", params, cost, gradients, stop, updates, stopping)
    hyper = _adam_hyperparameters(
        problem, step_size, beta1, beta2, epsilon, weight_decay
    )
    corrected_step = hyper.step_size / (1 - hyper.beta1**problem.step_number)

    def update(param, gradient, exp_avg, exp_inf):
        h = hyper.cast(param.dtype)
        gradient = _decayed(h, gradient, param, weight_decay)
        new_exp_avg = _ema(h.beta1, exp_avg, gradient)
        new_exp_inf = pt.maximum(h.beta2 * exp_inf, pt.abs(gradient) + h.epsilon)
        step = cast(corrected_step, param) * new_exp_avg / new_exp_inf
        return param - step, [new_exp_avg, new_exp_inf]

    slots = problem.slot("exp_avg"), problem.slot("exp_inf")
    return problem.finish(*problem.map(update, *slots))


@insert_docs
def nadam(
    params,
    cost=None,
    gradients=None,
    stop=None,
    updates=None,
    *,
    step_size=2e-3,
    beta1=0.9,
    beta2=0.999,
    epsilon=1e-8,
    weight_decay=0.0,
    momentum_decay=4e-3,
    decoupled_weight_decay=False,
    **stopping,
):
    r"""NAdam: Adam with Nesterov momentum (Dozat 2016).

    Parameters
    ----------
    {protocol_parameters}
    step_size : float, default 2e-3
        :math:`\eta`.
    beta1, beta2 : float, default 0.9, 0.999
        Decay rates in :math:`[0, 1)`.
    epsilon : float, default 1e-8
        Added to :math:`\sqrt{\hat v}`; positive (``torch.optim`` also accepts
        0, which divides 0 by 0 where a gradient component is 0).
    weight_decay : float, default 0
        L2 penalty, or decoupled with ``decoupled_weight_decay``.
    momentum_decay : float, default 4e-3
        :math:`\psi` of the momentum schedule.
    decoupled_weight_decay : bool, default False
        Shrink the parameters instead of adding to the gradient.
    {stopping_parameters}

    Returns
    -------
    {returns}

    Notes
    -----
    With :math:`\mu_s = \beta_1 (1 - \tfrac12 0.96^{s\psi})` and
    :math:`\Pi_s = \prod_{i \le s} \mu_i`,

    .. math::

        m &\leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
        v \leftarrow \beta_2 v + (1 - \beta_2) g^2, \qquad
        a = \sqrt{v / (1 - \beta_2^s)} + \epsilon \\
        \theta &\leftarrow \theta - \eta \frac{1 - \mu_s}{1 - \Pi_s} \frac{g}{a}
                 - \eta \frac{\mu_{s+1}}{1 - \Pi_s \mu_{s+1}} \frac{m}{a}

    as ``torch.optim.NAdam``. The product :math:`\Pi_s` is the float64
    scalar ``nadam.mu_product``.

    References
    ----------
    .. [1] Dozat (2016). Incorporating Nesterov momentum into Adam. ICLR
       workshop.
    """
    problem = Problem("nadam", params, cost, gradients, stop, updates, stopping)
    check_flag("decoupled_weight_decay", decoupled_weight_decay)
    hyper = _adam_hyperparameters(
        problem, step_size, beta1, beta2, epsilon, weight_decay,
        momentum_decay=(momentum_decay, NON_NEGATIVE),
    )  # fmt: skip
    s = problem.step_number
    mu = hyper.beta1 * (1 - 0.5 * 0.96 ** (s * hyper.momentum_decay))
    mu_next = hyper.beta1 * (1 - 0.5 * 0.96 ** ((s + 1) * hyper.momentum_decay))
    mu_product = problem.scalar("mu_product", 1.0, "float64")
    new_mu_product = mu_product * mu
    gradient_step = hyper.step_size * (1 - mu) / (1 - new_mu_product)
    momentum_step = hyper.step_size * mu_next / (1 - new_mu_product * mu_next)
    correction2 = 1 - hyper.beta2**s

    def update(param, gradient, exp_avg, exp_avg_sq):
        h = hyper.cast(param.dtype)
        param, gradient = _weight_decay(
            h, param, gradient, weight_decay, decoupled_weight_decay
        )
        new_exp_avg = _ema(h.beta1, exp_avg, gradient)
        new_exp_avg_sq = _ema(h.beta2, exp_avg_sq, gradient * gradient)
        denominator = pt.sqrt(new_exp_avg_sq / cast(correction2, param)) + h.epsilon
        new_param = (
            param
            - cast(gradient_step, param) * gradient / denominator
            - cast(momentum_step, param) * new_exp_avg / denominator
        )
        return new_param, [new_exp_avg, new_exp_avg_sq]

    slots = problem.slot("exp_avg"), problem.slot("exp_avg_sq")
    new_params, state_updates = problem.map(update, *slots)
    return problem.finish(new_params, [*state_updates, (mu_product, new_mu_product)])


@insert_docs
def radam(
    params,
    cost=None,
    gradients=None,
    stop=None,
    updates=None,
    *,
    step_size=1e-3,
    beta1=0.9,
    beta2=0.999,
    epsilon=1e-8,
    weight_decay=0.0,
    decoupled_weight_decay=False,
    **stopping,
):
    r"""RAdam: Adam with a rectified adaptive step (Liu et al. 2020).

    Parameters
    ----------
    {protocol_parameters}
    step_size : float, default 1e-3
        :math:`\eta`.
    beta1, beta2 : float, default 0.9, 0.999
        Decay rates in :math:`[0, 1)`.
    epsilon : float, default 1e-8
        Added to :math:`\sqrt{v}`; positive (``torch.optim`` also accepts 0,
        which divides 0 by 0 where a gradient component is 0).
    weight_decay : float, default 0
        L2 penalty, or decoupled with ``decoupled_weight_decay``.
    decoupled_weight_decay : bool, default False
        Shrink the parameters instead of adding to the gradient.
    {stopping_parameters}

    Returns
    -------
    {returns}

    Notes
    -----
    With :math:`\rho_\infty = 2 / (1 - \beta_2) - 1` and
    :math:`\rho_s = \rho_\infty - 2 s \beta_2^s / (1 - \beta_2^s)`, the step
    is :math:`\eta\, \hat m` while :math:`\rho_s \le 5`, and afterwards

    .. math::

        \theta \leftarrow \theta - \eta\, \hat m\, r_s
            \frac{\sqrt{1 - \beta_2^s}}{\sqrt{v} + \epsilon}, \qquad
        r_s = \sqrt{\frac{(\rho_s - 4)(\rho_s - 2)\rho_\infty}
                         {(\rho_\infty - 4)(\rho_\infty - 2)\rho_s}}

    with :math:`\hat m = m / (1 - \beta_1^s)`, as ``torch.optim.RAdam``.

    References
    ----------
    .. [1] Liu et al. (2020). On the variance of the adaptive learning rate and
       beyond. ICLR.
    """
    problem = Problem("radam", params, cost, gradients, stop, updates, stopping)
    check_flag("decoupled_weight_decay", decoupled_weight_decay)
    hyper = _adam_hyperparameters(
        problem, step_size, beta1, beta2, epsilon, weight_decay
    )
    s = problem.step_number
    correction1 = 1 - hyper.beta1**s
    correction2 = 1 - hyper.beta2**s
    rho_inf = 2 / (1 - hyper.beta2) - 1
    rho = rho_inf - 2 * s * hyper.beta2**s / correction2
    rectified = pt.gt(rho, 5)
    # clamped so the unused branch stays finite
    rho_safe = pt.maximum(rho, 5)
    rectification = pt.sqrt(
        (rho_safe - 4)
        * (rho_safe - 2)
        * rho_inf
        / ((rho_inf - 4) * (rho_inf - 2) * rho_safe)
    )
    adaptive_scale = rectification * pt.sqrt(correction2)

    def update(param, gradient, exp_avg, exp_avg_sq):
        h = hyper.cast(param.dtype)
        param, gradient = _weight_decay(
            h, param, gradient, weight_decay, decoupled_weight_decay
        )
        new_exp_avg = _ema(h.beta1, exp_avg, gradient)
        new_exp_avg_sq = _ema(h.beta2, exp_avg_sq, gradient * gradient)
        corrected = new_exp_avg / cast(correction1, param)
        adaptive = cast(adaptive_scale, param) / (pt.sqrt(new_exp_avg_sq) + h.epsilon)
        scale = pt.switch(rectified, adaptive, pt.ones_like(adaptive))
        return param - corrected * h.step_size * scale, [new_exp_avg, new_exp_avg_sq]

    slots = problem.slot("exp_avg"), problem.slot("exp_avg_sq")
    return problem.finish(*problem.map(update, *slots))


@insert_docs
def rprop(
    params,
    cost=None,
    gradients=None,
    stop=None,
    updates=None,
    *,
    step_size=1e-2,
    eta_plus=1.2,
    eta_minus=0.5,
    step_size_min=1e-6,
    step_size_max=50.0,
    **stopping,
):
    r"""Rprop without weight backtracking (Riedmiller & Braun 1993; "Rprop-").

    Parameters
    ----------
    {protocol_parameters}
    step_size : float, default 1e-2
        Initial per-element step :math:`\Delta_0` (a number: it initialises
        state).
    eta_plus, eta_minus : float, default 1.2, 0.5
        Growth and shrink factors, :math:`0 < \eta^- < 1 < \eta^+`.
    step_size_min, step_size_max : float, default 1e-6, 50
        Bounds of the per-element steps.
    {stopping_parameters}

    Returns
    -------
    {returns}

    Notes
    -----
    Per element, with :math:`p` the previous (possibly zeroed) gradient:

    .. math::

        \Delta &\leftarrow \operatorname{clip}\bigl(\Delta \cdot
            \{\eta^+ \text{ if } g p > 0;\ \eta^- \text{ if } g p < 0;\ 1\},
            \Delta_{\min}, \Delta_{\max}\bigr) \\
        g' &= 0 \text{ where } g p < 0 \text{, else } g, \qquad
        \theta \leftarrow \theta - \operatorname{sign}(g') \Delta, \qquad p
        \leftarrow g'

    as ``torch.optim.Rprop`` (Lua ``optim.rprop``: initial step 0.1). Slots:
    ``prev`` and ``step_size``. Full-batch gradients only: the signs of noisy
    gradients make the steps meaningless.

    References
    ----------
    .. [1] Riedmiller, Braun (1993). A direct adaptive method for faster
       backpropagation learning: the RPROP algorithm. IEEE ICNN.
    """
    problem = Problem("rprop", params, cost, gradients, stop, updates, stopping)
    hyper = problem.hyperparameters(
        eta_plus=(eta_plus, {"low": 1, "low_open": True}),
        eta_minus=(
            eta_minus,
            {"low": 0, "high": 1, "low_open": True, "high_open": True},
        ),
        step_size_min=(step_size_min, NON_NEGATIVE),
        step_size_max=(step_size_max, NON_NEGATIVE),
    )
    initial = initial_value("step_size", step_size, low=0)

    def update(param, gradient, previous, steps):
        h = hyper.cast(param.dtype)
        product = gradient * previous
        factor = pt.switch(
            pt.gt(product, 0), h.eta_plus, pt.switch(pt.lt(product, 0), h.eta_minus, 1)
        )
        new_steps = pt.clip(steps * factor, h.step_size_min, h.step_size_max)
        kept = pt.switch(pt.lt(product, 0), pt.zeros_like(gradient), gradient)
        return param - pt.sign(kept) * new_steps, [kept, new_steps]

    slots = problem.slot("prev"), problem.slot("step_size", initial)
    return problem.finish(*problem.map(update, *slots))
