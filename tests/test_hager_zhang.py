"""The Hager-Zhang line search against a NumPy transcription of the paper."""

import functools
from typing import NamedTuple

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pytensor_optim as po
from pytensor_optim.line_search import Line, get_line_search, hager_zhang

from .conftest import compile_step, float64_variables
from .problems import ZOO
from .test_line_search import (
    ONE_DIMENSIONAL,
    Searcher,
    descent_problem,
    family_numpy,
    problems,
    slope_rounding,
)

FAST = "FAST_COMPILE"


# ---- Hager and Zhang's line search, transcribed in NumPy ------------------------
class Trial(NamedTuple):
    step: float
    value: float
    slope: float
    finite: bool


class _Accepted(Exception):
    pass


class _Exhausted(Exception):
    pass


def reference_hager_zhang(
    phi,
    initial_step,
    f0,
    slope0,
    c1=0.1,
    c2=0.9,
    epsilon=1e-6,
    theta=0.5,
    gamma=0.66,
    expansion=5.0,
    max_evals=20,
    trace=None,
):
    """The line search of Hager & Zhang (2005), section 4, with the initial
    bracket of CG_DESCENT (2006), on ``phi(t) -> (value, slope)``.

    Every evaluated trial is tested for the Wolfe (T1) or approximate Wolfe
    (T2) conditions and ends the search when it passes. After ``max_evals``
    evaluations, or when the bracket has no midpoint strictly inside, the
    lowest trial is returned if it is below ``f0``. A non-finite trial counts
    as too high. Returns ``(step, value, evals, success, converged)``;
    ``trace`` collects the names of the rules applied.
    """
    trace = [] if trace is None else trace
    eps_k = epsilon * abs(f0)
    evals, lowest = 0, Trial(0.0, f0, slope0, True)
    start = lowest

    def evaluate(t):
        nonlocal evals, lowest
        if evals == max_evals:
            trace.append("budget")
            raise _Exhausted
        evals += 1
        value, slope = phi(t)
        point = Trial(t, value, slope, bool(np.isfinite(value) and np.isfinite(slope)))
        if point.finite:
            curvature = slope >= c2 * slope0
            wolfe = value - f0 <= c1 * t * slope0 and curvature
            approximate = (
                value <= f0 + eps_k and (2 * c1 - 1) * slope0 >= slope and curvature
            )
            if wolfe or approximate:
                raise _Accepted(point)
            if value < lowest.value:
                lowest = point
        return point

    def rising(point):
        return point.finite and point.slope >= 0

    def low(point):
        return point.finite and point.value <= f0 + eps_k

    def bisect(a, b):  # U3 (a)-(c) on [a_hat, b_hat] = [a, b]
        while True:
            d = evaluate((1 - theta) * a.step + theta * b.step)
            if rising(d):
                return a, d
            if low(d):
                a = d
            else:
                b = d

    def update(a, b, c):  # U0-U3; which end c became
        if not a.step < c < b.step:
            trace.append("U0")
            return a, b, None
        point = evaluate(c)
        if rising(point):
            trace.append("U1")
            return a, point, "B"
        if low(point):
            trace.append("U2")
            return point, b, "A"
        trace.append("U3")
        return (*bisect(a, point), None)

    def secant(a, b):  # NaN or infinite (so outside) where the slopes are equal
        numerator = np.float64(a.step * b.slope - b.step * a.slope)
        return numerator / np.float64(b.slope - a.slope)

    def secant2(a, b):  # S1-S4
        big_a, big_b, end = update(a, b, secant(a, b))
        if end == "B":
            trace.append("S2")
            return update(big_a, big_b, secant(b, big_b))[:2]
        if end == "A":
            trace.append("S3")
            return update(big_a, big_b, secant(a, big_a))[:2]
        return big_a, big_b

    def bracket(c):  # B0-B3
        previous = start
        while True:
            point = evaluate(c)
            if rising(point):
                trace.append("B1")
                return previous, point
            if not low(point):
                trace.append("B2")
                return bisect(start, point)
            trace.append("B3")
            previous, c = point, expansion * c

    try:
        with np.errstate(all="ignore"):
            a, b = bracket(initial_step)  # L0
            while a.step < 0.5 * (a.step + b.step) < b.step:
                new_a, new_b = secant2(a, b)  # L1
                if new_b.step - new_a.step > gamma * (b.step - a.step):  # L2
                    trace.append("L2")
                    middle = 0.5 * (new_a.step + new_b.step)
                    new_a, new_b, _ = update(new_a, new_b, middle)
                a, b = new_a, new_b  # L3
            trace.append("collapsed")
    except _Accepted as accepted:
        (point,) = accepted.args
        return point.step, point.value, evals, True, True
    except _Exhausted:
        pass
    if lowest.value < f0:
        return lowest.step, lowest.value, evals, True, False
    return 0.0, f0, evals, False, False


# ---- the searches, compiled once -------------------------------------------------
@pytest.fixture(scope="module")
def searches():
    return {
        "default": Searcher(hager_zhang(mode=FAST)),
        "cg": Searcher(hager_zhang(c1=1e-4, c2=0.1, mode=FAST)),
        "short": Searcher(hager_zhang(max_evals=3, mode=FAST)),
    }


OPTIONS = {
    "default": {},
    "cg": {"c1": 1e-4, "c2": 0.1},
    "short": {"max_evals": 3},
}


class GraphLine:
    """phi(t) and phi'(t) of the family, evaluated by PyTensor.

    The transcription reads the values the search reads: NumPy's formulas
    for the gradient round differently from PyTensor's derivative, and the
    secant steps amplify such differences (to 1e-9 relative) where the two
    slopes are close.
    """

    def __init__(self):
        self.coefficients = pytensor.shared(np.ones(5), name="coefficients")
        self.x = pytensor.shared(np.zeros(2), name="x")
        self.direction = pytensor.shared(np.zeros(2), name="direction")
        point = pt.vector("point", dtype="float64")
        q, r, s = (self.coefficients[i] for i in range(3))
        z = point - self.coefficients[3:]
        cost = (q * z**2 + r * z**4 + s * pt.log1p(z**2)).sum()
        (gradient,) = pytensor.grad(cost, [point])
        step = pt.scalar("step", dtype="float64")
        self.function = pytensor.function(
            [step],
            [cost, (gradient * self.direction).sum()],
            givens={point: step * self.direction + self.x},
            mode=FAST,
        )

    def __call__(self, coefficients, x, direction):
        self.coefficients.set_value(np.asarray(coefficients, dtype=float))
        self.x.set_value(np.asarray(x, dtype=float))
        self.direction.set_value(np.asarray(direction, dtype=float))

        def phi(t):
            value, slope = self.function(t)
            return float(value), float(slope)

        return phi


@functools.cache
def graph_line():
    return GraphLine()


def line_problem(coefficients, x, direction):
    """phi along the line, with phi(0) = (cost, slope) as the search sees them."""
    x = np.asarray(x, dtype=float)
    if direction is None:
        direction = -family_numpy(coefficients, x)[1]
    return graph_line()(coefficients, x, np.asarray(direction, dtype=float))


def assert_matches_reference(ours, reference):
    step, value, evals, success, converged = reference
    assert ours["evals"] == evals
    assert ours["success"] == success and ours["converged"] == converged
    np.testing.assert_allclose(ours["step"], step, rtol=1e-10)
    np.testing.assert_allclose(ours["cost"], value, rtol=1e-10, atol=1e-14)


def assert_wolfe_or_approximate_wolfe(ours, coefficients, x, direction, options):
    c1, c2 = options.get("c1", 0.1), options.get("c2", 0.9)
    cost, gradient = family_numpy(coefficients, x)
    slope0 = gradient @ direction
    step = ours["step"]
    value, new_gradient = family_numpy(coefficients, x + step * direction)
    slope = new_gradient @ direction
    rounding = 1e-12 * abs(cost)  # our sums round differently from NumPy's
    # the slopes g . d may cancel: their rounding is a few ulps of their terms
    rounding0 = slope_rounding(coefficients, x, 0.0, direction)
    rounding1 = slope_rounding(coefficients, x, step, direction)
    assert slope >= c2 * (slope0 - rounding0) - rounding1
    wolfe = value - cost <= c1 * step * (slope0 + rounding0) + rounding
    approximate = value <= cost + 1e-6 * abs(cost) + rounding and (
        (2 * c1 - 1) * slope0 + abs(2 * c1 - 1) * rounding0 >= slope - rounding1
    )
    assert wolfe or approximate
    np.testing.assert_allclose(ours["slope"], slope, rtol=0, atol=rounding1)


# The lines of test_line_search, and two along which the cost has two wells
# (a hump above phi(0) between them), which take the bisections of B2 and U3.
CASES = {
    **ONE_DIMENSIONAL,
    "two-wells": ([0.0, 0.0, 1.0, 0.1, 10.0], [0.0, 0.0], [1.0, 1.0], None),
    "two-wells-steep": ([0.0, 0.0, 2.0, 0.1, 4.0], [0.0, 0.0], [1.0, 1.0], None),
}
STARTS = [1e-3, 0.3, 1.0, 3.0, 8.0, 25.0]


def compare(search, options, coefficients, x, direction, start):
    """Our search and the transcription along one line; our result."""
    phi = line_problem(coefficients, x, direction)
    cost, slope0 = phi(0.0)
    reference = reference_hager_zhang(phi, start, cost, slope0, **options)
    ours = search(coefficients, x, direction, start)
    assert_matches_reference(ours, reference)
    assert 1 <= ours["evals"] <= options.get("max_evals", 20)
    if ours["converged"]:
        assert_wolfe_or_approximate_wolfe(ours, coefficients, x, direction, options)
    elif ours["success"]:
        assert ours["cost"] < cost
    else:
        assert ours["step"] == 0 and ours["cost"] == cost
    return ours


@pytest.mark.parametrize("start", STARTS)
@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("options", sorted(OPTIONS))
def test_matches_the_transcription_on_fixed_lines(searches, options, case, start):
    coefficients, x, direction, _ = CASES[case]
    x = np.array(x)
    if direction is None:
        direction = -family_numpy(coefficients, x)[1]
    direction = np.array(direction)
    compare(searches[options], OPTIONS[options], coefficients, x, direction, start)


def test_the_fixed_lines_exercise_every_rule():
    # the comparisons above go through every branch of the algorithm
    seen = set()
    for options in OPTIONS.values():
        for coefficients, x, direction, _ in CASES.values():
            phi = line_problem(coefficients, x, direction)
            cost, slope0 = phi(0.0)
            for start in STARTS:
                trace = []
                reference_hager_zhang(phi, start, cost, slope0, trace=trace, **options)
                seen.update(trace)
    expected = {"B1", "B2", "B3", "U0", "U1", "U2", "U3", "S2", "S3", "L2", "budget"}
    assert expected <= seen, expected - seen


@settings(max_examples=60, deadline=None)
@given(problems, st.sampled_from(sorted(OPTIONS)))
def test_matches_the_transcription_on_random_lines(searches, problem, options):
    coefficients, _, _, initial_step = problem
    x, _, gradient, direction, _ = descent_problem(*problem)
    if gradient @ direction > -1e-8:
        return
    compare(
        searches[options], OPTIONS[options], coefficients, x, direction, initial_step
    )


def test_budget_exhausted_returns_the_lowest_trial(searches):
    # three trials 0.001, 0.005, 0.025 of the expansion B3, each lower than
    # the last and none acceptable: the lowest one is returned, unconverged
    coefficients, x, direction, _ = ONE_DIMENSIONAL["quadratic-long"]
    ours = searches["short"](coefficients, x, direction, 1e-3)
    assert ours["evals"] == 3 and ours["success"] and not ours["converged"]
    np.testing.assert_allclose(ours["step"], 1e-3 * 5**2, rtol=1e-15)
    np.testing.assert_allclose(ours["cost"], family_numpy(coefficients, [0.025, 0])[0])


def graph_search_and_phi(search, x, cost, direction, initial_step):
    """A search along ``direction`` on a cost of ``x`` and phi(t) -> (value,
    slope), both compiled; phi evaluates as the search does."""
    (gradient,) = pytensor.grad(cost, [x])
    direction = pytensor.shared(np.asarray(direction, dtype=x.dtype))
    line = Line([x], [direction], cost, [gradient], (cost, [gradient]), initial_step)
    result = search(line)
    outputs = [result.step, result.evals, result.success, result.converged]
    outputs.append(result.non_finite)
    run = pytensor.function([], outputs, mode=FAST)
    trial = pt.scalar("trial", dtype=x.dtype)
    point = line.evaluate(trial)
    phi_function = pytensor.function([trial], [point.cost, point.slope], mode=FAST)

    def phi(t):
        return tuple(float(v) for v in phi_function(t))

    return [v.item() for v in run()], phi


def test_a_bracket_that_cannot_be_split_ends_the_search():
    # |x - 0.3| with a jump up to its right: no trial is acceptable (slopes
    # -1 up to 0.3, +1 beyond), each iteration halves the bracket around 0.3
    # until its ends are neighbouring floats; the lowest trial is returned
    x = pytensor.shared(np.zeros(1), name="x")
    cost = pt.switch(pt.gt(x, 0.3), x - 0.3 + 1.0, 0.3 - x).sum()
    ours, phi = graph_search_and_phi(
        hager_zhang(max_evals=100, mode=FAST), x, cost, [1.0], 1.0
    )
    trace = []
    step, _, evals, success, converged = reference_hager_zhang(
        phi, 1.0, *phi(0.0), max_evals=100, trace=trace
    )
    assert trace[-1] == "collapsed" and 50 < evals < 100
    assert ours[1:] == [evals, True, False, False] and success and not converged
    assert ours[0] == step
    np.testing.assert_allclose(step, 0.3, rtol=1e-15)


# ---- NaN trials, budgets and float32 in a rule -----------------------------------
def log_barrier(dtype="float64"):
    x = pytensor.shared(np.array([0.5, 2.0], dtype=dtype), name="x")
    one, weight = np.array(1.0, dtype=dtype), np.array(0.01, dtype=dtype)
    return x, ((x - one) ** 2).sum() - weight * pt.log(x).sum()


def test_nan_trials_shrink_the_bracket_like_the_transcription():
    # the first trial leaves the domain of the log; B2 bisects [0, 10]
    x, cost = log_barrier()
    (gradient,) = pytensor.grad(cost, [x])
    ours, phi = graph_search_and_phi(
        hager_zhang(mode=FAST), x, cost, -gradient.eval(), 10.0
    )
    trace = []
    step, _, evals, success, _ = reference_hager_zhang(
        phi, 10.0, *phi(0.0), trace=trace
    )
    assert trace[0] == "B2" and np.isnan(phi(10.0)[0])
    assert success and ours[2] and not ours[4]
    assert ours[1] == evals
    np.testing.assert_allclose(ours[0], step, rtol=1e-10)


def test_gradient_descent_finds_its_way_back_into_the_domain():
    x, cost = log_barrier()
    stop = pytensor.shared(0)
    updates = po.gradient_descent(
        [x], cost, stop=stop, step_size=10.0, line_search=hager_zhang(mode=FAST)
    )
    step = compile_step(updates)
    step()  # trials 10, 5, 2.5 and 1.25 leave the domain
    assert po.Status(int(updates.status.get_value())) == po.Status.RUNNING
    assert np.all(x.get_value() != [0.5, 2.0])
    for _ in range(3):
        step()
    # the minimiser solves 2 (x - 1) = 0.01 / x
    np.testing.assert_allclose(x.get_value(), (1 + np.sqrt(1.02)) / 2, rtol=1e-6)


def test_budget_exhausted_without_a_lower_trial_keeps_the_parameters():
    # the given gradients have the wrong sign: phi'(0) < 0 as the search
    # sees it, but every trial is higher than the start (U3 from B2)
    x = pytensor.shared(np.array([3.0, -1.0]), name="x")
    cost = ((x - 1.0) ** 2).sum()
    stop = pytensor.shared(0)
    updates = po.gradient_descent(
        [x],
        cost,
        gradients=[-pytensor.grad(cost, x)],
        stop=stop,
        line_search=hager_zhang(max_evals=6, mode=FAST),
        max_evals=100,
    )
    compile_step(updates)()
    assert po.Status(int(updates.status.get_value())) == po.Status.LINE_SEARCH_FAILED
    np.testing.assert_array_equal(x.get_value(), [3.0, -1.0])
    (evals,) = (v for v in updates.state if v.name.endswith(".evals"))
    assert evals.get_value() == 1 + 6  # the start, then the whole budget


def test_float32_stays_float32():
    x, cost = log_barrier("float32")
    updates = po.gradient_descent(
        [x], cost, step_size=10.0, line_search=hager_zhang(mode=FAST)
    )
    step = compile_step(updates, [cost])
    assert not float64_variables(step)
    for _ in range(10):
        step()
    assert x.get_value().dtype == np.float32
    np.testing.assert_allclose(x.get_value(), (1 + np.sqrt(1.02)) / 2, rtol=1e-5)


# ---- options ----------------------------------------------------------------------
def test_by_name_with_a_rule_preferred_c2():
    search = get_line_search("hager_zhang", c2=0.1)
    # sigma = delta is allowed, as in the paper
    assert (search.c1, search.c2) == (0.1, 0.1)
    assert repr(get_line_search("hager_zhang")) == (
        "hager_zhang(c1=0.1, c2=0.9, epsilon=1e-06, theta=0.5, gamma=0.66, "
        "expansion=5.0, max_evals=20)"
    )


# ---- a rule ------------------------------------------------------------------------
def convex_quadratic():
    """The zoo's ill-conditioned quadratic, started in the span of its four
    lowest curvatures (condition number 21.5): steepest descent converges in
    about a hundred iterations."""
    problem = ZOO["ill_conditioned_quadratic"]
    start = problem.x0.copy()
    start[4:] = 0
    x = pytensor.shared(start, name="x")
    return problem, x, problem.cost(x, pt)


def run_to_convergence(updates, stop):
    step = compile_step(updates)
    while not stop.get_value():
        step()
    return po.Status(int(updates.status.get_value()))


@pytest.mark.parametrize(
    "line_search",
    [
        pytest.param(hager_zhang(mode=FAST), id="fast-compile"),
        # the search loop in scan's default mode (C code): slow to compile
        pytest.param("hager_zhang", id="by-name", marks=pytest.mark.slow),
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
