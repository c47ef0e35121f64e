"""bfgs and sr1: the inverse-Hessian updates against mize's formulas written
here in NumPy, and the minimisers against scipy.optimize.minimize(method="BFGS")."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from scipy.optimize import minimize as scipy_minimize

import pytensor_optim as po
from pytensor_optim.quasi_newton import _bfgs_update, _sr1_update

from .conftest import compile_step
from .problems import ZOO

EPS = np.finfo(np.float64).eps


def search(c2=0.9):
    # the search loop compiled as quickly as the tests' functions
    return po.line_search.strong_wolfe(c2=c2, mode="FAST_COMPILE")


# ---- mize's updates, transcribed -----------------------------------------------
def curvature(s, y):
    return y @ s > 1e-8 * np.linalg.norm(y) * np.linalg.norm(s)


def bfgs_numpy(h, s, y):
    """Nocedal & Wright eq. 6.17 with mize's guard and rho = 1/(y's + eps)."""
    if not curvature(s, y):
        return h
    rho = 1.0 / (y @ s + EPS)
    eye = np.eye(len(s))
    return (eye - rho * np.outer(s, y)) @ h @ (eye - rho * np.outer(y, s)) + (
        rho * np.outer(s, s)
    )


def sr1_numpy(h, s, y):
    """Nocedal & Wright eq. 6.25, skipped as in eq. 6.26 (with <=)."""
    v = s - h @ y
    if abs(v @ y) <= 1e-8 * np.linalg.norm(v) * np.linalg.norm(y):
        return h
    return h + np.outer(v, v) / (v @ y)


def mize_direction(rule, h, s, y, g, first_update, scale_hess=True):
    """mize's BFGS / SR1 direction from the previous H and the pair (s, y)."""
    if first_update and scale_hess and curvature(s, y):
        h = (s @ y) / (y @ y) * h
    if rule == "bfgs":
        new = bfgs_numpy(h, s, y)
        p = -new @ g
        if not g @ p < 0:
            p = -g
        return new, p
    new = sr1_numpy(h, s, y)
    p = -new @ g
    if not g @ p < 0:
        retried = bfgs_numpy(h, s, y)
        p_retried = -retried @ g
        if g @ p_retried < 0:
            return retried, p_retried
        return new, -g
    return new, p


# ---- the update hooks ------------------------------------------------------------
def compile_hook(hook):
    h, s, y = pt.dmatrix("h"), pt.dvector("s"), pt.dvector("y")
    return pytensor.function([h, s, y], hook(h, s, y), mode="FAST_COMPILE")


def spd(rng, n):
    a = rng.normal(size=(n, n))
    return a @ a.T + n * np.eye(n)


@pytest.mark.parametrize(
    "hook, reference", [(_bfgs_update, bfgs_numpy), (_sr1_update, sr1_numpy)]
)
def test_update_hooks_match_the_formulas(hook, reference, rng):
    function = compile_hook(hook)
    for _ in range(5):
        h = np.linalg.inv(spd(rng, 5))
        s = rng.normal(size=5)
        y = spd(rng, 5) @ s  # a curvature pair: y's > 0
        expected = reference(h, s, y)
        assert not np.allclose(expected, h)
        np.testing.assert_allclose(function(h, s, y), expected, rtol=1e-10, atol=1e-13)


def test_bfgs_update_satisfies_the_secant_equation(rng):
    function = compile_hook(_bfgs_update)
    h = np.linalg.inv(spd(rng, 4))
    s = rng.normal(size=4)
    y = spd(rng, 4) @ s
    new = function(h, s, y)
    np.testing.assert_allclose(new @ y, s, rtol=1e-10)
    # H y and y'H are two BLAS calls: the triangles agree to the rounding of
    # the largest terms (|H| rho |s||y|), not to that of each entry
    np.testing.assert_allclose(new, new.T, rtol=1e-12, atol=1e-13 * abs(new).max())


def test_bfgs_update_skips_a_pair_without_curvature(rng):
    function = compile_hook(_bfgs_update)
    h = np.linalg.inv(spd(rng, 3))
    s = rng.normal(size=3)
    np.testing.assert_array_equal(function(h, s, -s), h)  # y's < 0
    # relative test: y's = 1e-9 |y||s| > 0 is still rejected
    y = np.array([1.0, 0.0, 0.0])
    s = np.array([1e-9, 1.0, 0.0])
    np.testing.assert_array_equal(function(h, s, y), h)


def test_sr1_update_skips_a_vanishing_denominator(rng):
    function = compile_hook(_sr1_update)
    h = np.linalg.inv(spd(rng, 3))
    y = rng.normal(size=3)
    # s = H y: v = 0, the update is 0/0
    np.testing.assert_array_equal(function(h, h @ y, y), h)


# ---- one iteration from a given state --------------------------------------------
A = np.array(
    [
        [4.0, 1.0, 0.5, 0.0],
        [1.0, 3.0, 0.0, 0.2],
        [0.5, 0.0, 2.0, 0.1],
        [0.0, 0.2, 0.1, 1.0],
    ]
)
B = np.array([1.0, -2.0, 0.5, 3.0])


def one_step(rule, x, h, g_old, p_old, step, counter, **kwargs):
    """One call of ``rule`` on 0.5 x'Ax - b'x from the given state.

    Returns the new inverse Hessian and direction of the state.
    """
    param = pytensor.shared(x.copy(), name="x")
    cost = 0.5 * pt.dot(param, pt.dot(A, param)) - pt.dot(B, param)
    updates = rule([param], cost, line_search=search(), **kwargs)
    state = {v.name: v for v in updates.state}
    name = rule.__name__
    state[f"{name}.inverse_hessian"].set_value(h)
    state[f"{name}.previous_gradient"].set_value(g_old)
    state[f"{name}.direction"].set_value(p_old)
    state[f"{name}.previous_step"].set_value(np.float64(step))
    updates.counter.set_value(np.int64(counter))
    compile_step(updates)()
    return (
        state[f"{name}.inverse_hessian"].get_value(),
        state[f"{name}.direction"].get_value(),
        param.get_value(),
        float(state[f"{name}.previous_step"].get_value()),
    )


def gradient(x):
    return A @ x - B


def rounding_of_gradient(x):
    """A bound on the rounding of A x - B summed in any order, with or
    without fused multiply-adds: a few units of |A||x| + |B|."""
    return 8 * EPS * (np.abs(A) @ np.abs(x) + np.abs(B)).max()


@pytest.mark.parametrize("rule", [po.bfgs, po.sr1])
@pytest.mark.parametrize("counter", [1, 2], ids=["first-update", "later"])
def test_one_iteration_matches_mize(rule, counter, rng):
    x = rng.normal(size=4)
    h = np.linalg.inv(spd(rng, 4))
    p_old = rng.normal(size=4)
    step = 0.7
    # the previous point, so that (s, y) is a curvature pair of the quadratic
    g_old = gradient(x - step * p_old)
    new_h, direction, new_x, accepted = one_step(
        rule, x, h, g_old, p_old, step, counter
    )
    s, y = step * p_old, gradient(x) - g_old
    expected_h, expected_p = mize_direction(
        rule.__name__, h, s, y, gradient(x), first_update=counter == 1
    )
    np.testing.assert_allclose(new_h, expected_h, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(direction, expected_p, rtol=1e-10, atol=1e-14)
    assert accepted > 0
    # x + a p rounds each term (a component may cancel), and p is only known
    # to the direction's tolerance above
    scale = np.abs(x).max() + accepted * np.abs(expected_p).max()
    np.testing.assert_allclose(
        new_x, x + accepted * expected_p, rtol=1e-10, atol=1e-13 * scale
    )


def test_scale_hess_false_keeps_the_first_matrix(rng):
    x = rng.normal(size=4)
    p_old = rng.normal(size=4)
    g_old = gradient(x - 0.5 * p_old)
    new_h, _, _, _ = one_step(
        po.bfgs, x, np.eye(4), g_old, p_old, 0.5, 1, scale_hess=False
    )
    s, y = 0.5 * p_old, gradient(x) - g_old
    expected, _ = mize_direction(
        "bfgs", np.eye(4), s, y, gradient(x), first_update=True, scale_hess=False
    )
    np.testing.assert_allclose(new_h, expected, rtol=1e-10)
    scaled, _ = mize_direction("bfgs", np.eye(4), s, y, gradient(x), True)
    assert not np.allclose(new_h, scaled)


def test_first_iteration_is_steepest_descent(rng):
    x = rng.normal(size=4)
    # zero state: no pair, H stays the identity
    new_h, direction, _, _ = one_step(
        po.bfgs, x, np.eye(4), np.zeros(4), np.zeros(4), 0.0, 0
    )
    np.testing.assert_array_equal(new_h, np.eye(4))
    # -I g: the graph's A x (a matrix product) and NumPy's (a matrix-vector
    # product) may sum apart; A x - B may cancel: to the rounding of |A||x| + |B|
    np.testing.assert_allclose(
        direction, -gradient(x), rtol=1e-14, atol=rounding_of_gradient(x)
    )


def test_sr1_falls_back_to_bfgs_then_to_steepest_descent():
    # H = I and y's > 0, but v'y < 0: H + vv'/(v'y) is indefinite, and g
    # along v gives an uphill SR1 direction; the BFGS update of I does not
    s = np.array([0.5, 2.0, 0.0, 0.0])
    y = np.array([1.0, 0.0, 0.0, 0.0])
    v = s - y
    x = np.linalg.solve(A, B + v)  # g = v
    g_old = gradient(x) - y
    new_h, direction, _, _ = one_step(po.sr1, x, np.eye(4), g_old, s, 1.0, 2)
    sr1_matrix = sr1_numpy(np.eye(4), s, y)
    assert v @ (-sr1_matrix @ v) > 0  # the SR1 direction is uphill
    expected = bfgs_numpy(np.eye(4), s, y)
    # the graph's y = g - g_old carries the rounding of its g (not NumPy's
    # A x - B): entries 0 in exact arithmetic come out to that rounding times
    # rho |s| |H| (about 4 here; the factor 1e3 covers it with room)
    atol = 1e3 * rounding_of_gradient(x)
    np.testing.assert_allclose(new_h, expected, rtol=1e-10, atol=atol)
    np.testing.assert_allclose(direction, -expected @ v, rtol=1e-10, atol=atol)

    # an indefinite H, SR1 skipped (s = H y) and no curvature for BFGS
    # (y's = y'Hy < 0): steepest descent, H kept
    h = np.diag([1.0, -1.0, 1.0, 1.0])
    y = np.array([0.0, 1.0, 0.0, 0.0])
    s = h @ y
    x = np.linalg.solve(A, B + y)  # g = y, -Hg = y: uphill
    g_old = gradient(x) - y
    new_h, direction, _, _ = one_step(po.sr1, x, h, g_old, s, 1.0, 2)
    # v = s - H y is 0 only if the graph's g is NumPy's to the last bit; if
    # not, v = H dy (dy: that rounding) may pass the skip test, and the update
    # |dy|^2 / |dy_1| <= rounding * (rounding / ulp(1)), below 1e3 roundings
    np.testing.assert_allclose(new_h, h, rtol=0, atol=1e3 * rounding_of_gradient(x))
    # -g: y to the rounding of the graph's A x - B
    np.testing.assert_allclose(direction, -y, rtol=0, atol=rounding_of_gradient(x))


def test_bfgs_falls_back_to_steepest_descent():
    # a given indefinite H and a pair without curvature: H is kept, -Hg is
    # uphill, the direction is -g
    h = np.diag([1.0, -1.0, 1.0, 1.0])
    y = np.array([0.0, 1.0, 0.0, 0.0])
    x = np.linalg.solve(A, B + y)
    new_h, direction, _, _ = one_step(po.bfgs, x, h, gradient(x) - y, -y, 1.0, 2)
    np.testing.assert_array_equal(new_h, h)  # y's = -1: the switch keeps H
    # -g: y to the rounding of the graph's A x - B
    np.testing.assert_allclose(direction, -y, rtol=0, atol=rounding_of_gradient(x))


# ---- several parameters, one vector ------------------------------------------------
def test_parameters_of_several_shapes_and_dtypes_form_one_vector(rng):
    matrix = pytensor.shared(rng.normal(size=(2, 2)), name="m")
    scalar = pytensor.shared(np.float32(0.3), name="c")
    vector = pytensor.shared(rng.normal(size=3).astype("float32"), name="v")
    params = [matrix, scalar, vector]
    flat = pt.concatenate([pt.cast(p, "float64").flatten() for p in params])
    hessian = spd(rng, 8)
    centre = rng.normal(size=8)
    cost = 0.5 * pt.dot(flat - centre, pt.dot(hessian, flat - centre))
    updates = po.bfgs(params, cost, line_search=search())
    state = {v.name: v for v in updates.state}
    inverse_hessian = state["bfgs.inverse_hessian"]
    assert inverse_hessian.get_value().shape == (8, 8)
    assert inverse_hessian.dtype == "float64"  # the widest
    step = compile_step(updates)
    h = np.eye(8)
    previous = None
    for k in range(6):
        x = np.concatenate([np.ravel(p.get_value()) for p in params])
        g = hessian @ (x - centre)
        if previous is not None:
            x_old, g_old = previous
            h, expected = mize_direction("bfgs", h, x - x_old, g - g_old, g, k == 1)
        else:
            expected = -g
        step()
        # float32 parameters and their rounding: compare loosely
        np.testing.assert_allclose(
            state["bfgs.direction"].get_value(), expected, rtol=1e-4, atol=1e-6
        )
        previous = (x, g)
    assert [p.get_value().dtype for p in params] == ["float64", "float32", "float32"]
    assert np.shape(scalar.get_value()) == ()


@pytest.mark.parametrize("rule", [po.bfgs, po.sr1])
def test_float32_stays_float32(rule):
    x = pytensor.shared(np.array([-1.2, 1.0], dtype="float32"), name="x")
    cost = 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
    stop = pytensor.shared(0)
    updates = rule([x], cost, stop=stop, gtol=1e-3, max_iter=200, line_search=search())
    for variable in updates.state:
        assert variable.dtype in ("float32", "int64", "int8"), variable
    step = compile_step(updates)
    while not stop.get_value():
        step()
    assert x.get_value().dtype == np.float32
    assert po.Status(int(updates.status.get_value())) == po.Status.CONVERGED_GTOL
    np.testing.assert_allclose(x.get_value(), [1.0, 1.0], atol=1e-2)


# ---- the minimisers, against SciPy ----------------------------------------
# Powell's singular function has a singular Hessian at its minimiser: every
# solver approaches it slowly, and stops within about gtol^(1/3) of it.
TOLERANCE = {"powell_singular": 2e-3}
PROBLEMS = [
    "rosenbrock",
    "beale",
    "wood",
    "powell_singular",
    "ill_conditioned_quadratic",
]


def run_rule(rule, problem, gtol=1e-7, **kwargs):
    x = pytensor.shared(problem.x0.copy(), name="x")
    cost = problem.cost(x, pt)
    stop = pytensor.shared(0)
    updates = rule([x], cost, stop=stop, gtol=gtol, max_iter=2000, **kwargs)
    step = compile_step(updates)
    while not stop.get_value():
        step()
    return x.get_value(), po.Status(int(updates.status.get_value()))


def run_scipy(problem, method):
    x = pt.dvector("x")
    cost = problem.cost(x, pt)
    value_and_grad = pytensor.function(
        [x], [cost, pytensor.grad(cost, x)], mode="FAST_COMPILE"
    )
    result = scipy_minimize(
        lambda v: tuple(value_and_grad(v)),
        problem.x0,
        jac=True,
        method=method,
        options={"gtol": 1e-7, "maxiter": 10_000},
    )
    return result.x


@pytest.mark.parametrize(
    "rule, name",
    [(po.bfgs, name) for name in PROBLEMS]
    # sr1 shares the iteration: two problems in the default run
    + [
        pytest.param(po.sr1, name, marks=() if index < 2 else pytest.mark.slow)
        for index, name in enumerate(PROBLEMS)
    ],
)
def test_finds_scipys_bfgs_minimiser(rule, name):
    problem = ZOO[name]
    c2 = 0.9 if rule is po.bfgs else 0.1
    x, status = run_rule(rule, problem, line_search=search(c2))
    assert status == po.Status.CONVERGED_GTOL
    reference = run_scipy(problem, "BFGS")
    tolerance = TOLERANCE.get(name, 1e-5)
    np.testing.assert_allclose(x, reference, atol=tolerance)
    np.testing.assert_allclose(x, problem.minimiser, atol=tolerance)


def test_solves_rosenbrock_with_minimize():
    # separate f and df: the cost Op's remembered value must not be the
    # array its output gives to the graph (which may update it in place)
    from scipy.optimize import rosen, rosen_der

    it = po.minimize_iterator(
        np.array([-1.2, 1.0]),
        rosen,
        rosen_der,
        "bfgs",
        line_search="strong_wolfe",
        max_iter=100,
    )
    for _ in it:
        pass
    assert it.status == po.Status.CONVERGED_GTOL
    assert it.fx >= 0
    np.testing.assert_allclose(it.x, [1.0, 1.0], atol=1e-4)


# ---- options ------------------------------------------------------------
@pytest.mark.parametrize("rule", [po.bfgs, po.sr1])
def test_bad_options_name_them(rule):
    x = pytensor.shared(np.zeros(2), name="x")
    cost = ((x - 1) ** 2).sum()
    cases = [
        (ValueError, "line_search", {"line_search": "nonsense"}),
        (TypeError, "line_search", {"line_search": None}),
        (TypeError, "scale_hess", {"scale_hess": "yes"}),
        (ValueError, "step0", {"step0": -1.0}),
        (ValueError, "step_next_init", {"step_next_init": "cubic"}),
        (TypeError, "try_newton_step", {"try_newton_step": 1}),
        (ValueError, "max_evals_per_iter", {"max_evals_per_iter": 0}),
    ]
    for error, text, override in cases:
        with pytest.raises(error, match=text):
            rule([x], cost, **{"line_search": search(), **override})
    with pytest.raises(ValueError, match="needs cost"):
        rule([x], gradients=[x], line_search="strong_wolfe")


def test_a_search_by_name_gets_the_rules_c2(monkeypatch):
    import pytensor_optim._searched as searched_module

    seen = {}
    original = searched_module.get_line_search

    def spy(line_search, **defaults):
        seen.update(defaults)
        return original(line_search, **defaults)

    monkeypatch.setattr(searched_module, "get_line_search", spy)
    x = pytensor.shared(np.zeros(2), name="x")
    cost = ((x - 1) ** 2).sum()
    po.bfgs([x], cost, line_search="strong_wolfe")
    assert seen == {"c2": 0.9}
    po.sr1([x], cost, line_search="strong_wolfe")
    assert seen == {"c2": 0.1}


def test_defaults():
    import inspect

    for rule, newton in ((po.bfgs, True), (po.sr1, True)):
        parameters = inspect.signature(rule).parameters
        assert parameters["line_search"].default == "more_thuente"
        assert parameters["scale_hess"].default is True
        assert parameters["try_newton_step"].default is newton
        assert parameters["step0"].default is None  # SciPy's first step
        assert parameters["step_next_init"].default == "quadratic"
