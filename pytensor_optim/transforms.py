r"""Gradient transforms and wrappers of other rules' updates.

Gradient transforms map a list of gradients to a list of gradients and go
*before* a rule::

    updates = adam(params, gradients=clip_by_global_norm(grads, 5.0))

Wrappers take the ``updates`` of a rule and return new ``Updates`` that add
something to its steps (momentum, averaging, lookahead, NaN skipping); the
wrapped rule's state stays in the result's ``state_dict``.
"""

from functools import reduce

import numpy as np
import pytensor.tensor as pt
from pytensor.tensor.type import TensorType

from ._compat import ifelse
from ._docs import insert_docs
from ._protocol import Problem, Updates, split_updates
from ._state import new_scalar
from ._validate import check_range, concrete, initial_value

__all__ = [
    "apply_momentum",
    "apply_nesterov_momentum",
    "clip_by_global_norm",
    "clip_by_norm",
    "clip_by_value",
    "lookahead",
    "polyak_average",
    "skip_nonfinite",
]


def _gradient_list(gradients):
    if isinstance(gradients, list | tuple):
        return [pt.as_tensor_variable(g) for g in gradients]
    raise TypeError(
        f"gradients must be a list or tuple of tensors, got {type(gradients).__name__}"
    )


def _constant(value, name, dtype, **bounds):
    """A plain-number bound as a constant of ``dtype`` (or a cast scalar)."""
    number = concrete(value)
    if number is None:
        variable = pt.as_tensor_variable(value)
        if variable.ndim != 0:
            raise ValueError(f"{name} must be a scalar, got {variable.type}")
        return pt.cast(variable, dtype)
    check_range(name, number, **bounds)
    return pt.constant(np.asarray(number, dtype=dtype))


def clip_by_value(gradients, bound):
    r"""Clip every gradient element to :math:`[-b, b]`.

    As ``torch.nn.utils.clip_grad_value_``.

    Parameters
    ----------
    gradients : list of tensors
    bound : float or scalar
        :math:`b \ge 0`.

    Returns
    -------
    list of tensors, each of its gradient's dtype.
    """
    return [
        pt.clip(g, -(b := _constant(bound, "bound", g.dtype, low=0)), b)
        for g in _gradient_list(gradients)
    ]


def _norm_axes(gradient, norm_axes):
    if norm_axes is not None:
        return tuple(norm_axes)
    if gradient.ndim <= 1:
        return tuple(range(gradient.ndim))
    if gradient.ndim == 2:
        return (0,)
    if gradient.ndim in (3, 4, 5):
        return tuple(range(1, gradient.ndim))
    raise ValueError(
        f"no default norm_axes for a {gradient.ndim}-dimensional tensor; pass norm_axes"
    )


def clip_by_norm(gradients, max_norm, norm_axes=None, epsilon=1e-7):
    r"""Rescale each tensor so its norms along ``norm_axes`` are at most ``max_norm``.

    Lasagne's and pymc's ``norm_constraint``, applied to each gradient:

    .. math:: g \leftarrow g\, \frac{\min(\|g\|, c)}{\epsilon + \|g\|}

    with norms over ``norm_axes`` (kept as broadcastable dimensions). The
    default axes follow pymc: 2-D tensors (dense weights) use axis 0, 3-D to 5-D
    tensors (convolution kernels) all axes but the first. Vectors and scalars,
    which pymc rejects, use all their axes.

    Parameters
    ----------
    gradients : list of tensors
    max_norm : float
        :math:`c > 0`.
    norm_axes : sequence of int, optional
        Axes to take the norms over, for every tensor.
    epsilon : float, default 1e-7

    Returns
    -------
    list of tensors, each of its gradient's dtype.
    """
    clipped = []
    for g in _gradient_list(gradients):
        axes = _norm_axes(g, norm_axes)
        norms = pt.sqrt(pt.sum(pt.sqr(g), axis=axes, keepdims=True))
        limit = _constant(max_norm, "max_norm", g.dtype, low=0, low_open=True)
        target = pt.clip(norms, 0, limit)
        clipped.append(g * (target / (_constant(epsilon, "epsilon", g.dtype) + norms)))
    return clipped


def clip_by_global_norm(gradients, max_norm, epsilon=1e-7, return_norm=False):
    r"""Rescale all gradients together so that their joint norm is at most ``max_norm``.

    pymc's ``total_norm_constraint`` (``torch.nn.utils.clip_grad_norm_``):

    .. math:: n = \Bigl(\sum_i \|g_i\|^2\Bigr)^{1/2}, \qquad
              g_i \leftarrow g_i\, \frac{\min(n, c)}{\epsilon + n}

    The norm is computed in the widest dtype of the gradients; each result
    keeps its gradient's dtype.

    Parameters
    ----------
    gradients : list of tensors
    max_norm : float
        :math:`c > 0`.
    epsilon : float, default 1e-7
    return_norm : bool, default False
        Also return :math:`n` (for monitoring).

    Returns
    -------
    list of tensors, or (list, norm) with ``return_norm``.
    """
    gradients = _gradient_list(gradients)
    dtype = str(np.result_type(*(g.dtype for g in gradients)))
    norm = pt.sqrt(reduce(pt.add, (pt.cast(pt.sqr(g).sum(), dtype) for g in gradients)))
    limit = _constant(max_norm, "max_norm", dtype, low=0, low_open=True)
    multiplier = pt.clip(norm, 0, limit) / (_constant(epsilon, "epsilon", dtype) + norm)
    scaled = [g * pt.cast(multiplier, g.dtype) for g in gradients]
    return (scaled, norm) if return_norm else scaled


# ---- wrappers of other rules' updates ------------------------------------------
def _wrapped(name, updates, params):
    """A Problem whose 'gradients' are the wrapped rule's steps ``new - old``.

    The wrapped updates, minus the parameters' items, become the base, so the
    result keeps every other update and the whole state chain.
    """
    if not isinstance(updates, dict):
        raise TypeError(
            f"updates must be a dict of a rule's updates, got {type(updates).__name__}"
        )
    if params is None:
        params = getattr(updates, "params", None) or list(updates)
    params = [params] if not isinstance(params, list | tuple) else list(params)
    new_values, base = split_updates(updates, params)
    problem = Problem(
        name,
        params,
        None,
        [new - p for p, new in zip(params, new_values, strict=True)],
        None,
        base,
        {},
    )
    return problem, new_values


@insert_docs
def apply_momentum(updates, params=None, momentum=0.9):
    r"""Add classical momentum to the steps of any rule (Lasagne, pymc).

    Parameters
    ----------
    updates : dict
        A rule's updates.
    params : list, optional
        The parameters whose steps get momentum; default ``updates.params``
        (or every key).
    momentum : float, default 0.9
        :math:`\mu \in [0, 1)`.

    Returns
    -------
    {returns}

    Notes
    -----
    With :math:`\theta'` the wrapped rule's new value and velocity :math:`v`:

    .. math:: x = \mu v + \theta', \qquad v \leftarrow x - \theta, \qquad
              \theta \leftarrow x

    The velocity is ``slots["velocity"]`` (named ``momentum.velocity[...]``).
    """
    problem, new_values = _wrapped("momentum", updates, params)
    hyper = problem.hyperparameters(momentum=(momentum, {"low": 0, "high": 1}))

    def update(param, step, velocity, new):
        moved = hyper.cast(param.dtype).momentum * velocity + new
        return moved, [moved - param]

    return problem.finish(
        *problem.map(update, problem.slot("velocity"), new=new_values)
    )


@insert_docs
def apply_nesterov_momentum(updates, params=None, momentum=0.9):
    r"""Add Nesterov momentum to the steps of any rule (Lasagne, pymc).

    Parameters
    ----------
    updates : dict
        A rule's updates.
    params : list, optional
        Default ``updates.params`` (or every key).
    momentum : float, default 0.9
        :math:`\mu \in [0, 1)`.

    Returns
    -------
    {returns}

    Notes
    -----
    The reformulation that stores the look-ahead point (Bengio et al. 2013):

    .. math:: v \leftarrow \mu v + \theta' - \theta, \qquad
              \theta \leftarrow \mu v + \theta'

    The velocity is ``slots["velocity"]``.
    """
    problem, new_values = _wrapped("nesterov_momentum", updates, params)
    hyper = problem.hyperparameters(momentum=(momentum, {"low": 0, "high": 1}))

    def update(param, step, velocity, new):
        mu = hyper.cast(param.dtype).momentum
        new_velocity = mu * velocity + new - param
        return mu * new_velocity + new, [new_velocity]

    return problem.finish(
        *problem.map(update, problem.slot("velocity"), new=new_values)
    )


@insert_docs
def polyak_average(updates, params=None, decay=0.999):
    r"""Keep exponential moving averages of the parameters (Polyak averaging).

    Parameters
    ----------
    updates : dict
        A rule's updates.
    params : list, optional
        Default ``updates.params`` (or every key).
    decay : float, default 0.999
        :math:`\beta \in [0, 1]`.

    Returns
    -------
    {returns}

    Notes
    -----
    The parameters move as the wrapped rule says; beside them

    .. math:: \bar\theta \leftarrow \beta \bar\theta + (1 - \beta)\theta'

    starting from the parameters' values when the wrapper is built (as
    ``torch.optim.swa_utils.AveragedModel`` with an EMA). The averages are
    ``slots["average"]``: evaluate with them (e.g. through ``givens``).
    """
    problem, new_values = _wrapped("polyak", updates, params)
    hyper = problem.hyperparameters(decay=(decay, {"low": 0, "high": 1}))
    averages = problem.slot("average", [p.get_value() for p in problem.params])

    def update(param, step, average, new):
        beta = hyper.cast(param.dtype).decay
        return new, [beta * average + (1 - beta) * new]

    return problem.finish(*problem.map(update, averages, new=new_values))


@insert_docs
def lookahead(updates, params=None, sync_period=5, slow_step_size=0.5):
    r"""Lookahead (Zhang, Lucas, Hinton & Ba 2019) around any rule.

    Parameters
    ----------
    updates : dict
        The inner ("fast") rule's updates.
    params : list, optional
        Default ``updates.params`` (or every key).
    sync_period : int, default 5
        :math:`k`: the slow weights move every :math:`k` steps.
    slow_step_size : float, default 0.5
        :math:`\alpha \in [0, 1]`.

    Returns
    -------
    {returns}

    Notes
    -----
    Fast weights :math:`\theta` follow the inner rule; every :math:`k`-th step

    .. math:: \phi \leftarrow \phi + \alpha(\theta' - \phi), \qquad
              \theta \leftarrow \phi

    The slow weights :math:`\phi` are ``slots["slow"]``, starting at the
    parameters' values; the inner rule's state is kept across
    synchronisations, as in the paper's reference code and optax.

    References
    ----------
    .. [1] Zhang, Lucas, Hinton, Ba (2019). Lookahead optimizer: k steps
       forward, 1 step back. NeurIPS.
    """
    problem, new_values = _wrapped("lookahead", updates, params)
    period = initial_value("sync_period", sync_period, low=1)
    if int(period) != period:
        raise ValueError(f"sync_period must be a positive integer, got {sync_period!r}")
    hyper = problem.hyperparameters(
        slow_step_size=(slow_step_size, {"low": 0, "high": 1})
    )
    slow = problem.slot("slow", [p.get_value() for p in problem.params])
    synchronise = pt.eq((problem.counter + 1) % int(period), 0)

    def update(param, step, slow_param, new):
        alpha = hyper.cast(param.dtype).slow_step_size
        new_slow = pt.switch(
            synchronise, slow_param + alpha * (new - slow_param), slow_param
        )
        return pt.switch(synchronise, new_slow, new), [new_slow]

    return problem.finish(*problem.map(update, slow, new=new_values))


def skip_nonfinite(updates, values, count_skipped=True):
    r"""Make a step whose cost or gradients are not finite change nothing.

    For training loops without ``stop``: every update in ``updates``
    (parameters, moments, counters) becomes ``switch(finite, new, old)``,
    with ``finite`` true when every element of every expression in
    ``values`` (typically the cost and the gradients) is finite. State that
    is not a tensor (``cmaes``'s random generator) is kept the same way,
    with ``ifelse``, so a skipped step draws nothing.

    Parameters
    ----------
    updates : dict
        Any updates (a rule's, or several rules' in one dict).
    values : list of tensors
        What must be finite for the step to be applied.
    count_skipped : bool, default True
        Count skipped steps in the int64 shared scalar
        ``updates.slots["skipped"]`` (named ``skip_nonfinite.skipped``).

    Returns
    -------
    Updates
        The wrapped updates; its ``state_dict`` covers the wrapped rules'
        state and the counter.
    """
    if not isinstance(updates, dict):
        raise TypeError(f"updates must be a dict, got {type(updates).__name__}")
    values = [pt.as_tensor_variable(v) for v in _as_list(values, "values")]
    if not values:
        raise ValueError("values must name at least one expression")
    finite = reduce(pt.and_, (pt.all(pt.isfinite(v)) for v in values))
    state = getattr(updates, "_state", ())
    result = Updates(
        [(k, _kept_unless(finite, v, k)) for k, v in updates.items()],
        params=getattr(updates, "params", ()),
        slots=getattr(updates, "slots", {}),
        counter=getattr(updates, "counter", None),
        status=getattr(updates, "status", None),
        state=state,
    )
    if count_skipped:
        skipped, initial = new_scalar("skip_nonfinite.skipped", 0, "int64")
        result[skipped] = skipped + pt.cast(pt.invert(finite), "int64")
        result.slots = {**result.slots, "skipped": skipped}
        result._state = (*state, (skipped, initial))
    return result


def _kept_unless(finite, new, old):
    """``new`` where ``finite``, else ``old``: a tensor is switched, other
    state (a random generator) is chosen by ``ifelse``."""
    if isinstance(old.type, TensorType):
        return pt.switch(finite, new, old)
    return ifelse(finite, new, old)


def _as_list(values, name):
    if isinstance(values, list | tuple):
        return list(values)
    if hasattr(values, "type"):
        return [values]
    raise TypeError(f"{name} must be a tensor or a list of tensors")
