"""ScipyOptimizer, scipy_minimize and as_scipy_method (API.md §7, §8)."""

import inspect

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
import scipy.optimize
from scipy.optimize import (
    Bounds,
    NonlinearConstraint,
    OptimizeResult,
    rosen,
    rosen_der,
    rosen_hess,
    rosen_hess_prod,
)

from pytensor_optim import (
    ScipyOptimizer,
    Status,
    adam,
    as_scipy_method,
    bfgs,
    cg,
    hessian_free,
    lbfgs,
    minimize_iterator,
    scipy_minimize,
    sgd,
    truncated_newton,
)

ROSEN_X0 = np.array([-1.2, 1.0])


def shared(values, name, dtype="float64"):
    return pytensor.shared(np.array(values, dtype=dtype), name=name)


def sphere(x):
    return float(x @ x), 2 * x


# ---------------------------------------------------------------------------
# ScipyOptimizer: the examples of TensorFlow's documentation
# ---------------------------------------------------------------------------
def test_seed_example_unconstrained():
    vector = shared([7.0, 7.0], "vector")
    loss = (vector**2).sum()
    result = ScipyOptimizer(loss, options={"maxiter": 100}).minimize()
    assert isinstance(result, OptimizeResult) and result.success
    np.testing.assert_allclose(vector.get_value(), [0.0, 0.0], atol=1e-8)
    np.testing.assert_array_equal(vector.get_value(), result.x)


def test_seed_example_bounds():
    vector = shared([7.0, 7.0], "vector")
    loss = (vector**2).sum()
    optimizer = ScipyOptimizer(loss, bounds={vector: ([1, 2], np.inf)})
    optimizer.minimize()
    np.testing.assert_allclose(vector.get_value(), [1.0, 2.0])


@pytest.mark.parametrize("method", ["SLSQP", "trust-constr"])
def test_seed_example_constraints(method):
    vector = shared([7.0, 7.0], "vector")
    loss = (vector**2).sum()
    optimizer = ScipyOptimizer(
        loss,
        equalities=[vector[1] - 1.0],
        inequalities=[vector[0] - 1.0],
        method=method,
    )
    result = optimizer.minimize()
    assert result.success
    # trust-constr is an interior-point method: it stops near the active bound
    np.testing.assert_allclose(vector.get_value(), [1.0, 1.0], atol=1e-3)
    assert vector.get_value()[0] >= 1.0 - 1e-8


# ---------------------------------------------------------------------------
# agreement with SciPy run directly on NumPy functions
# ---------------------------------------------------------------------------
def test_lbfgsb_agrees_with_scipy_on_numpy_rosenbrock():
    x = shared([-1.2, 1.0, -0.5], "x")
    cost = (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()
    ours = ScipyOptimizer(cost, method="L-BFGS-B").minimize(tol=1e-10)
    reference = scipy.optimize.minimize(
        rosen, [-1.2, 1.0, -0.5], jac=rosen_der, method="L-BFGS-B", tol=1e-10
    )
    assert (ours.nit, ours.nfev) == (reference.nit, reference.nfev)
    np.testing.assert_allclose(x.get_value(), reference.x, rtol=1e-7)
    np.testing.assert_allclose(x.get_value(), 1.0, atol=1e-5)


def reference_constraints(new_form):
    def eq(x):
        return np.array([x[1] - 1.0])

    def ineq(x):
        return np.array([x[0] - 1.0])

    def eq_jac(x):
        return np.array([[0.0, 1.0]])

    def ineq_jac(x):
        return np.array([[1.0, 0.0]])

    if not new_form:
        return [
            {"type": "eq", "fun": eq, "jac": eq_jac},
            {"type": "ineq", "fun": ineq, "jac": ineq_jac},
        ]
    zero = lambda x, v: np.zeros((2, 2))  # noqa: E731
    return [
        NonlinearConstraint(eq, 0, 0, jac=eq_jac, hess=zero),
        NonlinearConstraint(ineq, 0, np.inf, jac=ineq_jac, hess=zero),
    ]


@pytest.mark.parametrize("method", ["SLSQP", "trust-constr"])
def test_constrained_agrees_with_scipy_on_numpy(method):
    vector = shared([7.0, 5.0], "vector")
    loss = ((vector - [0.5, 3.0]) ** 2).sum()
    optimizer = ScipyOptimizer(
        loss,
        equalities=[vector[1] - 1.0],
        inequalities=[vector[0] - 1.0],
        method=method,
    )
    ours = optimizer.minimize()

    def fun(x):
        return float(((x - [0.5, 3.0]) ** 2).sum()), 2 * (x - [0.5, 3.0])

    extra = {"hessp": lambda x, p: 2 * p} if method == "trust-constr" else {}
    reference = scipy.optimize.minimize(
        fun,
        [7.0, 5.0],
        jac=True,
        method=method,
        constraints=reference_constraints(method == "trust-constr"),
        **extra,
    )
    assert ours.nit == reference.nit
    np.testing.assert_allclose(vector.get_value(), reference.x, rtol=1e-9)


def test_trust_ncg_uses_exact_hessian_vector_products():
    x = shared([-1.2, 1.0], "x")
    cost = 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
    ours = ScipyOptimizer(cost, method="trust-ncg").minimize()
    reference = scipy.optimize.minimize(
        rosen, [-1.2, 1.0], jac=rosen_der, hessp=rosen_hess_prod, method="trust-ncg"
    )
    assert ours.success and ours.nit == reference.nit
    np.testing.assert_allclose(x.get_value(), reference.x, rtol=1e-8)


def test_gradient_free_method():
    x = shared([2.0, -1.0], "x")
    result = ScipyOptimizer(((x - 1.0) ** 2).sum(), method="Nelder-Mead").minimize()
    reference = scipy.optimize.minimize(
        lambda v: float(((v - 1.0) ** 2).sum()), [2.0, -1.0], method="Nelder-Mead"
    )
    assert result.nfev == reference.nfev
    np.testing.assert_allclose(x.get_value(), reference.x)


# ---------------------------------------------------------------------------
# packing: several parameters, shapes, dtypes
# ---------------------------------------------------------------------------
def test_parameters_round_trip_values_shapes_and_dtypes():
    matrix = shared(np.zeros((2, 3)), "matrix")
    vector = shared(np.zeros(4), "vector", dtype="float32")
    scalar = shared(0.0, "scalar")
    target_m = np.arange(6.0).reshape(2, 3)
    target_v = np.array([1.5, -2.0, 0.25, 3.0], dtype=np.float32)
    cost = (
        ((matrix - target_m) ** 2).sum()
        + ((vector - target_v) ** 2).sum()
        + (scalar + 3.0) ** 2
    )
    optimizer = ScipyOptimizer(cost)
    # default params: order of first appearance in the cost's graph
    assert optimizer.params == (matrix, vector, scalar)
    result = optimizer.minimize()
    assert result.x.dtype == np.float64 and result.x.shape == (11,)
    assert matrix.get_value().dtype == np.float64
    assert vector.get_value().dtype == np.float32
    assert scalar.get_value().shape == () and scalar.get_value().dtype == np.float64
    np.testing.assert_allclose(matrix.get_value(), target_m, atol=1e-5)
    np.testing.assert_allclose(vector.get_value(), target_v, atol=1e-5)
    np.testing.assert_allclose(scalar.get_value(), -3.0, atol=1e-5)
    # result.x is the packed vector, in the order of params
    packed = np.concatenate(
        [matrix.get_value().ravel(), vector.get_value(), [scalar.get_value()]]
    )
    np.testing.assert_array_equal(packed.astype(np.float32), result.x.astype("f4"))


def test_explicit_params_only_are_optimised():
    a = shared([3.0], "a")
    b = shared([4.0], "b")
    ScipyOptimizer((a**2).sum() + ((b - 1) ** 2).sum(), params=[b]).minimize()
    np.testing.assert_array_equal(a.get_value(), [3.0])
    np.testing.assert_allclose(b.get_value(), [1.0], atol=1e-6)


def test_float32_graph_is_evaluated_in_float32():
    x = shared([1.0, 2.0], "x", dtype="float32")
    seen = []
    optimizer = ScipyOptimizer(((x - 0.1) ** 2).sum())
    optimizer.minimize(loss_callback=seen.append, fetches=[x])
    assert all(value.dtype == np.float32 for value in seen)
    assert x.get_value().dtype == np.float32


# ---------------------------------------------------------------------------
# bounds
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("shape", "bound", "lower", "upper"),
    [
        # (0, inf): each element non-negative
        ((3, 2), (0, np.inf), np.zeros((3, 2)), np.full((3, 2), np.inf)),
        # (-inf, [1, 2]): first column <= 1, second column <= 2
        ((3, 2), (-np.inf, [1, 2]), np.full((3, 2), -np.inf), [[1, 2]] * 3),
        # (-inf, [[1], [2], [3]]): row i <= i + 1
        (
            (3, 2),
            (-np.inf, [[1], [2], [3]]),
            np.full((3, 2), -np.inf),
            [[1, 1], [2, 2], [3, 3]],
        ),
        # element by element
        (
            (2, 3),
            (-np.inf, [[1, 2, 3], [4, 5, 6]]),
            np.full((2, 3), -np.inf),
            [[1, 2, 3], [4, 5, 6]],
        ),
        # None on either side means unbounded, one-sided bounds
        ((2,), (None, 3.0), [-np.inf, -np.inf], [3.0, 3.0]),
        ((2,), (-1.0, None), [-1.0, -1.0], [np.inf, np.inf]),
        ((2,), ([-1.0, -2.0], 5), [-1.0, -2.0], [5.0, 5.0]),
    ],
)
def test_bounds_forms(shape, bound, lower, upper):
    target = np.linspace(-4.0, 7.0, int(np.prod(shape))).reshape(shape)
    param = shared(np.ones(shape) * 0.5, "param")
    other = shared([-5.0], "other")  # unbounded
    cost = ((param - target) ** 2).sum() + ((other - 2.0) ** 2).sum()
    optimizer = ScipyOptimizer(cost, bounds={param: bound})
    lower, upper = np.asarray(lower, float), np.asarray(upper, float)
    np.testing.assert_array_equal(
        optimizer.bounds.lb, np.concatenate([lower.ravel(), [-np.inf]])
    )
    np.testing.assert_array_equal(
        optimizer.bounds.ub, np.concatenate([upper.ravel(), [np.inf]])
    )
    optimizer.minimize()
    np.testing.assert_allclose(
        param.get_value(), np.clip(target, lower, upper), atol=1e-6
    )
    np.testing.assert_allclose(other.get_value(), [2.0], atol=1e-6)


@pytest.mark.parametrize("bound", [(None, None), (-np.inf, np.inf)])
def test_infinite_bounds_mean_no_bounds(bound):
    x = shared([3.0], "x")
    optimizer = ScipyOptimizer((x**2).sum(), bounds={x: bound})
    assert optimizer.bounds is None
    optimizer.minimize()
    np.testing.assert_allclose(x.get_value(), [0.0], atol=1e-8)


@pytest.mark.parametrize(
    ("bound", "match"),
    [
        ((0, [1, 2, 3]), r"bounds for matrix: the high bound of shape \(3,\)"),
        (([[0], [1], [2]], 5), r"bounds for matrix: the low bound of shape \(3, 1\)"),
        ((2.0, 1.0), r"bounds for matrix: low > high"),
        ((0, np.nan), "bounds for matrix: the high bound contains NaN"),
        ((0, 1, 2), "bounds for matrix must be a"),
        ((0, "high"), "bounds for matrix: the high bound must be"),
    ],
)
def test_bad_bounds_raise_naming_the_parameter(bound, match):
    matrix = shared(np.zeros((2, 2)), "matrix")
    with pytest.raises(ValueError, match=match):
        ScipyOptimizer((matrix**2).sum(), bounds={matrix: bound})


def test_bounds_keys_must_be_params():
    x, y = shared([1.0], "x"), shared([1.0], "y")
    with pytest.raises(ValueError, match="not one of params"):
        ScipyOptimizer((x**2).sum(), bounds={y: (0, 1)})
    with pytest.raises(TypeError, match="bounds must be a dict"):
        ScipyOptimizer((x**2).sum(), bounds=[(0, 1)])


# ---------------------------------------------------------------------------
# callbacks
# ---------------------------------------------------------------------------
def test_step_callback_gets_the_flattened_iterates():
    matrix = shared([[1.0, -2.0], [0.5, 3.0]], "matrix")
    vector = shared([4.0], "vector")
    cost = ((matrix - 1.0) ** 4).sum() + (vector**2).sum()
    steps = []
    result = ScipyOptimizer(cost, params=[matrix, vector]).minimize(
        step_callback=steps.append
    )

    def fun(x):
        return (
            float(((x[:4] - 1.0) ** 4).sum() + x[4] ** 2),
            np.concatenate([4 * (x[:4] - 1.0) ** 3, 2 * x[4:]]),
        )

    reference = []
    scipy.optimize.minimize(
        fun,
        [1.0, -2.0, 0.5, 3.0, 4.0],
        jac=True,
        method="L-BFGS-B",
        callback=lambda xk: reference.append(np.copy(xk)),
    )
    assert len(steps) == result.nit == len(reference)
    for ours, theirs in zip(steps, reference, strict=True):
        assert ours.shape == (5,) and ours.dtype == np.float64
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def test_step_callback_with_trust_constr():
    x = shared([3.0, 3.0], "x")
    steps = []
    result = ScipyOptimizer(
        (x**2).sum(), inequalities=[x[0] - 1.0], method="trust-constr"
    ).minimize(step_callback=steps.append)
    assert len(steps) == result.nit
    assert all(step.shape == (2,) for step in steps)


def test_loss_callback_gets_the_fetches_as_tensorflow():
    vector = shared([7.0, -3.0], "vector")
    loss = ((vector - 1.0) ** 2).sum()
    calls, initial = [], vector.get_value()

    def loss_callback(value, point, norm):
        # the shared variable keeps its value while SciPy runs
        np.testing.assert_array_equal(vector.get_value(), initial)
        calls.append((value, point, norm))

    result = ScipyOptimizer(loss).minimize(
        loss_callback=loss_callback,
        fetches=[loss, vector, pt.sqrt((vector**2).sum())],
    )
    assert len(calls) == result.nfev
    for value, point, norm in calls:
        assert value == pytest.approx(np.sum((point - 1.0) ** 2), rel=1e-12)
        assert norm == pytest.approx(np.linalg.norm(point), rel=1e-12)
    np.testing.assert_allclose(calls[0][1], [7.0, -3.0])


def test_loss_callback_without_fetches_gets_no_arguments():
    x = shared([2.0], "x")
    calls = []
    result = ScipyOptimizer((x**2).sum()).minimize(
        loss_callback=lambda *values: calls.append(values)
    )
    assert len(calls) == result.nfev and all(values == () for values in calls)


def test_an_interrupted_run_leaves_the_parameters_unchanged():
    x = shared([2.0, 1.0], "x")

    def stop(loss):
        if loss < 1.0:
            raise KeyboardInterrupt

    cost = (x**2).sum()
    with pytest.raises(KeyboardInterrupt):
        ScipyOptimizer(cost).minimize(loss_callback=stop, fetches=[cost])
    np.testing.assert_array_equal(x.get_value(), [2.0, 1.0])


# ---------------------------------------------------------------------------
# compilation
# ---------------------------------------------------------------------------
def test_cost_and_gradient_are_one_function_compiled_once(monkeypatch):
    compiled, calls = [], []
    original = pytensor.function

    def counting(*args, **kwargs):
        function = original(*args, **kwargs)
        compiled.append(function)

        def call(*inputs):
            outputs = function(*inputs)
            calls.append(outputs)
            return outputs

        return call

    monkeypatch.setattr(pytensor, "function", counting)
    x = shared([3.0, -1.0], "x")
    optimizer = ScipyOptimizer(((x - 2.0) ** 2).sum())
    assert compiled == []  # compiled by the first minimize
    first = optimizer.minimize()
    x.set_value(np.array([5.0, 5.0]))
    second = optimizer.minimize()
    assert len(compiled) == 1
    assert len(calls) == first.nfev + second.nfev
    assert first.njev == first.nfev  # every evaluation gave both
    for value, gradient in calls:
        assert value.shape == () and gradient.shape == (2,)
    np.testing.assert_allclose(x.get_value(), [2.0, 2.0])


def test_constraints_are_compiled_into_two_functions(monkeypatch):
    count = []
    original = pytensor.function
    monkeypatch.setattr(
        pytensor, "function", lambda *a, **k: count.append(1) or original(*a, **k)
    )
    x = shared([3.0, 3.0, 3.0], "x")
    optimizer = ScipyOptimizer(
        (x**2).sum(),
        equalities=[x[0] - 1.0, x[1] + x[2] - 1.0],
        inequalities=[x[2] - 1.0],
        method="SLSQP",
    )
    optimizer.minimize()
    optimizer.minimize()
    assert len(count) == 3  # loss, constraint values, constraint Jacobians
    np.testing.assert_allclose(x.get_value(), [1.0, 0.0, 1.0], atol=1e-8)


# ---------------------------------------------------------------------------
# inputs, givens, kwargs
# ---------------------------------------------------------------------------
def test_inputs_and_input_values():
    weights = shared([0.0, 0.0], "weights")
    data = pt.vector("data")
    optimizer = ScipyOptimizer(((weights - data) ** 2).sum(), inputs=[data])
    optimizer.minimize(input_values=[[1.0, 2.0]])
    np.testing.assert_allclose(weights.get_value(), [1.0, 2.0], atol=1e-6)
    optimizer.minimize(input_values={data: np.array([-3.0, 0.5])})
    np.testing.assert_allclose(weights.get_value(), [-3.0, 0.5], atol=1e-6)
    with pytest.raises(ValueError, match="input_values must give a value"):
        optimizer.minimize()
    with pytest.raises(ValueError, match="has 2 values but inputs has 1"):
        optimizer.minimize(input_values=[[1.0, 2.0], [3.0]])


def test_givens_replace_data(monkeypatch):
    count = []
    original = pytensor.function
    monkeypatch.setattr(
        pytensor, "function", lambda *a, **k: count.append(1) or original(*a, **k)
    )
    weights = shared([0.0, 0.0], "weights")
    data = pt.vector("data")
    stored = shared([4.0, -1.0], "stored")
    optimizer = ScipyOptimizer(((weights - data) ** 2).sum(), givens={data: stored})
    # ``stored`` enters through givens: it is data, not a parameter
    assert optimizer.params == (weights,)
    fetched = []
    fetches = [data.sum()]
    for _ in range(2):
        weights.set_value(np.zeros(2))
        optimizer.minimize(loss_callback=fetched.append, fetches=fetches)
        np.testing.assert_allclose(weights.get_value(), [4.0, -1.0], atol=1e-6)
    assert len(count) == 1
    assert all(total == 3.0 for total in fetched)


def test_missing_input_is_reported():
    weights = shared([0.0], "weights")
    data = pt.vector("data")
    with pytest.raises(ValueError, match="cost depends on the symbolic variable"):
        ScipyOptimizer(((weights - data) ** 2).sum())


def test_kwargs_and_options_reach_scipy():
    x = shared([-1.2, 1.0], "x")
    cost = 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
    result = ScipyOptimizer(cost, options={"maxiter": 3}).minimize()
    assert result.nit == 3 and not result.success
    x.set_value(np.array([-1.2, 1.0]))
    loose = ScipyOptimizer(cost).minimize(tol=1e-2)
    reference = scipy.optimize.minimize(
        rosen, [-1.2, 1.0], jac=rosen_der, method="L-BFGS-B", tol=1e-2
    )
    assert loose.nit == reference.nit
    with pytest.raises(TypeError, match="bounds=, which ScipyOptimizer sets"):
        ScipyOptimizer(cost).minimize(bounds=[(0, 1)] * 2)


# ---------------------------------------------------------------------------
# argument errors
# ---------------------------------------------------------------------------
def test_argument_errors():
    x = shared([1.0, 2.0], "x")
    with pytest.raises(ValueError, match="cost must be a scalar"):
        ScipyOptimizer(x**2)
    with pytest.raises(TypeError, match="cost must be a scalar symbolic"):
        ScipyOptimizer(3.0)
    with pytest.raises(TypeError, match=r"params\[0\] must be a shared tensor"):
        ScipyOptimizer((x**2).sum(), params=[pt.vector("v")])
    counter = pytensor.shared(np.int64(3), name="counter")
    with pytest.raises(TypeError, match=r"params\[1\] \(counter\) must have a float"):
        ScipyOptimizer((x**2).sum() + counter, params=[x, counter])
    with pytest.raises(ValueError, match="appears more than once"):
        ScipyOptimizer((x**2).sum(), params=[x, x])
    with pytest.raises(ValueError, match=r"equalities\[0\] must be a scalar"):
        ScipyOptimizer((x**2).sum(), equalities=[x - 1.0])
    with pytest.raises(TypeError, match=r"inequalities\[0\] must be a symbolic"):
        ScipyOptimizer((x**2).sum(), inequalities=[1.0])
    with pytest.raises(ValueError, match="no float shared variable"):
        ScipyOptimizer(pt.constant(1.0))
    # a parameter nothing depends on would "converge" where it started
    y = shared([3.0], "y")
    with pytest.raises(ValueError, match=r"params\[1\] \(y\) does not appear"):
        ScipyOptimizer((x**2).sum(), params=[x, y])
    data = pt.vector("data")
    with pytest.raises(ValueError, match=r"params\[0\] \(y\) does not appear"):
        ScipyOptimizer(((data - 1) ** 2).sum(), params=[y], inputs=[], givens={data: x})


def test_parameter_only_in_a_constraint_is_optimised():
    # y is absent from the cost but bound to x by the constraint: SciPy's
    # SLSQP on the same problem, written in NumPy, is the reference
    x, y = shared([2.0], "x"), shared([0.5], "y")
    optimizer = ScipyOptimizer(
        ((x - 3.0) ** 2).sum(),
        params=[x, y],
        equalities=[(x - 2 * y).sum()],
        inequalities=[(1.0 - y).sum()],
        method="SLSQP",
    )
    optimizer.minimize()
    reference = scipy.optimize.minimize(
        lambda v: (v[0] - 3.0) ** 2,
        [2.0, 0.5],
        method="SLSQP",
        constraints=[
            {"type": "eq", "fun": lambda v: v[0] - 2 * v[1]},
            {"type": "ineq", "fun": lambda v: 1.0 - v[1]},
        ],
    )
    ours = np.concatenate([x.get_value(), y.get_value()])
    np.testing.assert_allclose(ours, reference.x, rtol=1e-7)
    np.testing.assert_allclose(ours, [2.0, 1.0], rtol=1e-7)


# ---------------------------------------------------------------------------
# scipy_minimize and as_scipy_method
# ---------------------------------------------------------------------------
def run_iterator(x0, f, df, rule, **kwargs):
    iterator = minimize_iterator(x0, f, df, rule, **kwargs)
    for _ in iterator:
        pass
    return iterator.result()


def test_default_method_is_lbfgs():
    parameter = inspect.signature(scipy_minimize).parameters["method"]
    assert parameter.default == "lbfgs"


@pytest.mark.parametrize(
    ("method", "options"),
    [("sgd", {"step_size": 1e-3, "momentum": 0.9}), (adam, {"step_size": 0.05})],
)
def test_scipy_minimize_matches_minimize(method, options):
    x0 = np.array([-1.2, 1.0])
    ours = scipy_minimize(
        rosen, x0, method=method, jac=rosen_der, options={**options, "maxiter": 150}
    )
    reference = run_iterator(x0, rosen, rosen_der, method, **options, max_iter=150)
    np.testing.assert_array_equal(ours.x, reference.x)
    np.testing.assert_array_equal(ours.x_last, reference.x_last)
    for key in ("fun", "nit", "nfev", "njev", "success"):
        assert ours[key] == reference[key], key
    assert ours.reason == reference.status == Status.MAX_ITER and ours.nit == 150
    assert ours.status == 1


def test_as_scipy_method_matches_minimize():
    x0 = np.array([-1.2, 1.0])
    method = as_scipy_method("adam", step_size=0.05)
    ours = scipy.optimize.minimize(
        rosen, x0, jac=rosen_der, method=method, options={"maxiter": 120}
    )
    reference = run_iterator(x0, rosen, rosen_der, adam, step_size=0.05, max_iter=120)
    np.testing.assert_array_equal(ours.x, reference.x)
    assert (ours.nit, ours.nfev, ours.status) == (120, reference.nfev, 1)
    assert ours.reason == Status.MAX_ITER
    # jac=True: SciPy memoises fun and hands the method its gradient
    both = scipy.optimize.minimize(
        lambda x: (rosen(x), rosen_der(x)),
        x0,
        jac=True,
        method=method,
        options={"maxiter": 120},
    )
    np.testing.assert_array_equal(both.x, reference.x)


def test_as_scipy_method_tol_is_gtol():
    x0 = np.array([3.0, -1.0])
    method = as_scipy_method(sgd, step_size=0.1)
    ours = scipy.optimize.minimize(
        lambda x: float(x @ x), x0, jac=lambda x: 2 * x, method=method, tol=1e-2
    )
    reference = run_iterator(
        x0, lambda x: float(x @ x), lambda x: 2 * x, sgd, step_size=0.1, gtol=1e-2
    )
    assert (ours.status, ours.reason) == (0, Status.CONVERGED_GTOL)
    assert ours.nit == reference.nit < 60
    np.testing.assert_array_equal(ours.x, reference.x)


def test_as_scipy_method_tol_yields_to_given_tolerances():
    # SciPy passes tol to a custom method as options["tol"]; it sets what it
    # sets for L-BFGS-B (ftol, gtol) where neither options nor the
    # hyperparameters give them
    method = as_scipy_method(lbfgs, gtol=1e-3)
    ours = scipy.optimize.minimize(rosen, ROSEN_X0, jac=rosen_der, method=method,
                                   tol=1e-9)  # fmt: skip
    reference = run_iterator(ROSEN_X0, rosen, rosen_der, lbfgs, gtol=1e-3, ftol=1e-9)
    np.testing.assert_array_equal(ours.x, reference.x)
    assert (ours.nit, ours.reason) == (reference.nit, reference.status)


def test_as_scipy_method_rejects_bounds_and_constraints():
    method = as_scipy_method(sgd, step_size=0.1)
    x0 = np.array([1.0])
    with pytest.raises(ValueError, match="bounds are not supported"):
        scipy.optimize.minimize(sphere, x0, jac=True, method=method, bounds=[(0, 1)])
    with pytest.raises(ValueError, match="constraints are not supported"):
        scipy.optimize.minimize(
            sphere,
            x0,
            jac=True,
            method=method,
            constraints=[{"type": "eq", "fun": lambda x: x[0]}],
        )
    with pytest.raises(ValueError, match="constraints are not supported"):
        scipy.optimize.minimize(
            sphere,
            x0,
            jac=True,
            method=method,
            constraints=NonlinearConstraint(lambda x: x[0], 0, 1),
        )
    with pytest.warns(RuntimeWarning, match="does not use hess"):
        result = scipy.optimize.minimize(
            sphere, x0, jac=True, method=method, hess=lambda x: 2 * np.eye(1)
        )
    assert result.success
    assert "sgd" in repr(method) and "step_size=0.1" in repr(method)


def test_options_mapping():
    x0 = np.array([1.0])

    def run(**options):
        return scipy_minimize(
            sphere, x0, method="sgd", jac=True, options={"step_size": 1e-3, **options}
        )

    result = run(maxiter=7, disp=True)
    assert (result.reason, result.nit) == (Status.MAX_ITER, 7)
    result = run(maxfun=5, maxiter=None)
    assert (result.reason, result.nfev) == (Status.MAX_EVALS, 5)
    with pytest.raises(ValueError, match="sets max_iter twice"):
        run(maxiter=3, max_iter=4)
    with pytest.raises(ValueError, match="sets max_evals twice"):
        run(maxfun=3, maxfev=4)
    with pytest.raises(TypeError, match="options must be a dict"):
        scipy_minimize(sphere, x0, method="sgd", jac=True, options=[1])
    with pytest.raises(ValueError, match="not a known algorithm"):
        scipy_minimize(sphere, x0, method="no-such-rule", jac=True)


def test_maxfev_and_gtol():
    result = scipy_minimize(
        sphere,
        np.array([1.0]),
        method="sgd",
        jac=True,
        options={"step_size": 0.1, "gtol": 0.5, "maxfev": 100},
    )
    # x_k = 0.8**k; the gradient 2 * x_k first drops below 0.5 at k = 7
    assert (result.reason, result.nit, result.nfev) == (Status.CONVERGED_GTOL, 7, 8)
    result = scipy_minimize(
        sphere,
        np.array([1.0]),
        method="sgd",
        jac=True,
        options={"step_size": 1e-3, "maxfev": 4, "maxiter": None},
    )
    assert (result.reason, result.nfev) == (Status.MAX_EVALS, 4)


def test_args_reach_fun_and_jac():
    def fun(x, center, scale):
        return float(scale * ((x - center) ** 2).sum())

    def jac(x, center, scale):
        return 2 * scale * (x - center)

    center = np.array([1.0, -2.0])
    result = scipy_minimize(
        fun,
        np.zeros(2),
        args=(center, 0.5),
        method="sgd",
        jac=jac,
        options={"step_size": 0.5},
    )
    assert result.success
    np.testing.assert_allclose(result.x, center, atol=1e-5)
    # a non-tuple is one argument, as in SciPy
    result = scipy_minimize(
        lambda x, c: float(((x - c) ** 2).sum()),
        np.zeros(2),
        args=center,
        method="sgd",
        jac=lambda x, c: 2 * (x - c),
        options={"step_size": 0.25},
    )
    np.testing.assert_allclose(result.x, center, atol=1e-5)


def test_without_jac_uses_forward_differences():
    x0 = np.array([-1.2, 1.0])
    reference = run_iterator(x0, rosen, "2-point", sgd, step_size=1e-3, max_iter=20)
    for jac in (None, False, "2-point"):
        ours = scipy_minimize(
            rosen, x0, method="sgd", jac=jac, options={"step_size": 1e-3, "maxiter": 20}
        )
        np.testing.assert_array_equal(ours.x, reference.x)
        assert ours.nfev == reference.nfev
    with pytest.raises(ValueError, match="jac must be"):
        scipy_minimize(rosen, x0, method="sgd", jac="3-point")


def test_callback_gets_each_iterate():
    # sgd on x.x / 2 with step 0.5 halves x: x_k = x0 / 2**k
    x0 = np.array([1.0, -2.0])
    seen = []
    result = scipy_minimize(
        lambda x: 0.5 * float(x @ x),
        x0,
        method="sgd",
        jac=lambda x: x,
        callback=seen.append,
        options={"step_size": 0.5},
    )
    assert result.success and len(seen) == result.nit > 10
    for k, xk in enumerate(seen, start=1):
        np.testing.assert_array_equal(xk, x0 / 2**k)
    # returning True stops the run
    stopped = scipy_minimize(
        sphere,
        x0,
        method="sgd",
        jac=True,
        callback=lambda xk: bool(abs(xk).max() < 0.1),
        options={"step_size": 0.25},
    )
    assert stopped.reason == Status.CALLBACK and stopped.nit == 5
    assert (stopped.status, stopped.message) == (99, "`callback` returned True.")


def test_callback_intermediate_result_form():
    states = []

    def callback(intermediate_result):
        states.append(intermediate_result)

    result = scipy_minimize(
        sphere,
        np.array([1.0]),
        method="sgd",
        jac=True,
        callback=callback,
        options={"step_size": 0.25, "maxiter": 3},
    )
    assert (
        [state.nit for state in states] == [1, 2, 3] == list(range(1, result.nit + 1))
    )
    np.testing.assert_array_equal(states[-1].x, result.x_last)


def test_x0_types():
    result = scipy_minimize(
        sphere, np.array([1.0, 2.0], dtype=np.float32), method="sgd", jac=True,
        options={"step_size": 0.25},
    )  # fmt: skip
    assert result.x.dtype == np.float32
    result = scipy_minimize(
        sphere, [1, 2], method="sgd", jac=True, options={"step_size": 0.25}
    )
    assert result.x.dtype == np.float64 and result.success


# ---------------------------------------------------------------------------
# scipy_minimize as SciPy users expect it, checked against SciPy itself
# ---------------------------------------------------------------------------
def test_signature_is_scipys_in_its_order():
    ours = inspect.signature(scipy_minimize).parameters
    theirs = inspect.signature(scipy.optimize.minimize).parameters
    assert list(ours) == list(theirs)
    for name in theirs:
        if name != "method":  # SciPy picks one for None; ours is lbfgs
            assert ours[name].default == theirs[name].default, name
    # SciPy's positional order: hess, hessp, bounds, constraints, tol,
    # callback, options after jac
    seen, theirs_seen = [], []
    positional = ((), "BFGS", rosen_der, None, None, None, (), 1e-3)
    reference = scipy.optimize.minimize(
        rosen, ROSEN_X0, *positional, theirs_seen.append, {"maxiter": 4}
    )
    result = scipy_minimize(rosen, ROSEN_X0, *positional, seen.append, {"maxiter": 4})
    assert len(seen) == result.nit == len(theirs_seen) == reference.nit == 4
    assert result.status == reference.status == 1


def test_method_none_is_the_default_and_names_ignore_case():
    expected = scipy_minimize(rosen, ROSEN_X0, jac=rosen_der)
    np.testing.assert_array_equal(
        scipy_minimize(rosen, ROSEN_X0, method=None, jac=rosen_der).x, expected.x
    )
    np.testing.assert_array_equal(
        scipy_minimize(rosen, ROSEN_X0, method="BFGS", jac=rosen_der).x,
        scipy_minimize(rosen, ROSEN_X0, method=bfgs, jac=rosen_der).x,
    )
    with pytest.raises(ValueError, match="the closest rule is 'lbfgs'"):
        scipy_minimize(rosen, ROSEN_X0, method="L-BFGS-B", jac=rosen_der)
    with pytest.raises(ValueError, match="the closest rule is 'truncated_newton'"):
        scipy_minimize(rosen, ROSEN_X0, method="Newton-CG", jac=rosen_der)


def _scipy_tolerances(monkeypatch, method, solver):
    """The options scipy.optimize.minimize(tol=0.125) gives ``solver``."""
    seen = {}

    def record(*args, **options):
        seen.update(options)
        return OptimizeResult(x=ROSEN_X0, fun=0.0, success=True, status=0)

    monkeypatch.setattr(scipy.optimize._minimize, solver, record)
    scipy.optimize.minimize(rosen, ROSEN_X0, method=method, jac=rosen_der, tol=0.125)
    monkeypatch.undo()
    return {key: value for key, value in seen.items() if value == 0.125}


@pytest.mark.parametrize(
    ("rule", "method", "solver"),
    [
        (bfgs, "BFGS", "_minimize_bfgs"),
        (cg, "CG", "_minimize_cg"),
        (lbfgs, "L-BFGS-B", "_minimize_lbfgsb"),
        (truncated_newton, "Newton-CG", "_minimize_newtoncg"),
    ],
)
def test_tol_sets_what_scipy_sets_for_the_corresponding_method(
    monkeypatch, rule, method, solver
):
    tolerances = _scipy_tolerances(monkeypatch, method, solver)
    assert tolerances  # BFGS/CG: gtol, L-BFGS-B: ftol and gtol, Newton-CG: xtol
    if "gtol" not in tolerances:
        # Newton-CG has no gradient test: stop on the step alone, as SciPy
        tolerances["gtol"] = None
    tol = 1e-4
    ours = scipy_minimize(rosen, ROSEN_X0, method=rule, jac=rosen_der, tol=tol)
    expected = run_iterator(
        ROSEN_X0,
        rosen,
        rosen_der,
        rule,
        **{key: None if value is None else tol for key, value in tolerances.items()},
    )
    np.testing.assert_array_equal(ours.x, expected.x)
    assert (ours.nit, ours.nfev, ours.reason) == (
        expected.nit,
        expected.nfev,
        expected.status,
    )
    # options win over tol, as in SciPy (setdefault)
    looser = scipy_minimize(
        rosen, ROSEN_X0, method=rule, jac=rosen_der, tol=tol, options={"tol": 1e-2}
    )
    assert looser.nit <= ours.nit


def test_tol_of_other_rules_is_gtol_as_for_a_custom_scipy_method():
    ours = scipy_minimize(
        sphere, np.array([1.0]), method="sgd", jac=True, tol=0.5,
        options={"step_size": 0.1},
    )  # fmt: skip
    assert (ours.reason, ours.nit) == (Status.CONVERGED_GTOL, 7)


def test_a_tight_tol_gives_newton_cg_precision():
    theirs = scipy.optimize.minimize(
        rosen, ROSEN_X0, method="Newton-CG", jac=rosen_der, tol=1e-10
    )
    ours = scipy_minimize(
        rosen, ROSEN_X0, method="truncated_newton", jac=rosen_der, tol=1e-10
    )
    assert theirs.status == ours.status == 0
    assert ours.reason == Status.CONVERGED_XTOL
    assert np.abs(theirs.x - 1).max() < 1e-7 and np.abs(ours.x - 1).max() < 1e-7


def test_bounds_and_constraints_raise_naming_the_method():
    bounds = [(-2.0, 0.5), (None, None)]
    constrained = scipy.optimize.minimize(
        rosen, ROSEN_X0, method="L-BFGS-B", jac=rosen_der, bounds=bounds
    )
    assert constrained.success and constrained.x[0] <= 0.5  # SciPy takes them
    with pytest.raises(
        ValueError, match=r"bounds are not supported by scipy_minimize\(method='cg'\)"
    ):
        scipy_minimize(rosen, ROSEN_X0, method="cg", jac=rosen_der, bounds=bounds)
    with pytest.raises(ValueError, match=r"bounds are not supported.*'lbfgs'"):
        scipy_minimize(
            rosen, ROSEN_X0, jac=rosen_der, bounds=Bounds([-2, -np.inf], [0.5, 1])
        )
    constraint = {"type": "ineq", "fun": lambda x: 0.5 - x[0]}
    scipy.optimize.minimize(rosen, ROSEN_X0, jac=rosen_der, constraints=[constraint])
    for constraints in (constraint, [constraint]):
        with pytest.raises(ValueError, match=r"constraints are not supported.*sgd"):
            scipy_minimize(rosen, ROSEN_X0, method="sgd", constraints=constraints)


@pytest.mark.parametrize(
    "bounds",
    [[(None, None), (None, None)], Bounds(-np.inf, np.inf), [(-np.inf, None)] * 2],
)
def test_bounds_that_bound_nothing_are_accepted(bounds):
    theirs = scipy.optimize.minimize(
        rosen, ROSEN_X0, method="L-BFGS-B", jac=rosen_der, bounds=bounds
    )
    free = scipy.optimize.minimize(rosen, ROSEN_X0, method="L-BFGS-B", jac=rosen_der)
    np.testing.assert_array_equal(theirs.x, free.x)
    ours = scipy_minimize(rosen, ROSEN_X0, jac=rosen_der, bounds=bounds, constraints=[])
    np.testing.assert_array_equal(
        ours.x, scipy_minimize(rosen, ROSEN_X0, jac=rosen_der).x
    )


def test_hess_and_hessp_give_truncated_newton_exact_products():
    theirs = scipy.optimize.minimize(
        rosen, ROSEN_X0, method="Newton-CG", jac=rosen_der, hessp=rosen_hess_prod
    )
    calls = []

    def hessp(x, p):
        calls.append(1)
        return rosen_hess_prod(x, p)

    ours = scipy_minimize(
        rosen, ROSEN_X0, method="truncated_newton", jac=rosen_der, hessp=hessp
    )
    assert theirs.success and ours.success
    np.testing.assert_allclose(ours.x, theirs.x, atol=1e-4)
    assert ours.nhev == len(calls) > 0 and theirs.nhev > 0
    # without hessp: forward differences of the gradient, more gradients
    differences = scipy_minimize(
        rosen, ROSEN_X0, method="truncated_newton", jac=rosen_der
    )
    assert differences.nhev == 0 and differences.njev > ours.njev
    # hess gives the same products; when both are given hess wins, as SciPy's
    for kwargs in ({"hess": rosen_hess}, {"hess": rosen_hess, "hessp": np.dot}):
        with_hess = scipy_minimize(
            rosen, ROSEN_X0, method="truncated_newton", jac=rosen_der, **kwargs
        )
        # rosen_hess(x) @ p rounds otherwise than rosen_hess_prod: 4 ulps of
        # noise on the products move truncated Newton's end point by 7e-13
        np.testing.assert_allclose(with_hess.x, ours.x, rtol=1e-10)
        assert (with_hess.nit, with_hess.nhev) == (ours.nit, ours.nhev)
    # jac=True, and args reach hessp
    both = scipy_minimize(
        lambda x, scale: (scale * rosen(x), scale * rosen_der(x)),
        ROSEN_X0,
        args=(2.0,),
        method="truncated_newton",
        jac=True,
        hessp=lambda x, p, scale: scale * rosen_hess_prod(x, p),
    )
    assert both.success and both.nhev > 0
    np.testing.assert_allclose(both.x, 1.0, atol=1e-4)
    # "2-point" is the rules' own forward differences
    two_point = scipy_minimize(
        rosen, ROSEN_X0, method="truncated_newton", jac=rosen_der, hess="2-point"
    )
    np.testing.assert_array_equal(two_point.x, differences.x)


def test_hessian_free_takes_hessp():
    ours = scipy_minimize(
        rosen, ROSEN_X0, method=hessian_free, jac=rosen_der, hessp=rosen_hess_prod
    )
    assert ours.success and ours.nhev > 0
    np.testing.assert_allclose(ours.x, 1.0, atol=1e-4)


def test_hess_is_refused_by_rules_without_second_derivatives():
    with pytest.warns(RuntimeWarning, match="does not use Hessian"):
        scipy.optimize.minimize(
            rosen, ROSEN_X0, method="BFGS", jac=rosen_der, hess=rosen_hess
        )
    with pytest.raises(ValueError, match=r"method='bfgs'\) does not use hess:"):
        scipy_minimize(rosen, ROSEN_X0, method="bfgs", jac=rosen_der, hess=rosen_hess)
    with pytest.raises(ValueError, match=r"does not use hessp:.*sgd takes no Hessian"):
        scipy_minimize(rosen, ROSEN_X0, method=sgd, hessp=rosen_hess_prod)
    with pytest.raises(ValueError, match="hess must be a callable"):
        scipy_minimize(rosen, ROSEN_X0, method="truncated_newton", hess="3-point")
    with pytest.raises(TypeError, match="hessp must be a callable"):
        scipy_minimize(rosen, ROSEN_X0, method="truncated_newton", hessp=1.0)


@pytest.mark.parametrize("shape", [(1,), (1, 1)])
def test_a_one_element_array_objective_is_accepted_as_by_scipy(shape):
    def fun(x):
        return np.full(shape, rosen(x))

    def fun_and_jac(x):
        return np.full(shape, rosen(x)), rosen_der(x)

    theirs = scipy.optimize.minimize(fun, ROSEN_X0, method="BFGS", jac=rosen_der)
    assert theirs.success
    expected = scipy_minimize(rosen, ROSEN_X0, method="bfgs", jac=rosen_der)
    for f, jac in ((fun, rosen_der), (fun_and_jac, True), (fun, None)):
        ours = scipy_minimize(f, ROSEN_X0, method="bfgs", jac=jac)
        assert ours.success and isinstance(ours.fun, float)
        if jac is not None:
            np.testing.assert_array_equal(ours.x, expected.x)
        np.testing.assert_allclose(ours.x, theirs.x, atol=1e-4)


def test_an_objective_of_several_elements_is_refused_as_by_scipy():
    def fun(x):
        return np.array([rosen(x), 0.0])

    with pytest.raises(ValueError):
        scipy.optimize.minimize(fun, ROSEN_X0, method="BFGS", jac=rosen_der)
    with pytest.raises(ValueError, match=r"f must return a scalar, got shape \(2,\)"):
        scipy_minimize(fun, ROSEN_X0, method="bfgs", jac=rosen_der)


def test_intermediate_result_has_scipys_fields():
    theirs_states, states = [], []

    def theirs_callback(intermediate_result):
        theirs_states.append(intermediate_result)

    def callback(intermediate_result):
        states.append(intermediate_result)

    theirs = scipy.optimize.minimize(
        rosen, ROSEN_X0, method="BFGS", jac=rosen_der, callback=theirs_callback
    )
    ours = scipy_minimize(
        rosen, ROSEN_X0, method="bfgs", jac=rosen_der, callback=callback
    )
    assert len(theirs_states) == theirs.nit and len(states) == ours.nit
    assert set(theirs_states[0]) <= set(states[0])
    assert set(states[0]) == {"x", "fun", "jac", "nit", "nfev", "njev"}
    for k, state in enumerate(states, start=1):
        assert isinstance(state, OptimizeResult) and state.nit == k
        assert state.fun == rosen(state.x)
        np.testing.assert_array_equal(state.jac, rosen_der(state.x))
    for state in theirs_states:  # what SciPy's fields mean
        assert state.fun == rosen(state.x)
    assert [s.nfev for s in states] == sorted(s.nfev for s in states)
    # a line search evaluated each iterate: the reports cost nothing
    without = scipy_minimize(rosen, ROSEN_X0, method="bfgs", jac=rosen_der)
    assert (
        (ours.nfev, ours.njev)
        == (without.nfev, without.njev)
        == (
            states[-1].nfev,
            states[-1].njev,
        )
    )
    np.testing.assert_array_equal(ours.x, without.x)
    np.testing.assert_array_equal(ours.jac, rosen_der(ours.x))


@pytest.mark.parametrize("jac", [rosen_der, "2-point", True])
def test_intermediate_fun_of_a_rule_that_evaluates_it_next_time(jac):
    # sgd evaluates f at an iterate in the next iteration: the report
    # evaluates it once, and the next iteration recalls it
    def fun(x):
        return (rosen(x), rosen_der(x)) if jac is True else rosen(x)

    states = []

    def callback(intermediate_result):
        states.append(intermediate_result)

    options = {"step_size": 1e-3, "maxiter": 5}
    ours = scipy_minimize(fun, ROSEN_X0, method="sgd", jac=jac, callback=callback,
                          options=options)  # fmt: skip
    without = scipy_minimize(fun, ROSEN_X0, method="sgd", jac=jac, options=options)
    np.testing.assert_array_equal(ours.x_last, without.x_last)
    np.testing.assert_array_equal(ours.x, without.x)
    assert [state.fun for state in states] == [rosen(s.x) for s in states]
    # only the last iterate, never evaluated by the run, costs a call of f
    assert ours.nfev == without.nfev + 1 == states[-1].nfev
    assert ("jac" in states[-1]) == (jac is True)


def test_a_callback_raising_stop_iteration_gives_scipys_status_99():
    def stop_at_three():
        calls = []

        def callback(intermediate_result):
            calls.append(intermediate_result)
            if len(calls) == 3:
                raise StopIteration

        return callback

    theirs = scipy.optimize.minimize(
        rosen, ROSEN_X0, method="BFGS", jac=rosen_der, callback=stop_at_three()
    )
    ours = scipy_minimize(
        rosen, ROSEN_X0, method="bfgs", jac=rosen_der, callback=stop_at_three()
    )
    for key in ("status", "message", "success", "nit"):
        assert ours[key] == theirs[key], key
    assert (ours.status, ours.reason) == (99, Status.CALLBACK)


def _both(fun, jac, method, rule, options=None):
    theirs = scipy.optimize.minimize(
        fun, np.array([1.0, 2.0]), method=method, jac=jac, options=options
    )
    ours = scipy_minimize(
        fun, np.array([1.0, 2.0]), method=rule, jac=jac, options=options
    )
    return theirs, ours


def test_status_and_message_follow_scipys_conventions():
    # 0: converged
    theirs, ours = _both(rosen, rosen_der, "BFGS", "bfgs")
    assert (ours.status, ours.message, ours.success) == (
        theirs.status, theirs.message, theirs.success,
    ) == (0, "Optimization terminated successfully.", True)  # fmt: skip
    assert ours.reason == Status.CONVERGED_GTOL
    # 1: the iteration limit (BFGS's message) and the evaluation limit
    theirs, ours = _both(rosen, rosen_der, "BFGS", "bfgs", {"maxiter": 3})
    assert (ours.status, ours.message, ours.success) == (
        theirs.status, theirs.message, theirs.success,
    ) == (1, "Maximum number of iterations has been exceeded.", False)  # fmt: skip
    assert ours.reason == Status.MAX_ITER
    theirs, ours = _both(rosen, rosen_der, "L-BFGS-B", "lbfgs", {"maxfun": 5})
    assert ours.status == theirs.status == 1 and ours.reason == Status.MAX_EVALS
    assert ours.message == "Maximum number of function evaluations has been exceeded."
    # 2: the line search failed (a gradient pointing uphill)
    theirs, ours = _both(lambda x: float(x @ x), lambda x: -2 * x, "BFGS", "bfgs")
    precision_loss = "Desired error not necessarily achieved due to precision loss."
    assert (ours.status, ours.message, ours.success) == (
        theirs.status, theirs.message, theirs.success,
    ) == (2, precision_loss, False)  # fmt: skip
    assert ours.reason == Status.LINE_SEARCH_FAILED

    # 3: NaN
    def nan_below_half(x):
        return np.nan if x[0] < 0.5 else float(x @ x)

    theirs, ours = _both(nan_below_half, lambda x: 2 * x, "BFGS", "bfgs")
    assert (ours.status, ours.message, ours.success) == (
        theirs.status, theirs.message, theirs.success,
    ) == (3, "NaN result encountered.", False)  # fmt: skip
    assert ours.reason == Status.NON_FINITE


def test_every_status_has_a_scipy_code():
    from pytensor_optim.interface.scipy import _scipy_status

    for reason in set(Status) - {Status.RUNNING}:
        status, message = _scipy_status(reason)
        assert (status == 0) == reason.success
        assert status in (0, 1, 2, 3, 99) and message.endswith(".")
        if status == 2:
            assert reason == Status.LINE_SEARCH_FAILED


def test_as_scipy_method_results_follow_scipys_conventions():
    method = as_scipy_method("truncated_newton")
    result = scipy.optimize.minimize(
        rosen, ROSEN_X0, jac=rosen_der, hessp=rosen_hess_prod, method=method,
        options={"maxiter": 3},
    )  # fmt: skip
    assert (result.status, result.reason, result.nit) == (1, Status.MAX_ITER, 3)
    assert result.nhev > 0
