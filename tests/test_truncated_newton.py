"""truncated_newton: the inner CG direction against mize's inner loop written
here in NumPy (with the exact Hessian), and the minimisers against
scipy.optimize.minimize(method="Newton-CG")."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from scipy.optimize import minimize as scipy_minimize

import pytensor_optim as po

from .conftest import compile_step
from .problems import ZOO


def search():
    # the search loop compiled as quickly as the tests' functions
    return po.line_search.more_thuente(c2=0.9, mode="FAST_COMPILE")


# ---- mize's inner loop (tn_inner_cg, no preconditioner), transcribed ----------
def inner_cg(g, hessian, max_iter=40, exit="curvature"):
    """Linear CG on H p = -g from 0 (Nocedal & Wright, Algorithm 7.1) with
    mize's exits; returns the direction and the number of products H d."""
    g_norm = np.linalg.norm(g)
    if not np.isfinite(g_norm) or g_norm == 0:
        return -g, 0
    tolerance = min(0.5, np.sqrt(g_norm)) * g_norm
    z, r, d = np.zeros_like(g), g.copy(), -g
    rr = r @ r
    products = 0
    for j in range(max_iter):
        hd = hessian @ d
        products += 1
        curvature = d @ hd
        if not np.isfinite(curvature) or curvature <= 0:
            if j == 0:
                z = -g
            break
        alpha = rr / curvature
        previous, z = z, z + alpha * d
        if exit == "strong" and g @ z >= g @ previous + 1e-15:
            z = -g if j == 0 else previous
            break
        r = r + alpha * hd
        if np.linalg.norm(r) < tolerance:
            break
        rr, rr_old = r @ r, rr
        d = (rr / rr_old) * d - r
    if not g @ z < 0:
        z = -g
    return z, products


# A non-quadratic (and non-convex) problem: a Cauchy loss of residuals,
# f(x) = sum log(1 + u^2), u = (A x - b) / s.
_rng = np.random.default_rng(0)
A = _rng.normal(size=(8, 5))
B = _rng.normal(size=8)


def cauchy(x, s, xp):
    u = (xp.dot(A, x) - B) / s
    return xp.sum(xp.log1p(u**2))


def cauchy_gradient_hessian(x, s):
    u = (A @ x - B) / s
    gradient = A.T @ (2 * u / (1 + u**2)) / s
    curvature = 2 * (1 - u**2) / (1 + u**2) ** 2 / s**2
    return gradient, A.T @ (curvature[:, None] * A)


# starting points: the scale s sets how non-convex the problem is there
POINTS = [(s, _rng.normal(size=5) * 0.5) for s in (0.5, 1.0, 2.0) for _ in range(4)]


class OneCall:
    """The direction of one call, compiled once: a constant unit step moves
    the parameters by it. The state is reset before each call."""

    def __init__(self, cost_of, x0, **kwargs):
        self.x = pytensor.shared(x0.copy(), name="x")
        self.scale = pytensor.shared(1.0, name="s")
        self.updates = po.truncated_newton(
            [self.x],
            cost_of(self.x, self.scale),
            line_search="constant",
            step0=1.0,
            **kwargs,
        )
        state = {variable.name: variable for variable in self.updates.state}
        self.products = state["truncated_newton.cg_iterations"]
        self.step = compile_step(self.updates)

    def __call__(self, x0, scale=1.0):
        self.updates.reset()
        self.x.set_value(x0.copy())
        self.scale.set_value(scale)
        self.step()
        return self.x.get_value() - x0, int(self.products.get_value())


def one_direction(x0, cost_of, scale=1.0, **kwargs):
    return OneCall(cost_of, x0, **kwargs)(x0, scale)


def cauchy_pt(x, s):
    return cauchy(x, s, pt)


@pytest.mark.parametrize("exit", ["curvature", "strong"])
def test_direction_matches_mizes_inner_cg(exit):
    one_call = OneCall(cauchy_pt, POINTS[0][1], exit=exit)
    reasons = set()
    for s, x0 in POINTS:
        g, hessian = cauchy_gradient_hessian(x0, s)
        expected, products = inner_cg(g, hessian, exit=exit)
        direction, count = one_call(x0, s)
        np.testing.assert_allclose(direction, expected, rtol=1e-9, atol=1e-12)
        assert count == products
        curvatures = np.linalg.eigvalsh(hessian)
        reasons.add(("indefinite" if curvatures[0] < 0 else "convex", products > 1))
        if np.allclose(expected, -g) and curvatures[0] < 0 and products == 1:
            reasons.add("negative curvature at once")
    # the points cover several inner iterations on convex and non-convex
    # starts, and the fallback to -g on negative curvature at the first one
    assert {
        ("convex", True),
        ("indefinite", True),
        "negative curvature at once",
    } <= reasons


def test_cg_max_iter_truncates_the_inner_loop():
    s, x0 = 1.0, POINTS[5][1]
    g, hessian = cauchy_gradient_hessian(x0, s)
    full, products = inner_cg(g, hessian)
    assert products >= 2
    expected, _ = inner_cg(g, hessian, max_iter=1)
    direction, count = one_direction(x0, cauchy_pt, s, cg_max_iter=1)
    assert count == 1
    np.testing.assert_allclose(direction, expected, rtol=1e-9, atol=1e-12)
    assert not np.allclose(direction, full)


def test_finite_differences_approximate_the_exact_direction():
    s, x0 = 2.0, POINTS[9][1]
    exact, _ = one_direction(x0, cauchy_pt, s)
    approximate, _ = one_direction(
        x0, cauchy_pt, s, hessian_product="finite_difference"
    )
    np.testing.assert_allclose(approximate, exact, rtol=1e-5, atol=1e-7)


def test_evaluations_count_the_products():
    s, x0 = 1.0, POINTS[5][1]
    g, hessian = cauchy_gradient_hessian(x0, s)
    _, products = inner_cg(g, hessian)
    x = pytensor.shared(x0.copy(), name="x")
    updates = po.truncated_newton(
        [x],
        cauchy(x, s, pt),
        stop=pytensor.shared(0),
        line_search="constant",
        step0=1.0,
        max_evals=10**9,
    )
    state = {variable.name: variable for variable in updates.state}
    compile_step(updates)()
    # the point at the start, the products, the search's one evaluation
    assert int(state["truncated_newton.evals"].get_value()) == 1 + products + 1


# ---- minimisers ---------------------------------------------------------------
PROBLEMS = ["rosenbrock", "beale", "wood", "ill_conditioned_quadratic"]


def run_rule(problem, gtol=1e-7, dtype="float64", **kwargs):
    x = pytensor.shared(problem.x0.astype(dtype), name="x")
    cost = problem.cost(x, pt)
    stop = pytensor.shared(0)
    updates = po.truncated_newton(
        [x], cost, stop=stop, gtol=gtol, max_iter=2000, line_search=search(), **kwargs
    )
    step = compile_step(updates)
    while not stop.get_value():
        step()
    return x, updates


def run_scipy(problem):
    x, v = pt.dvector("x"), pt.dvector("v")
    cost = problem.cost(x, pt)
    gradient = pytensor.grad(cost, x)
    value_and_grad = pytensor.function([x], [cost, gradient], mode="FAST_COMPILE")
    hessp = pytensor.function(
        [x, v],
        pytensor.gradient.hessian_vector_product(cost, x, v),
        mode="FAST_COMPILE",
    )
    result = scipy_minimize(
        lambda y: tuple(value_and_grad(y)),
        problem.x0,
        jac=True,
        hessp=hessp,
        method="Newton-CG",
        options={"xtol": 1e-12, "maxiter": 10_000},
    )
    return result.x


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.slow) if name == "wood" else name
        for name in PROBLEMS
    ],
)
def test_finds_scipys_newton_cg_minimiser(name):
    problem = ZOO[name]
    x, updates = run_rule(problem)
    assert po.Status(int(updates.status.get_value())) == po.Status.CONVERGED_GTOL
    np.testing.assert_allclose(x.get_value(), run_scipy(problem), atol=1e-5)


def test_float32_stays_float32():
    problem = ZOO["rosenbrock"]
    x, updates = run_rule(problem, gtol=1e-3, dtype="float32")
    for variable in updates.state:
        assert variable.dtype in ("float32", "int64", "int8"), variable
    assert x.get_value().dtype == np.float32
    assert po.Status(int(updates.status.get_value())) == po.Status.CONVERGED_GTOL
    np.testing.assert_allclose(x.get_value(), [1.0, 1.0], atol=1e-2)


def test_a_callable_cost_falls_back_to_finite_differences():
    problem = ZOO["rosenbrock"]
    x = pt.dvector("x")
    cost = problem.cost(x, pt)
    both = pytensor.function([x], [cost, pytensor.grad(cost, x)], mode="FAST_COMPILE")
    solution = po.minimize(
        problem.x0,
        lambda v: tuple(both(v)),
        True,
        po.truncated_newton,
        max_iter=500,
        gtol=1e-8,
        line_search=search(),
    )
    np.testing.assert_allclose(solution, np.ones(2), atol=1e-6)


# ---- options -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"cg_max_iter": 0}, "cg_max_iter"),
        ({"cg_max_iter": 2.5}, "cg_max_iter"),
        ({"exit": "descent"}, "exit"),
        ({"hessian_product": "secant"}, "hessian_product"),
        ({"step0": -1.0}, "step0"),
        ({"step_next_init": "cubic"}, "step_next_init"),
        ({"max_evals_per_iter": 0}, "max_evals_per_iter"),
    ],
)
def test_bad_options_name_themselves(options, name):
    x = pytensor.shared(np.zeros(2), name="x")
    with pytest.raises(ValueError, match=name):
        po.truncated_newton([x], pt.sum(x**2), **options)


def test_needs_a_cost():
    x = pytensor.shared(np.zeros(2), name="x")
    with pytest.raises(ValueError, match="truncated_newton"):
        po.truncated_newton([x], gradients=[2 * x])
