"""The Moré–Thuente search as one node (``line_search/_fused.py``): the loop
Numba runs, against the driver's graph that every other mode runs, and
against SciPy's translation of MINPACK-2's dcsrch."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pytensor.scan.op import Scan

from pytensor_optim.line_search import Line, more_thuente
from pytensor_optim.line_search._fused import (
    FusedMoreThuenteSearch,
    MoreThuenteSearch,
)

from .test_more_thuente import (
    CONFIGS,
    Searcher,
    check_against_scipy,
    descent_direction,
    family_coefficients,
    family_numpy,
    family_points,
    initial_steps,
)

# the driver's graph, inlined, in the tests' usual mode
REFERENCE = "FAST_COMPILE"
EXACT = ("evals", "success", "converged", "non_finite")


def nodes(function):
    """The ops of a compiled function, inner graphs of scans included."""
    found, graphs = [], [function.maker.fgraph]
    while graphs:
        for node in graphs.pop().apply_nodes:
            found.append(node.op)
            if isinstance(node.op, Scan):
                graphs.append(node.op.fgraph)
    return found


@pytest.fixture(scope="module")
def pairs():
    """``(NUMBA, reference)`` searchers per problem, configuration and dtype."""
    cache = {}

    def get(problem, config, dtype="float64"):
        key = problem, config, dtype
        if key not in cache:
            search = more_thuente(**CONFIGS[config])
            cache[key] = tuple(
                Searcher(problem, search, dtype, mode=mode)
                for mode in ("NUMBA", REFERENCE)
            )
        return cache[key]

    return get


def assert_same_search(
    ours, reference, rtol=1e-10, atol=1e-12, initial_step=1.0, message=""
):
    """The same counts and outcome; steps, costs and slopes to the rounding
    of the last bits (the loop's sums and trial points are IEEE's; the
    graph's may fuse a multiply and an add)."""
    for key in EXACT:
        assert ours[key] == reference[key], (key, ours, reference, message)
    # a step to the rounding of the trials (the interpolation carries the
    # rounding of a large first trial into the steps after it); the cost and
    # the slope at a step off by that much, off by the slope and the
    # curvature (its secant from the start) times it; a slope near 0 (at a
    # minimiser) to the rounding of the start's slope
    step_scale = max(1, 10 * initial_step)
    step, slope, slope0 = (reference[key] for key in ("step", "slope", "slope0"))
    curvature = abs(slope - slope0) / step if step > 0 else 0.0
    scales = {
        "step": step_scale,
        "cost": max(1, abs(slope) * step_scale),
        "slope": max(1, abs(slope0), curvature * step_scale),
    }
    for key, scale in scales.items():
        np.testing.assert_allclose(
            ours[key], reference[key], rtol=rtol, atol=atol * scale,
            err_msg=key + message,
        )  # fmt: skip


def test_numba_runs_one_node_other_modes_the_driver(pairs):
    numba, reference = pairs("family", "quasi-newton")
    ops = nodes(numba.function)
    assert any(isinstance(op, FusedMoreThuenteSearch) for op in ops)
    assert not any(isinstance(op, Scan) for op in ops)
    ops = nodes(reference.function)
    assert not any(isinstance(op, MoreThuenteSearch) for op in ops)
    assert any(isinstance(op, Scan) for op in ops)


@pytest.mark.parametrize("mode", ["CVM", "JAX"])
def test_other_backends_inline_the_node(mode):
    if mode == "JAX":
        pytest.importorskip("jax")
    searcher = Searcher("family", more_thuente(), mode=mode)
    ops = nodes(searcher.function)
    assert not any(isinstance(op, MoreThuenteSearch) for op in ops)
    assert any(isinstance(op, Scan) for op in ops)


def test_a_search_given_a_mode_runs_the_driver_under_numba():
    searcher = Searcher("family", more_thuente(mode=REFERENCE), mode="NUMBA")
    ops = nodes(searcher.function)
    assert not any(isinstance(op, MoreThuenteSearch) for op in ops)
    assert any(isinstance(op, Scan) for op in ops)


@settings(max_examples=40, deadline=None)
@given(
    config=st.sampled_from(["quasi-newton", "short-budget", "bounded"]),
    coefficients=family_coefficients,
    x=family_points,
    noise=st.lists(st.floats(-1.0, 1.0), min_size=2, max_size=2),
    initial_step=initial_steps,
)
# a cost whose only difference is the rounding of a large first step (2.5e-11
# absolute after a 1e6 first trial: once failed a tolerance that ignored it)
@example(
    config="quasi-newton",
    coefficients=(1.0, 0.0, 0.5, 0.0, 1.5),
    x=(0.0, 1.0),
    noise=[0.0, 0.0],
    initial_step=1e6,
)
def test_family_as_the_driver_and_as_scipy(
    pairs, config, coefficients, x, noise, initial_step
):
    x = np.array(x)
    _, gradient = family_numpy(coefficients, x)
    direction = descent_direction(gradient, noise)
    if direction @ gradient > -1e-8:
        return
    numba, reference = pairs("family", config)
    args = coefficients, x, direction, initial_step
    assert_same_search(
        numba(*args), reference(*args), initial_step=initial_step, message=config
    )
    check_against_scipy(numba, config, *args)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("problem", "config"),
    [("rosenbrock", "quasi-newton"), ("quadratic", "conjugate-gradient")],
)
def test_fixed_lines_as_the_driver(pairs, problem, config, rng):
    numba, reference = pairs(problem, config)
    size = numba.x.get_value().size
    coefficients = np.ones(numba.coefficients.get_value().size)
    if problem == "quadratic":
        a = rng.normal(size=(4, 4))
        coefficients[:16] = (a @ a.T + np.eye(4)).ravel()
        coefficients[16:] = rng.normal(size=4)
    for _ in range(8):
        x = rng.normal(size=size)
        _, gradient = numba.reference(coefficients, x)
        direction = descent_direction(gradient, 0.3 * rng.normal(size=size))
        for initial_step in (1e-3, 1.0, 100.0):
            args = coefficients, x, direction, initial_step
            assert_same_search(
                numba(*args), reference(*args), initial_step=initial_step
            )


def test_ascent_direction_evaluates_nothing(pairs):
    numba, reference = pairs("family", "quasi-newton")
    coefficients, x = (1.0, 0.0, 0.0, 2.0, 0.0), np.zeros(2)
    _, gradient = family_numpy(coefficients, x)
    ours = numba(coefficients, x, gradient, 1.0)
    assert ours["evals"] == 0 and not ours["success"] and not ours["non_finite"]
    assert ours["step"] == 0
    assert ours["cost"] == pytest.approx(family_numpy(coefficients, x)[0], rel=1e-15)
    assert_same_search(ours, reference(coefficients, x, gradient, 1.0))


def test_float32_stays_float32(pairs):
    numba, reference = pairs("family", "quasi-newton", "float32")
    coefficients, x = (2.0, 0.1, 0.5, 1.0, -1.0), np.array([-2.0, 2.5])
    _, gradient = family_numpy(coefficients, x)
    values = numba.function()  # the last search's values, typed
    assert all(v.dtype == np.float32 for v in values[:3])
    for initial_step in (1e-3, 1.0, 30.0):
        args = coefficients, x, -gradient, initial_step
        ours, theirs = numba(*args), reference(*args)
        # the graphs' float32 sums round apart by a few units in the last place
        assert_same_search(ours, theirs, rtol=1e-5, atol=1e-5)


def line_outputs(line, search):
    """The flat outputs of ``search(line)``."""
    result = search(line)
    return [
        result.step, result.cost, *result.gradients, result.evals,
        result.success, result.converged, result.non_finite,
    ]  # fmt: skip


def barrier_outputs(skip=None, max_evals=6):
    """A cost that is NaN for x < 0, searched from x = (0.5, 2) along -10 g:
    the first trial leaves the domain."""
    x = pytensor.shared(np.array([0.5, 2.0]), name="x")
    cost = ((x - 1.0) ** 2).sum() - 0.01 * pt.log(x).sum()
    (gradient,) = pytensor.grad(cost, [x])
    line = Line(
        [x], [-10.0 * gradient], cost, [gradient], objective=(cost, [gradient]),
        initial_step=1.0, skip=skip,
    )  # fmt: skip
    return line_outputs(line, more_thuente(max_evals=max_evals))


def compare_modes(outputs, inputs=(), values=(), rtol=1e-10, atol=1e-12):
    """The outputs under Numba (one fused node) and in the reference mode:
    counts and flags equal, values to ``rtol`` and to ``atol`` times their
    largest magnitude (at least 1); returns Numba's."""
    numba = pytensor.function(list(inputs), outputs, mode="NUMBA")
    assert any(isinstance(op, FusedMoreThuenteSearch) for op in nodes(numba))
    ours = numba(*values)
    theirs = pytensor.function(list(inputs), outputs, mode=REFERENCE)(*values)
    for a, b in zip(ours, theirs, strict=True):
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype
        if not np.issubdtype(b.dtype, np.floating):
            np.testing.assert_array_equal(a, b)
            continue
        # Numba's loop and NumPy's graph sum and fuse apart, and the
        # interpolation carries that rounding into the step, the cost and the
        # gradient (as in assert_same_search); a gradient component near 0 (at
        # a minimiser along the line) to the rounding of the largest
        scale = max(1.0, float(np.abs(b).max()))
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol * scale)
    return ours


def test_non_finite_trials_as_the_driver():
    ours = compare_modes(barrier_outputs())
    step, evals, success = ours[0], ours[3], ours[4]
    assert int(evals) >= 2 and success and step > 0  # back into the domain


def test_a_last_trial_not_finite_fails_as_non_finite():
    step, cost, _, evals, success, converged, non_finite = compare_modes(
        barrier_outputs(max_evals=1)
    )
    assert int(evals) == 1 and not success and not converged and non_finite
    assert step == 0 and cost == pytest.approx(1.25, rel=1e-15)


def test_skip_evaluates_nothing():
    skip = pytensor.shared(np.array(True), name="skip")
    ours = compare_modes(barrier_outputs(skip))
    step, cost, gradient, evals, success, converged, non_finite = ours
    assert int(evals) == 0 and not (success or converged or non_finite)
    assert step == 0
    # the start: f = 1/4 + 1 - 0.01 log(1), g = 2 (x - 1) - 0.01 / x
    assert cost == pytest.approx(1.25, rel=1e-15)
    np.testing.assert_allclose(gradient, [-1.02, 1.995], rtol=1e-15)


def test_the_line_budget_ends_the_search_at_the_best_step():
    """A budget of two evaluations, too few for the conditions from a short
    first step: the search ends RUNNING and returns its best step (lower
    than the start), as the driver does."""
    x = pytensor.shared(np.array([2.0, -1.0]), name="x")
    cost = (x**4).sum() + (x**2).sum()
    (gradient,) = pytensor.grad(cost, [x])
    line = Line(
        [x], [-gradient], cost, [gradient], objective=(cost, [gradient]),
        initial_step=1e-3, max_evals=2,
    )  # fmt: skip
    step, _, _, evals, success, converged, _ = compare_modes(
        line_outputs(line, more_thuente(c1=1e-4, c2=1e-4))
    )
    assert int(evals) == 2 and success and not converged and 0 < step < 1


def test_a_scalar_parameter(rng):
    x = pytensor.shared(np.float64(2.5), name="x")
    cost = (x - 1.0) ** 2 + 0.1 * x**4
    (gradient,) = pytensor.grad(cost, [x])
    line = Line(
        [x], [-gradient], cost, [gradient], objective=(cost, [gradient]),
        initial_step=1.0,
    )  # fmt: skip
    ours = compare_modes(line_outputs(line, more_thuente()))
    assert np.asarray(ours[2]).ndim == 0 and bool(ours[4])


def test_data_given_as_an_input():
    """Data the cost reads from an input of the compiled function (not a
    shared variable): an input of the node besides the line's."""
    data = pt.dvector("data")
    x = pytensor.shared(np.zeros(3), name="x")
    cost = ((x - data) ** 2).sum() + (x**4).sum()
    (gradient,) = pytensor.grad(cost, [x])
    line = Line(
        [x], [-gradient], cost, [gradient], objective=(cost, [gradient]),
        initial_step=1.0,
    )  # fmt: skip
    ours = compare_modes(
        line_outputs(line, more_thuente()), [data], [np.array([1.0, -2.0, 0.5])]
    )
    assert bool(ours[4])


def test_float32_slopes_summed_as_the_driver(rng):
    """10^4 float32 terms whose slope nearly cancels: the loop sums the
    products in float64, as PyTensor's float32 sum does."""
    n = 10_000
    weights = pytensor.shared(rng.uniform(0.5, 2.0, n).astype("float32"), name="w")
    x = pytensor.shared(rng.normal(size=n).astype("float32"), name="x")
    cost = (weights * x**2).sum() + (x**4).sum()
    (gradient,) = pytensor.grad(cost, [x])
    noise = pytensor.shared(rng.normal(size=n).astype("float32"), name="noise")
    direction = -gradient + 3 * pt.sqrt((gradient**2).mean()) * noise
    line = Line(
        [x], [direction], cost, [gradient], objective=(cost, [gradient]),
        initial_step=np.float32(1e-3),
    )  # fmt: skip
    # float32 rounding (6e-8) of 10^4 terms summed in float64, carried by
    # the interpolation: 1e-5 of the values and of the largest component
    compare_modes(line_outputs(line, more_thuente()), rtol=1e-5, atol=1e-5)


def test_several_parameters_and_data(rng):
    """A cost over a matrix and a vector, with data in a shared variable (an
    input of the node besides the line's)."""
    data = pytensor.shared(rng.normal(size=(3, 2)), name="data")
    w = pytensor.shared(rng.normal(size=(3, 2)), name="w")
    b = pytensor.shared(np.zeros(2), name="b")
    cost = ((w - data) ** 2).sum() + (w**4).sum() + ((b - 1.0) ** 4).sum()
    gradients = pytensor.grad(cost, [w, b])
    directions = [-g for g in gradients]
    line = Line(
        [w, b], directions, cost, gradients, objective=(cost, gradients),
        initial_step=1.0,
    )  # fmt: skip
    ours = compare_modes(line_outputs(line, more_thuente()))
    assert bool(ours[5]) and int(ours[4]) >= 1


def test_lbfgs_as_lbfgsb_in_one_call_makes_scipys_evaluations():
    """L-BFGS configured as L-BFGS-B, the whole run in one compiled call
    under Numba (each search one loop inside the loop of iterations): SciPy's
    evaluations and its minimiser on Beale's function."""
    from .problems import ZOO
    from .test_quasi_newton import optimize_as_lbfgsb, scipy_lbfgsb

    problem = ZOO["beale"]
    theirs = scipy_lbfgsb(problem)
    x = pytensor.shared(problem.x0.copy(), name="x")
    ours = optimize_as_lbfgsb(problem, x, steps_per_call=1000, mode="NUMBA")
    assert ours.ncalls == 1
    assert (ours.nit, ours.nfev) == (theirs.nit, theirs.nfev)
    np.testing.assert_allclose(ours.x[0], theirs.x, rtol=1e-8)
