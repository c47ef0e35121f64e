"""The rules on PyTensor's C ("CVM"), Numba ("NUMBA") and JAX ("JAX") backends.

Default selection (about half a minute with cold compilation caches):

- JAX's conversion of while loops (``pytensor_optim._jax_while``) against the
  same loops written in NumPy;
- L-BFGS with line searches on JAX against PyTensor's Python implementations
  (``FAST_COMPILE``), Adam on Numba and JAX against a NumPy transcription,
  and ``optimize(..., steps_per_call=k)`` on JAX to the published minimiser
  of Rosenbrock's function;
- the Numba ``ifelse`` of a random generator against NumPy's generator, and
  the registration of the conversions.

Slow selection (``-m slow``; Numba compiles loop-heavy graphs in tens of
seconds): one rule per family and every line search on Numba and JAX with
the same iterates as the C backend (float64, rtol 1e-8, from starting points
where the runs move), ``optimize`` on every backend, float32 kept, CMA-ES on
JAX, and the error of a rule that JAX cannot compile.

JAX tests skip when ``jax`` is not installed (the ``jax`` extra, not part of
``test``).
"""

import functools
import subprocess
import sys

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.scan.utils import until

import pytensor_optim as po
from pytensor_optim._compat import ifelse
from pytensor_optim._scan import last_or, loop
from pytensor_optim.line_search import get_line_search

from .problems import ZOO

# PyTensor's JAX backend drops the shape assertions of elementwise
# broadcasting, and says so
JAX_WARNINGS = pytest.mark.filterwarnings("ignore:Skipping Assert:UserWarning")
RTOL, ATOL = 1e-8, 1e-12


def need(mode):
    """``mode``, or skip when its backend is not installed."""
    if mode == "JAX":
        pytest.importorskip("jax")
    return mode


# ---- JAX's while loops against NumPy -----------------------------------------
def doubling_loop():
    """x <- 2 x and k <- k + 1 for at most n steps, until k reaches 3."""
    n_steps = pt.lscalar("n_steps")
    x0 = pt.dvector("x0")

    def body(x, k):
        return [2.0 * x, k + 1], until(pt.ge(k + 1, 3))

    initial = [x0, pt.constant(np.int64(0))]
    outputs = loop(body, initial, (), n_steps, None, name="doubling")
    finals = [last_or(i, o) for i, o in zip(initial, outputs, strict=True)]
    return [n_steps, x0], finals


def doubling_numpy(n_steps, x0):
    x, k = x0, 0
    for _ in range(n_steps):
        x, k = 2.0 * x, k + 1
        if k >= 3:
            break
    return x, k


@JAX_WARNINGS
@pytest.mark.parametrize("n_steps", [0, 1, 2, 3, 10])
def test_jax_while_loop_last_values(n_steps):
    need("JAX")
    inputs, finals = doubling_loop()
    function = pytensor.function(inputs, finals, mode="JAX")
    x0 = np.array([1.0, -0.5])
    x, k = function(n_steps, x0)
    expected_x, expected_k = doubling_numpy(n_steps, x0)
    np.testing.assert_array_equal(np.asarray(x), expected_x)
    assert int(k) == expected_k


def fibonacci_numpy(n_steps, first_two, increments, limit):
    """a_t = a_{t-1} + a_{t-2} + increments[t] until a_t > limit: the last two
    values and the last a_t."""
    history = list(first_two)
    for t in range(n_steps):
        history.append(history[-1] + history[-2] + increments[t])
        if history[-1] > limit:
            break
    return history[-2:], history[-1]


@JAX_WARNINGS
@pytest.mark.parametrize("n_steps", [1, 2, 4, 8])
def test_jax_while_loop_with_taps_sequences_and_outputs_without_state(n_steps):
    """A two-tap state read at its last two values (a buffer JAX keeps), a
    sequence (of ``n_steps`` entries: its length is the loop's bound), and
    an output without state read at its last value."""
    need("JAX")
    increments = pt.dvector("increments")
    first_two = pt.dvector("first_two")

    def body(increment, older, newer):
        value = older + newer + increment
        return [value, value], until(pt.gt(value, 20.0))

    values, totals = pytensor.scan(
        body,
        sequences=[increments],
        outputs_info=[{"initial": first_two, "taps": [-2, -1]}, None],
        return_updates=False,
    )
    # scan returns the buffer after its initial values: the buffer's last two
    buffer = values.owner.inputs[0]
    function = pytensor.function(
        [increments, first_two], [buffer[-2:], totals[-1]], mode="JAX"
    )
    data = np.array([0.5, 1.0, -0.25, 2.0, 0.0, 1.5, 3.0, 0.25])[:n_steps]
    start = np.array([1.0, 2.0])
    last_two, total = function(data, start)
    expected_last_two, expected_total = fibonacci_numpy(n_steps, start, data, 20.0)
    np.testing.assert_allclose(np.asarray(last_two), expected_last_two, rtol=1e-15)
    np.testing.assert_allclose(float(total), expected_total, rtol=1e-15)


@JAX_WARNINGS
@pytest.mark.parametrize("run", [False, True])
def test_jax_for_loop_of_a_computed_number_of_steps(run):
    """A for loop (no until) whose number of steps is computed in the graph:
    PyTensor's own conversion needs it static."""
    need("JAX")
    flag = pt.lscalar("flag")
    x0 = pt.dvector("x0")
    outputs = loop(lambda x: x + 1.0, [x0], (), 3 * flag, None)
    function = pytensor.function([flag, x0], last_or(x0, outputs[0]), mode="JAX")
    x = np.array([0.25, 1.0])
    np.testing.assert_array_equal(np.asarray(function(int(run), x)), x + 3 * run)


@JAX_WARNINGS
def test_jax_while_loop_keeping_its_history_is_refused_by_name():
    need("JAX")
    x0 = pt.dvector("x0")
    n = pt.lscalar("n")

    def body(x):
        return 2.0 * x, until(pt.gt(x.sum(), 10.0))

    history = pytensor.scan(
        body, outputs_info=[x0], n_steps=n, name="doubling", return_updates=False
    )
    with pytest.raises(NotImplementedError) as error:
        pytensor.function([n, x0], history, mode="JAX")
    message = str(error.value)
    assert "doubling cannot compile with mode='JAX'" in message
    assert "mode='NUMBA'" in message and "mode='CVM'" in message


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_jax_sum_has_the_declared_dtype(dtype):
    """PyTensor sums float32 in a float64 accumulator; its JAX backend used
    to return the accumulator's dtype, and float32 graphs became float64."""
    need("JAX")
    vector = pt.vector("vector", dtype=dtype)
    function = pytensor.function([vector], vector.sum(), mode="JAX")
    value = function(np.array([0.5, 0.25, 2.0], dtype=dtype))
    assert np.asarray(value).dtype == dtype
    assert float(value) == 2.75


@pytest.mark.parametrize("package_first", [True, False])
def test_the_conversions_register_whatever_the_import_order(package_first):
    """Registered when PyTensor's JAX and Numba dispatch modules load after
    the package, or at once when they were loaded before it."""
    need("JAX")
    imports = [
        "import pytensor_optim",
        "import pytensor.link.jax.dispatch, pytensor.link.numba.dispatch",
    ]
    if not package_first:
        imports.reverse()
    code = "; ".join(
        [
            *imports,
            "from pytensor.link.jax.dispatch import jax_funcify",
            "from pytensor.link.numba.dispatch.basic import "
            "numba_funcify_and_cache_key as numba_funcify",
            "from pytensor.scan.op import Scan",
            "from pytensor_optim._compat import IfElse",
            "from pytensor_optim._two_loop import TwoLoop",
            "from pytensor_optim.line_search._dcsrch import DcsrchStep",
            "from pytensor_optim.line_search._fused import FusedMoreThuenteSearch",
            "from pytensor.compile import optdb",
            "print(hasattr(jax_funcify.dispatch(Scan), "
            "'_pytensor_optim_while_loop'), hasattr(numba_funcify.dispatch(IfElse), "
            "'_pytensor_optim_addition'), TwoLoop in jax_funcify.registry, "
            "TwoLoop in numba_funcify.registry, "
            "DcsrchStep in numba_funcify.registry, "
            "FusedMoreThuenteSearch in numba_funcify.registry, "
            "'pytensor_optim_fuse_more_thuente' in optdb.__db__, "
            "'pytensor_optim_inline_more_thuente' in optdb.__db__)",
        ]
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["True"] * 8


def compiled_ops(function):
    """The ops of a compiled function, those of inner loops included."""
    from pytensor.scan.op import Scan

    found, graphs = [], [function.maker.fgraph]
    while graphs:
        for node in graphs.pop().apply_nodes:
            found.append(type(node.op))
            if isinstance(node.op, Scan):
                graphs.append(node.op.fgraph)
    return found


@pytest.mark.parametrize(
    ("mode", "search", "expected"),
    [
        ("NUMBA", None, "TwoLoop"),
        ("CVM", None, "TwoLoop"),
        ("NUMBA", "more_thuente", "FusedMoreThuenteSearch"),
        ("CVM", "more_thuente", "DcsrchStep"),
    ],
)
def test_our_nodes_are_what_runs_on_this_pytensor(mode, search, expected):
    """The nodes of our own survive PyTensor's rewrites, on 3.0 as on 3.3:
    L-BFGS's update is one TwoLoop, a Moré–Thuente search one fused node
    under Numba and DcsrchStep iterations elsewhere; and they run (a
    fallback to object mode or a rewrite failure would warn, an error
    here)."""
    from pytensor_optim._two_loop import TwoLoop
    from pytensor_optim.line_search._dcsrch import DcsrchStep
    from pytensor_optim.line_search._fused import FusedMoreThuenteSearch

    classes = {
        "TwoLoop": TwoLoop,
        "DcsrchStep": DcsrchStep,
        "FusedMoreThuenteSearch": FusedMoreThuenteSearch,
    }
    x = pytensor.shared(ROSENBROCK.x0.copy(), name="x")
    stop = pytensor.shared(np.int64(0), name="stop")
    updates = po.lbfgs(
        [x], ROSENBROCK.cost(x, pt), stop=stop, line_search=search, max_iter=5
    )
    step = pytensor.function([], [], updates=updates, mode=mode)
    ops = compiled_ops(step)
    assert classes[expected] in ops
    if search is not None:
        assert TwoLoop in ops
    for _ in range(5):
        step()
    assert np.all(np.isfinite(x.get_value()))
    assert not np.array_equal(x.get_value(), ROSENBROCK.x0)


def test_importing_the_package_imports_neither_jax_nor_numba():
    code = (
        "import sys, pytensor_optim; "
        "print(any(m in sys.modules for m in ('jax', 'numba')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


# ---- the rules on every backend ----------------------------------------------
ROSENBROCK = ZOO["rosenbrock"]
WOOD = ZOO["wood"]


@functools.cache
def cases():
    """name -> (rule, hyperparameters, problem, calls): one rule per family,
    every line search (through gradient_descent), and ``stop`` given to each
    (the stopping machinery is part of the graph)."""
    first = {
        "sgd-momentum": (po.sgd, {"step_size": 1e-3, "momentum": 0.9}),
        "adam": (po.adam, {"step_size": 0.05, "amsgrad": True}),
        "rprop": (po.rprop, {"step_size": 0.01}),
        "adadelta": (po.adadelta, {"step_size": 1.0}),
        "delta_bar_delta": (
            po.delta_bar_delta,
            {"step_size": 1e-3, "kappa": 1e-4, "phi": 0.5, "theta": 0.7},
        ),
        "sgd_qn": (po.sgd_qn, {"step_size": 1e-3}),
        "momentum_descent": (
            po.momentum_descent,
            {"step_size": 1e-3, "momentum": 0.5, "restart": "fn"},
        ),
        "lbfgs": (po.lbfgs, {"step_size": 0.1, "history": 3, "line_search": None}),
        "lbfgs-strong_wolfe": (po.lbfgs, {"line_search": "strong_wolfe"}),
        "bfgs": (po.bfgs, {}),
        "cg": (po.cg, {"variant": "HZ"}),
        "rasmussen_cg": (po.rasmussen_cg, {}),
        "truncated_newton": (po.truncated_newton, {"cg_max_iter": 5}),
        "fista": (po.fista, {"L": 1e3}),
        "cmaes": (po.cmaes, {"seed": 1}),
    }
    table = {name: (rule, kw, ROSENBROCK, 6) for name, (rule, kw) in first.items()}
    # a 2-D problem solves Martens' CG exactly in two steps, and its later
    # iterates tie to the last bit: backtracking over them decides on
    # rounding; Wood's function in 4-D with 3 CG steps has no ties
    table["hessian_free"] = (
        po.hessian_free,
        {"gauss_newton": False, "cg_max_iter": 3},
        WOOD,
        6,
    )
    for search in (
        "backtracking",
        "strong_wolfe",
        "more_thuente",
        "hager_zhang",
        "rasmussen",
        "bold_driver",
        "constant",
    ):
        table[f"gradient_descent-{search}"] = (
            po.gradient_descent,
            {"line_search": search, "step_size": 1e-3},
            ROSENBROCK,
            6,
        )
    return table


@functools.cache
def trajectory(name, mode):
    """The parameters after each of the case's calls, compiled with ``mode``."""
    rule, hyperparameters, problem, calls = cases()[name]
    x = pytensor.shared(problem.x0.copy(), name="x")
    stop = pytensor.shared(np.int64(0), name="stop")
    updates = rule([x], problem.cost(x, pt), stop=stop, **hyperparameters)
    step = pytensor.function([], [], updates=updates, mode=mode)
    points = []
    for _ in range(calls):
        step()
        points.append(np.array(x.get_value()))
    return np.array(points)


# CMA-ES: JAX draws other random numbers than the C and Numba backends
# (NumPy's); Hessian-free: refused by JAX (see the last test)
NOT_ON_JAX = {"cmaes", "hessian_free"}


def same_iterates_cases():
    """Every case on Numba and JAX, against the C backend: slow (each
    compiles in seconds to tens of seconds on each backend); the default
    selection checks the backends against NumPy and PyTensor's Python
    implementations instead, which compile no C code."""
    return [
        pytest.param(name, mode, marks=pytest.mark.slow, id=f"{name}-{mode}")
        for name in cases()
        for mode in ("NUMBA", "JAX")
        if not (mode == "JAX" and name in NOT_ON_JAX)
    ]


@JAX_WARNINGS
@pytest.mark.parametrize("search", ["strong_wolfe", "backtracking"])
def test_line_search_on_jax_against_the_python_backend(search):
    """The quick check of JAX's while loops in a rule: L-BFGS with a search
    against the same rule run by PyTensor's Python implementations
    (``FAST_COMPILE``, the search's loop too), which compile no C code."""
    need("JAX")
    runs = {}
    for mode, line_search in (
        ("FAST_COMPILE", get_line_search(search, mode="FAST_COMPILE")),
        ("JAX", search),
    ):
        x = pytensor.shared(ROSENBROCK.x0.copy(), name="x")
        updates = po.lbfgs([x], ROSENBROCK.cost(x, pt), line_search=line_search)
        step = pytensor.function([], [], updates=updates, mode=mode)
        points = []
        for _ in range(8):
            step()
            points.append(np.asarray(x.get_value()))
        runs[mode] = np.array(points)
    assert np.abs(runs["FAST_COMPILE"][-1] - ROSENBROCK.x0).max() > 1e-3
    np.testing.assert_allclose(runs["JAX"], runs["FAST_COMPILE"], rtol=RTOL, atol=ATOL)


@JAX_WARNINGS
@pytest.mark.parametrize(("name", "mode"), same_iterates_cases())
def test_same_iterates_as_the_c_backend(name, mode):
    need(mode)
    reference = trajectory(name, "CVM")
    # the runs move: equal iterates are not equal starting points
    start = cases()[name][2].x0
    assert np.abs(reference[-1] - start).max() > 1e-3
    np.testing.assert_allclose(trajectory(name, mode), reference, rtol=RTOL, atol=ATOL)


def adam_numpy(x0, gradient, steps, step_size, beta1=0.9, beta2=0.999, eps=1e-8):
    """torch.optim.Adam's update (Kingma & Ba 2015, Algorithm 1, with epsilon
    added after the bias correction), transcribed in NumPy."""
    x, m, v, points = x0.copy(), np.zeros_like(x0), np.zeros_like(x0), []
    for t in range(1, steps + 1):
        g = gradient(x)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        x = x - step_size * m_hat / (np.sqrt(v_hat) + eps)
        points.append(x)
    return np.array(points)


def rosenbrock_gradient(x):
    return np.array(
        [
            -400 * x[0] * (x[1] - x[0] ** 2) - 2 * (1 - x[0]),
            200 * (x[1] - x[0] ** 2),
        ]
    )


@JAX_WARNINGS
@pytest.mark.parametrize(
    "mode", [pytest.param("CVM", marks=pytest.mark.slow), "NUMBA", "JAX"]
)
def test_adam_against_numpy(mode):
    """Adam on each backend against a NumPy transcription of the algorithm
    (the quick check of the Numba backend, which compiles no C code)."""
    x = pytensor.shared(ROSENBROCK.x0.copy(), name="x")
    updates = po.adam([x], ROSENBROCK.cost(x, pt), step_size=0.05)
    step = pytensor.function([], [], updates=updates, mode=need(mode))
    points = []
    for _ in range(20):
        step()
        points.append(np.asarray(x.get_value()))
    expected = adam_numpy(ROSENBROCK.x0, rosenbrock_gradient, 20, 0.05)
    np.testing.assert_allclose(points, expected, rtol=RTOL, atol=ATOL)


@functools.cache
def optimized(mode):
    """``optimize`` with L-BFGS and Armijo backtracking, 10 iterations per
    compiled call, on Rosenbrock's function."""
    x = pytensor.shared(ROSENBROCK.x0.copy(), name="x")
    result = po.optimize(
        ROSENBROCK.cost(x, pt),
        [x],
        "lbfgs",
        line_search="backtracking",
        steps_per_call=10,
        gtol=1e-9,
        max_iter=200,
        mode=mode,
    )
    result.x = [np.asarray(value) for value in result.x]
    return result


@JAX_WARNINGS
@pytest.mark.parametrize(
    "mode",
    [
        pytest.param("CVM", marks=pytest.mark.slow),
        pytest.param("NUMBA", marks=pytest.mark.slow),
        "JAX",
    ],
)
def test_optimize_with_steps_per_call_reaches_rosenbrock_minimiser(mode):
    """To the minimiser (1, 1) of Moré, Garbow & Hillstrom (1981), the
    iterations (loops of line searches inside the loop of steps) in a few
    compiled calls."""
    result = optimized(need(mode))
    assert result.status == po.Status.CONVERGED_GTOL, result.message
    np.testing.assert_allclose(result.x[0], ROSENBROCK.minimiser, atol=1e-8)
    assert result.ncalls == -(-result.nit // 10)


@JAX_WARNINGS
@pytest.mark.slow
@pytest.mark.parametrize("mode", ["NUMBA", "JAX"])
def test_optimize_with_steps_per_call_same_run_as_the_c_backend(mode):
    reference, result = optimized("CVM"), optimized(need(mode))
    assert (result.nit, result.ncalls) == (reference.nit, reference.ncalls)
    np.testing.assert_allclose(result.x[0], reference.x[0], rtol=RTOL, atol=ATOL)


@JAX_WARNINGS
@pytest.mark.slow
@pytest.mark.parametrize("mode", ["NUMBA", "JAX"])
def test_float32_stays_float32(mode):
    """L-BFGS with the strong Wolfe search in float32: every state keeps its
    dtype, and the iterates follow the C backend's (to float32 rounding)."""
    need(mode)
    runs = {}
    for backend in ("CVM", mode):
        x = pytensor.shared(ROSENBROCK.x0.astype("float32"), name="x")
        updates = po.lbfgs([x], ROSENBROCK.cost(x, pt), line_search="strong_wolfe")
        step = pytensor.function([], [], updates=updates, mode=backend)
        points = []
        for _ in range(8):
            step()
            points.append(np.asarray(x.get_value()))
        for variable in updates:
            value = np.asarray(variable.get_value())
            assert value.dtype == variable.type.dtype, (backend, variable.name)
        runs[backend] = np.array(points)
    assert runs[mode].dtype == np.float32
    np.testing.assert_allclose(runs[mode], runs["CVM"], rtol=1e-4, atol=1e-6)


@pytest.mark.filterwarnings("ignore:The RandomType SharedVariables:UserWarning")
@JAX_WARNINGS
@pytest.mark.slow
def test_cmaes_on_jax_reaches_the_target():
    """JAX draws its own random numbers (from a copy of the rule's generator):
    other iterates than the C backend's, the same convergence."""
    need("JAX")
    x = pytensor.shared(np.full(3, 1.5), name="x")
    stop = pytensor.shared(np.int64(0), name="stop")
    updates = po.cmaes(
        [x], (x**2).sum(), stop=stop, seed=0, ftarget=1e-10, max_iter=500
    )
    step = pytensor.function([], [], updates=updates, mode="JAX")
    while not int(stop.get_value()):
        step()
    assert po.Status(int(updates.status.get_value())) == po.Status.TARGET_REACHED
    assert float((np.asarray(x.get_value()) ** 2).sum()) <= 1e-10


def test_numba_ifelse_on_a_random_generator():
    """Rules keep their random generator unchanged while stopped with an
    ``ifelse`` (CMA-ES); PyTensor's Numba ``IfElse`` cannot copy a generator.
    The draws against NumPy's generator: advanced, kept, advanced."""
    generator = pytensor.shared(np.random.default_rng(7), name="generator")
    advance = pt.lscalar("advance")
    next_generator, draw = pt.random.normal(size=3, rng=generator, return_next_rng=True)
    kept = ifelse(pt.eq(advance, 1), next_generator, generator)
    step = pytensor.function([advance], draw, updates={generator: kept}, mode="NUMBA")
    draws = [step(flag) for flag in (1, 0, 1, 1)]
    numpy_generator = np.random.default_rng(7)
    first, second, third = (numpy_generator.normal(size=3) for _ in range(3))
    np.testing.assert_allclose(draws, [first, second, second, third], rtol=1e-15)


@JAX_WARNINGS
@pytest.mark.slow
def test_hessian_free_on_jax_names_the_rule_and_the_alternatives():
    """Martens' backtracking reads every CG iterate, a history of run-time
    length that JAX cannot hold."""
    need("JAX")
    x = pytensor.shared(WOOD.x0.copy(), name="x")
    updates = po.hessian_free([x], WOOD.cost(x, pt), gauss_newton=False)
    with pytest.raises(NotImplementedError) as error:
        pytensor.function([], [], updates=updates, mode="JAX")
    message = str(error.value)
    assert message.startswith("hessian_free cannot compile with mode='JAX'")
    assert "use mode='NUMBA' (the default) or mode='CVM'" in message
