"""First-order update rules: one gradient, one step per call."""

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Variable

from ._docs import insert_docs
from ._protocol import Problem
from ._validate import concrete, is_zero

__all__ = ["sgd"]


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
    step_size=.1)`` is exactly ``{{p: p - 0.1 * g}}``).

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
    if not isinstance(nesterov, bool):
        raise TypeError(f"nesterov must be True or False, got {nesterov!r}")
    momentum_number, dampening_number = concrete(momentum), concrete(dampening)
    if nesterov and (
        (momentum_number is not None and momentum_number <= 0)
        or (dampening_number is not None and dampening_number != 0)
    ):
        raise ValueError(
            "nesterov=True requires a momentum > 0 and dampening == 0, got "
            f"momentum={momentum!r}, dampening={dampening!r}"
        )
    multipliers = _per_parameter(problem, "step_sizes", step_sizes)
    buffers = None if is_zero(momentum) else problem.slot("momentum_buffer")

    new_params, state_updates = [], []
    for index, (param, gradient) in enumerate(
        zip(problem.params, problem.gradients, strict=True)
    ):
        dtype = param.dtype
        step = problem.resolve("step_size", step_size, dtype, low=0)
        if not is_zero(step_size_decay):
            decay = problem.resolve("step_size_decay", step_size_decay, dtype, low=0)
            step = step / (1 + pt.cast(problem.counter, dtype) * decay)
        if not is_zero(weight_decay):
            gradient = (
                gradient
                + problem.resolve("weight_decay", weight_decay, dtype, low=0) * param
            )
        direction = gradient
        if buffers is not None:
            mu = problem.resolve("momentum", momentum, dtype, low=0)
            buffer = mu * buffers[index]
            if is_zero(dampening):
                buffer = buffer + gradient
            else:
                delta = problem.resolve("dampening", dampening, dtype)
                # b_0 = d_0 undamped (PyTorch's first-step copy).
                started = pt.cast(pt.gt(problem.counter, 0), dtype)
                buffer = buffer + (1 - delta * started) * gradient
            state_updates.append((buffers[index], buffer))
            direction = gradient + mu * buffer if nesterov else buffer
        if multipliers is not None:
            direction = multipliers[index] * direction
        new_params.append(param - step * direction)
    return problem.finish(new_params, state_updates)


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
        if isinstance(value, Variable):
            variable = value
        else:
            array = np.asarray(value)
            if array.dtype.kind not in "iuf":
                raise TypeError(f"{name}[{index}] must be real, got {array.dtype}")
            if not np.all(np.isfinite(array)) or np.any(array < 0):
                raise ValueError(f"{name}[{index}] must be finite and non-negative")
            variable = pt.constant(array.astype(param.dtype))
        if variable.ndim != param.ndim:
            raise ValueError(
                f"{name}[{index}] has {variable.ndim} dimensions, expected "
                f"{param.ndim} like params[{index}]"
            )
        if not isinstance(value, Variable):
            expected = problem_shape(param)
            if expected is not None and variable.data.shape != expected:
                raise ValueError(
                    f"{name}[{index}] has shape {variable.data.shape}, expected "
                    f"{expected} like params[{index}]"
                )
        result.append(pt.cast(variable, param.dtype))
    return result


def problem_shape(param):
    """The parameter's current shape when it is known at build time."""
    value = getattr(param, "get_value", None)
    return None if value is None else np.shape(value(borrow=True))
