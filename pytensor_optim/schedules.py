r"""Step-size schedules: pure functions of the iteration counter.

Each factory returns a :class:`Schedule`, a callable ``t -> scalar expression``
that any ``step_size`` (and most other hyperparameters) accepts. The rule
calls it with its iteration counter ``t`` — the number of steps taken before
the current one, so the first step uses ``schedule(0)`` — and casts the result
to the parameter's dtype. Nothing runs in Python between steps.

Schedules compute in float64 (they are scalars, so this costs nothing) and
the cast to the parameter's dtype happens once, at the end; a
:func:`constant` schedule therefore gives bit-identical steps to the plain
number.

Examples
--------
>>> import pytensor, pytensor.tensor as pt
>>> from pytensor_optim import schedules
>>> t = pt.lscalar("t")
>>> f = pytensor.function([t], schedules.step(0.1, 0.5, every=10)(t))
>>> float(f(0)), float(f(9)), float(f(10)), float(f(25))
(0.1, 0.1, 0.05, 0.025)
"""

import numbers

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Variable

from ._validate import check_range

__all__ = [
    "Schedule",
    "constant",
    "cosine",
    "exponential",
    "inverse_time",
    "king",
    "linear_warmup",
    "noam",
    "piecewise",
    "step",
]


class Schedule:
    """A step-size schedule: ``schedule(t)`` is a float64 scalar expression.

    Parameters
    ----------
    function : callable
        Maps the (int64, symbolic) iteration counter to a scalar expression.
    description : str
        Shown by ``repr``.
    """

    def __init__(self, function, description):
        self._function = function
        self._description = description

    def __call__(self, t):
        return self._function(pt.cast(t, "float64"))

    def __repr__(self):
        return self._description


def _scalar(value, name, **bounds):
    """A float64 scalar for a schedule argument (number or scalar variable)."""
    if isinstance(value, Variable):
        if value.ndim != 0:
            raise ValueError(f"{name} must be a scalar, got {value.type}")
        return pt.cast(value, "float64")
    if isinstance(value, bool) or not isinstance(value, numbers.Real | np.ndarray):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    if np.ndim(value) != 0:
        raise ValueError(f"{name} must be a scalar, got shape {np.shape(value)}")
    check_range(name, float(value), **bounds)
    return pt.constant(np.float64(value))


def _as_schedule(value, name):
    if isinstance(value, Schedule) or (
        callable(value) and not isinstance(value, Variable)
    ):
        return value
    return constant(value, name=name)


def constant(value, *, name="value"):
    r"""The schedule :math:`\eta_t = \eta`.

    Equivalent to passing the number itself (bit for bit).
    """
    value_ = _scalar(value, name)
    return Schedule(lambda t: value_, f"constant({value!r})")


def inverse_time(initial, decay):
    r"""Annealing :math:`\eta_t = \eta_0 / (1 + \lambda t)` (Lua ``learningRateDecay``).

    The same as ``step_size_decay=decay`` of :func:`~pytensor_optim.sgd`.
    """
    initial_ = _scalar(initial, "initial", low=0)
    decay_ = _scalar(decay, "decay", low=0)
    return Schedule(
        lambda t: initial_ / (1 + decay_ * t), f"inverse_time({initial!r}, {decay!r})"
    )


def exponential(initial, rate, every=1):
    r"""Smooth exponential decay :math:`\eta_t = \eta_0\, r^{t / k}`.

    ``k = every``; the exponent is not rounded (use :func:`step` for a
    staircase), as TensorFlow's ``ExponentialDecay``.
    """
    initial_ = _scalar(initial, "initial", low=0)
    rate_ = _scalar(rate, "rate", low=0, low_open=True)
    every_ = _scalar(every, "every", low=0, low_open=True)
    return Schedule(
        lambda t: initial_ * rate_ ** (t / every_),
        f"exponential({initial!r}, {rate!r}, every={every!r})",
    )


def step(initial, factor, every):
    r"""Staircase decay :math:`\eta_t = \eta_0\, \gamma^{\lfloor t / k \rfloor}`.

    ``gamma = factor``, ``k = every``: PyTorch's ``StepLR``.
    """
    initial_ = _scalar(initial, "initial", low=0)
    factor_ = _scalar(factor, "factor", low=0)
    if not isinstance(every, numbers.Integral) or isinstance(every, bool) or every < 1:
        raise ValueError(f"every must be a positive integer, got {every!r}")
    return Schedule(
        lambda t: initial_ * factor_ ** pt.floor(t / every),
        f"step({initial!r}, {factor!r}, every={every!r})",
    )


def cosine(initial, t_max, final=0.0):
    r"""Cosine annealing from ``initial`` to ``final`` over ``t_max`` steps.

    .. math:: \eta_t = \eta_{\min} + \tfrac12(\eta_0 - \eta_{\min})
              \bigl(1 + \cos(\pi \min(t, T) / T)\bigr)

    PyTorch's ``CosineAnnealingLR`` for :math:`t \le T`; afterwards the step
    size stays at ``final`` (as optax's ``cosine_decay_schedule``) instead
    of rising again.
    """
    initial_ = _scalar(initial, "initial", low=0)
    t_max_ = _scalar(t_max, "t_max", low=0, low_open=True)
    final_ = _scalar(final, "final", low=0)
    return Schedule(
        lambda t: (
            final_
            + (initial_ - final_)
            * (1 + pt.cos(np.pi * pt.minimum(t, t_max_) / t_max_))
            / 2
        ),
        f"cosine({initial!r}, {t_max!r}, final={final!r})",
    )


def linear_warmup(schedule, steps):
    r"""Ramp ``schedule`` up linearly over its first ``steps`` steps.

    .. math:: \eta_t = \min\bigl(1, (t + 1) / W\bigr)\, s(t)

    ``W = steps``; the first step already moves (factor ``1/W``, as PyTorch's
    ``LinearLR(start_factor=1/W)``), and from step ``W - 1`` on the factor is 1.
    ``schedule`` is a schedule or a number.
    """
    inner = _as_schedule(schedule, "schedule")
    steps_ = _scalar(steps, "steps", low=0, low_open=True)
    return Schedule(
        lambda t: pt.minimum(1.0, (t + 1) / steps_) * inner(t),
        f"linear_warmup({schedule!r}, {steps!r})",
    )


def noam(d_model, warmup, scale=1.0):
    r"""The Transformer schedule (Vaswani et al. 2017, eq. 3).

    .. math:: \eta_t = s\, d^{-1/2} \min\bigl((t+1)^{-1/2},\ (t+1)\,W^{-3/2}\bigr)

    with ``d = d_model``, ``W = warmup`` and ``s = scale``; ``t + 1`` is the
    paper's ``step_num``, which starts at 1.
    """
    d_model_ = _scalar(d_model, "d_model", low=0, low_open=True)
    warmup_ = _scalar(warmup, "warmup", low=0, low_open=True)
    scale_ = _scalar(scale, "scale", low=0)
    return Schedule(
        lambda t: (
            scale_
            * d_model_**-0.5
            * pt.minimum((t + 1) ** -0.5, (t + 1) * warmup_**-1.5)
        ),
        f"noam({d_model!r}, {warmup!r}, scale={scale!r})",
    )


def piecewise(boundaries, values):
    r"""A piecewise-constant schedule.

    ``values[i]`` applies while ``boundaries[i-1] <= t < boundaries[i]``:
    ``values[0]`` before the first boundary, ``values[-1]`` from the last one.
    ``boundaries`` are strictly increasing non-negative integers and
    ``len(values) == len(boundaries) + 1``.
    """
    boundaries = list(boundaries)
    values = list(values)
    if len(values) != len(boundaries) + 1:
        raise ValueError(
            f"values must have len(boundaries) + 1 = {len(boundaries) + 1} entries, "
            f"got {len(values)}"
        )
    for index, boundary in enumerate(boundaries):
        if not isinstance(boundary, numbers.Integral) or isinstance(boundary, bool):
            raise TypeError(f"boundaries[{index}] must be an integer, got {boundary!r}")
    if any(b < 0 for b in boundaries) or any(
        b >= c for b, c in zip(boundaries, boundaries[1:], strict=False)
    ):
        raise ValueError(
            f"boundaries must be strictly increasing non-negative integers, got "
            f"{boundaries}"
        )
    values_ = [_scalar(v, f"values[{i}]") for i, v in enumerate(values)]

    def evaluate(t):
        result = values_[-1]
        for boundary, value in zip(boundaries[::-1], values_[-2::-1], strict=True):
            result = pt.switch(pt.lt(t, boundary), value, result)
        return result

    return Schedule(evaluate, f"piecewise({boundaries!r}, {values!r})")


class _King:
    """The state machine behind :func:`king` (built once per rule)."""

    def __init__(self, initial, patience, decay, rtol, description):
        self.initial, self.patience, self.decay, self.rtol = (
            initial,
            patience,
            decay,
            rtol,
        )
        self._description = description

    def __call__(self, t):
        raise TypeError(
            "the king schedule needs the cost: pass it as a rule's step_size "
            "together with cost="
        )

    def __repr__(self):
        return self._description

    def build(self, problem, name):
        cost = problem.cost
        if cost is None:
            raise ValueError(f"the king schedule given as {name} needs cost")
        cost = pt.cast(cost, "float64")
        best = problem.scalar("king_best", np.inf, "float64")
        wait = problem.scalar("king_wait", 0, "int64")
        factor = problem.scalar("king_factor", 1.0, "float64")
        # the first cost always counts as progress (inf - r*inf is nan)
        improved = pt.or_(pt.isinf(best), pt.lt(cost, best - self.rtol * pt.abs(best)))
        waited = pt.switch(improved, 0, wait + 1)
        plateau = pt.ge(waited, self.patience)
        new_factor = pt.switch(plateau, factor * self.decay, factor)
        problem.extra_updates += [
            (best, pt.switch(improved, cost, best)),
            (wait, pt.switch(plateau, 0, waited)),
            (factor, new_factor),
        ]
        return self.initial * new_factor


def king(initial, patience, decay, rtol=1e-4):
    r"""Plateau schedule: multiply by ``decay`` after ``patience`` calls without
    progress (after numpy-ml's ``KingScheduler`` and PyTorch's
    ``ReduceLROnPlateau``).

    It watches the rule's cost, so it needs ``cost=``: at each call the cost
    :math:`f` counts as progress when :math:`f < f^* - r |f^*|` (``r = rtol``;
    :math:`f^*` the best cost so far). The absolute value keeps the test right
    for negative costs, where PyTorch's ``best * (1 - threshold)`` is not. After
    ``patience`` calls in a row without progress the factor is multiplied by
    ``decay`` (the step of that call already uses it) and the count restarts:

    .. math:: \eta_t = \eta_0\, \gamma^{k_t}

    with :math:`k_t` the number of plateaus so far. The state
    (``{algo}.king_best``, ``king_wait``, ``king_factor``) is part of the
    rule's ``state_dict``. Build one schedule per rule.
    """
    initial_ = _scalar(initial, "initial", low=0)
    decay_ = _scalar(decay, "decay", low=0, high=1)
    rtol_ = _scalar(rtol, "rtol", low=0)
    if (
        not isinstance(patience, numbers.Integral)
        or isinstance(patience, bool)
        or patience < 1
    ):
        raise ValueError(f"patience must be a positive integer, got {patience!r}")
    return _King(
        initial_,
        patience,
        decay_,
        rtol_,
        f"king({initial!r}, {patience!r}, {decay!r}, rtol={rtol!r})",
    )
