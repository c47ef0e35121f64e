"""Hessian-free optimisation (Martens 2010) against NumPy transcriptions."""

from functools import partial
from types import SimpleNamespace

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.graph.traversal import ancestors

import pytensor_optim as po
from pytensor_optim._hessian import gauss_newton_vector, hessian_vector

from .conftest import compile_step

# the inner loops compiled quickly (their default is FAST_RUN)
hessian_free = partial(po.hessian_free, mode="FAST_COMPILE")

# ---- a small model: z = W2 tanh(W1 x + b1), squared error -----------------
INPUTS, HIDDEN, EXAMPLES = 2, 3, 12


def data(dtype="float64"):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(EXAMPLES, INPUTS))
    teacher = (rng.normal(size=(INPUTS, HIDDEN)), rng.normal(size=HIDDEN))
    y = np.tanh(x @ teacher[0]) @ teacher[1]
    start = [
        0.5 * rng.normal(size=(INPUTS, HIDDEN)),
        0.1 * rng.normal(size=HIDDEN),
        0.5 * rng.normal(size=HIDDEN),
    ]
    return x.astype(dtype), y.astype(dtype), [s.astype(dtype) for s in start]


def model(dtype="float64"):
    x, y, start = data(dtype)
    w1, b1, w2 = (
        pytensor.shared(value, name=name)
        for value, name in zip(start, ("w1", "b1", "w2"), strict=True)
    )
    outputs = pt.tanh(x @ w1 + b1) @ w2

    def loss(z):
        return 0.5 * ((z - y) ** 2).sum()

    return [w1, b1, w2], outputs, loss


def numpy_model(theta):
    """Outputs, Jacobian (by central differences of a NumPy model) and cost."""
    x, y, _ = data()

    def forward(theta):
        w1 = theta[: INPUTS * HIDDEN].reshape(INPUTS, HIDDEN)
        b1 = theta[INPUTS * HIDDEN : INPUTS * HIDDEN + HIDDEN]
        w2 = theta[INPUTS * HIDDEN + HIDDEN :]
        return np.tanh(x @ w1 + b1) @ w2

    z = forward(theta)
    h = 1e-6
    jacobian = np.column_stack(
        [
            (forward(theta + h * e) - forward(theta - h * e)) / (2 * h)
            for e in np.eye(theta.size)
        ]
    )
    return z, jacobian, 0.5 * ((z - y) ** 2).sum(), forward


def flat(params):
    return np.concatenate([p.get_value().ravel() for p in params])


def test_gauss_newton_product_matches_dense_jacobian():
    params, outputs, loss = model()
    placeholders = [p.type() for p in params]
    product = gauss_newton_vector(params, outputs, loss, placeholders)
    product_of = pytensor.function(placeholders, product, mode="FAST_COMPILE")
    rng = np.random.default_rng(2)
    v = [rng.normal(size=p.get_value().shape) for p in params]
    got = np.concatenate([piece.ravel() for piece in product_of(*v)])
    _, jacobian, _, _ = numpy_model(flat(params))
    # squared error: H_L = I
    expected = jacobian.T @ (jacobian @ np.concatenate([piece.ravel() for piece in v]))
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8)


def test_gauss_newton_product_with_a_non_identity_loss_hessian():
    # softplus loss: H_L = diag(sigmoid(z) (1 - sigmoid(z)))
    w = pytensor.shared(np.array([0.3, -0.7, 1.1]), name="w")
    a = np.array([[1.0, 2.0, -1.0], [0.5, -1.0, 2.0], [2.0, 0.0, 1.0], [1, 1, 1]])
    outputs = pt.sin(a @ w)
    placeholder = w.type()
    (product,) = gauss_newton_vector(
        [w], outputs, lambda z: pt.softplus(z).sum(), [placeholder]
    )
    v = np.array([0.2, 1.0, -0.4])
    got = pytensor.function([placeholder], product, mode="FAST_COMPILE")(v)
    z = np.sin(a @ w.get_value())
    jacobian = np.cos(a @ w.get_value())[:, None] * a
    sigmoid = 1 / (1 + np.exp(-z))
    expected = jacobian.T @ np.diag(sigmoid * (1 - sigmoid)) @ jacobian @ v
    # sums of terms of either sign, in another order than NumPy's: a component
    # may cancel, so to the rounding of |J|'|D||J||v| too
    terms = abs(jacobian).T @ np.diag(sigmoid * (1 - sigmoid)) @ abs(jacobian) @ abs(v)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-13 * terms.max())


def test_hessian_product_matches_dense_hessian():
    w = pytensor.shared(np.array([0.5, -1.2, 2.0]), name="w")
    cost = (w[0] ** 2) * w[1] + pt.exp(w[1] * w[2]) + w[2] ** 4
    placeholder = w.type()

    problem = SimpleNamespace(params=(w,), cost=cost)
    (product,) = hessian_vector(problem, [placeholder])
    v = np.array([1.0, -0.3, 0.7])
    got = pytensor.function([placeholder], product, mode="FAST_COMPILE")(v)
    a, b, c = w.get_value()
    e = np.exp(b * c)
    hessian = np.array(
        [
            [2 * b, 2 * a, 0.0],
            [2 * a, c * c * e, e + b * c * e],
            [0.0, e + b * c * e, b * b * e + 12 * c * c],
        ]
    )
    # a component of H v may cancel: to the rounding of |H||v| too
    scale = (abs(hessian) @ abs(v)).max()
    np.testing.assert_allclose(got, hessian @ v, rtol=1e-12, atol=1e-13 * scale)


# ---- one call: the inner CG, the damping --------------------------------
def one_call(params, **kwargs):
    updates = hessian_free(params, warm_start=0.0, armijo=False, **kwargs)
    return updates, compile_step(updates)


@pytest.mark.parametrize("damping", [0.1, 2.0])
def test_converged_cg_solves_the_damped_gauss_newton_system(damping):
    params, outputs, loss = model()
    theta = flat(params)
    updates, step = one_call(params, outputs=outputs, loss=loss, damping=damping)
    step()
    z, jacobian, _, _ = numpy_model(theta)
    y = data()[1]
    gradient = jacobian.T @ (z - y)
    expected = np.linalg.solve(
        jacobian.T @ jacobian + damping * np.eye(theta.size), -gradient
    )
    solution = np.concatenate(
        [s.get_value().ravel() for s in updates.slots["cg_solution"]]
    )
    np.testing.assert_allclose(solution, expected, rtol=1e-6, atol=1e-9)


def test_preconditioned_cg_solves_the_same_system():
    params, outputs, loss = model()
    theta = flat(params)
    rng = np.random.default_rng(3)
    statistic = [rng.uniform(0.1, 5.0, size=p.get_value().shape) for p in params]
    updates, step = one_call(
        params, outputs=outputs, loss=loss, damping=0.5, preconditioner=statistic
    )
    step()
    z, jacobian, _, _ = numpy_model(theta)
    gradient = jacobian.T @ (z - data()[1])
    expected = np.linalg.solve(
        jacobian.T @ jacobian + 0.5 * np.eye(theta.size), -gradient
    )
    solution = np.concatenate(
        [s.get_value().ravel() for s in updates.slots["cg_solution"]]
    )
    np.testing.assert_allclose(solution, expected, rtol=1e-6, atol=1e-9)


def martens_cg(matrix, g, max_iter, epsilon=5e-4):
    """Linear CG from zero with Martens' (2010, §4.4) relative-progress test."""
    p = np.zeros_like(g)
    r = g.copy()
    d = -r
    phis = [0.0]
    for i in range(1, max_iter + 1):
        ad = matrix @ d
        alpha = (r @ r) / (d @ ad)
        p = p + alpha * d
        r_next = r + alpha * ad
        d = -r_next + (r_next @ r_next) / (r @ r) * d
        r = r_next
        phis.append(0.5 * p @ (matrix @ p) + g @ p)
        k = max(10, int(0.1 * i))
        if i > k and phis[i] < 0 and (phis[i] - phis[i - k]) / phis[i] < k * epsilon:
            break
    return p, i


def test_cg_stops_by_martens_relative_progress():
    # well conditioned: CG in floating point is chaotic on an ill-conditioned
    # system, where two implementations part after a few dozen iterations
    n = 40
    rng = np.random.default_rng(4)
    spectrum = np.logspace(-1, 1, n)
    basis, _ = np.linalg.qr(rng.normal(size=(n, n)))
    matrix = basis @ np.diag(spectrum) @ basis.T
    b = rng.normal(size=n)
    w = pytensor.shared(np.zeros(n), name="w")
    cost = 0.5 * pt.dot(w, pt.dot(matrix, w)) - pt.dot(b, w)
    damping = 1e-2
    updates, step = one_call([w], cost=cost, gauss_newton=False, damping=damping)
    step()
    expected, iterations = martens_cg(matrix + damping * np.eye(n), -b, 250)
    assert 10 < iterations < 250
    (iterations_variable,) = (
        v for v in updates.state if v.name.endswith(".cg_iterations")
    )
    assert iterations_variable.get_value() == iterations
    (solution,) = updates.slots["cg_solution"]
    np.testing.assert_allclose(solution.get_value(), expected, rtol=1e-6, atol=1e-8)


def test_damping_follows_the_levenberg_marquardt_rule():
    params, outputs, loss = model()
    updates = hessian_free(
        params, outputs=outputs, loss=loss, damping=1e-3, cg_max_iter=3, armijo=False
    )
    step = compile_step(updates)
    (damping,) = (v for v in updates.state if v.name.endswith(".damping"))
    (ratio,) = (v for v in updates.state if v.name.endswith(".reduction_ratio"))
    y = data()[1]
    outcomes = set()
    for _ in range(12):
        theta, lam = flat(params), float(damping.get_value())
        z, jacobian, f, forward = numpy_model(theta)
        gradient = jacobian.T @ (z - y)
        step()
        p = flat(params) - theta
        if not np.any(p):
            # not taken: only when the direction is not a descent direction
            assert float(damping.get_value()) == pytest.approx(1.5 * lam)
            outcomes.add("rejected")
            continue
        model_change = gradient @ p + 0.5 * p @ (jacobian.T @ jacobian @ p)
        rho = (0.5 * ((forward(theta + p) - y) ** 2).sum() - f) / model_change
        np.testing.assert_allclose(float(ratio.get_value()), rho, rtol=1e-6)
        if rho < 0.25:
            factor, outcome = 1.5, "up"
        elif rho > 0.75:
            factor, outcome = 2 / 3, "down"
        else:
            factor, outcome = 1.0, "same"
        outcomes.add(outcome)
        assert float(damping.get_value()) == pytest.approx(factor * lam, rel=1e-12)
    # the trajectory exercises both directions of the rule
    assert {"up", "down"} <= outcomes, outcomes


# ---- HF against SGD on a small network -----------------------------------
TARGET = 0.05


def iterations_to_target(rule, limit, **kwargs):
    params, outputs, loss = model()
    cost = loss(outputs)
    updates = rule(params, cost, **kwargs)
    step = compile_step(updates, [cost])
    for iteration in range(limit):
        (value,) = step()
        if value <= TARGET:
            return iteration
    return limit


def test_reaches_the_target_in_fewer_iterations_than_sgd():
    _, outputs_check, loss_check = model()
    initial = pytensor.function([], loss_check(outputs_check))()
    assert initial > 20 * TARGET
    params, outputs, loss = model()
    updates = hessian_free(params, outputs=outputs, loss=loss)
    step = compile_step(updates, [loss(outputs)])
    hf = next(
        (i for i in range(40) if step()[0] <= TARGET),
        40,
    )
    assert hf < 40
    # SGD with the best of a grid of step sizes (larger ones diverge)
    sgd = min(
        iterations_to_target(po.sgd, 3000, step_size=step_size)
        for step_size in (0.01, 0.03, 0.1)
    )
    assert hf < sgd, (hf, sgd)


# ---- types and options ----------------------------------------------------
def test_float32_stays_float32():
    params, outputs, loss = model("float32")
    stop = pytensor.shared(np.int32(0))
    updates = hessian_free(
        params, outputs=outputs, loss=loss, stop=stop, gtol=1e-4, cg_max_iter=20
    )
    for variable, expression in updates.items():
        assert expression.type.dtype == variable.type.dtype, variable
    for variable in ancestors(list(updates.values())):
        if getattr(variable.type, "ndim", 0) > 0:
            assert variable.type.dtype != "float64", variable
    step = compile_step(updates, [loss(outputs)])
    first = step()[0]
    for _ in range(3):
        last = step()[0]
    assert all(p.get_value().dtype == np.float32 for p in params)
    assert last < first


def test_a_cost_without_a_derivative_uses_finite_differences():
    # through the NumPy interface the gradient has no derivative
    result = po.minimize(
        np.array([-1.2, 1.0]),
        lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2,
        lambda x: np.array(
            [
                -2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2),
                200 * (x[1] - x[0] ** 2),
            ]
        ),
        "hessian_free",
        gauss_newton=False,
        mode="FAST_COMPILE",
        max_iter=200,
        gtol=1e-6,
    )
    np.testing.assert_allclose(result, [1.0, 1.0], atol=1e-4)


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"damping": 0.0}, "damping"),
        ({"cg_max_iter": 0}, "cg_max_iter"),
        ({"warm_start": 1.5}, "warm_start"),
        ({"cg_tolerance": 0.0}, "cg_tolerance"),
        ({"preconditioner": "martens"}, "preconditioner"),
        ({"preconditioner": [np.ones(2)]}, "preconditioner"),
        ({"gauss_newton": False}, "gauss_newton"),
        ({"outputs": None}, "gauss_newton"),
    ],
)
def test_bad_options_name_themselves(options, name):
    params, outputs, loss = model()
    kwargs = {"outputs": outputs, "loss": loss, **options}
    with pytest.raises(ValueError, match=name):
        hessian_free(params, **kwargs)


def test_loss_must_be_scalar():
    params, outputs, _ = model()
    with pytest.raises(ValueError, match="loss"):
        hessian_free(params, outputs=outputs, loss=lambda z: z**2)


def test_cost_is_loss_of_outputs_by_default():
    params, outputs, loss = model()
    updates = hessian_free(params, outputs=outputs, loss=loss)
    cost = loss(outputs)
    # the rule minimises loss(outputs): the gradient graph it uses is of it
    step = compile_step(updates, [cost])
    before = step()[0]
    after = pytensor.function([], cost)()
    assert after < before
