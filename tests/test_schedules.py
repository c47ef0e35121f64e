"""Schedules against their NumPy formulas, and their argument checks."""

import math

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from pytensor_optim import schedules, sgd

from .conftest import compile_step

T = np.arange(0, 60)


def evaluate(schedule, times=T):
    t = pt.lscalar("t")
    function = pytensor.function(
        [t], schedule(t), mode="FAST_COMPILE", on_unused_input="ignore"
    )
    return np.array([float(function(int(i))) for i in times])


CASES = [
    (schedules.constant(0.3), lambda t: 0.3),
    (schedules.inverse_time(0.5, 0.1), lambda t: 0.5 / (1 + 0.1 * t)),
    (schedules.exponential(0.5, 0.9, every=4), lambda t: 0.5 * 0.9 ** (t / 4)),
    (schedules.step(1.0, 0.5, every=10), lambda t: 1.0 * 0.5 ** (t // 10)),
    (
        schedules.cosine(1.0, 40, final=0.1),
        lambda t: 0.1 + 0.9 * (1 + math.cos(math.pi * min(t, 40) / 40)) / 2,
    ),
    (
        schedules.linear_warmup(schedules.step(1.0, 0.5, every=10), 5),
        lambda t: min(1.0, (t + 1) / 5) * 0.5 ** (t // 10),
    ),
    (schedules.linear_warmup(0.2, 8), lambda t: 0.2 * min(1.0, (t + 1) / 8)),
    (
        schedules.noam(512, 20, scale=2.0),
        lambda t: 2.0 * 512**-0.5 * min((t + 1) ** -0.5, (t + 1) * 20**-1.5),
    ),
    (
        schedules.piecewise([10, 25], [1.0, 0.1, 0.01]),
        lambda t: 1.0 if t < 10 else (0.1 if t < 25 else 0.01),
    ),
]


@pytest.mark.parametrize("schedule, formula", CASES, ids=[repr(c[0]) for c in CASES])
def test_matches_formula(schedule, formula):
    np.testing.assert_allclose(
        evaluate(schedule), [formula(int(t)) for t in T], rtol=1e-14
    )


def test_schedule_uses_the_counter_from_zero():
    p = pytensor.shared(np.zeros(1), name="p")
    g = pytensor.shared(np.ones(1))
    result = sgd([p], gradients=[g], step_size=schedules.piecewise([2], [1.0, 10.0]))
    step = compile_step(result)
    for _ in range(4):
        step()
    np.testing.assert_allclose(p.get_value(), [-(1 + 1 + 10 + 10)])
    assert int(result.counter.get_value()) == 4


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_constant_schedule_is_bit_identical_to_the_number(dtype, rng):
    start = rng.normal(size=5).astype(dtype)
    runs = []
    for step_size in (0.1, schedules.constant(0.1)):
        p = pytensor.shared(start.copy(), name="p")
        cost = (p**2).sum() + pt.sin(p).sum()
        step = compile_step(
            sgd([p], cost, step_size=step_size, momentum=0.9), mode="CVM"
        )
        for _ in range(20):
            step()
        runs.append(p.get_value())
    assert runs[0].dtype == dtype
    np.testing.assert_array_equal(runs[0], runs[1])


def test_user_callable_is_a_schedule():
    p = pytensor.shared(np.zeros(1), name="p")
    g = pytensor.shared(np.ones(1))
    result = sgd([p], gradients=[g], step_size=lambda t: 0.5 ** pt.cast(t, "float64"))
    step = compile_step(result)
    for _ in range(3):
        step()
    np.testing.assert_allclose(p.get_value(), [-(1 + 0.5 + 0.25)])


@pytest.mark.parametrize(
    "factory, arguments, error, text",
    [
        (schedules.inverse_time, (-1.0, 0.1), ValueError, "initial"),
        (schedules.inverse_time, (1.0, -0.1), ValueError, "decay"),
        (schedules.exponential, (1.0, 0.0), ValueError, "rate"),
        (schedules.step, (1.0, 0.5, 0), ValueError, "every"),
        (schedules.step, (1.0, 0.5, 2.5), ValueError, "every"),
        (schedules.cosine, (1.0, 0), ValueError, "t_max"),
        (schedules.noam, (0, 10), ValueError, "d_model"),
        (schedules.linear_warmup, (0.1, 0), ValueError, "steps"),
        (schedules.piecewise, ([5, 3], [1, 2, 3]), ValueError, "increasing"),
        (schedules.piecewise, ([5], [1]), ValueError, "values"),
        (schedules.piecewise, ([1.5], [1, 2]), TypeError, "boundaries"),
        (schedules.constant, ("a",), TypeError, "value"),
        (schedules.constant, (np.ones(2),), ValueError, "value"),
    ],
)
def test_bad_arguments(factory, arguments, error, text):
    with pytest.raises(error, match=text):
        factory(*arguments)


def test_schedule_returning_a_vector_is_rejected():
    p = pytensor.shared(np.zeros(2), name="p")
    with pytest.raises(ValueError, match="schedule given as step_size"):
        sgd([p], gradients=[p], step_size=lambda t: pt.ones(2))
