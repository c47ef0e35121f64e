"""The bold driver against a NumPy transcription of mize's."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pytensor_optim as po
from pytensor_optim.line_search import bold_driver, get_line_search

from .conftest import compile_step, float64_variables
from .test_hager_zhang import (
    convex_quadratic,
    line_problem,
    log_barrier,
    run_to_convergence,
)
from .test_line_search import (
    ONE_DIMENSIONAL,
    Searcher,
    descent_problem,
    family_numpy,
    problems,
)

FAST = "FAST_COMPILE"
# mize's smallest step, sqrt(.Machine$double.eps)
MIN_STEP = np.sqrt(np.finfo(np.float64).eps)


# ---- mize's bold driver, transcribed in NumPy -------------------------------------
def reference_bold_driver(phi, step, f0, step_down=0.5, max_evals=20):
    """mize's ``bold_driver()$calculate`` (R/step_size.R) on ``phi(t) -> value``.

    ``max_evals`` counts every evaluation (mize: ``max_fn`` reductions after
    the first). Returns ``(step, value, evals, accepted)``.
    """
    value, evals = phi(step), 1
    while (
        (not np.isfinite(value) or value > f0) and step > MIN_STEP and evals < max_evals
    ):
        step = max(step_down * step, MIN_STEP)
        value, evals = phi(step), evals + 1
    return step, value, evals, bool(np.isfinite(value) and value <= f0)


def reference_next_step(step, step_up, step_up_mode):
    """mize's ``after_step`` after an accepted step: the next first trial."""
    return step * step_up if step_up_mode == "*" else step + step_up


# ---- the searches, compiled once -------------------------------------------------
OPTIONS = {
    "default": {},
    "steep": {"step_down": 0.1, "max_evals": 5},
}


@pytest.fixture(scope="module")
def searches():
    return {
        name: Searcher(bold_driver(mode=FAST, **options))
        for name, options in OPTIONS.items()
    }


def values(phi):
    """phi(t) -> cost, from phi(t) -> (cost, slope)."""
    return lambda t: phi(t)[0]


def compare(search, options, coefficients, x, direction, start):
    """Our search and the transcription along one line; our result."""
    phi = line_problem(coefficients, x, direction)
    cost, _ = phi(0.0)
    step, value, evals, accepted = reference_bold_driver(
        values(phi), start, cost, **options
    )
    ours = search(coefficients, x, direction, start)
    assert ours["evals"] == evals
    assert ours["success"] == accepted and ours["converged"] == accepted
    assert not ours["non_finite"]
    if accepted:
        np.testing.assert_allclose(ours["step"], step, rtol=1e-15)
        np.testing.assert_allclose(ours["cost"], value, rtol=1e-12)
        # the condition, with NumPy's values of the family
        true_cost = family_numpy(coefficients, x)[0]
        true_value = family_numpy(coefficients, x + step * direction)[0]
        assert true_value <= true_cost + 1e-12 * abs(true_cost)
        shrink = options.get("step_down", 0.5)
        assert step == MIN_STEP or any(
            np.isclose(step, start * shrink**k, rtol=1e-12, atol=0)
            for k in range(evals)
        )
    else:
        assert ours["step"] == 0 and ours["cost"] == cost
    return ours


STARTS = [1e-9, 1e-3, 1.0, 30.0, 1e4]


@pytest.mark.parametrize("start", STARTS)
@pytest.mark.parametrize("case", sorted(ONE_DIMENSIONAL))
@pytest.mark.parametrize("options", sorted(OPTIONS))
def test_matches_the_transcription_on_fixed_lines(searches, options, case, start):
    coefficients, x, direction, _ = ONE_DIMENSIONAL[case]
    x = np.array(x)
    if direction is None:
        direction = -family_numpy(coefficients, x)[1]
    direction = np.array(direction)
    compare(searches[options], OPTIONS[options], coefficients, x, direction, start)


@settings(max_examples=60, deadline=None)
@given(problems, st.sampled_from(sorted(OPTIONS)), st.floats(0.0, 4.0))
def test_matches_the_transcription_on_random_lines(searches, problem, options, scale):
    coefficients, _, _, initial_step = problem
    x, _, gradient, direction, _ = descent_problem(*problem)
    if gradient @ direction > -1e-8:
        return
    start = initial_step * 10.0**scale  # up to 1e5: long backtracking
    compare(searches[options], OPTIONS[options], coefficients, x, direction, start)


# ---- the next search's first trial ------------------------------------------------
@pytest.mark.parametrize("step_up, step_up_mode", [(1.1, "*"), (0.05, "+")])
def test_searches_in_a_row_start_where_mize_starts(searches, step_up, step_up_mode):
    # steepest descent on the family: each search starts from the last
    # accepted step, grown by step_up, as in mize
    search = bold_driver(step_up=step_up, step_up_mode=step_up_mode, mode=FAST)
    accepted = pt.scalar("accepted", dtype="float64")
    next_step = pytensor.function([accepted], search.next_initial_step(accepted))
    coefficients = [0.5, 0.3, 1.0, 1.0, -1.0]
    ours_x = reference_x = np.array([-2.0, 2.5])
    ours_start = reference_start = 0.7
    for _ in range(15):
        direction = -family_numpy(coefficients, reference_x)[1]
        phi = values(line_problem(coefficients, reference_x, direction))
        step, _, evals, accepted = reference_bold_driver(phi, reference_start, phi(0.0))
        assert accepted
        reference_x = reference_x + step * direction
        reference_start = reference_next_step(step, step_up, step_up_mode)

        direction = -family_numpy(coefficients, ours_x)[1]
        ours = searches["default"](coefficients, ours_x, direction, ours_start)
        assert ours["evals"] == evals
        ours_x = ours_x + ours["step"] * direction
        ours_start = float(next_step(ours["step"]))
        np.testing.assert_allclose(ours_start, reference_start, rtol=1e-15)
    np.testing.assert_allclose(ours_x, reference_x, rtol=1e-15)


def test_next_initial_step_keeps_the_dtype():
    accepted = pt.scalar("accepted", dtype="float32")
    for mode in "*+":
        step = bold_driver(step_up=1.5, step_up_mode=mode).next_initial_step(accepted)
        assert step.dtype == "float32"
        expected = 3.0 if mode == "*" else 3.5
        assert step.eval({accepted: np.float32(2.0)}) == expected
    assert bold_driver().next_initial_step(2).eval() == pytest.approx(2.2)


# ---- the smallest step, the budget, NaN trials, float32 in a rule -----------------
def uphill(line_search, step_size):
    """gradient_descent given gradients of the wrong sign: phi'(0) < 0 as the
    search sees it, but every trial is higher than the start."""
    x = pytensor.shared(np.array([3.0, -1.0]), name="x")
    cost = ((x - 1.0) ** 2).sum()
    stop = pytensor.shared(0)
    updates = po.gradient_descent(
        [x],
        cost,
        gradients=[-pytensor.grad(cost, x)],
        stop=stop,
        step_size=step_size,
        line_search=line_search,
        max_evals=1000,
    )
    compile_step(updates)()
    (evals,) = (v for v in updates.state if v.name.endswith(".evals"))
    assert po.Status(int(updates.status.get_value())) == po.Status.LINE_SEARCH_FAILED
    np.testing.assert_array_equal(x.get_value(), [3.0, -1.0])
    return int(evals.get_value()) - 1  # the start's evaluation


@pytest.mark.parametrize(
    "step_size, evals",
    [
        (1.0, 27),  # 1, 1/2, ..., 2^-26 = sqrt(eps): the smallest step
        (1e-7, 4),  # 1e-7, 5e-8, 2.5e-8, then sqrt(eps) instead of 1.25e-8
        (1e-9, 1),  # below the smallest step already
    ],
)
def test_backtracking_stops_at_the_smallest_step(step_size, evals):
    assert uphill(bold_driver(max_evals=40, mode=FAST), step_size) == evals

    def phi(t):
        return ((np.array([3.0, -1.0]) + t * np.array([4.0, -4.0]) - 1) ** 2).sum()

    assert reference_bold_driver(phi, step_size, phi(0.0), max_evals=40)[2] == evals


def test_budget_exhausted_fails():
    assert uphill(bold_driver(max_evals=5, mode=FAST), 1.0) == 5


def test_nan_trials_are_rejected():
    x, cost = log_barrier()
    updates = po.gradient_descent(
        [x], cost, step_size=10.0, line_search=bold_driver(mode=FAST)
    )
    compile_step(updates)()
    # trials 10, 5, 2.5 and 1.25 leave the domain; 0.625 is accepted
    start = np.array([0.5, 2.0])
    gradient = 2 * (start - 1) - 0.01 / start
    np.testing.assert_allclose(x.get_value(), start - 0.625 * gradient)


def test_float32_stays_float32():
    x, cost = log_barrier("float32")
    updates = po.gradient_descent(
        [x], cost, step_size=10.0, line_search=bold_driver(mode=FAST)
    )
    step = compile_step(updates, [cost])
    assert not float64_variables(step)
    step()
    assert x.get_value().dtype == np.float32
    start = np.array([0.5, 2.0])
    gradient = 2 * (start - 1) - 0.01 / start
    np.testing.assert_allclose(x.get_value(), start - 0.625 * gradient, rtol=1e-6)


# ---- options ----------------------------------------------------------------------
def test_by_name():
    # a rule's preferred c2 does not apply to the bold driver
    assert repr(get_line_search("bold_driver", c2=0.1)) == (
        "bold_driver(step_up=1.1, step_down=0.5, step_up_mode='*', max_evals=20)"
    )


# ---- a rule ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "line_search",
    [
        pytest.param(bold_driver(mode=FAST), id="fast-compile"),
        pytest.param("bold_driver", id="by-name", marks=pytest.mark.slow),
    ],
)
def test_gradient_descent_converges_on_a_convex_quadratic(line_search):
    problem, x, cost = convex_quadratic()
    stop = pytensor.shared(0)
    updates = po.gradient_descent(
        [x], cost, stop=stop, line_search=line_search, gtol=1e-6, max_iter=500
    )
    assert run_to_convergence(updates, stop) == po.Status.CONVERGED_GTOL
    np.testing.assert_allclose(x.get_value(), problem.minimiser, atol=1e-6)
