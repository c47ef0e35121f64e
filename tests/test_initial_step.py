"""The first trial step of a search (mize's step0 / step_next_init), against
mize's formulas written here in NumPy."""

from types import SimpleNamespace

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from pytensor_optim._initial_step import InitialStep
from pytensor_optim._protocol import Problem

EPS = np.finfo(np.float64).eps


def mize_step0(kind, x, f, g, d, try_newton):
    slope = g @ d
    if kind == "rasmussen":
        alpha = 1 / (1 - slope)
    elif kind == "scipy":
        alpha = -np.linalg.norm(g) / slope
    elif kind == "schmidt":
        alpha = 1 / np.abs(g).sum()
    elif kind == "hz":
        if np.abs(x).max() != 0:
            alpha = 0.01 * np.abs(x).max() / np.abs(g).max()
        elif f != 0:
            alpha = 0.01 * abs(f) / np.abs(g).max() ** 2
        else:
            alpha = 1.0
    else:
        alpha = kind
    if try_newton and isinstance(kind, str):
        alpha = min(1.0, 1.01 * alpha)
    return alpha


def mize_next(kind, f, slope, last, try_newton):
    last_step, last_cost, last_slope = last
    if kind == "quadratic":
        alpha = 2 * (f - last_cost) / slope
        if try_newton:
            alpha = min(1.0, 1.01 * alpha)
        return max(EPS, alpha)
    if kind == "slope_ratio":
        return max(last_step * last_slope / (slope + EPS), EPS)
    return kind


def build(dtype="float64", **options):
    x = pytensor.shared(np.zeros(3, dtype=dtype), name="x")
    cost_in = pt.scalar("f", dtype=dtype)
    g = pt.vector("g", dtype=dtype)
    d = pt.vector("d", dtype=dtype)
    problem = Problem("rule", [x], None, [g], None, None, {})
    init = InitialStep(problem, None, **options)
    trial = init.trial(cost_in, [g], [d])
    state_updates = init.updates(pt.scalar("accepted", dtype=dtype))
    function = pytensor.function(
        [cost_in, g, d], trial, mode="FAST_COMPILE", on_unused_input="ignore"
    )
    return SimpleNamespace(
        x=x,
        problem=problem,
        init=init,
        function=function,
        trial=trial,
        state_updates=state_updates,
    )


@pytest.mark.parametrize("try_newton", [False, True])
@pytest.mark.parametrize("kind", ["rasmussen", "scipy", "schmidt", "hz", 0.25])
def test_first_iteration_uses_step0(kind, try_newton):
    rng = np.random.default_rng(0)
    built = build(step0=kind, try_newton_step=try_newton)
    for scale in (1e-3, 1.0, 30.0):
        g = scale * rng.normal(size=3)
        d = -g * rng.uniform(0.5, 2.0, size=3)
        for x_value in (np.zeros(3), rng.normal(size=3)):
            built.x.set_value(x_value)
            for f in (0.0, 2.5):
                expected = mize_step0(kind, x_value, f, g, d, try_newton)
                np.testing.assert_allclose(
                    built.function(f, g, d), expected, rtol=1e-14
                )


@pytest.mark.parametrize("try_newton", [False, True])
@pytest.mark.parametrize("kind", ["quadratic", "slope_ratio", 0.5])
def test_later_iterations_predict_from_the_last_search(kind, try_newton):
    rng = np.random.default_rng(1)
    built = build(step_next_init=kind, try_newton_step=try_newton)
    built.problem.counter.set_value(np.int64(3))
    for _ in range(20):
        last = (rng.uniform(0.01, 3), rng.uniform(1, 5), -rng.uniform(0.1, 5))
        built.init.last_step.set_value(last[0])
        built.init.last_cost.set_value(last[1])
        built.init.last_slope.set_value(last[2])
        g = rng.normal(size=3)
        d = -g
        f = last[1] - rng.uniform(0.0, 1.0)
        expected = mize_next(kind, f, g @ d, last, try_newton)
        np.testing.assert_allclose(built.function(f, g, d), expected, rtol=1e-14)


@pytest.mark.parametrize("try_newton", [False, True])
def test_the_default_first_step_is_scipys_uncapped(try_newton):
    """step0=None: SciPy's BFGS and CG first step, 1.01 / |g| along -g (a move
    of 1.01), not capped at 1 by try_newton_step, at any scale of g."""
    built = build(try_newton_step=try_newton)
    rng = np.random.default_rng(2)
    for scale in (1e-50, 1e-3, 1.0, 1e50):
        g = scale * rng.normal(size=3)
        d = -g * rng.uniform(0.5, 2.0, size=3)
        expected = 1.01 * np.linalg.norm(g) / -(g @ d)
        np.testing.assert_allclose(built.function(0.0, g, d), expected, rtol=1e-14)
        # along -g, a move of 1.01 whatever the scale
        np.testing.assert_allclose(
            built.function(0.0, g, -g) * np.linalg.norm(g), 1.01, rtol=1e-14
        )


def test_falls_back_to_step0_without_a_usable_prediction():
    built = build(step0="rasmussen", step_next_init="quadratic")
    g = np.array([1.0, -2.0, 0.5])
    guess = mize_step0("rasmussen", np.zeros(3), 1.0, g, -g, False)
    # first iteration
    assert built.function(1.0, g, -g) == pytest.approx(guess, rel=1e-14)
    built.problem.counter.set_value(np.int64(4))
    built.init.last_step.set_value(0.3)
    built.init.last_cost.set_value(1.0)
    # no decrease predicted: 2 (f - f_prev) / slope = 0 -> eps, still positive
    assert built.function(1.0, g, -g) == pytest.approx(EPS, rel=1e-12)
    # the previous search failed (step 0): step0 again
    built.init.last_step.set_value(0.0)
    assert built.function(0.5, g, -g) == pytest.approx(guess, rel=1e-14)


def test_max_step_ratio_caps_the_growth():
    built = build(step_next_init="slope_ratio", max_step_ratio=10)
    built.problem.counter.set_value(np.int64(1))
    built.init.last_step.set_value(0.1)
    built.init.last_slope.set_value(-100.0)
    g = np.array([0.1, 0.0, 0.0])
    # unbounded: 0.1 * -100 / -0.01 = 1000
    assert built.function(1.0, g, -g) == pytest.approx(1.0, rel=1e-14)


def test_state_updates_record_the_search():
    built = build()
    assert [variable.name for variable, _ in built.state_updates] == [
        "rule.last_step",
        "rule.last_cost",
        "rule.last_slope",
    ]


def test_float32_stays_float32():
    built = build("float32", step0="scipy")
    assert built.trial.dtype == "float32"
    assert all(value.dtype == "float32" for _, value in built.state_updates)
    nodes = pytensor.graph.traversal.ancestors([built.trial])
    assert not any(getattr(v.type, "dtype", None) == "float64" for v in nodes)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"step0": "fast"}, "step0='fast' is not a choice"),
        ({"step0": -1.0}, "step0 must be a positive number"),
        ({"step_next_init": "hz"}, "step_next_init='hz' is not a choice"),
        ({"step_next_init": float("nan")}, "step_next_init must be"),
        ({"max_step_ratio": 0}, "max_step_ratio must be None or a positive"),
    ],
)
def test_bad_options_name_the_argument(options, match):
    with pytest.raises(ValueError, match=match):
        build(**options)


def test_try_newton_step_must_be_a_flag():
    with pytest.raises(TypeError, match="try_newton_step must be True or False"):
        build(try_newton_step="yes")
