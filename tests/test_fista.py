"""FISTA / ISTA with backtracking (Beck & Teboulle 2009) and the prox operators.

References used here: a coordinate-descent Lasso solver and a NumPy
transcription of Beck & Teboulle's backtracking FISTA, both written below;
``scipy.optimize.nnls`` and ``scipy.optimize.lsq_linear``; and the rates of
Beck & Teboulle's Theorems 3.1 and 4.4.
"""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
import scipy.optimize
from pytensor.graph.traversal import ancestors

import pytensor_optim as po
from pytensor_optim import Status, fista, prox_box, prox_l1, prox_nonneg

from .conftest import compile_step

RNG = np.random.default_rng(7)
A = RNG.normal(size=(30, 10)) * np.linspace(0.3, 3.0, 10)  # condition ~ 10
B = RNG.normal(size=30)
LAM = 2.0
L_STEP = 1.5
L0 = 0.1
LIPSCHITZ = np.linalg.norm(A, 2) ** 2


def smooth(x):
    r = A @ x - B
    return 0.5 * r @ r


def objective(x):
    return smooth(x) + LAM * np.abs(x).sum()


def lasso_by_coordinate_descent(tol=1e-12):
    """The Lasso minimiser by cyclic coordinate descent (exact 1-D minimisation)."""
    x = np.zeros(A.shape[1])
    col_norms = (A**2).sum(axis=0)
    residual = B - A @ x
    for _ in range(100_000):
        largest = 0.0
        for j in range(len(x)):
            rho = A[:, j] @ residual + col_norms[j] * x[j]
            new = np.sign(rho) * max(abs(rho) - LAM, 0.0) / col_norms[j]
            residual += A[:, j] * (x[j] - new)
            largest = max(largest, abs(new - x[j]))
            x[j] = new
        if largest < tol:
            return x
    raise RuntimeError("coordinate descent did not converge")


X_STAR = lasso_by_coordinate_descent()
F_STAR = objective(X_STAR)
N_RUN = 600


def beck_teboulle(x0, n_iter, accelerated=True, lam=LAM):
    """Beck & Teboulle (2009), FISTA with backtracking (§4), in NumPy.

    Returns the iterates x_k, the constants L_k and the objectives F(y_k).
    """

    def prox(v, L):
        return np.sign(v) * np.maximum(np.abs(v) - lam / L, 0.0)

    def gradient(x):
        return A.T @ (A @ x - B)

    L, t, x_prev, y = L0, 1.0, x0.copy(), x0.copy()
    xs, ls, fy = [], [], []
    for _ in range(n_iter):
        fy.append(objective(y))
        g = gradient(y)
        trial = L
        for i in range(20):
            candidate = L * L_STEP**i
            p = prox(y - g / candidate, candidate)
            d = p - y
            if smooth(p) <= smooth(y) + d @ g + candidate / 2 * d @ d:
                trial = candidate
                break
        L = trial
        x = p
        if accelerated:
            t_next = (1 + np.sqrt(1 + 4 * t * t)) / 2
            y = x + (t - 1) / t_next * (x - x_prev)
            t = t_next
        else:
            y = x
        x_prev = x
        xs.append(x)
        ls.append(L)
    return np.array(xs), np.array(ls), np.array(fy)


def lasso_rule(accelerated, dtype="float64", stop=None, **kwargs):
    x = pytensor.shared(np.zeros(A.shape[1], dtype=dtype), name="x")
    a, b = A.astype(dtype), B.astype(dtype)
    cost = 0.5 * ((pt.dot(a, x) - b) ** 2).sum()
    updates = fista(
        [x],
        cost,
        stop=stop,
        prox=prox_l1(LAM),
        nonsmooth_cost=lambda xs: LAM * pt.abs(xs[0]).sum(),
        L=L0,
        L_step=L_STEP,
        accelerated=accelerated,
        mode="FAST_COMPILE",
        **kwargs,
    )
    return x, updates, compile_step(updates)


@pytest.fixture(scope="module")
def runs():
    """600 iterations of FISTA and ISTA on the Lasso problem."""
    out = {}
    for accelerated in (True, False):
        x, updates, step = lasso_rule(accelerated)
        xs, ls = [], []
        for _ in range(N_RUN):
            step()
            xs.append(x.get_value().copy())
            (lipschitz,) = (v for v in updates.state if v.name == "fista.L")
            ls.append(float(lipschitz.get_value()))
        out[accelerated] = (np.array(xs), np.array(ls))
    return out


@pytest.mark.parametrize("accelerated", [True, False], ids=["fista", "ista"])
def test_lasso_matches_coordinate_descent(runs, accelerated):
    xs, _ = runs[accelerated]
    np.testing.assert_allclose(xs[-1], X_STAR, atol=1e-6)
    assert objective(xs[-1]) - F_STAR < 1e-9
    assert (X_STAR == 0).any()  # the l1 term is active


def test_objective_gaps_follow_the_published_rates(runs):
    # Beck & Teboulle: Thm 4.4 (FISTA) F(x_k) - F* <= 2 eta L(f) R^2 / (k+1)^2,
    # Thm 3.1 with backtracking (ISTA) F(x_k) - F* <= eta L(f) R^2 / (2k),
    # R = ||x_0 - x*||, x_0 = 0.
    radius2 = X_STAR @ X_STAR
    k = np.arange(1, N_RUN + 1)
    fista_gap = np.array([objective(x) for x in runs[True][0]]) - F_STAR
    ista_gap = np.array([objective(x) for x in runs[False][0]]) - F_STAR
    assert (fista_gap >= -1e-9).all() and (ista_gap >= -1e-9).all()
    assert (fista_gap <= 2 * L_STEP * LIPSCHITZ * radius2 / (k + 1) ** 2).all()
    assert (ista_gap <= L_STEP * LIPSCHITZ * radius2 / (2 * k)).all()
    # the Lipschitz estimates never decrease and stay below eta L(f)
    for _, ls in runs.values():
        assert (np.diff(ls) >= 0).all() and ls[-1] <= L_STEP * LIPSCHITZ
    # acceleration pays: FISTA's objective is below ISTA's after 30 iterations
    assert fista_gap[29] < ista_gap[29]
    assert fista_gap[29] < 0.1 * ista_gap[29]


@pytest.mark.parametrize("accelerated", [True, False], ids=["fista", "ista"])
def test_first_iterations_match_the_published_algorithm(runs, accelerated):
    xs, ls = runs[accelerated]
    ref_xs, ref_ls, _ = beck_teboulle(np.zeros(A.shape[1]), 15, accelerated)
    np.testing.assert_allclose(ls[:15], ref_ls, rtol=1e-10)
    np.testing.assert_allclose(xs[:15], ref_xs, rtol=1e-10, atol=1e-12)
    assert ref_ls[0] > L0  # the search did increase L


def test_errthres_stops_where_lua_does():
    errthres = 1e-2
    stop = pytensor.shared(0)
    x, updates, step = lasso_rule(True, stop=stop, errthres=errthres)
    _, _, fy = beck_teboulle(np.zeros(A.shape[1]), 200)
    # Lua: stop at the first k > 1 with |F(y_k) - F(y_{k-1})| <= errthres
    expected = next(k for k in range(1, 200) if abs(fy[k] - fy[k - 1]) <= errthres)
    calls = 0
    while not stop.get_value() and calls < 200:
        step()
        calls += 1
    assert Status(int(updates.status.get_value())) == Status.CONVERGED_FTOL
    assert calls == expected + 1
    # the run ends at y_k, where the criterion was judged
    assert abs(objective(x.get_value()) - fy[expected]) < 1e-10


def test_errthres_zero_never_stops():
    stop = pytensor.shared(0)
    _, updates, step = lasso_rule(True, stop=stop, errthres=0)
    for _ in range(30):
        step()
    assert stop.get_value() == 0
    assert all(v.name != "fista.previous_objective" for v in updates.state)


M = RNG.normal(size=(25, 6))
C = RNG.normal(size=25) * 3


def constrained_least_squares(prox):
    x = pytensor.shared(np.zeros(6), name="x")
    cost = 0.5 * ((pt.dot(M, x) - C) ** 2).sum()
    updates = fista([x], cost, prox=prox, mode="FAST_COMPILE")
    step = compile_step(updates)
    for _ in range(400):
        step()
    return x.get_value()


def test_non_negative_least_squares_matches_scipy_nnls():
    expected, _ = scipy.optimize.nnls(M, C)
    assert (expected == 0).any()
    np.testing.assert_allclose(
        constrained_least_squares(prox_nonneg()), expected, atol=1e-7
    )


def test_box_least_squares_matches_scipy_lsq_linear():
    lo, hi = -0.5, np.linspace(0.1, 1.0, 6)
    expected = scipy.optimize.lsq_linear(M, C, bounds=(lo, hi), tol=1e-12).x
    assert np.isclose(expected, lo).any() or np.isclose(expected, hi).any()
    np.testing.assert_allclose(
        constrained_least_squares(prox_box(lo, hi)), expected, atol=1e-7
    )


def test_prox_none_is_gradient_descent_with_backtracking():
    x = pytensor.shared(np.array([3.0, -1.0]), name="x")
    cost = 2.0 * ((x - 1.0) ** 2).sum()  # L(f) = 4
    updates = fista([x], cost, L=1.0, L_step=2.0, accelerated=False)
    compile_step(updates)()
    # L: 1 fails, 2 fails (p - y overshoots), 4 accepted: x - grad / 4 = 1
    np.testing.assert_allclose(x.get_value(), [1.0, 1.0])
    (lipschitz,) = (v for v in updates.state if v.name == "fista.L")
    assert lipschitz.get_value() == 4.0


def test_float32_stays_float32():
    x32, updates, step = lasso_rule(True, dtype="float32")
    for variable in ancestors(list(updates.values())):
        if getattr(variable.type, "ndim", 0) > 0:
            assert variable.type.dtype != "float64", variable
    for variable, expression in updates.items():
        assert expression.type.dtype == variable.type.dtype
    for _ in range(10):
        step()
    assert x32.get_value().dtype == np.float32
    ref_xs, _, _ = beck_teboulle(np.zeros(A.shape[1]), 10)
    np.testing.assert_allclose(x32.get_value(), ref_xs[-1], rtol=1e-3, atol=1e-4)


def test_prox_operators():
    v = np.array([-3.0, -0.2, 0.0, 0.7, 2.5])
    vt = pt.as_tensor(v)
    np.testing.assert_allclose(
        prox_l1(2.0)(vt, 0.5).eval(), np.sign(v) * np.maximum(np.abs(v) - 1.0, 0)
    )
    np.testing.assert_allclose(prox_box(-1.0, 1.0)(vt, 9.0).eval(), np.clip(v, -1, 1))
    np.testing.assert_allclose(prox_nonneg()(vt, 9.0).eval(), np.maximum(v, 0))
    v32 = pt.as_tensor(v.astype("float32"))
    for prox in (prox_l1(0.3), prox_box(-1.0, np.ones(5)), prox_nonneg()):
        assert prox(v32, np.float64(0.5)).dtype == "float32"


def test_bad_options():
    x = pytensor.shared(np.zeros(3), name="x")
    cost = (x**2).sum()
    for error, text, kwargs in [
        (ValueError, "L must", {"L": 0.0}),
        (ValueError, "L must", {"L": -1.0}),
        (TypeError, "L ", {"L": pytensor.shared(1.0)}),
        (ValueError, "L_step", {"L_step": 1.0}),
        (TypeError, "L_step", {"L_step": "big"}),
        (ValueError, "max_line", {"max_line": 0}),
        (ValueError, "max_line", {"max_line": 2.5}),
        (TypeError, "accelerated", {"accelerated": "yes"}),
        (ValueError, "errthres", {"errthres": -1.0}),
        (TypeError, "prox", {"prox": 3}),
        (TypeError, "nonsmooth_cost", {"nonsmooth_cost": 1.0}),
        (ValueError, "nonsmooth_cost", {"nonsmooth_cost": lambda xs: xs[0]}),
        (ValueError, "prox", {"prox": lambda v, s: v.sum()}),
        (TypeError, "mode", {"mode": 3}),
    ]:
        with pytest.raises(error, match=text):
            fista([x], cost, **kwargs)
    with pytest.raises(ValueError, match="fista\\(\\) needs cost"):
        fista([x], gradients=[2 * x])
    with pytest.raises(ValueError, match="lam"):
        prox_l1(-1.0)
    with pytest.raises(TypeError, match="lam"):
        prox_l1("big")
    with pytest.raises(ValueError, match="lo must be <= hi"):
        prox_box(1.0, 0.0)
    with pytest.raises(TypeError, match="lo"):
        prox_box(None, 1.0)


def test_registered():
    assert po.ALGORITHMS["fista"] is fista
