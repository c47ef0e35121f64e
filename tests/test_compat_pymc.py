"""pytensor_optim.compat.pymc against pymc.variational.updates.

The references are pymc's own trajectories, stored by
``tests/reference/make_pymc_updates.py`` (pymc is not needed here) for every
configuration of ``tests/reference/pymc_problem.py`` in three modes: PyTensor's
default mode (Numba), ``FAST_COMPILE`` and ``CVM``. Each configuration is
replayed here with the same calls and compared bit for bit in the same mode.

Trajectories of *different* modes are not bit-identical, for pymc as for
us, so each mode is compared with its own reference:

- ``FAST_COMPILE`` applies few rewrites, while the other modes' ``fast_run``
  rewrites flatten ``learning_rate * (A * (W - C))`` into a single product,
  evaluated as ``(learning_rate * A) * (W - C)``, and fuse elementwise
  chains, which rounds differently;
- ``CVM`` compiles the fused loops with GCC under ``-march=native``, which
  contracts ``a * b + c`` into fused multiply-adds where the machine has FMA;
- the default mode compiles with Numba's ``fastmath`` flags (contraction,
  reassociation, reciprocals), whose effect also depends on the Numba and
  PyTensor versions.
"""

import functools
import inspect
import json
import pathlib

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.graph.traversal import ancestors

from pytensor_optim import Updates
from pytensor_optim.compat import pymc as compat

from .conftest import compile_step
from .reference.pymc_problem import (
    CONFIGS,
    STEPS,
    build,
    c_compiler,
    cost,
    problem_data,
    run,
)

REFERENCE = np.load(pathlib.Path(__file__).parent / "reference/data/pymc_updates.npz")
NAMES = list(json.loads(str(REFERENCE["configs"])))
DTYPES = ("float64", "float32")
SAME_PYTENSOR = pytensor.__version__ == str(REFERENCE["pytensor_version"])

EMPTY = inspect.Parameter.empty
# pymc 6.4's signatures, from pymc/variational/updates.py
PYMC_SIGNATURES = {
    "sgd": {"loss_or_grads": None, "params": None, "learning_rate": 1e-3},
    "momentum": {
        "loss_or_grads": None,
        "params": None,
        "learning_rate": 1e-3,
        "momentum": 0.9,
    },
    "nesterov_momentum": {
        "loss_or_grads": None,
        "params": None,
        "learning_rate": 1e-3,
        "momentum": 0.9,
    },
    "apply_momentum": {"updates": EMPTY, "params": None, "momentum": 0.9},
    "apply_nesterov_momentum": {"updates": EMPTY, "params": None, "momentum": 0.9},
    "adagrad": {
        "loss_or_grads": None,
        "params": None,
        "learning_rate": 1.0,
        "epsilon": 1e-6,
    },
    "adagrad_window": {
        "loss_or_grads": None,
        "params": None,
        "learning_rate": 0.001,
        "epsilon": 0.1,
        "n_win": 10,
    },
    "rmsprop": {
        "loss_or_grads": None,
        "params": None,
        "learning_rate": 1.0,
        "rho": 0.9,
        "epsilon": 1e-6,
    },
    "adadelta": {
        "loss_or_grads": None,
        "params": None,
        "learning_rate": 1.0,
        "rho": 0.95,
        "epsilon": 1e-6,
    },
    "adam": {
        "loss_or_grads": None,
        "params": None,
        "learning_rate": 0.001,
        "beta1": 0.9,
        "beta2": 0.999,
        "epsilon": 1e-8,
    },
    "adamax": {
        "loss_or_grads": None,
        "params": None,
        "learning_rate": 0.002,
        "beta1": 0.9,
        "beta2": 0.999,
        "epsilon": 1e-8,
    },
    "norm_constraint": {
        "tensor_var": EMPTY,
        "max_norm": EMPTY,
        "norm_axes": None,
        "epsilon": 1e-7,
    },
    "total_norm_constraint": {
        "tensor_vars": EMPTY,
        "max_norm": EMPTY,
        "epsilon": 1e-7,
        "return_norm": False,
    },
}
# our additions: keyword-only, after pymc's parameters
EXTRA_KEYWORDS = {"adagrad_window": {"exclude_current": False}}
# the functions that take (loss_or_grads, params, ...)
RULES = [name for name, sig in PYMC_SIGNATURES.items() if "loss_or_grads" in sig]


def reference(mode, dtype, name):
    index = NAMES.index(name)
    return (
        REFERENCE[f"{mode}/{dtype}/params"][index],
        REFERENCE[f"{mode}/{dtype}/norm"][index],
    )


def assert_bit_identical(result, expected):
    params, norms = result
    expected_params, expected_norms = expected
    assert params.dtype == expected_params.dtype
    np.testing.assert_array_equal(params, expected_params, strict=True)
    np.testing.assert_array_equal(norms, expected_norms, strict=True)


def assert_close(result, expected, rtol, atol):
    for actual, desired in zip(result, expected, strict=True):
        assert actual.dtype == desired.dtype
        np.testing.assert_allclose(actual, desired, rtol=rtol, atol=atol)


def test_reference_is_current():
    """The stored data were made from the configurations replayed here."""
    assert json.loads(str(REFERENCE["configs"])) == CONFIGS
    assert REFERENCE["FAST_COMPILE/float64/params"].shape == (len(CONFIGS), STEPS, 8)
    assert {config["function"] for config in CONFIGS.values()} == set(compat.__all__)
    assert json.loads(str(REFERENCE["modes"])) == ["default", "FAST_COMPILE", "CVM"]
    start = np.concatenate([REFERENCE["data/W0"].ravel(), REFERENCE["data/b0"]])
    for mode in ("default", "FAST_COMPILE", "CVM"):
        for dtype in DTYPES:
            params = REFERENCE[f"{mode}/{dtype}/params"]
            # every configuration moves the parameters at every step
            assert np.all(np.any(params[:, 0] != start.astype(dtype), axis=-1))
            assert np.all(np.any(np.diff(params, axis=1) != 0, axis=-1))


# ---- pymc's numbers ---------------------------------------------------------


# NumPy computes ``power`` (Adam's bias corrections, beta**t) with SVML's
# AVX-512 routines where the CPU has them: not correctly rounded, so 1 ulp away
# from the libm values of a machine without AVX-512 (and from each other's
# pymc run on such a CPU as much as from ours).
NUMPY_SVML = bool(np._core._multiarray_umath.__cpu_features__.get("AVX512_SKX", False))


@pytest.mark.parametrize("name", NAMES)
def test_fast_compile_float64_bit_identical(name):
    result = run(compat, name, "float64", "FAST_COMPILE")
    expected = reference("FAST_COMPILE", "float64", name)
    if NUMPY_SVML and name.startswith("adam"):
        # the reference was made without AVX-512: 1 ulp per power, carried
        # through the recorded steps (parameters of order 1; at most 4e-16
        # apart), not bitwise
        assert_close(result, expected, rtol=1e-14, atol=1e-15)
        return
    assert_bit_identical(result, expected)


@pytest.mark.parametrize(
    "dtype",
    # float32 doubles the C compilations of a first run: with -m slow
    ["float64", pytest.param("float32", marks=pytest.mark.slow)],
)
@pytest.mark.parametrize("name", NAMES)
def test_cvm_bit_identical(name, dtype):
    recorded = str(REFERENCE["c_compiler"])
    if c_compiler() != recorded:
        pytest.skip(
            "the CVM reference was compiled by another C compiler or for another "
            f"machine ({recorded!r}); its fused multiply-adds differ"
        )
    # pymc's float32 reference ran under floatX=float32 (under float64 its
    # update of a float32 parameter is float64); ours runs under float64.
    result = run(compat, name, dtype, "CVM")
    assert_bit_identical(result, reference("CVM", dtype, name))


@pytest.mark.parametrize("name", NAMES)
def test_fast_compile_float32(name):
    # pymc's float32 reference ran under floatX=float32 (under float64 its
    # update of a float32 parameter is float64, which pytensor.function
    # rejects); ours runs under floatX=float64 and casts every constant to
    # float32, which gives the same float32 graph. With the PyTensor that
    # made the reference (3.3) the numbers are bit-identical; PyTensor < 3.3
    # evaluates Add/Mul of more than two inputs in Python through
    # np.frompyfunc on Python floats (float64, one rounding to float32 at the
    # end) where 3.3 folds np.multiply in float32, so across that change
    # float32 trajectories agree to float32 rounding only.
    result = run(compat, name, "float32", "FAST_COMPILE")
    expected = reference("FAST_COMPILE", "float32", name)
    if SAME_PYTENSOR:
        assert_bit_identical(result, expected)
    else:
        assert_close(result, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_default_mode_reference_to_rounding(name, dtype):
    # The default-mode (Numba fastmath) reference against our FAST_COMPILE
    # numbers: equal to rounding only, because the modes round differently
    # (module docstring); pymc's own FAST_COMPILE numbers differ from its
    # default-mode ones in the same way. test_default_mode is bit for bit.
    result = run(compat, name, dtype, "FAST_COMPILE")
    expected = reference("default", dtype, name)
    tolerance = {"float64": (1e-12, 1e-14), "float32": (1e-4, 1e-6)}[dtype]
    assert_close(result, expected, *tolerance)


@pytest.mark.slow
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_default_mode(name, dtype):
    """PyTensor's default mode (Numba) against pymc's default-mode numbers."""
    import numba

    result = run(compat, name, dtype)
    expected = reference("default", dtype, name)
    versions = (pytensor.__version__, numba.__version__)
    recorded = (str(REFERENCE["pytensor_version"]), str(REFERENCE["numba_version"]))
    if versions == recorded:
        assert_bit_identical(result, expected)
    else:
        # Numba's fastmath flags let LLVM contract and reassociate, and the
        # code it generates (vectorised sums in the norms, for instance)
        # changes with Numba and PyTensor versions; with numba__fastmath=False
        # these versions agree bit for bit.
        tolerance = {"float64": (1e-12, 1e-14), "float32": (1e-4, 1e-6)}[dtype]
        assert_close(result, expected, *tolerance)


# ---- the calling convention -------------------------------------------------


def test_names():
    assert sorted(compat.__all__) == sorted(PYMC_SIGNATURES)
    for name in compat.__all__:
        assert callable(getattr(compat, name))


@pytest.mark.parametrize("name", list(PYMC_SIGNATURES))
def test_signature(name):
    parameters = list(inspect.signature(getattr(compat, name)).parameters.values())
    expected = PYMC_SIGNATURES[name]
    pymc_part, extra = parameters[: len(expected)], parameters[len(expected) :]
    assert {p.name: p.default for p in pymc_part} == expected
    assert [p.name for p in pymc_part] == list(expected)
    assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in pymc_part)
    assert {p.name: p.default for p in extra} == EXTRA_KEYWORDS.get(name, {})
    assert all(p.kind is p.KEYWORD_ONLY for p in extra)


def test_signatures_match_recorded():
    """The hard-coded table is the one the reference script read from pymc."""
    recorded = json.loads(str(REFERENCE["signatures"]))
    table = {
        name: [
            [key, "<empty>" if default is EMPTY else repr(default)]
            for key, default in signature.items()
        ]
        for name, signature in PYMC_SIGNATURES.items()
    }
    assert recorded == table


def small_problem(dtype="float64", names=("W", "b")):
    data = {key: value.astype(dtype) for key, value in problem_data().items()}
    params = [
        pytensor.shared(data["W0"].copy(), name=names[0]),
        pytensor.shared(data["b0"].copy(), name=names[1]),
    ]
    constants = {key: pt.constant(value) for key, value in data.items()}
    return params, cost(params, constants)


def trajectory(updates, params, steps=3):
    step = compile_step(updates)
    values = []
    for _ in range(steps):
        step()
        values.append([param.get_value() for param in params])
    return values


@pytest.mark.parametrize("name", RULES)
def test_partial_application(name):
    function = getattr(compat, name)
    optimizer = function(learning_rate=0.05)
    assert isinstance(optimizer, functools.partial)
    assert optimizer.func is function
    defaults = {
        key: value
        for key, value in PYMC_SIGNATURES[name].items()
        if key not in ("loss_or_grads", "params")
    }
    expected = {**defaults, **EXTRA_KEYWORDS.get(name, {}), "learning_rate": 0.05}
    assert optimizer.keywords == expected

    params, loss = small_problem()
    later = trajectory(optimizer(loss, params), params)
    params, loss = small_problem()
    direct = trajectory(function(loss, params, learning_rate=0.05), params)
    for a, b in zip(later, direct, strict=True):
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("name", RULES)
def test_one_of_loss_and_params_missing(name):
    function = getattr(compat, name)
    params, loss = small_problem()
    for call in (
        lambda: function(loss),
        lambda: function(params=params),
        lambda: function(None, params, learning_rate=0.1),
        lambda: function(loss, None, learning_rate=0.1),
    ):
        with pytest.raises(ValueError, match="both `loss_or_grads` and `params`"):
            call()


@pytest.mark.parametrize("name", RULES)
def test_list_of_gradients(name):
    """A list is the gradients: here constants, unrelated to any loss."""
    params, _ = small_problem()
    gradients = [
        pt.constant(np.full((3, 2), 0.5)),
        pt.constant(np.array([-1.0, 2.0])),
    ]
    from_list = trajectory(getattr(compat, name)(gradients, params), params)
    # the same rule on a loss whose gradients are those constants
    params, _ = small_problem()
    linear = sum((g * p).sum() for g, p in zip(gradients, params, strict=True))
    from_loss = trajectory(getattr(compat, name)(linear, params), params)
    for a, b in zip(from_list, from_loss, strict=True):
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)


def test_gradients_must_match_params():
    params, loss = small_problem()
    with pytest.raises(ValueError, match="gradients has 1 entries"):
        compat.sgd([pt.grad(loss, params[0])], params)


def test_sgd_on_a_list_is_the_plain_step():
    w = pytensor.shared(np.array([1.0, -2.0]), name="w")
    g = np.array([0.5, 4.0])
    updates = compat.sgd([pt.constant(g)], [w], learning_rate=0.25)
    assert isinstance(updates, Updates) and isinstance(updates, dict)
    assert list(updates) == [w] and updates.slots == {} and updates.counter is None
    compile_step(updates)()
    np.testing.assert_array_equal(w.get_value(), np.array([1.0, -2.0]) - 0.25 * g)


# ---- float32 safety ---------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_float32_stays_float32(name):
    with pytensor.config.change_flags(floatX="float64"):
        params, loss = small_problem("float32")
        updates, outputs = build(compat, name, params, loss)
    for variable, update in updates.items():
        assert update.dtype == variable.dtype, variable
        assert variable.type.is_super(update.type), variable
    for param in params:
        assert updates[param].dtype == "float32"
    float64 = [
        variable
        for variable in ancestors(list(updates.values()) + outputs)
        if getattr(variable.type, "dtype", None) == "float64" and variable.ndim > 0
    ]
    assert not float64, float64
    for output in outputs:
        assert output.dtype == "float32"


def test_norm_constraints_keep_each_dtype():
    x32 = pt.matrix("x32", dtype="float32")
    x64 = pt.vector("x64", dtype="float64")
    assert compat.norm_constraint(x32, 1.0).dtype == "float32"
    assert compat.norm_constraint(x32, pt.dscalar("c")).dtype == "float32"
    scaled, norm = compat.total_norm_constraint([x32, x64], 1.0, return_norm=True)
    assert [s.dtype for s in scaled] == ["float32", "float64"]
    assert norm.dtype == "float64"


# ---- named state ------------------------------------------------------------

STATE = {
    "sgd": [],
    "momentum": ["momentum.velocity[{}]"],
    "nesterov_momentum": ["nesterov_momentum.velocity[{}]"],
    "adagrad": ["adagrad.accu[{}]"],
    "adagrad_window": ["adagrad_window.accu[{}]", "adagrad_window.counter"],
    "rmsprop": ["rmsprop.accu[{}]"],
    "adadelta": ["adadelta.accu[{}]", "adadelta.delta_accu[{}]"],
    "adam": ["adam.m[{}]", "adam.v[{}]", "adam.counter"],
    "adamax": ["adamax.m[{}]", "adamax.u[{}]", "adamax.counter"],
}


def expected_state(name, labels):
    return sorted(
        {pattern.format(label) for pattern in STATE[name] for label in labels}
    )


@pytest.mark.parametrize("name", RULES)
@pytest.mark.parametrize("names", [("W", "b"), (None, None), ("p", "p")])
def test_state_names(name, names):
    params, loss = small_problem(names=names)
    updates = getattr(compat, name)(loss, params)
    labels = ["W", "b"] if names == ("W", "b") else ["0", "1"]
    assert sorted(updates.state_dict()) == expected_state(name, labels)
    assert sorted(variable.name for variable in updates.state) == sorted(
        updates.state_dict()
    )
    # the dict holds the parameters and every state variable, nothing else
    assert set(updates) == set(params) | set(updates.state)
    for slot, variables in updates.slots.items():
        assert [v.name for v in variables] == [
            f"{name}.{slot}[{label}]" for label in labels
        ]
    has_counter = any(pattern.endswith(".counter") for pattern in STATE[name])
    assert (updates.counter is not None) == has_counter
    if has_counter:
        assert updates.counter.dtype == "int64"


def test_apply_momentum_state_names():
    params, loss = small_problem()
    updates = compat.apply_momentum(compat.sgd(loss, params, 0.1))
    assert sorted(updates.state_dict()) == [
        "apply_momentum.velocity[W]",
        "apply_momentum.velocity[b]",
    ]
    updates = compat.apply_nesterov_momentum(compat.sgd(loss, params, 0.1), params[:1])
    assert sorted(updates.state_dict()) == ["apply_nesterov_momentum.velocity[W]"]


def test_apply_momentum_keeps_other_updates_and_their_state():
    params, loss = small_problem()
    inner = compat.adam(loss, params, learning_rate=0.1)
    before = dict(inner)
    updates = compat.apply_momentum(inner, params=params, momentum=0.5)
    assert dict(inner) == before  # not mutated
    assert sorted(updates.state_dict()) == sorted(
        [
            *inner.state_dict(),
            "apply_momentum.velocity[W]",
            "apply_momentum.velocity[b]",
        ]
    )
    for key in inner:
        if key not in params:
            assert updates[key] is inner[key]
    # the adam counter is no parameter: pass params when updates hold state
    with pytest.raises(TypeError, match="float dtype"):
        compat.apply_momentum(inner)
    with pytest.raises(KeyError, match="no update"):
        compat.apply_momentum(compat.sgd(loss, params[:1]), params=params)


def test_checkpoint_round_trip():
    params, loss = small_problem()
    updates = compat.adagrad_window(loss, params, learning_rate=0.1, n_win=3)
    step = compile_step(updates)
    for _ in range(4):
        step()
    state = updates.state_dict()
    values = [param.get_value() for param in params]
    assert state["adagrad_window.accu[W]"].shape == (3, 2, 3)
    assert state["adagrad_window.counter"] == 4
    step()
    after = [param.get_value() for param in params]
    updates.load_state_dict(state)
    for param, value in zip(params, values, strict=True):
        param.set_value(value)
    step()
    for param, value in zip(params, after, strict=True):
        np.testing.assert_array_equal(param.get_value(), value)
    updates.reset()
    assert all(not np.any(value) for value in updates.state_dict().values())


# ---- adagrad_window ---------------------------------------------------------


def numpy_adagrad_window(steps, learning_rate, epsilon, n_win, exclude_current):
    """The problem's trajectory, in NumPy: the gradient of W is A (W - C)."""
    data = problem_data()
    params = [data["W0"].copy(), data["b0"].copy()]
    curvatures, minima = [data["A"], data["a"]], [data["C"], data["c"]]
    windows = [np.zeros((*p.shape, n_win)) for p in params]
    rows = []
    for t in range(steps):
        for index, (param, window) in enumerate(zip(params, windows, strict=True)):
            gradient = curvatures[index] * (param - minima[index])
            previous = window.sum(axis=-1)
            window[..., t % n_win] = gradient**2
            total = previous if exclude_current else window.sum(axis=-1)
            params[index] = param - learning_rate * gradient / np.sqrt(total + epsilon)
        rows.append(np.concatenate([params[0].ravel(), params[1]]))
    return np.stack(rows)


@pytest.mark.parametrize("exclude_current", [False, True])
@pytest.mark.parametrize("n_win", [1, 4, 10])
def test_adagrad_window_against_numpy(n_win, exclude_current):
    params, loss = small_problem()
    updates = compat.adagrad_window(
        loss, params, 0.1, 1e-3, n_win, exclude_current=exclude_current
    )
    step = compile_step(updates)
    rows = []
    for _ in range(STEPS):
        step()
        rows.append(
            np.concatenate([params[0].get_value().ravel(), params[1].get_value()])
        )
    expected = numpy_adagrad_window(STEPS, 0.1, 1e-3, n_win, exclude_current)
    np.testing.assert_allclose(np.stack(rows), expected, rtol=1e-12)


def test_numpy_adagrad_window_is_pymcs():
    """The NumPy transcription, with the current gradient, matches pymc's data."""
    index = NAMES.index("adagrad_window-n4")
    assert CONFIGS["adagrad_window-n4"]["kwargs"] == {
        "learning_rate": 0.1,
        "epsilon": 1e-3,
        "n_win": 4,
    }
    expected = REFERENCE["FAST_COMPILE/float64/params"][index]
    np.testing.assert_allclose(
        numpy_adagrad_window(STEPS, 0.1, 1e-3, 4, False), expected, rtol=1e-12
    )


def test_exclude_current_first_step():
    """The first step divides by sqrt(epsilon): the window is still empty."""
    w = pytensor.shared(np.array([1.0, -2.0]), name="w")
    g = np.array([0.5, 4.0])
    updates = compat.adagrad_window(
        [pt.constant(g)], [w], 0.1, 0.25, 3, exclude_current=True
    )
    compile_step(updates)()
    np.testing.assert_allclose(w.get_value(), [1.0, -2.0] - 0.1 * g / 0.5)


def test_n_win_checked():
    params, loss = small_problem()
    with pytest.raises(ValueError, match="n_win must be at least 1"):
        compat.adagrad_window(loss, params, n_win=0)
    with pytest.raises(TypeError, match="n_win must be an integer"):
        compat.adagrad_window(loss, params, n_win=2.5)
    with pytest.raises(TypeError, match="exclude_current"):
        compat.adagrad_window(loss, params, exclude_current=1)


# ---- hyperparameters and norm constraints -----------------------------------


def test_symbolic_learning_rate():
    params, loss = small_problem()
    learning_rate = pytensor.shared(0.1)
    step = compile_step(compat.adam(loss, params, learning_rate=learning_rate))
    step()
    learning_rate.set_value(0.0)
    before = params[0].get_value()
    step()
    np.testing.assert_array_equal(params[0].get_value(), before)


def test_norm_constraint_axes():
    x = np.random.default_rng(1).normal(size=(2, 3, 4))
    constrained = compat.norm_constraint(pt.constant(x), 0.5).eval()
    norms = np.sqrt((x**2).sum(axis=(1, 2), keepdims=True))
    np.testing.assert_allclose(
        constrained, x * np.minimum(norms, 0.5) / (1e-7 + norms), rtol=1e-14
    )
    with pytest.raises(ValueError, match="Must specify `norm_axes`"):
        compat.norm_constraint(pt.vector(), 1.0)
    vector = compat.norm_constraint(pt.constant(np.array([3.0, 4.0])), 1.0, [0])
    np.testing.assert_allclose(vector.eval(), [0.6, 0.8], rtol=1e-6)


def test_norm_constraint_infinite_max_norm():
    x = np.array([[3.0], [4.0]])
    out = compat.norm_constraint(pt.constant(x), np.inf).eval()
    # the default mode's fastmath may take a reciprocal and reassociate: a
    # few roundings on each side, not one
    np.testing.assert_allclose(out, x * 5.0 / (1e-7 + 5.0), rtol=1e-14)
