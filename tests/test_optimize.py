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
    err = capsys.readouterr().err
    assert "compiling" in err  # before the first call returns
    assert "5/5" in err and "MAX_ITER" in err


def test_progress_bar_ends_where_the_run_ends(capsys):
    """A run that converges before max_iter closes its bar at the iterations
    it took (not at max_iter), with its status."""
    w, cost = problem()
    result = po.optimize(
        cost, [w], po.sgd, step_size=0.5, gtol=1e-8, max_iter=500, progress=True,
        mode="FAST_COMPILE",
    )  # fmt: skip
    assert result.status == po.Status.CONVERGED_GTOL and result.nit < 500
    last = capsys.readouterr().err.strip().split("\r")[-1]
    assert f"{result.nit}/{result.nit}" in last and "CONVERGED_GTOL" in last
    assert "/500" not in last


def test_bad_arguments():
    w, cost = problem()
    with pytest.raises(ValueError, match="steps_per_call"):
        po.optimize(cost, [w], po.sgd, step_size=0.1, steps_per_call=0)
    with pytest.raises(TypeError, match="callback"):
        po.optimize(cost, [w], po.sgd, step_size=0.1, callback=1)
    with pytest.raises(ValueError, match="not a known algorithm"):
        po.optimize(cost, [w], "nope")
    for givens in (5, [1, 2], {"x": w}):
        with pytest.raises(TypeError, match="givens"):
            po.optimize(cost, [w], po.sgd, step_size=0.1, givens=givens)


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


def rosen_rounding(x):
    """A bound on the rounding of 100 (x1 - x0^2)^2 + (1 - x0)^2 in any order,
    with or without fused multiply-adds: a few ulps of each term's parts,
    times the derivative of the square (twice the term)."""
    eps = np.finfo(np.float64).eps
    inner, outer = x[1] - x[0] ** 2, 1 - x[0]
    parts = 200 * abs(inner) * (abs(x[1]) + x[0] ** 2)
    parts += 2 * abs(outer) * (1 + abs(x[0]))
    return 4 * eps * (parts + 100 * inner**2 + outer**2)


@pytest.fixture(scope="module")
def rosenbrock_lbfgs_runs():
    """L-BFGS with More-Thuente on Rosenbrock: one step per call, then all."""
    from scipy.optimize import rosen

    runs = {}
    function = pytensor.function
    made = []

    def recording(*args, **kwargs):
        made.append(function(*args, **kwargs))
        return made[-1]

    for steps_per_call in (1, 10_000):
        x = pytensor.shared(np.array([-1.2, 1.0]), name="x")
        cost = 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
        pytensor.function = recording
        try:
            result = po.optimize(
                cost, [x], "lbfgs", line_search="more_thuente", gtol=1e-8,
                max_evals=10_000, steps_per_call=steps_per_call,
            )  # fmt: skip
        finally:
            pytensor.function = function
        runs[steps_per_call] = (result, x.get_value(), made[-1], rosen)
    return runs


def test_a_searched_rule_runs_alike_in_one_call(rosenbrock_lbfgs_runs):
    """The loop evaluates the starting point once, before its iterations."""
    one, x_one, _, rosen = rosenbrock_lbfgs_runs[1]
    whole, x_whole, _, _ = rosenbrock_lbfgs_runs[10_000]
    assert one.status == whole.status == po.Status.CONVERGED_GTOL
    # one call per step, and the last call, which stops before stepping
    assert whole.ncalls == 1 and one.ncalls == one.nit + 1 == whole.nit + 1
    assert whole.nfev == one.nfev
    np.testing.assert_allclose(x_whole, x_one, rtol=1e-13)
    np.testing.assert_allclose(x_whole, [1.0, 1.0], atol=1e-8)
    # the run stopped before stepping: fun is the kept cost at x, to the
    # rounding of Rosenbrock's terms (x1 - x0^2 cancels near the minimum)
    for result, x in ((one, x_one), (whole, x_whole)):
        assert result.fun == pytest.approx(rosen(x), rel=0, abs=rosen_rounding(x))


def test_the_loop_holds_only_the_search(rosenbrock_lbfgs_runs):
    from pytensor.scan.op import Scan

    from pytensor_optim.line_search._fused import FusedMoreThuenteSearch

    _, _, function, _ = rosenbrock_lbfgs_runs[10_000]
    loops = [
        node for node in function.maker.fgraph.apply_nodes if isinstance(node.op, Scan)
    ]
    nested = [
        [
            type(node.op)
            for node in loop.op.fgraph.apply_nodes
            if isinstance(node.op, Scan | FusedMoreThuenteSearch)
        ]
        for loop in loops
    ]
    # the evaluation of the start, run once per call, and the iterations,
    # whose only nested loop is the line search: under Numba (the mode
    # here) one node that runs the whole search (line_search/_fused.py)
    assert sorted(nested, key=len) == [[], [FusedMoreThuenteSearch]]


def test_a_single_variable_as_the_rules_take_it():
    """``optimize(cost, w, ...)`` as ``optimize(cost, [w], ...)``, with ``x``
    the variable's value."""
    w = pytensor.shared(np.array([3.0, -2.0]), name="w")
    result = po.optimize(((w - 1.0) ** 2).sum(), w, "sgd", step_size=0.25, gtol=1e-8)
    assert isinstance(result.x, np.ndarray)
    np.testing.assert_array_equal(result.x, w.get_value())
    np.testing.assert_allclose(result.x, [1.0, 1.0])
