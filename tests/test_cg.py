"""cg: the beta rules against mize's formulas written here in NumPy, and the
minimisers against scipy.optimize.minimize(method="CG")."""

import inspect

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from scipy.optimize import minimize as scipy_minimize

import pytensor_optim as po
from pytensor_optim.conjugate import BETA

from .conftest import compile_step
from .problems import ZOO

EPS = np.finfo(np.float64).eps
VARIANTS = ["FR", "CD", "DY", "HS", "HS+", "PR", "PR+", "LS", "HZ", "HZ+", "PRFR"]
# Runs of whole iterations differ between variants only in beta, which
# test_beta_matches_mize checks for every variant: the default run takes the
# default (PR+), FR and HZ whole, the others with -m slow.
RUN_VARIANTS = [
    pytest.param(v, marks=() if v in ("PR+", "FR", "HZ") else pytest.mark.slow)
    for v in VARIANTS
]


def search():
    # c2 = 0.1 as for a search given by name; the loop compiled quickly
    return po.line_search.strong_wolfe(c2=0.1, mode="FAST_COMPILE")


# ---- mize's beta rules, transcribed ----------------------------------------------
def mize_beta(variant, g, g_old, p_old):
    y = g - g_old
    fr = g @ g / (g_old @ g_old + EPS)
    pr = g @ y / (g_old @ g_old + EPS)
    hs = y @ g / (p_old @ y + EPS)
    ipy = 1 / (p_old @ y + EPS)
    hz = (y @ g) * ipy - 2 * (y @ y) * ipy * (p_old @ g) * ipy
    if variant == "PRFR":
        if pr < -fr:
            return -fr
        if abs(pr) <= fr:
            return pr
        return fr
    return {
        "FR": fr,
        "CD": -(g @ g) / (p_old @ g_old + EPS),
        "DY": g @ g / (p_old @ y + EPS),
        "HS": hs,
        "HS+": max(0.0, hs),
        "PR": pr,
        "PR+": max(0.0, pr),
        "LS": -(y @ g) / (p_old @ g_old + EPS),
        "HZ": hz,
        "HZ+": max(-1 / ((p_old @ p_old) * min(0.01, g_old @ g_old)), hz),
    }[variant]


def mize_direction(variant, g, g_old, p_old):
    p = -g + mize_beta(variant, g, g_old, p_old) * p_old
    return p if g @ p < 0 else -g


@pytest.fixture(scope="module")
def beta_functions():
    g, g_old, p_old = pt.dvector("g"), pt.dvector("g_old"), pt.dvector("p_old")
    eps = pt.constant(EPS)
    return {
        variant: pytensor.function(
            [g, g_old, p_old],
            BETA[variant]([g], [g_old], [p_old], eps),
            mode="FAST_COMPILE",
            on_unused_input="ignore",
        )
        for variant in VARIANTS
    }


def beta_cases(rng):
    """Random draws, and draws that reach each branch of PR+, PRFR and HZ+."""
    cases = [tuple(rng.normal(size=(3, 5))) for _ in range(6)]
    g = rng.normal(size=5)
    p = rng.normal(size=5)
    orthogonal = rng.normal(size=5)
    orthogonal -= (orthogonal @ g) / (g @ g) * g
    cases += [
        (g, 3 * g, p),  # PR < -FR (and PR < 0)
        (g, orthogonal, p),  # |PR| <= FR
        (g, -g, p),  # PR > FR
        (g, 0.1 * rng.normal(size=5), 100 * p),  # HZ+ bound near 0
    ]
    return cases


def test_the_table_has_every_variant():
    assert sorted(BETA) == sorted(VARIANTS)


@pytest.mark.parametrize("variant", VARIANTS)
def test_beta_matches_mize(variant, beta_functions, rng):
    for g, g_old, p_old in beta_cases(rng):
        expected = mize_beta(variant, g, g_old, p_old)
        np.testing.assert_allclose(
            beta_functions[variant](g, g_old, p_old), expected, rtol=1e-12
        )


def test_the_cases_reach_every_branch(rng):
    cases = beta_cases(rng)
    pr = [mize_beta("PR", *case) for case in cases]
    fr = [mize_beta("FR", *case) for case in cases]
    assert any(b < -f for b, f in zip(pr, fr, strict=True))
    assert any(abs(b) <= f for b, f in zip(pr, fr, strict=True))
    assert any(b > f for b, f in zip(pr, fr, strict=True))
    assert any(b < 0 for b in pr)
    hz = [mize_beta("HZ", *case) for case in cases]
    bounded = [mize_beta("HZ+", *case) for case in cases]
    assert any(a != b for a, b in zip(hz, bounded, strict=True))
    assert any(a == b for a, b in zip(hz, bounded, strict=True))


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


def gradient(x):
    return A @ x - B


def rounding_of_gradient(x):
    """A bound on the rounding of A x - B summed in any order, with or
    without fused multiply-adds (the graph's matrix product against NumPy's
    matrix-vector product): a few units of |A||x| + |B|."""
    return 8 * np.finfo(np.float64).eps * (np.abs(A) @ np.abs(x) + np.abs(B)).max()


def quadratic(x0):
    param = pytensor.shared(np.array(x0, dtype="float64"), name="x")
    return param, 0.5 * pt.dot(param, pt.dot(A, param)) - pt.dot(B, param)


def one_step(x, g_old, p_old, counter, **kwargs):
    """The direction of one call of cg from the given state."""
    param, cost = quadratic(x)
    updates = po.cg([param], cost, line_search=search(), **kwargs)
    (previous_gradient,) = updates.slots["previous_gradient"]
    (direction,) = updates.slots["direction"]
    previous_gradient.set_value(g_old)
    direction.set_value(p_old)
    updates.counter.set_value(np.int64(counter))
    compile_step(updates)()
    return direction.get_value()


@pytest.mark.parametrize("variant", RUN_VARIANTS)
def test_one_iteration_matches_mize(variant, rng):
    for _ in range(2):
        x = rng.normal(size=4)
        p_old = rng.normal(size=4)
        # the gradient one step of 0.3 back, as after a search
        g_old = gradient(x - 0.3 * p_old)
        direction = one_step(x, g_old, p_old, 1, variant=variant)
        expected = mize_direction(variant, gradient(x), g_old, p_old)
        np.testing.assert_allclose(direction, expected, rtol=1e-10, atol=1e-14)


def test_variant_names_ignore_case(rng):
    x, p_old = rng.normal(size=4), rng.normal(size=4)
    g_old = gradient(x - 0.3 * p_old)
    for name in ("hz+", "Hz+", "prfr"):
        np.testing.assert_allclose(
            one_step(x, g_old, p_old, 1, variant=name),
            mize_direction(name.upper(), gradient(x), g_old, p_old),
            rtol=1e-10,
        )


def test_an_uphill_direction_falls_back_to_steepest_descent(rng):
    x = rng.normal(size=4)
    g = gradient(x)
    # FR with a small previous gradient: beta > 1, and p_old = g points uphill
    g_old = 0.1 * g
    beta = mize_beta("FR", g, g_old, g)
    assert g @ (-g + beta * g) > 0
    direction = one_step(x, g_old, g, 1, variant="FR")
    # -g as the graph computes it: NumPy's g to the rounding of A x - B
    np.testing.assert_allclose(direction, -g, rtol=0, atol=rounding_of_gradient(x))


def test_first_iteration_is_steepest_descent(rng):
    x = rng.normal(size=4)
    # whatever the state holds: counter 0 is the first iteration
    direction = one_step(x, rng.normal(size=4), rng.normal(size=4), 0)
    # -g as the graph computes it: NumPy's g to the rounding of A x - B
    np.testing.assert_allclose(
        direction, -gradient(x), rtol=0, atol=rounding_of_gradient(x)
    )


@pytest.mark.parametrize("restart_every", [None, 1, 3])
def test_restart_every(restart_every):
    # ten curvatures: CG takes more than seven iterations
    curvatures = np.logspace(0, 2, 10)
    param = pytensor.shared(np.ones(10), name="x")
    cost = 0.5 * (curvatures * param**2).sum()
    # FR: beta > 0, so only a restart gives -g
    updates = po.cg(
        [param],
        cost,
        line_search=search(),
        variant="FR",
        restart_every=restart_every,
    )
    (direction,) = updates.slots["direction"]
    step = compile_step(updates)
    restarted = []
    for _ in range(7):
        g = curvatures * param.get_value()
        step()
        restarted.append(
            bool(np.allclose(direction.get_value(), -g, rtol=1e-13, atol=0))
        )
    expected = [
        k == 0 if restart_every is None else k % restart_every == 0 for k in range(7)
    ]
    assert restarted == expected


def test_several_parameters_share_the_inner_products(rng):
    w = pytensor.shared(rng.normal(size=3), name="w")
    m = pytensor.shared(rng.normal(size=(2, 2)), name="m")
    flat = pt.concatenate([w, m.flatten()])
    hessian = rng.normal(size=(7, 7))
    hessian = hessian @ hessian.T + 7 * np.eye(7)
    cost = 0.5 * pt.dot(flat, pt.dot(hessian, flat)) - flat.sum()
    updates = po.cg([w, m], cost, line_search=search(), variant="HZ")
    step = compile_step(updates)
    previous = None
    for _ in range(4):
        x = np.concatenate([w.get_value(), m.get_value().ravel()])
        g = hessian @ x - 1
        step()
        direction = np.concatenate(
            [v.get_value().ravel() for v in updates.slots["direction"]]
        )
        expected = -g if previous is None else mize_direction("HZ", g, *previous)
        np.testing.assert_allclose(direction, expected, rtol=1e-9)
        previous = (g, direction)


# ---- every variant converges ---------------------------------------------------
def run_rule(problem, gtol=1e-6, max_iter=2000, dtype="float64", **kwargs):
    x = pytensor.shared(problem.x0.astype(dtype), name="x")
    cost = problem.cost(x, pt)
    stop = pytensor.shared(0)
    updates = po.cg(
        [x],
        cost,
        stop=stop,
        gtol=gtol,
        max_iter=max_iter,
        line_search=search(),
        **kwargs,
    )
    step = compile_step(updates)
    while not stop.get_value():
        step()
    return x.get_value(), po.Status(int(updates.status.get_value())), updates


@pytest.mark.parametrize("variant", RUN_VARIANTS)
@pytest.mark.parametrize("name", ["ill_conditioned_quadratic", "rosenbrock"])
def test_every_variant_solves(name, variant):
    problem = ZOO[name]
    x, status, _ = run_rule(problem, variant=variant)
    assert status == po.Status.CONVERGED_GTOL
    np.testing.assert_allclose(x, problem.minimiser, atol=1e-5)


def test_float32_stays_float32():
    x, status, updates = run_rule(ZOO["rosenbrock"], gtol=1e-3, dtype="float32")
    assert x.dtype == np.float32
    assert status == po.Status.CONVERGED_GTOL
    np.testing.assert_allclose(x, [1.0, 1.0], atol=1e-2)
    for variable in updates.state:
        assert variable.dtype in ("float32", "int64", "int8"), variable


# ---- the minimisers, against SciPy -----------------------------------------------
# Powell's singular function has a singular Hessian at its minimiser: every
# solver stops within about gtol^(1/3) of it, on any side.
TOLERANCE = {"powell_singular": 2e-3}
PROBLEMS = [
    "rosenbrock",
    "beale",
    "wood",
    "powell_singular",
    "ill_conditioned_quadratic",
    "extended_rosenbrock_100",
]


def run_scipy(problem):
    x = pt.dvector("x")
    cost = problem.cost(x, pt)
    value_and_grad = pytensor.function(
        [x], [cost, pytensor.grad(cost, x)], mode="FAST_COMPILE"
    )
    result = scipy_minimize(
        lambda v: tuple(value_and_grad(v)),
        problem.x0,
        jac=True,
        method="CG",
        options={"gtol": 1e-7, "maxiter": 20_000},
    )
    return result.x


@pytest.mark.parametrize("name", PROBLEMS)
def test_finds_scipys_cg_minimiser(name):
    problem = ZOO[name]
    x, status, _ = run_rule(problem, gtol=1e-6)
    assert status == po.Status.CONVERGED_GTOL
    tolerance = TOLERANCE.get(name, 1e-5)
    reference = run_scipy(problem)
    np.testing.assert_allclose(reference, problem.minimiser, atol=tolerance)
    np.testing.assert_allclose(x, problem.minimiser, atol=tolerance)
    # both within the tolerance of the minimiser, perhaps on either side
    np.testing.assert_allclose(x, reference, atol=2 * tolerance)


# ---- options ------------------------------------------------------------------
def test_bad_options_name_them():
    x = pytensor.shared(np.zeros(2), name="x")
    cost = ((x - 1) ** 2).sum()
    cases = [
        (ValueError, r"variant='XX'.*'PR\+'.*'HZ'", {"variant": "XX"}),
        (TypeError, "variant", {"variant": 3}),
        (ValueError, "restart_every", {"restart_every": 0}),
        (ValueError, "restart_every", {"restart_every": -3}),
        (TypeError, "restart_every", {"restart_every": 2.5}),
        (TypeError, "restart_every", {"restart_every": True}),
        (TypeError, "restart_every", {"restart_every": pytensor.shared(2)}),
        (ValueError, "line_search", {"line_search": "nonsense"}),
        (TypeError, "line_search", {"line_search": None}),
        (ValueError, "step0", {"step0": 0.0}),
        (TypeError, "try_newton_step", {"try_newton_step": "no"}),
        (ValueError, "max_evals_per_iter", {"max_evals_per_iter": -1}),
    ]
    for error, text, override in cases:
        with pytest.raises(error, match=text):
            po.cg([x], cost, **{"line_search": search(), **override})
    with pytest.raises(ValueError, match="needs cost"):
        po.cg([x], gradients=[x], line_search="strong_wolfe")


def test_a_search_by_name_gets_c2_of_conjugate_gradients(monkeypatch):
    import pytensor_optim._searched as searched_module

    seen = {}
    original = searched_module.get_line_search

    def spy(line_search, **defaults):
        seen.update(defaults)
        return original(line_search, **defaults)

    monkeypatch.setattr(searched_module, "get_line_search", spy)
    x = pytensor.shared(np.zeros(2), name="x")
    po.cg([x], ((x - 1) ** 2).sum(), line_search="strong_wolfe")
    assert seen == {"c2": 0.1}


def test_defaults():
    parameters = inspect.signature(po.cg).parameters
    assert parameters["variant"].default == "PR+"
    assert parameters["line_search"].default == "more_thuente"
    assert parameters["restart_every"].default is None
    assert parameters["try_newton_step"].default is False
    assert parameters["step0"].default is None  # SciPy's first step
    assert parameters["step_next_init"].default == "quadratic"
