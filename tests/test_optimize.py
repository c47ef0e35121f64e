"""optimize(): in-place runs, steps per call, callback, progress."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

import pytensor_optim as po


def problem():
    w = pytensor.shared(np.array([3.0, -2.0]), name="w")
    return w, ((w - 1.0) ** 2).sum()


@pytest.mark.parametrize("steps_per_call", [1, 7, 100])
def test_same_iterates_whatever_the_steps_per_call(steps_per_call):
    w, cost = problem()
    result = po.optimize(
        cost,
        [w],
        po.sgd,
        step_size=0.1,
        max_iter=23,
        steps_per_call=steps_per_call,
        mode="FAST_COMPILE",
    )
    # x_{k+1} - 1 = 0.8 (x_k - 1), written out independently
    expected = 1 + (np.array([3.0, -2.0]) - 1) * 0.8**23
    np.testing.assert_allclose(w.get_value(), expected, rtol=1e-12)
    np.testing.assert_array_equal(result.x[0], w.get_value())
    assert result.nit == 23 and result.status == po.Status.MAX_ITER
    assert result.ncalls == -(-23 // steps_per_call)
    assert not result.success


def test_converges_and_reports():
    w, cost = problem()
    result = po.optimize(
        cost,
        [w],
        "adam",
        step_size=0.3,
        gtol=1e-6,
        max_iter=5000,
        steps_per_call=50,
        mode="FAST_COMPILE",
    )
    assert result.success and result.status == po.Status.CONVERGED_GTOL
    np.testing.assert_allclose(w.get_value(), [1.0, 1.0], atol=1e-6)
    assert result.fun == pytest.approx(0.0, abs=1e-11)


def test_givens_and_data():
    x = pt.vector("x")
    w = pytensor.shared(0.0, name="w")
    data = pytensor.shared(np.array([1.0, 2.0, 6.0]), name="data")
    cost = ((x - w) ** 2).mean()
    po.optimize(
        cost,
        [w],
        po.sgd,
        givens={x: data},
        step_size=0.4,
        gtol=1e-10,
        mode="FAST_COMPILE",
    )
    assert w.get_value() == pytest.approx(3.0)


def test_callback_stops():
    w, cost = problem()
    seen = []

    def callback(result):
        seen.append(result.nit)
        return result.nit >= 3

    result = po.optimize(
        cost, [w], po.sgd, step_size=0.1, callback=callback, mode="FAST_COMPILE"
    )
    assert seen == [1, 2, 3] and result.status == po.Status.CALLBACK


def test_progress_bar(capsys):
    w, cost = problem()
    po.optimize(
        cost, [w], po.sgd, step_size=0.1, max_iter=5, progress=True, mode="FAST_COMPILE"
    )
    assert "5/5" in capsys.readouterr().err


def test_bad_arguments():
    w, cost = problem()
    with pytest.raises(ValueError, match="steps_per_call"):
        po.optimize(cost, [w], po.sgd, step_size=0.1, steps_per_call=0)
    with pytest.raises(TypeError, match="callback"):
        po.optimize(cost, [w], po.sgd, step_size=0.1, callback=1)
    with pytest.raises(ValueError, match="not a known algorithm"):
        po.optimize(cost, [w], "nope")


@pytest.mark.parametrize("steps_per_call", [1, 7])
def test_reports_the_evaluations_the_numpy_interface_makes(steps_per_call):
    """nfev: the rule's count, against the real calls of NumPy callables."""
    curvatures = np.array([1.0, 3.0, 10.0])

    def f(x):
        return 0.5 * float(curvatures @ x**2)

    def df(x):
        return curvatures * x

    options = {"line_search": "backtracking", "step_size": 0.5, "gtol": 1e-8}
    iterator = po.minimize_iterator(np.ones(3), f, df, po.gradient_descent, **options)
    for _ in iterator:
        pass
    reference = iterator.result()
    w = pytensor.shared(np.ones(3), name="w")
    result = po.optimize(
        0.5 * (pt.constant(curvatures) * w**2).sum(),
        [w],
        po.gradient_descent,
        max_evals=10**6,
        steps_per_call=steps_per_call,
        mode="FAST_COMPILE",
        **options,
    )
    assert result.nit == reference.nit
    assert result.nfev == reference.nfev > result.nit
    np.testing.assert_allclose(w.get_value(), reference.x_last, rtol=1e-12)
    assert result.status == reference.status == po.Status.CONVERGED_GTOL


def test_nfev_only_when_the_rule_counts():
    w, cost = problem()
    result = po.optimize(cost, [w], po.sgd, step_size=0.25, max_iter=3)
    assert "nfev" not in result
