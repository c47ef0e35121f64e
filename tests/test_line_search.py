"""Line searches: the conditions on accepted steps, torch's strong Wolfe search
transcribed in NumPy, failures, options, and the rules that use a search."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pytensor_optim as po
from pytensor_optim.line_search import (
    Line,
    LineSearch,
    LineSearchResult,
    backtracking,
    constant,
    get_line_search,
    strong_wolfe,
)

from .conftest import compile_step

C1, C2 = 1e-4, 0.9


# ---- a family of smooth functions of two variables ----------------------------
# f(x) = sum_i q (x_i - c_i)^2 + r (x_i - c_i)^4 + s log(1 + (x_i - c_i)^2):
# quadratics (r = s = 0), quartics, and log(1 + x^2)-like (non-convex) costs.
def family_numpy(coefficients, x):
    q, r, s, c0, c1 = coefficients
    z = x - np.array([c0, c1])
    cost = np.sum(q * z**2 + r * z**4 + s * np.log1p(z**2))
    gradient = 2 * q * z + 4 * r * z**3 + 2 * s * z / (1 + z**2)
    return cost, gradient


EPS = np.finfo(np.float64).eps


def slope_rounding(coefficients, x, step, direction):
    """A bound on how far the graph's slope g(x + step d) . d may be from
    NumPy's: a few ulps of each |g_i d_i| (the gradient's terms share the
    sign of z, the dot product may cancel), and the slope's change across a
    rounding of the point x + step d (its curvature times the point's terms).
    """
    q, r, s, c0, c1 = coefficients
    point = x + step * direction
    z = point - np.array([c0, c1])
    gradient = 2 * q * z + 4 * r * z**3 + 2 * s * z / (1 + z**2)
    curvature = 2 * q + 12 * r * z**2 + 2 * s * np.abs(1 - z**2) / (1 + z**2) ** 2
    shift = np.abs(x) + np.abs(step * direction)
    terms = np.abs(gradient) @ np.abs(direction)
    return 16 * EPS * (terms + (curvature * np.abs(direction)) @ shift)


class Searcher:
    """One compiled search along ``direction`` from ``x`` on the family."""

    def __init__(self, search):
        self.coefficients = pytensor.shared(np.ones(5), name="coefficients")
        self.x = pytensor.shared(np.zeros(2), name="x")
        self.direction = pytensor.shared(np.zeros(2), name="direction")
        self.initial_step = pytensor.shared(1.0, name="initial_step")
        q, r, s = (self.coefficients[i] for i in range(3))
        z = self.x - self.coefficients[3:]
        cost = (q * z**2 + r * z**4 + s * pt.log1p(z**2)).sum()
        (gradient,) = pytensor.grad(cost, [self.x])
        line = Line(
            [self.x],
            [self.direction],
            cost,
            [gradient],
            objective=(cost, [gradient]),
            initial_step=self.initial_step,
        )
        result = search(line)
        slope = (result.gradients[0] * self.direction).sum()
        self.function = pytensor.function(
            [],
            [
                result.step,
                result.cost,
                slope,
                result.evals,
                result.success,
                result.converged,
                result.non_finite,
                line.slope,
            ],
            mode="FAST_COMPILE",
        )

    def __call__(self, coefficients, x, direction, initial_step):
        self.coefficients.set_value(np.asarray(coefficients, dtype=float))
        self.x.set_value(np.asarray(x, dtype=float))
        self.direction.set_value(np.asarray(direction, dtype=float))
        self.initial_step.set_value(float(initial_step))
        keys = "step cost slope evals success converged non_finite slope0"
        values = self.function()
        return dict(zip(keys.split(), (v.item() for v in values), strict=True))


# The search loops compile in FAST_COMPILE like the functions of the tests;
# scan's own default (C code) is tested with the rules below.
FAST = "FAST_COMPILE"


@pytest.fixture(scope="module")
def wolfe_search():
    return Searcher(strong_wolfe(mode=FAST))


@pytest.fixture(scope="module")
def armijo_search():
    return Searcher(backtracking(mode=FAST))


# ---- torch's _strong_wolfe, transcribed in NumPy ------------------------------
def cubic(x1, f1, g1, x2, f2, g2, bounds=None):
    low, high = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    square = d1**2 - g1 * g2
    if square < 0:
        return (low + high) / 2.0
    d2 = np.sqrt(square)
    if x1 <= x2:
        at = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        at = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(at, low), high)


def reference_strong_wolfe(phi, t, f, slope, max_ls=25, tolerance=1e-9, d_max=1.0):
    """torch.optim.lbfgs._strong_wolfe on phi(t) -> (value, slope): (t, f, evals)."""
    f_new, g_new = phi(t)
    evals, iteration, done = 1, 0, False
    t_prev, f_prev, g_prev = 0.0, f, slope
    bracket = None
    while iteration < max_ls:
        if f_new > f + C1 * t * slope or (iteration > 1 and f_new >= f_prev):
            bracket = [[t_prev, f_prev, g_prev], [t, f_new, g_new]]
            break
        if abs(g_new) <= -C2 * slope:
            bracket, done = [[t, f_new, g_new]], True
            break
        if g_new >= 0:
            bracket = [[t_prev, f_prev, g_prev], [t, f_new, g_new]]
            break
        bounds = (t + 0.01 * (t - t_prev), t * 10)
        t_next = cubic(t_prev, f_prev, g_prev, t, f_new, g_new, bounds)
        t_prev, f_prev, g_prev, t = t, f_new, g_new, t_next
        f_new, g_new = phi(t)
        evals += 1
        iteration += 1
    if iteration == max_ls:
        bracket = [[0.0, f, slope], [t, f_new, g_new]]
    low, high = (0, 1) if bracket[0][1] <= bracket[-1][1] else (1, 0)
    insufficient = False
    while not done and iteration < max_ls:
        if abs(bracket[1][0] - bracket[0][0]) * d_max < tolerance:
            break
        t = cubic(*bracket[0], *bracket[1])
        ends = [bracket[0][0], bracket[1][0]]
        margin = 0.1 * (max(ends) - min(ends))
        if min(max(ends) - t, t - min(ends)) < margin:
            if insufficient or t >= max(ends) or t <= min(ends):
                if abs(t - max(ends)) < abs(t - min(ends)):
                    t = max(ends) - margin
                else:
                    t = min(ends) + margin
                insufficient = False
            else:
                insufficient = True
        else:
            insufficient = False
        f_new, g_new = phi(t)
        evals += 1
        iteration += 1
        if f_new > f + C1 * t * slope or f_new >= bracket[low][1]:
            bracket[high] = [t, f_new, g_new]
            low, high = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
        else:
            if abs(g_new) <= -C2 * slope:
                done = True
            elif g_new * (bracket[high][0] - bracket[low][0]) >= 0:
                bracket[high] = list(bracket[low])
            bracket[low] = [t, f_new, g_new]
    return bracket[low][0], bracket[low][1], evals


# (coefficients, x, direction or None for -gradient, initial step)
ONE_DIMENSIONAL = {
    "quadratic-short": ([1.0, 0.0, 0.0, 2.0, 0.0], [0.0, 0.0], [1.0, 0.0], 0.01),
    "quadratic-long": ([1.0, 0.0, 0.0, 2.0, 0.0], [0.0, 0.0], [1.0, 0.0], 30.0),
    "quartic": ([0.1, 1.0, 0.0, 1.5, 0.0], [-1.0, 0.0], [1.0, 0.0], 1.0),
    "quartic-far": ([0.0, 2.0, 0.0, 0.5, 0.0], [3.0, 0.0], [-1.0, 0.0], 5.0),
    "log-like": ([0.0, 0.0, 1.0, 0.0, 0.0], [4.0, 0.0], [-1.0, 0.0], 1.0),
    "log-like-far": ([0.01, 0.0, 2.0, 0.0, 0.0], [6.0, 0.0], [-1.0, 0.0], 20.0),
    "mixed-2d": ([0.5, 0.3, 1.0, 1.0, -1.0], [-2.0, 2.5], None, 0.7),
}


@pytest.mark.parametrize("case", sorted(ONE_DIMENSIONAL))
def test_strong_wolfe_matches_torch_transcription(wolfe_search, case):
    coefficients, x, direction, initial_step = ONE_DIMENSIONAL[case]
    x = np.array(x)
    cost, gradient = family_numpy(coefficients, x)
    direction = -gradient if direction is None else np.array(direction)

    def phi(t):
        value, g = family_numpy(coefficients, x + t * direction)
        return value, g @ direction

    step, value, evals = reference_strong_wolfe(
        phi, initial_step, cost, gradient @ direction, d_max=np.abs(direction).max()
    )
    ours = wolfe_search(coefficients, x, direction, initial_step)
    assert ours["evals"] == evals
    np.testing.assert_allclose(ours["step"], step, rtol=1e-12)
    np.testing.assert_allclose(ours["cost"], value, rtol=1e-12, atol=1e-14)
    assert ours["success"] and ours["converged"]


# ---- the conditions on accepted steps, over random problems -------------------
problems = st.tuples(
    st.tuples(
        st.floats(0.05, 10.0),  # quadratic weight
        st.sampled_from([0.0, 0.1, 2.0]),  # quartic weight
        st.sampled_from([0.0, 0.5, 3.0]),  # log(1 + z^2) weight
        st.floats(-3.0, 3.0),
        st.floats(-3.0, 3.0),
    ),
    st.tuples(st.floats(-3.0, 3.0), st.floats(-3.0, 3.0)),  # x
    st.tuples(st.floats(-1.0, 1.0), st.floats(-1.0, 1.0)),  # random direction
    st.floats(-3.0, 1.0).map(lambda e: 10.0**e),  # initial step
)


def descent_problem(coefficients, x, noise, initial_step):
    """A descent direction: minus the gradient plus noise, flipped if needed."""
    x = np.array(x)
    cost, gradient = family_numpy(coefficients, x)
    direction = -gradient + np.linalg.norm(gradient) * np.array(noise)
    if direction @ gradient > 0:
        direction = -direction
    return x, cost, gradient, direction, initial_step


@settings(max_examples=60, deadline=None)
@given(problems)
def test_backtracking_accepts_armijo_steps(armijo_search, problem):
    coefficients = problem[0]
    x, cost, gradient, direction, initial_step = descent_problem(*problem)
    slope = gradient @ direction
    if slope > -1e-8:
        return
    ours = armijo_search(coefficients, x, direction, initial_step)
    assert ours["success"] and ours["converged"]
    step = ours["step"]
    assert step in [initial_step * 0.5**k for k in range(20)]
    value, _ = family_numpy(coefficients, x + step * direction)
    np.testing.assert_allclose(ours["cost"], value, rtol=1e-12, atol=1e-14)
    tolerance = 1e-12 * abs(cost)  # our sums round differently from NumPy's
    # and the slope the search decided with, to the rounding of its terms
    rounding0 = slope_rounding(coefficients, x, 0.0, direction)
    assert value <= cost + C1 * step * (slope + rounding0) + tolerance
    if step < initial_step:  # the previous trial failed the condition
        larger = 2 * step
        assert family_numpy(coefficients, x + larger * direction)[0] > (
            cost + C1 * larger * (slope - rounding0) - tolerance
        )
    assert ours["evals"] == round(np.log2(initial_step / step)) + 1


@settings(max_examples=60, deadline=None)
@given(problems)
def test_strong_wolfe_accepts_strong_wolfe_steps(wolfe_search, problem):
    coefficients = problem[0]
    x, cost, gradient, direction, initial_step = descent_problem(*problem)
    slope = gradient @ direction
    if slope > -1e-8:
        return
    ours = wolfe_search(coefficients, x, direction, initial_step)
    assert 1 <= ours["evals"] <= 26
    # g . d may cancel: its rounding is a few ulps of its terms, not of itself
    rounding0 = slope_rounding(coefficients, x, 0.0, direction)
    np.testing.assert_allclose(ours["slope0"], slope, rtol=0, atol=rounding0)
    if ours["converged"]:
        step = ours["step"]
        value, new_gradient = family_numpy(coefficients, x + step * direction)
        rounding = slope_rounding(coefficients, x, step, direction)
        # (a relative 1e-12 for the rounding of our sums of positive terms
        # against NumPy's, and the slopes' roundings the search decided with)
        assert value <= cost + C1 * step * (slope + rounding0) + 1e-12 * abs(cost)
        assert abs(new_gradient @ direction) <= -C2 * (slope - rounding0) + rounding
        np.testing.assert_allclose(
            ours["slope"], new_gradient @ direction, rtol=0, atol=rounding
        )
    elif ours["success"]:
        # the budget or the bracket's length ended the search: a lower point
        assert ours["cost"] < cost
    else:
        assert ours["step"] == 0 and ours["cost"] == pytest.approx(cost)


# ---- failures ------------------------------------------------------------------
def log_barrier(line_search, stop=None, dtype="float64"):
    """A cost that is NaN for x < 0, and a first trial step that gets there."""
    x = pytensor.shared(np.array([0.5, 2.0], dtype=dtype), name="x")
    cost = ((x - 1.0) ** 2).sum() - 0.01 * pt.log(x).sum()
    updates = po.gradient_descent(
        [x], cost, stop=stop, step_size=10.0, line_search=line_search
    )
    return x, updates


def test_nan_cost_in_the_search_ends_with_non_finite():
    # float32, and the search loop in scan's default mode (C code)
    stop = pytensor.shared(0)
    x, updates = log_barrier("strong_wolfe", stop, "float32")
    compile_step(updates)()
    assert po.Status(int(updates.status.get_value())) == po.Status.NON_FINITE
    assert x.get_value().dtype == np.float32
    np.testing.assert_array_equal(x.get_value(), [0.5, 2.0])


def test_backtracking_rejects_nan_trials_and_shrinks():
    x, updates = log_barrier(backtracking(mode=FAST), pytensor.shared(0))
    step = compile_step(updates)
    step()
    # trials 10, 5, 2.5 and 1.25 leave the domain; 0.625 is accepted
    gradient = 2 * (np.array([0.5, 2.0]) - 1) - 0.01 / np.array([0.5, 2.0])
    np.testing.assert_allclose(x.get_value(), [0.5, 2.0] - 0.625 * gradient)
    for _ in range(10):
        step()
    assert po.Status(int(updates.status.get_value())) == po.Status.RUNNING
    # the minimiser solves 2 (x - 1) = 0.01 / x
    np.testing.assert_allclose(x.get_value(), (1 + np.sqrt(1.02)) / 2, rtol=1e-5)


def test_backtracking_budget_exhausted_keeps_the_parameters():
    # the given gradients have the wrong sign: every trial goes uphill
    x = pytensor.shared(np.array([3.0, -1.0]), name="x")
    cost = ((x - 1.0) ** 2).sum()
    stop = pytensor.shared(0)
    updates = po.gradient_descent(
        [x],
        cost,
        gradients=[-pytensor.grad(cost, x)],
        stop=stop,
        line_search=backtracking(max_evals=5, mode=FAST),
        max_evals=100,
    )
    compile_step(updates)()
    assert po.Status(int(updates.status.get_value())) == po.Status.LINE_SEARCH_FAILED
    np.testing.assert_array_equal(x.get_value(), [3.0, -1.0])
    (evals,) = (v for v in updates.state if v.name.endswith(".evals"))
    assert evals.get_value() == 1 + 5  # the start, then the whole budget


# ---- options and custom searches -----------------------------------------------
def test_an_unknown_name_raises_naming_line_search():
    # each search's bad options: tests/test_searches.py
    with pytest.raises(ValueError, match="line_search"):
        get_line_search("wolfe")


def test_line_search_argument_errors():
    x = pytensor.shared(np.zeros(2), name="x")
    cost = (x**2).sum()
    with pytest.raises(TypeError, match="line_search"):
        po.gradient_descent([x], cost, line_search=3)
    with pytest.raises(TypeError, match="c2"):
        strong_wolfe(c2="0.1")
    with pytest.raises(ValueError, match="needs cost"):
        po.lbfgs([x], gradients=[2 * x], line_search="strong_wolfe")
    with pytest.raises(ValueError, match="needs cost"):
        po.gradient_descent([x], gradients=[2 * x])
    with pytest.raises(ValueError, match="max_evals_per_iter"):
        po.lbfgs([x], cost, max_evals_per_iter=5, line_search=None)
    with pytest.raises(ValueError, match="max_evals_per_iter"):
        po.gradient_descent([x], cost, max_evals_per_iter=1.5)
    assert get_line_search(None) is None
    assert repr(get_line_search("constant")) == "constant()"


class HalfStep(LineSearch):
    """A search of the protocol: accept half the initial step, one evaluation."""

    name = "half_step"
    max_evals = 1

    def init(self, line):
        return {"trial": line.initial_step / 2, "cost": line.cost}

    def step(self, line, state, point, evals):
        return {"trial": point.step, "cost": point.cost, "gradients": point.gradients}

    def done(self, line, state):
        return pt.constant(np.bool_(True))

    def result(self, line, state):
        yes = pt.constant(np.bool_(True))
        return state["trial"], state["cost"], state["gradients"], yes, yes


class HalfStepKeeping(HalfStep):
    def init(self, line):
        return {**super().init(line), "gradients": line.zeros()}


def test_custom_searches_subclass_or_callable():
    def plain_callable(line):
        # any callable returning a LineSearchResult: the exact minimiser of
        # a quadratic with unit curvature, one evaluation
        step = -line.slope / (line.direction[0] ** 2).sum()
        point = line.evaluate(step)
        yes = pt.constant(np.bool_(True))
        no = pt.constant(np.bool_(False))
        one = pt.constant(np.int64(1))
        return LineSearchResult(step, point.cost, point.gradients, one, yes, yes, no)

    for search, expected in [
        (HalfStepKeeping(), [2.0, 0.0]),  # x - 0.5 (x - 1)
        (plain_callable, [1.0, 1.0]),
        (constant(), [1.0, 1.0]),  # x - 1 (x - 1)
    ]:
        x = pytensor.shared(np.array([3.0, -1.0]), name="x")
        cost = 0.5 * ((x - 1.0) ** 2).sum()
        compile_step(po.gradient_descent([x], cost, line_search=search))()
        np.testing.assert_allclose(x.get_value(), expected)


def test_state_must_keep_its_entries():
    x = pytensor.shared(np.zeros(2), name="x")
    with pytest.raises(ValueError, match="entries of init"):
        # "gradients" is missing from init: the loop state would change
        po.gradient_descent([x], (x**2).sum(), line_search=HalfStep())


# ---- gradient_descent ----------------------------------------------------------
def test_gradient_descent_solves_a_convex_quadratic():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(4, 4))
    hessian = a @ a.T + np.eye(4)
    target = rng.normal(size=4)
    x = pytensor.shared(np.zeros(4), name="x")
    residual = x - target
    cost = 0.5 * pt.dot(residual, pt.dot(pt.constant(hessian), residual))
    stop = pytensor.shared(0)
    updates = po.gradient_descent(
        [x], cost, stop=stop, line_search=backtracking(mode=FAST), gtol=1e-8
    )
    step = compile_step(updates)
    while not stop.get_value():
        step()
    assert po.Status(int(updates.status.get_value())) == po.Status.CONVERGED_GTOL
    np.testing.assert_allclose(x.get_value(), target, atol=1e-7)


def reference_descent(f, df, x, step_size, gtol, c1=1e-4, shrink=0.5):
    """Steepest descent with Armijo backtracking, in NumPy."""
    value, gradient, evals = f(x), df(x), 1
    for iteration in range(100_000):
        if np.abs(gradient).max() <= gtol:
            return x, iteration, evals
        step = step_size
        while True:
            trial = x - step * gradient
            trial_value = f(trial)
            evals += 1
            if trial_value <= value - c1 * step * (gradient @ gradient):
                break
            step *= shrink
        x, value, gradient = trial, trial_value, df(trial)
    raise AssertionError("no convergence")


def test_gradient_descent_solves_rosenbrock_like_numpy():
    from scipy.optimize import rosen, rosen_der

    start = np.array([-1.2, 1.0])
    x = pytensor.shared(start.copy(), name="x")
    cost = 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
    result = po.optimize(
        cost, [x], "gradient_descent", step_size=0.01, gtol=1e-3, max_iter=10_000,
        max_evals=100_000, steps_per_call=5000, mode="FAST_COMPILE",
    )  # fmt: skip
    expected, iterations, _ = reference_descent(rosen, rosen_der, start, 0.01, 1e-3)
    assert result.status == po.Status.CONVERGED_GTOL
    assert result.nit == iterations
    np.testing.assert_allclose(x.get_value(), expected, rtol=1e-8)
    np.testing.assert_allclose(x.get_value(), [1.0, 1.0], atol=5e-3)


def test_gradient_descent_without_a_search_is_plain_steepest_descent():
    x = pytensor.shared(np.array([3.0, -1.0]), name="x")
    cost = ((x - 1.0) ** 2).sum()
    updates = po.gradient_descent([x], cost, step_size=0.25, line_search=None)
    assert not updates.state
    compile_step(updates)()
    np.testing.assert_allclose(x.get_value(), [2.0, 0.0])


def test_kept_point_is_reused_and_counted():
    # each call after the first starts from the values its search found
    x = pytensor.shared(np.array([3.0, -1.0]), name="x")
    cost = ((x - 1.0) ** 2).sum()
    stop = pytensor.shared(0)
    updates = po.gradient_descent(
        [x],
        cost,
        stop=stop,
        step_size=0.25,
        line_search=backtracking(mode=FAST),
        max_evals=1000,
    )
    step = compile_step(updates, [cost])
    (evals,) = (v for v in updates.state if v.name.endswith(".evals"))
    counts = []
    for _ in range(3):
        step()
        counts.append(int(evals.get_value()))
    assert counts == [2, 3, 4]  # the start once, then one trial per call
    kept = updates.slots["gradient"][0].get_value()
    np.testing.assert_allclose(kept, 2 * (x.get_value() - 1.0))
    # a reset (of the count too) evaluates at the start again
    updates.reset()
    step()
    assert int(evals.get_value()) == 2


def test_a_rule_prefers_options_for_a_search_given_by_name():
    assert get_line_search("strong_wolfe", c2=0.1).c2 == 0.1
    # options the named search does not take are not passed to it
    assert get_line_search("backtracking", c2=0.1).c1 == 1e-4
    configured = strong_wolfe(c2=0.5)
    assert get_line_search(configured, c2=0.1) is configured


@pytest.mark.parametrize("rule", [po.bfgs, po.sr1, po.cg, po.truncated_newton])
def test_rules_that_need_a_search_refuse_none(rule):
    x = pytensor.shared(np.zeros(2), name="x")
    with pytest.raises(TypeError, match=rf"{rule.__name__}\(\) needs a line search"):
        rule([x], (x**2).sum(), line_search=None)
