"""The device-resident JAX step: the same iterates as pytensor.function (JAX and
C VM modes), Adam and SGD-momentum against optax, state handling and errors."""

import subprocess
import sys

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

import pytensor_optim as po

jax = pytest.importorskip("jax")

from pytensor_optim.resident import resident_function  # noqa: E402

# PyTensor's JAX conversion drops run-time shape assertions, and says so
pytestmark = pytest.mark.filterwarnings(
    "ignore:Skipping .* as JAX tracing would remove it:UserWarning"
)

STEPS = 5
BATCH = 4
TOLERANCE = {"float64": 1e-12, "float32": 1e-6}

RULES = {
    "adam": (po.adam, {"step_size": 0.05}),
    "sgd-momentum": (po.sgd, {"step_size": 0.05, "momentum": 0.9}),
    "sgd-nesterov": (po.sgd, {"step_size": 0.05, "momentum": 0.9, "nesterov": True}),
    "rmsprop": (po.rmsprop, {"step_size": 0.01, "momentum": 0.5, "centered": True}),
    "adagrad": (po.adagrad, {"step_size": 0.1}),
    # stops after 3 of the 5 calls: the int counter, the status and the freeze
    "adam-stop": (po.adam, {"step_size": 0.05, "max_iter": 3}),
}


def assert_close(actual, desired, rtol):
    """Elementwise within ``rtol``, or ``rtol`` of the array's largest entry.

    float32 kernels of XLA and of the C VM (tanh, dot products) differ in the
    last bits; where an entry is a difference of larger terms (a gradient
    near zero) its own relative error is larger than the array's.
    """
    desired = np.asarray(desired)
    scale = float(np.max(np.abs(desired))) if desired.size else 0.0
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=rtol * scale)


def pytensor_dtype(value, dtype):
    """The dtype a state value must have: the parameters' for float arrays."""
    return dtype if np.asarray(value).dtype.kind == "f" else np.asarray(value).dtype


def minibatches(dtype, steps=STEPS):
    rng = np.random.default_rng(1)
    return [rng.normal(size=(BATCH, 3)).astype(dtype) for _ in range(steps)]


def build(rule, dtype):
    """A least-squares model on a minibatch input: fresh shared variables."""
    function, kwargs = RULES[rule]
    weights = pytensor.shared(
        np.array([[0.5, -1.0], [1.5, 0.25], [-0.75, 1.0]], dtype=dtype), name="W"
    )
    bias = pytensor.shared(np.array([0.1, -0.2], dtype=dtype), name="b")
    x = pt.matrix("x", dtype=dtype)
    prediction = pt.tanh(x @ weights + bias)
    cost = ((prediction - 0.5) ** 2).mean()
    stop = pytensor.shared(np.int8(0), name="stop") if "max_iter" in kwargs else None
    updates = function([weights, bias], cost, stop=stop, **kwargs)
    return x, cost, updates


def final_state(updates):
    """``{name: value}`` of the parameters and every state variable."""
    values = {param.name: param.get_value() for param in updates.params}
    values.update(updates.state_dict())
    return values


def run_pytensor(rule, dtype, mode):
    x, cost, updates = build(rule, dtype)
    step = pytensor.function([x], cost, updates=updates, mode=mode)
    costs = [np.asarray(step(batch)) for batch in minibatches(dtype)]
    return costs, final_state(updates)


@pytest.fixture(scope="module")
def resident_runs():
    """Each (rule, dtype): compiled and run once, shared by the comparisons."""
    runs = {}

    def run(rule, dtype):
        if (rule, dtype) not in runs:
            x, cost, updates = build(rule, dtype)
            step = resident_function([x], cost, updates)
            costs = [step(batch) for batch in minibatches(dtype)]
            resident = {
                variable.name: step.get_value(variable)
                for variable in step.shared_variables
            }
            step.write_back()
            runs[rule, dtype] = costs, resident, final_state(updates)
        return runs[rule, dtype]

    return run


CASES = [(rule, dtype) for rule in RULES for dtype in ("float64", "float32")]


@pytest.mark.parametrize("mode", ["JAX", "CVM"])
@pytest.mark.parametrize("rule, dtype", CASES)
def test_same_iterates_as_pytensor_function(resident_runs, rule, dtype, mode):
    costs, resident, written = resident_runs(rule, dtype)
    expected_costs, expected = run_pytensor(rule, dtype, mode)
    rtol = TOLERANCE[dtype]
    for cost, expected_cost in zip(costs, expected_costs, strict=True):
        assert cost.dtype == np.dtype(dtype)
        assert_close(cost, expected_cost, rtol)
    assert written.keys() == expected.keys()
    for name, value in expected.items():
        # PyTensor's JAX mode turns float32 state into float64 (its float32
        # sum returns float64): ours keeps every declared dtype, as the C VM
        assert written[name].dtype == np.dtype(pytensor_dtype(value, dtype)), name
        assert_close(written[name], value, rtol)
        if name in resident:
            np.testing.assert_array_equal(resident[name], written[name])
    if rule == "adam-stop":
        assert written["adam.counter"] == 3


# -- independent references ---------------------------------------------------

REFERENCE_STEPS = 10


def gradient_sequence(dtype):
    # positive gradients keep moments and parameters away from zero, where a
    # relative tolerance would mean nothing
    rng = np.random.default_rng(2)
    return [
        (
            rng.uniform(0.5, 1.5, size=(3, 2)).astype(dtype),
            rng.uniform(0.5, 1.5, size=4).astype(dtype),
        )
        for _ in range(REFERENCE_STEPS)
    ]


def against_optax(rule, kwargs, transformation, dtype, slot_names):
    """Run our rule with the gradients as per-call inputs, and optax."""
    optax = pytest.importorskip("optax")
    jnp = jax.numpy
    start = [
        np.linspace(1.0, 2.0, 6).reshape(3, 2).astype(dtype),
        np.linspace(2.0, 3.0, 4).astype(dtype),
    ]
    params = [pytensor.shared(value, name=f"p{i}") for i, value in enumerate(start)]
    gradients = [pt.matrix("g0", dtype=dtype), pt.vector("g1", dtype=dtype)]
    updates = rule(params, gradients=gradients, **kwargs)
    step = resident_function(gradients, None, updates)

    optimizer = getattr(optax, transformation[0])(**transformation[1])
    theirs = [jnp.asarray(value) for value in start]
    opt_state = optimizer.init(theirs)
    for gradient_values in gradient_sequence(dtype):
        step(*gradient_values)
        grads = [jnp.asarray(value) for value in gradient_values]
        changes, opt_state = optimizer.update(grads, opt_state, theirs)
        theirs = optax.apply_updates(theirs, changes)

    rtol = TOLERANCE[dtype]
    for param, expected in zip(params, theirs, strict=True):
        ours = step.get_value(param)
        assert ours.dtype == np.dtype(dtype)
        np.testing.assert_allclose(ours, np.asarray(expected), rtol=rtol, atol=0)
    for ours_name, their_field in slot_names.items():
        their_values = getattr(opt_state[0], their_field)
        for slot, expected in zip(updates.slots[ours_name], their_values, strict=True):
            np.testing.assert_allclose(
                step.get_value(slot), np.asarray(expected), rtol=rtol, atol=0
            )


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_adam_matches_optax(dtype):
    against_optax(
        po.adam,
        {"step_size": 0.01, "beta1": 0.8, "beta2": 0.95, "epsilon": 1e-6},
        ("adam", {"learning_rate": 0.01, "b1": 0.8, "b2": 0.95, "eps": 1e-6}),
        dtype,
        {"exp_avg": "mu", "exp_avg_sq": "nu"},
    )


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_sgd_momentum_matches_optax(dtype, nesterov):
    # torch's SGD (ours) with dampening 0 keeps optax's trace: buffer = g +
    # momentum * buffer, and its Nesterov step g + momentum * buffer
    against_optax(
        po.sgd,
        {"step_size": 0.01, "momentum": 0.9, "nesterov": nesterov},
        ("sgd", {"learning_rate": 0.01, "momentum": 0.9, "nesterov": nesterov}),
        dtype,
        {"momentum_buffer": "trace"},
    )


# -- the state on the device ----------------------------------------------------


def small_problem(dtype="float64"):
    param = pytensor.shared(np.array([1.0, -2.0, 3.0], dtype=dtype), name="p")
    step_size = pytensor.shared(np.asarray(0.1, dtype=dtype), name="step_size")
    cost = (param**2).sum()
    updates = po.sgd([param], cost, step_size=step_size, momentum=0.5)
    return param, step_size, cost, updates


def test_state_stays_on_the_device_until_write_back():
    param, step_size, cost, updates = small_problem()
    (buffer,) = updates.slots["momentum_buffer"]
    step = resident_function([], cost, updates)
    assert set(step.updated) == {param, buffer}
    assert set(step.shared_variables) == {param, buffer, step_size}
    for _ in range(3):
        step()
    # 3 steps of the heavy ball by hand: v = 0.5 v + 2 p, p = p - 0.1 v
    p, v = np.array([1.0, -2.0, 3.0]), np.zeros(3)
    for _ in range(3):
        v = 0.5 * v + 2 * p
        p = p - 0.1 * v
    np.testing.assert_allclose(step.get_value(param), p, rtol=1e-15)
    np.testing.assert_array_equal(param.get_value(), [1.0, -2.0, 3.0])
    np.testing.assert_array_equal(buffer.get_value(), np.zeros(3))
    step.write_back()
    np.testing.assert_allclose(param.get_value(), p, rtol=1e-15)
    np.testing.assert_allclose(buffer.get_value(), v, rtol=1e-15)
    # pytensor.function continues from the written values
    pytensor.function([], cost, updates=updates, mode="FAST_COMPILE")()
    v = 0.5 * v + 2 * p
    np.testing.assert_allclose(param.get_value(), p - 0.1 * v, rtol=1e-15)


def test_reload_and_set_value():
    param, step_size, cost, updates = small_problem()
    step = resident_function([], cost, updates)
    step_size.set_value(np.asarray(0.0))
    step()
    assert step.get_value(param)[0] != 1.0  # not reloaded: still 0.1
    step.reload()  # back to the shared values, step size 0
    np.testing.assert_array_equal(step.get_value(param), [1.0, -2.0, 3.0])
    step()
    np.testing.assert_array_equal(step.get_value(param), [1.0, -2.0, 3.0])
    step.set_value(step_size, 0.5)
    step.set_value(param, [1.0, 1.0, 1.0])
    step()
    # the buffer holds 2 p0 from the last call: v = 0.5 * 2 p0 + 2 p
    velocity = 0.5 * 2.0 * np.array([1.0, -2.0, 3.0]) + 2.0
    np.testing.assert_allclose(step.get_value(param), 1.0 - 0.5 * velocity, rtol=1e-15)
    assert step_size.get_value() == 0.0


def test_donated_buffers_are_replaced_and_read_state_is_kept():
    param, step_size, cost, updates = small_problem()
    step = resident_function([], cost, updates)
    before = step.get_value(param, borrow=True)
    copy = step.get_value(param)
    read_only = step.get_value(step_size, borrow=True)
    step()
    assert isinstance(before, jax.Array)
    assert before.is_deleted()  # donated to the call
    assert not read_only.is_deleted()
    np.testing.assert_array_equal(copy, [1.0, -2.0, 3.0])
    state = step.state
    assert set(state) == set(step.shared_variables)
    assert all(isinstance(value, jax.Array) for value in state.values())
    step()  # the second call reads the arrays the first returned
    # p1 = 0.8 p0 (v1 = 2 p0); v2 = 0.5 v1 + 2 p1 = 2.6 p0; p2 = p1 - 0.1 v2
    np.testing.assert_allclose(
        step.get_value(param), 0.54 * np.array([1.0, -2.0, 3.0]), rtol=1e-15
    )


def test_outputs():
    param = pytensor.shared(np.array([1.0, 2.0], dtype="float32"), name="p")
    cost = (param**2).sum()
    updates = {param: param * np.float32(0.5)}
    single = resident_function([], cost, updates)()
    assert isinstance(single, jax.Array) and single.dtype == np.float32
    assert float(single) == 5.0
    listed = resident_function([], [cost, param], dict(updates))()
    assert isinstance(listed, list) and len(listed) == 2
    np.testing.assert_array_equal(listed[1], [1.0, 2.0])  # the value before
    assert resident_function([], None, dict(updates))() == []
    host = resident_function([], [cost], dict(updates), numpy_outputs=True)()
    assert isinstance(host[0], np.ndarray) and host[0].dtype == np.float32


def test_float32_stays_float32():
    x, cost, updates = build("adam", "float32")
    step = resident_function([x], cost, updates)
    step(minibatches("float32")[0])
    for variable, value in step.state.items():
        assert value.dtype == np.dtype(variable.dtype), variable
    (weights, bias) = updates.params
    step.set_value(bias, [1.0, 2.0])  # Python floats, as shared.set_value
    assert step.get_value(bias, borrow=True).dtype == np.float32
    with pytest.raises(TypeError, match="set_value of b"):
        step.set_value(bias, np.array([1.0, 2.0]))  # float64 is not downcast
    step.set_value(weights, jax.numpy.ones((3, 2), dtype="float32"))
    step(minibatches("float32")[1])
    assert step.get_value(weights).dtype == np.float32


def test_devices_and_default_updates():
    counter = pytensor.shared(np.int64(0), name="counter")
    with pytest.warns(DeprecationWarning, match="default_update"):
        counter.default_update = counter + 1
    param = pytensor.shared(np.ones(2), name="p")
    cost = (param * counter).sum()
    for device in (None, "cpu", jax.devices("cpu")[0]):
        step = resident_function([], cost, None, device=device)
        assert step.updated == (counter,)
        assert step.device == jax.devices("cpu")[0]
        assert [float(step()) for _ in range(3)] == [0.0, 2.0, 4.0]


def test_inputs_used_as_shapes():
    # an input used only as a shape is passed to JAX as a static argument
    rows = pt.lscalar("rows")
    x = pt.vector("x")
    total = pytensor.shared(np.zeros(()), name="total")
    largest = x.reshape((rows, -1)).sum(axis=1).max()
    step = resident_function([x, rows], largest, {total: total + largest})
    values = np.arange(6.0)
    assert float(step(values, 2)) == 12.0  # [[0, 1, 2], [3, 4, 5]]
    assert float(step(values, 3)) == 9.0  # [[0, 1], [2, 3], [4, 5]]
    assert step.get_value(total) == 21.0


def test_package_import_does_not_import_jax():
    code = "import sys, pytensor_optim; assert 'jax' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# -- errors -------------------------------------------------------------------


def test_bad_arguments():
    param, _, cost, updates = small_problem()
    x = pt.vector("x")
    with pytest.raises(TypeError, match=r"inputs\[0\] is the shared variable p"):
        resident_function([param], cost, updates)
    with pytest.raises(TypeError, match="inputs must be a list"):
        resident_function(x, cost, updates)
    with pytest.raises(ValueError, match="inputs holds a variable twice"):
        resident_function([x, x], cost + x.sum(), updates)
    with pytest.raises(TypeError, match=r"outputs\[1\] must be a variable"):
        resident_function([], [cost, 3.0], updates)
    with pytest.raises(TypeError, match=r"updates key .* must be a shared variable"):
        resident_function([x], cost, {x: x + 1})
    with pytest.raises(TypeError, match=r"updates\[p\]"):
        resident_function([], cost, {param: pt.matrix()})
    with pytest.raises(ValueError, match="updates holds p twice"):
        resident_function([], cost, [(param, param + 1), (param, param - 1)])
    with pytest.raises(ValueError, match="device='nonesuch'"):
        resident_function([], cost, updates, device="nonesuch")
    with pytest.raises(TypeError, match="device must be"):
        resident_function([], cost, updates, device=3)


def test_bad_calls():
    param = pytensor.shared(np.zeros(2, dtype="float32"), name="p")
    x = pt.vector("x", dtype="float32")
    step = resident_function([x], None, {param: param + x})
    with pytest.raises(TypeError, match=r"expected 1 inputs \(x\), got 0"):
        step()
    with pytest.raises(TypeError, match=r"input 0 \(x\)"):
        step(np.zeros(2, dtype="float64"))
    with pytest.raises(TypeError, match=r"input 0 \(x\) expects"):
        step(jax.numpy.zeros((2, 2), dtype="float32"))
    with pytest.raises(KeyError, match="not a shared variable of this function"):
        step.get_value(pytensor.shared(1.0))
    step(np.ones(2, dtype="float32"))
    np.testing.assert_array_equal(step.get_value(param), [1.0, 1.0])


def test_random_generators_are_refused():
    rng = pytensor.shared(np.random.default_rng(0), name="rng")
    next_rng, noise = pt.random.normal(size=(2,), rng=rng, return_next_rng=True)
    param = pytensor.shared(np.zeros(2), name="p")
    with pytest.raises(TypeError, match=r"random generators: \['rng'\]"):
        resident_function([], None, {param: param + noise, rng: next_rng})


def test_import_error_without_jax(monkeypatch):
    monkeypatch.setitem(sys.modules, "jax", None)
    *_, cost, updates = small_problem()
    with pytest.raises(ImportError, match=r"pip install pytensor-optim\[jax\]"):
        resident_function([], cost, updates)
