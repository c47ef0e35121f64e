"""minimize / minimize_iterator on NumPy callables (API.md §7)."""

import pickle

import numpy as np
import pytest
import scipy.optimize
from scipy.optimize import OptimizeResult, rosen, rosen_der, rosen_hess_prod

from pytensor_optim import (
    Status,
    minimize,
    minimize_iterator,
    sgd,
    truncated_newton,
)


# module-level callables, so that iterators pickle
def sphere(x):
    return float(np.sum(x**2))


def sphere_grad(x):
    return 2 * x


def sphere_both(x):
    return sphere(x), sphere_grad(x)


def parts(x):
    matrix, vector = x
    return float(np.sum((matrix - 1.0) ** 2) + np.sum((vector + 2.0) ** 2))


def parts_grad(x):
    matrix, vector = x
    return [2 * (matrix - 1.0), 2 * (vector + 2.0)]


class Boom(RuntimeError):
    pass


def exploding(x):
    if x[0] < 1.0:
        raise Boom("f refuses x < 1")
    return sphere(x)


def rosen_limited(x):
    return rosen(x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ndarray_in_ndarray_out(dtype):
    x0 = np.array([[3.0, -1.0], [0.5, 2.0]], dtype=dtype)
    x = minimize(x0, sphere, sphere_grad, sgd, step_size=0.1)
    assert isinstance(x, np.ndarray) and x.dtype == dtype and x.shape == (2, 2)
    np.testing.assert_allclose(x, 0, atol=1e-5)
    np.testing.assert_array_equal(x0, [[3.0, -1.0], [0.5, 2.0]])  # not mutated


@pytest.mark.parametrize("container", [list, tuple])
def test_structure_and_dtypes_are_returned(container):
    x0 = container([np.zeros((2, 3), dtype=np.float32), np.zeros(4)])
    x = minimize(x0, parts, parts_grad, "sgd", step_size=0.1, momentum=0.5)
    assert type(x) is container and len(x) == 2
    assert x[0].dtype == np.float32 and x[0].shape == (2, 3)
    assert x[1].dtype == np.float64 and x[1].shape == (4,)
    np.testing.assert_allclose(x[0], 1.0, atol=1e-5)
    np.testing.assert_allclose(x[1], -2.0, atol=1e-5)


def run_modes():
    x0 = np.array([1.5, -0.5])
    results = {}
    for name, (f, df) in {
        "callable": (sphere, sphere_grad),
        "pair": (sphere_both, True),
        "fd": (sphere, "2-point"),
    }.items():
        it = minimize_iterator(x0, f, df, sgd, step_size=0.2, max_iter=15, gtol=None)
        for _ in it:
            pass
        results[name] = it
    return results


def test_df_modes_agree():
    results = run_modes()
    reference = results["callable"]
    # iterates of x <- x - 0.2 * 2x = 0.6 x, written out independently
    assert reference.n_iter == 15
    np.testing.assert_allclose(reference.x_last, np.array([1.5, -0.5]) * 0.6**15)
    np.testing.assert_allclose(results["pair"].x_last, reference.x_last, rtol=1e-12)
    np.testing.assert_allclose(results["fd"].x_last, reference.x_last, atol=1e-6)
    assert reference.n_evals == reference.n_grad_evals == 15
    assert results["pair"].n_evals == 15
    # forward differences: one base evaluation and one per component
    assert results["fd"].n_evals == 15 * 3 and results["fd"].n_grad_evals == 15


def test_finite_differences_match_the_gradient_on_rosenbrock():
    x0 = np.array([-1.2, 1.0, 0.7])
    exact = minimize_iterator(x0, rosen, rosen_der, sgd, step_size=1e-4, max_iter=5)
    approx = minimize_iterator(x0, rosen, "2-point", sgd, step_size=1e-4, max_iter=5)
    for _ in exact:
        pass
    for _ in approx:
        pass
    np.testing.assert_allclose(approx.x_last, exact.x_last, rtol=1e-6)


def test_iterator_protocol_and_attributes():
    it = minimize_iterator(np.array([2.0]), sphere, sphere_grad, sgd, step_size=0.25)
    assert iter(it) is it
    assert next(it) is it
    assert it.n_iter == 1 and it.status == Status.RUNNING and it.message == "running"
    np.testing.assert_allclose(it.x, [2.0])  # best evaluated point so far
    assert it.fx == 4.0
    np.testing.assert_allclose(it.x_last, [1.0])
    assert it.f is sphere and it.df is sphere_grad and it.opt_algo is sgd
    steps = sum(1 for _ in it)
    assert it.status == Status.CONVERGED_GTOL and it.status.success
    with pytest.raises(StopIteration):
        next(it)
    result = it.result()
    assert isinstance(result, OptimizeResult)
    assert result.success and result.status == Status.CONVERGED_GTOL
    assert result.nit == it.n_iter == steps  # the last call detected convergence
    assert result.nfev == it.n_evals == steps + 1
    assert result.point == "best" and result.fun == it.fx
    np.testing.assert_array_equal(result.x, it.x)


def test_default_stopping_and_override():
    it = minimize_iterator(np.array([1.0]), sphere, sphere_grad, sgd, step_size=1e-3)
    for _ in it:
        pass
    assert it.status == Status.MAX_ITER and it.n_iter == 1000
    it = minimize_iterator(
        np.array([1.0]), sphere, sphere_grad, sgd, step_size=1e-3, max_iter=7
    )
    assert sum(1 for _ in it) == 7


def test_best_point_is_returned_when_the_last_is_worse():
    # step 1.05 on x^2 overshoots: |x| grows by 1.1 each step, so x0 is best
    it = minimize_iterator(
        np.array([1.0]), sphere, sphere_grad, sgd, step_size=1.05, max_iter=10
    )
    for _ in it:
        pass
    np.testing.assert_array_equal(it.x, [1.0])
    assert it.fx == 1.0
    assert abs(it.x_last[0]) > 2.0
    assert it.result().point == "best"


def test_callback_receives_iterator_and_can_stop():
    seen = []

    def callback(intermediate):
        seen.append((intermediate.n_iter, intermediate.x_last.copy()))
        return intermediate.n_iter == 3

    it = minimize_iterator(
        np.array([4.0]), sphere, sphere_grad, sgd, step_size=0.1, callback=callback
    )
    for _ in it:
        pass
    assert it.status == Status.CALLBACK and not it.status.success
    assert [n for n, _ in seen] == [1, 2, 3]
    np.testing.assert_allclose(seen[-1][1], [4.0 * 0.8**3])

    def raising(intermediate):
        raise StopIteration

    it = minimize_iterator(
        np.array([4.0]), sphere, sphere_grad, sgd, step_size=0.1, callback=raising
    )
    assert sum(1 for _ in it) == 1 and it.status == Status.CALLBACK


def test_pickle_and_resume_gives_identical_iterates():
    kwargs = dict(step_size=1e-3, momentum=0.9, dampening=0.1, max_iter=40)
    x0 = np.array([-1.2, 1.0, 0.3])
    straight = minimize_iterator(x0, rosen_limited, rosen_der, sgd, **kwargs)
    for _ in straight:
        pass
    resumed = minimize_iterator(x0, rosen_limited, rosen_der, sgd, **kwargs)
    for _ in range(15):
        next(resumed)
    resumed = pickle.loads(pickle.dumps(resumed))
    assert resumed.n_iter == 15
    for _ in resumed:
        pass
    np.testing.assert_array_equal(resumed.x_last, straight.x_last)
    np.testing.assert_array_equal(resumed.x, straight.x)
    assert resumed.n_evals == straight.n_evals and resumed.n_iter == 40
    assert resumed.status == straight.status == Status.MAX_ITER


def test_errors_of_f_propagate_unchanged():
    it = minimize_iterator(np.array([3.0]), exploding, sphere_grad, sgd, step_size=0.25)
    with pytest.raises(Boom) as info:
        for _ in it:
            pass
    assert str(info.value) == "f refuses x < 1"
    assert not getattr(info.value, "__notes__", None)
    np.testing.assert_allclose(it.x_last, [0.75])  # left as before the failed call
    np.testing.assert_allclose(it.x, [1.5])


def test_non_finite_f_stops_with_last_finite_point():
    def f(x):
        return float("nan") if x[0] < 1.0 else sphere(x)

    it = minimize_iterator(np.array([3.0]), f, sphere_grad, sgd, step_size=0.25)
    for _ in it:
        pass
    assert it.status == Status.NON_FINITE
    np.testing.assert_allclose(it.x_last, [0.75])
    np.testing.assert_allclose(it.x, [1.5])


@pytest.mark.parametrize(
    "x0, error, text",
    [
        ("3.0", TypeError, "x0 must be an ndarray, a number"),
        ([np.zeros(2), 1.0], TypeError, r"x0\[1\] must be an ndarray"),
        ([[1.0, 2.0], [3.0]], TypeError, "array-like of numbers"),
        (np.array([1 + 2j]), TypeError, "real numbers"),
        (np.array([True]), TypeError, "real numbers"),
        (True, TypeError, "x0 must be"),
        ([], ValueError, "empty"),
    ],
)
def test_bad_x0(x0, error, text):
    with pytest.raises(error, match=text):
        minimize(x0, sphere, sphere_grad, sgd, step_size=0.1)


def test_bad_f_df_and_algo():
    x0 = np.zeros(2)
    with pytest.raises(TypeError, match="f must be callable"):
        minimize(x0, 3.0, sphere_grad, sgd, step_size=0.1)
    with pytest.raises(TypeError, match="df must be"):
        minimize(x0, sphere, 3.0, sgd, step_size=0.1)
    with pytest.raises(ValueError, match="df must be"):
        minimize(x0, sphere, "3-point", sgd, step_size=0.1)
    with pytest.raises(ValueError, match="sgd needs gradients"):
        minimize(x0, sphere, None, sgd, step_size=0.1)
    with pytest.raises(ValueError, match="not a known algorithm"):
        minimize(x0, sphere, sphere_grad, "newton", step_size=0.1)
    with pytest.raises(TypeError, match="opt_algo"):
        minimize(x0, sphere, sphere_grad, 3, step_size=0.1)
    with pytest.raises(TypeError, match="callback"):
        minimize(x0, sphere, sphere_grad, sgd, step_size=0.1, callback=3)
    with pytest.raises(TypeError, match="step_size"):
        minimize(x0, sphere, sphere_grad, sgd)


def test_bad_returns_of_f_and_df():
    x0 = np.zeros(2)
    with pytest.raises(ValueError, match="f must return a scalar"):
        minimize(x0, lambda x: x, sphere_grad, sgd, step_size=0.1)
    with pytest.raises(ValueError, match=r"df returned an array of shape \(3,\)"):
        minimize(x0, sphere, lambda x: np.zeros(3), sgd, step_size=0.1)
    with pytest.raises(ValueError, match="list or tuple of 2"):
        minimize([x0, x0], parts, lambda x: x[0], sgd, step_size=0.1)
    with pytest.raises(ValueError, match="pair"):
        minimize(x0, sphere, True, sgd, step_size=0.1)


def test_f_sees_read_only_arrays_of_x0s_structure():
    seen = []

    def f(x):
        seen.append(x)
        with pytest.raises(ValueError, match="read-only"):
            x[0][0] = 1.0
        return parts(x)

    minimize(
        (np.zeros((2, 3), dtype=np.float32), np.zeros(4)),
        f,
        parts_grad,
        sgd,
        step_size=0.1,
        max_iter=2,
    )
    assert type(seen[0]) is tuple and seen[0][0].dtype == np.float32


def test_user_rule_works():
    def halving(params, cost=None, gradients=None, stop=None, updates=None, **kw):
        return sgd(params, cost, gradients, stop, updates, step_size=0.25, **kw)

    x = minimize(np.array([8.0]), sphere, sphere_grad, halving)
    np.testing.assert_allclose(x, 0, atol=1e-5)


@pytest.mark.parametrize("line_search", ["strong_wolfe", "backtracking"])
def test_a_line_search_calls_f_once_per_evaluation_in_every_df_mode(line_search):
    """The real calls of f/df are the rule's own evaluation count."""
    from pytensor_optim import lbfgs

    calls = {"f": 0, "df": 0, "both": 0}

    def f(x):
        calls["f"] += 1
        return rosen(x)

    def df(x):
        calls["df"] += 1
        return rosen_der(x)

    def both(x):
        calls["both"] += 1
        return rosen(x), rosen_der(x)

    x0 = np.array([-1.2, 1.0])
    options = {"line_search": line_search, "max_evals": 10**6, "max_iter": 25}
    separate = minimize_iterator(x0, f, df, lbfgs, **options)
    pair = minimize_iterator(x0, both, True, lbfgs, **options)
    for iterator in (separate, pair):
        for _ in iterator:
            pass
    counted = int(pair.updates.evaluations.get_value())
    assert counted > pair.n_iter
    assert calls == {"f": counted, "df": counted, "both": counted}
    assert separate.n_evals == pair.n_evals == counted
    np.testing.assert_array_equal(separate.x_last, pair.x_last)


@pytest.mark.parametrize(
    ("x0", "expected"),
    [
        ([-1.2, 1.0], np.array([-1.2, 1.0])),
        ((-1.2, 1.0), np.array([-1.2, 1.0])),
        (np.array([-1, 1]), np.array([-1.0, 1.0])),
        ([-1, 1], np.array([-1.0, 1.0])),
        (3, np.array([3.0])),
        (np.float64(3.0), np.array([3.0])),
    ],
)
def test_inputs_scipy_accepts(x0, expected):
    """What scipy.optimize.minimize accepts, converted as it converts it:
    the same x0 reaches f, and the same answer comes back."""
    from scipy.optimize import minimize as scipy_minimize

    seen, seen_by_scipy = [], []

    def f(x):
        seen.append(x.copy())
        return float(((x - 1.0) ** 2).sum())

    def f_scipy(x):
        seen_by_scipy.append(x.copy())
        return float(((x - 1.0) ** 2).sum())

    x = minimize(x0, f, lambda x: 2 * (x - 1.0), "bfgs")
    theirs = scipy_minimize(f_scipy, x0, jac=lambda x: 2 * (x - 1.0), method="BFGS")
    np.testing.assert_array_equal(seen[0], expected, strict=True)
    np.testing.assert_array_equal(seen_by_scipy[0], expected, strict=True)
    assert type(x) is np.ndarray and x.dtype == theirs.x.dtype
    assert x.shape == theirs.x.shape
    np.testing.assert_allclose(x, theirs.x, atol=1e-8)


@pytest.mark.parametrize("shape", [(1,), (1, 1)])
def test_a_one_element_array_from_f_is_its_value_as_for_scipy(shape):
    x0 = np.array([-1.2, 1.0])

    def f(x):
        return np.full(shape, rosen(x))

    theirs = scipy.optimize.minimize(f, x0, method="BFGS", jac=rosen_der)
    assert theirs.success  # SciPy accepts it
    expected = minimize(x0, rosen, rosen_der, "bfgs")
    for df, function in (
        (rosen_der, f),
        (True, lambda x: (f(x), rosen_der(x))),
        ("2-point", f),
    ):
        x = minimize(x0, function, df, "bfgs")
        it = minimize_iterator(x0, function, df, "bfgs")
        for _ in it:
            pass
        np.testing.assert_array_equal(it.x, x)
        assert isinstance(it.fx, float) and it.status.success
        if not isinstance(df, str):  # finite differences differ a little
            np.testing.assert_array_equal(x, expected)
        np.testing.assert_allclose(x, theirs.x, atol=1e-4)
    with pytest.raises(ValueError, match=r"f must return a scalar, got shape \(1, 2\)"):
        minimize(x0, lambda x: np.ones((1, 2)), rosen_der, "bfgs")


def test_hessp_gives_truncated_newton_its_products_and_pickles():
    x0 = np.array([-1.2, 1.0])
    calls = []

    def hessp(x, p):
        calls.append(1)
        return rosen_hess_prod(x, p)

    it = minimize_iterator(x0, rosen, rosen_der, truncated_newton, hessp=hessp)
    for _ in it:
        pass
    assert it.status.success and len(calls) == it.n_hess_evals > 0
    np.testing.assert_allclose(it.x, 1.0, atol=1e-4)
    x = minimize(x0, rosen, rosen_der, truncated_newton, hessp=hessp)
    np.testing.assert_array_equal(x, it.x)
    # without hessp: forward differences of the gradient, other iterates
    plain = minimize_iterator(x0, rosen, rosen_der, truncated_newton)
    for _ in plain:
        pass
    assert plain.n_hess_evals == 0 and plain.n_grad_evals > it.n_grad_evals

    iterator = minimize_iterator(
        x0, rosen, rosen_der, truncated_newton, hessp=rosen_hess_prod, max_iter=30
    )
    for _ in range(5):
        next(iterator)
    copy = pickle.loads(pickle.dumps(iterator))
    for _ in iterator:
        pass
    for _ in copy:
        pass
    np.testing.assert_array_equal(copy.x_last, iterator.x_last)
    assert copy.n_hess_evals == iterator.n_hess_evals > 0
    with pytest.raises(ValueError, match="hessp needs gradients"):
        minimize_iterator(x0, rosen, None, "cmaes", hessp=rosen_hess_prod)
    with pytest.raises(TypeError, match="hessp must be a callable"):
        minimize_iterator(x0, rosen, rosen_der, truncated_newton, hessp="exact")


@pytest.mark.parametrize("algo", ["lbfgs", "bfgs", "adam"])
def test_size_0_arrays_contribute_nothing(algo):
    # gtol (a default here) over an empty gradient holds at once
    x = minimize(np.array([]), sphere, sphere_grad, algo)
    assert type(x) is np.ndarray and x.shape == (0,)
    empty = np.zeros((2, 0))
    x = minimize([empty, np.ones(3)], parts, parts_grad, algo, max_iter=50)
    assert x[0].shape == (2, 0)
    alone = minimize(
        np.ones(3),
        lambda v: parts([empty, v]),
        lambda v: parts_grad([empty, v])[1],
        algo,
        max_iter=50,
    )
    assert not np.allclose(alone, 1.0)
    np.testing.assert_allclose(x[1], alone, rtol=1e-12)
