"""lbfgs: parity with torch.optim.LBFGS and the two-loop direction."""

import json
import pathlib

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

import pytensor_optim as po
from pytensor_optim._two_loop import TwoLoop
from pytensor_optim._two_loop import two_loop as po_two_loop

from .conftest import compile_step
from .reference.problems import from_reference

REFERENCE = np.load(pathlib.Path(__file__).parent / "reference/data/torch_lbfgs.npz")
CONFIGS = json.loads(str(REFERENCE["configs"]))


def build(config):
    problem, lr, history = CONFIGS[config]
    params, cost = from_reference(REFERENCE, problem, config)
    return params, cost, po.lbfgs(params, cost, step_size=lr, history=history)


@pytest.mark.parametrize("mode", ["FAST_COMPILE", "CVM"])
@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_matches_torch_lbfgs_without_line_search(config, mode):
    params, cost, updates = build(config)
    step = compile_step(updates, [cost], mode=mode)
    costs = [float(step()[0]) for _ in range(len(REFERENCE[f"{config}/cost"]))]
    np.testing.assert_allclose(costs, REFERENCE[f"{config}/cost"], rtol=1e-10)
    for param in params:
        np.testing.assert_allclose(
            param.get_value(), REFERENCE[f"{config}/{param.name}"][-1], rtol=1e-10
        )


def two_loop(gradient, pairs, gamma):
    """Nocedal & Wright, Algorithm 7.4, on flat NumPy vectors (newest pair last)."""
    q = gradient.copy()
    alphas = []
    for s, y in reversed(pairs):
        alpha = (s @ q) / (y @ s)
        q -= alpha * y
        alphas.append(alpha)
    r = gamma * q
    for (s, y), alpha in zip(pairs, reversed(alphas), strict=True):
        beta = (y @ r) / (y @ s)
        r += s * (alpha - beta)
    return -r


def test_direction_is_the_two_loop_recursion(rng):
    # a strictly convex quadratic; replay our iterates in NumPy
    a = rng.normal(size=(6, 6))
    hessian = a @ a.T + 6 * np.eye(6)
    x = pytensor.shared(rng.normal(size=6), name="x")
    cost = 0.5 * pt.dot(x, pt.dot(pt.constant(hessian), x))
    updates = po.lbfgs([x], cost, history=3, step_size=0.3)
    step = compile_step(updates)
    points = [x.get_value().copy()]
    for _ in range(8):
        step()
        points.append(x.get_value().copy())
    gradients = [hessian @ p for p in points]
    pairs = [
        (points[k] - points[k - 1], gradients[k] - gradients[k - 1])
        for k in range(1, len(points) - 1)
    ][-3:]
    s, y = pairs[-1]
    expected = two_loop(gradients[-2], pairs, (s @ y) / (y @ y))
    np.testing.assert_allclose(points[-1] - points[-2], 0.3 * expected, rtol=1e-10)


# ---- the two-loop node --------------------------------------------------------
def two_loop_inputs(rng, dtype, m=4, n=5):
    """Histories whose rows have positive curvature (y = A s, A positive
    definite), and a newest pair of the same kind; the rows a call does not
    use hold other finite numbers."""
    a = rng.normal(size=(n, n))
    hessian = a @ a.T + n * np.eye(n)
    s = rng.normal(size=(m + 1, n))
    y = s @ hessian
    values = (rng.normal(size=n), s[:m], y[:m], s[m], y[m])
    return [v.astype(dtype) for v in values]


def two_loop_graph(dtype):
    g, s_history, y_history = (
        pt.vector(dtype=dtype),
        pt.matrix(dtype=dtype),
        pt.matrix(dtype=dtype),
    )
    s, y = pt.vector(dtype=dtype), pt.vector(dtype=dtype)
    accept, stored, gamma = (
        pt.scalar(dtype="bool"),
        pt.lscalar(),
        pt.scalar(dtype=dtype),
    )
    inputs = [g, s_history, y_history, s, y, accept, stored, gamma]
    return inputs, po_two_loop(*inputs)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("mode", ["FAST_COMPILE", "CVM", "NUMBA", "JAX"])
def test_two_loop_node_is_the_push_and_the_recursion(mode, dtype, rng):
    if mode == "JAX":
        pytest.importorskip("jax")
    inputs, outputs = two_loop_graph(dtype)
    assert [o.dtype for o in outputs] == [dtype] * 3
    f = pytensor.function(inputs, outputs, mode=mode)
    gradient, s_rows, y_rows, s_new, y_new = two_loop_inputs(rng, dtype)
    rtol = 1e-12 if dtype == "float64" else 1e-5
    for accept in (False, True):
        if accept:  # the oldest row dropped, the new pair last
            s_expected = np.concatenate([s_rows[1:], s_new[None]])
            y_expected = np.concatenate([y_rows[1:], y_new[None]])
        else:
            s_expected, y_expected = s_rows, y_rows
        for count in (0, 1, 2, 3, 4, 6):
            # the newest pairs are the last rows; with none, -gamma g; with
            # more than the rows, all of them
            newest = max(0, 4 - count)
            pairs = list(zip(s_expected[newest:], y_expected[newest:], strict=True))
            gamma = np.asarray(0.7, dtype)
            direction, s_got, y_got = f(
                gradient, s_rows, y_rows, s_new, y_new, accept, count, gamma
            )
            assert direction.dtype == s_got.dtype == y_got.dtype == dtype
            np.testing.assert_array_equal(s_got, s_expected)
            np.testing.assert_array_equal(y_got, y_expected)
            expected = two_loop(
                gradient.astype(float),
                [(a.astype(float), b.astype(float)) for a, b in pairs],
                0.7,
            )
            np.testing.assert_allclose(direction, expected, rtol=rtol, atol=rtol)


def test_two_loop_node_is_the_same_compiled_or_not(rng):
    """The Numba backend and ``perform`` run one kernel: equal to the bit."""
    inputs, outputs = two_loop_graph("float32")
    values = [*two_loop_inputs(rng, "float32", n=40), True, 3, np.float32(1.5)]
    got = [
        pytensor.function(inputs, outputs, mode=mode)(*values)
        for mode in ("NUMBA", "FAST_COMPILE")
    ]
    for a, b in zip(*got, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("mode", ["NUMBA", "JAX"])
def test_two_loop_node_non_finite_values_as_perform(mode, rng):
    """An infinite gradient, a NaN in a row not used, and a stored pair of
    zeros (1 / 0: infinite, not an error) give what ``perform`` gives
    (rows not stored are left out, not multiplied by 0)."""
    if mode == "JAX":
        pytest.importorskip("jax")
    inputs, outputs = two_loop_graph("float64")
    gradient, s_rows, y_rows, s_new, y_new = two_loop_inputs(rng, "float64")
    s_rows[0, 2] = np.nan
    for count, accept in ((0, False), (2, False), (1, True)):
        if accept:
            s_new[:], y_new[:] = 0.0, 0.0
        else:
            gradient[1] = np.inf
        values = [gradient, s_rows, y_rows, s_new, y_new, accept, count, 0.5]
        got, expected = (
            pytensor.function(inputs, outputs, mode=m)(*values)
            for m in (mode, "FAST_COMPILE")
        )
        if count == 0:  # -gamma g
            assert np.isneginf(expected[0][1])
        if accept:
            assert np.isnan(expected[0]).all()
        for a, b in zip(got, expected, strict=True):
            np.testing.assert_array_equal(a, b)


def test_two_loop_node_refuses_mismatched_inputs():
    g, s, gamma = pt.dvector(), pt.dmatrix(), pt.dscalar()
    yes = pt.constant(np.bool_(True))
    with pytest.raises(TypeError, match="vector, two matrices and two vectors"):
        TwoLoop()(s, s, s, g, g, yes, 1, gamma)
    with pytest.raises(TypeError, match="gradient must be float32 or float64"):
        v, m = pt.lvector(), pt.lmatrix()
        TwoLoop()(v, m, m, v, v, yes, 1, pt.lscalar())
    with pytest.raises(TypeError, match=r"y_history must be float64.*float32"):
        TwoLoop()(g, s, pt.fmatrix(), g, g, yes, 1, gamma)
    with pytest.raises(TypeError, match=r"y must be float64.*float32"):
        TwoLoop()(g, s, s, g, pt.fvector(), yes, 1, gamma)
    with pytest.raises(TypeError, match=r"gamma must be float64.*float32"):
        TwoLoop()(g, s, s, g, g, yes, 1, pt.fscalar())
    with pytest.raises(TypeError, match="accept must be a boolean scalar"):
        TwoLoop()(g, s, s, g, g, 1, 1, gamma)
    with pytest.raises(TypeError, match="stored must be an integer scalar"):
        TwoLoop()(g, s, s, g, g, yes, pt.dscalar(), gamma)
    outputs = TwoLoop()(g, s, s, g, g, yes, 1, pt.constant(np.float64(1)))
    f = pytensor.function([g, s], outputs, mode="FAST_COMPILE")
    with pytest.raises(ValueError, match=r"must be \(m, n\) and the pair of size n"):
        f(np.ones(3), np.ones((2, 4)))


def test_bad_arguments():
    x = pytensor.shared(np.zeros(2), name="x")
    cost = (x**2).sum()
    with pytest.raises(ValueError, match="history"):
        po.lbfgs([x], cost, history=0)
    with pytest.raises(ValueError, match="line_search"):
        po.lbfgs([x], cost, line_search="nonsense")


def test_solves_rosenbrock_with_minimize():
    from scipy.optimize import rosen, rosen_der

    it = po.minimize_iterator(
        np.array([-1.2, 1.0]), rosen, rosen_der, "lbfgs", step_size=0.5, max_iter=3000
    )
    for _ in it:
        pass
    assert it.status == po.Status.CONVERGED_GTOL
    np.testing.assert_allclose(it.x, [1.0, 1.0], atol=1e-4)


# ---- with the strong Wolfe line search -----------------------------------------
WOLFE = np.load(pathlib.Path(__file__).parent / "reference/data/torch_lbfgs_wolfe.npz")
WOLFE_CONFIGS = json.loads(str(WOLFE["configs"]))
# Steps over which the iterates agree to rtol 1e-10. Later, rounding
# differences of 1e-16 (dot products summed in another order than torch's)
# grow about twofold per step in Rosenbrock's valley with a short history;
# the evaluation counts stay equal over the whole trajectory.
PARITY_STEPS = {"rosenbrock-short-history": 14, "rosenbrock-budget-3": 20}


def run_wolfe(config, mode):
    problem, lr, history, max_eval, steps = WOLFE_CONFIGS[config]
    params, cost = from_reference(WOLFE, problem, config)
    start = [param.name for param in params]
    stop = pytensor.shared(0)
    updates = po.lbfgs(
        params,
        cost,
        stop=stop,
        step_size=lr,
        history=history,
        # the search loop compiled in the test's mode too
        line_search=po.line_search.strong_wolfe(mode=mode),
        max_evals_per_iter=max_eval,
        max_evals=10**9,  # to read the count
    )
    state = {variable.name: variable for variable in updates.state}
    step = compile_step(updates, [cost], mode=mode)
    trajectory = {name: [] for name in start}
    costs, accepted, evals, statuses = [], [], [], []
    for _ in range(steps):
        stop.set_value(0)  # a failed search stops the run; torch goes on
        costs.append(float(step()[0]))
        accepted.append(float(state["lbfgs.previous_step"].get_value()))
        # the count that max_evals stops on
        evals.append(int(state["lbfgs.evals"].get_value()))
        statuses.append(po.Status(int(updates.status.get_value())))
        for param in params:
            trajectory[param.name].append(param.get_value().copy())
    return trajectory, np.array(costs), np.array(accepted), np.array(evals), statuses


# (with the C VM, and the search loop in scan's default mode: the NumPy
# interface test below)
@pytest.mark.parametrize("config", sorted(WOLFE_CONFIGS))
def test_matches_torch_lbfgs_with_strong_wolfe(config):
    trajectory, costs, accepted, evals, statuses = run_wolfe(config, "FAST_COMPILE")
    if config == "rosenbrock-budget-1":
        # one evaluation per search is too few here: torch's search returns
        # the start every time; ours fails and leaves the parameters there
        assert set(statuses) == {po.Status.LINE_SEARCH_FAILED}
        assert np.all(trajectory["x"] == WOLFE[f"{config}/x"][0])
    else:
        assert set(statuses) == {po.Status.RUNNING}
    # torch evaluates once at the start of every step() and reuses nothing;
    # we evaluate at the start of the first call only, then start each call
    # from the point the previous search accepted (its cost and gradient)
    steps = np.arange(len(evals))
    np.testing.assert_array_equal(evals, WOLFE[f"{config}/func_evals"] - steps)
    horizon = PARITY_STEPS.get(config, len(evals))
    # the costs (near 0) and the interpolated steps amplify the parameters'
    # rounding differences
    np.testing.assert_allclose(
        costs[:horizon], WOLFE[f"{config}/cost"][:horizon], rtol=1e-8
    )
    np.testing.assert_allclose(
        accepted[:horizon], WOLFE[f"{config}/step"][:horizon], rtol=1e-8
    )
    for name, points in trajectory.items():
        reference = WOLFE[f"{config}/{name}"][1:]
        np.testing.assert_allclose(points[:horizon], reference[:horizon], rtol=1e-10)
        # and the same path after the horizon, to the growth of rounding
        np.testing.assert_allclose(points, reference, rtol=1e-6)


def test_numpy_interface_counts_match_torch_calls_of_the_closure():
    # compiled with the C VM, the search loop in scan's default mode; the
    # interface counts the calls of f and df themselves: after the first
    # call, which evaluates at the start, only the search evaluates
    from scipy.optimize import rosen, rosen_der

    iterator = po.minimize_iterator(
        np.array([-1.2, 1.0]), rosen, rosen_der, "lbfgs",
        line_search="strong_wolfe", max_evals_per_iter=26, max_iter=30,
    )  # fmt: skip
    counts, points = [], []
    for it in iterator:
        counts.append((it.n_evals, it.n_grad_evals))
        points.append(it.x_last)
    expected = WOLFE["rosenbrock/func_evals"] - np.arange(30)
    assert counts == [(int(n), int(n)) for n in expected]
    np.testing.assert_allclose(points, WOLFE["rosenbrock/x"][1:], rtol=1e-10)


@pytest.mark.parametrize(
    ("curvature_test", "stored"), [("absolute", 0), ("relative", 3)]
)
def test_curvature_test_decides_which_pairs_enter(curvature_test, stored):
    # a tiny quadratic: y's ~ 1e-13, below PyTorch's absolute 1e-10, while
    # the pairs have all the curvature of the problem (y's = |y| |s| / 4)
    x = pytensor.shared(np.array([1.0, -1.0]), name="x")
    cost = 1e-12 * (x[0] ** 2 + 4 * x[1] ** 2)
    updates = po.lbfgs([x], cost, step_size=1e10, curvature_test=curvature_test)
    step = compile_step(updates)
    for _ in range(4):
        step()
    assert int(updates.state_dict()["lbfgs.stored"]) == stored


def test_curvature_test_is_checked():
    x = pytensor.shared(np.zeros(2), name="x")
    with pytest.raises(ValueError, match="curvature_test must be 'absolute' or"):
        po.lbfgs([x], (x**2).sum(), curvature_test="mize")


# ---- configured as SciPy's L-BFGS-B --------------------------------------------
# L-BFGS-B without bounds: first step 1/|g|_2 along -g, MINPACK's dcsrch with
# ftol=1e-3, gtol=0.9, xtol=0.1, and its stop on the relative reduction of f
# (factr=1e7 times the machine epsilon)
LBFGSB_FTOL = 1e7 * np.finfo(float).eps


@pytest.mark.parametrize("name", ["rosenbrock", "beale", "freudenstein_roth"])
def test_configured_as_lbfgsb_follows_scipy_iterates(name):
    from scipy.optimize import minimize

    from .problems import ZOO

    problem = ZOO[name]
    point = pt.dvector("x")
    value = problem.cost(point, pt)
    value_and_grad = pytensor.function(
        [point], [value, pytensor.grad(value, point)], mode="FAST_COMPILE"
    )
    theirs = []
    scipy_result = minimize(
        lambda z: tuple(np.asarray(v) for v in value_and_grad(z)),
        problem.x0,
        jac=True,
        method="L-BFGS-B",
        options={"maxcor": 10},
        callback=lambda z: theirs.append(z.copy()),
    )
    x = pytensor.shared(problem.x0.copy(), name="x")
    ours = []
    result = po.optimize(
        problem.cost(x, pt),
        [x],
        "lbfgs",
        line_search=po.line_search.more_thuente(c1=1e-3, xtol=0.1),
        step0="scipy",
        curvature_test="relative",
        ftol=LBFGSB_FTOL,
        gtol=1e-5,
        max_evals=10_000,
        callback=lambda _: ours.append(x.get_value().copy()),
        mode="FAST_COMPILE",
    )
    assert result.nit == scipy_result.nit
    np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-12)
    assert result.nfev == scipy_result.nfev


def test_step0_is_the_first_step():
    x = pytensor.shared(np.array([3.0, -4.0]), name="x")
    cost = (x**2).sum()
    for step0, expected in [("scipy", 1 / 10), ("schmidt", 1 / 14), (0.25, 0.25)]:
        x.set_value(np.array([3.0, -4.0]))
        compile_step(po.lbfgs([x], cost, step0=step0))()
        np.testing.assert_allclose(
            x.get_value(), np.array([3.0, -4.0]) * (1 - 2 * expected), rtol=1e-12
        )
    with pytest.raises(ValueError, match="step0"):
        po.lbfgs([x], cost, step0="fastest")
