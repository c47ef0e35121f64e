"""The node of one ``dcsrch`` iteration: its kernel against its inner graph
(the Moré–Thuente search written with PyTensor's operations), on every
backend; the search itself is tested against SciPy in test_more_thuente.py."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.compile.mode import Mode

from pytensor_optim._kernels import compiled
from pytensor_optim.line_search import _dcsrch
from pytensor_optim.line_search._core import Line, LineSearch, run
from pytensor_optim.line_search._dcsrch import (
    AT_MAX,
    AT_MIN,
    CONVERGED,
    FIELDS,
    ROUNDING,
    RUNNING,
    XTOL,
    dcsrch_step,
    packed_graph,
)

# NumPy's arithmetic on the graph as built: no rewrite, no compiler
NUMPY = Mode(linker="py", optimizer=None)


def draw_iterations(rng, dtype, count):
    """``count`` argument lists of the node: states and trials drawn so
    that every status, both stages, bracketed or not, and non-finite
    trials all occur (ties, zero slopes, bounds hit and NaN included)."""
    real = np.dtype(dtype).type
    cases = []
    for _ in range(count):
        state = rng.normal(size=len(FIELDS))
        # the flags, now and then not 0 or 1 (read as true)
        state[0], state[1] = rng.choice([0.0, 1.0, 0.5], size=2, p=[0.45, 0.45, 0.1])
        state[2] = abs(state[2]) * rng.integers(2)  # stx, often 0
        state[5] = abs(state[5]) * rng.integers(3)  # sty
        state[8], state[9] = sorted([abs(state[8]), 3 * abs(state[9])])
        state[12] = rng.choice([np.inf, 3 * abs(state[12])])  # ceiling
        max_step = rng.choice([np.inf, 5.0])
        step = rng.choice(
            [abs(rng.normal()) * 2, 0.0, max_step if max_step < np.inf else 1.0]
        )
        cost, slope = rng.normal(), rng.normal()
        if rng.random() < 0.1:
            state[3] = cost  # a tie with fx
        if rng.random() < 0.05:
            state[4] = 0.0  # gx = 0: dcstep's sign is NaN
        if rng.random() < 0.05:
            cost = np.nan
        finite = np.isfinite(cost) and rng.random() > 0.1
        cases.append(
            [
                state.astype(dtype),
                real(step),
                real(cost),
                real(slope),
                np.bool_(finite),
                real(rng.normal()),  # cost at 0
                real(-abs(rng.normal())),  # slope at 0
                real(1e-4),
                real(rng.choice([0.1, 0.9])),
                real(rng.choice([1e-14, 0.1])),
                real(0.0),
                real(max_step),
            ]
        )
    return cases


def as_outputs(result, dtype):
    trial, status, state, takes_point = result
    return [
        np.asarray(trial, dtype=dtype),
        np.asarray(status, dtype=np.int8),
        np.asarray(state),
        np.asarray(takes_point, dtype=bool),
    ]


def assert_same(got, expected):
    """Equal values, dtypes, NaNs and signs of zero."""
    for a, b in zip(got, expected, strict=True):
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
        if a.dtype.kind == "f":
            numbers = ~np.isnan(a)
            np.testing.assert_array_equal(
                np.signbit(a[numbers]), np.signbit(b[numbers])
            )


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_kernel_is_the_inner_graph_to_the_bit(dtype, rng):
    """The Numba kernel and the symbolic iteration (evaluated by NumPy, no
    rewrite) agree to the bit in every case; float32 stays float32."""
    # built anew: the node's own inner graph is rewritten in place when JAX
    # compiles it
    graph = pytensor.function(*packed_graph(dtype), mode=NUMPY)
    kernel = compiled(_dcsrch._kernel)
    statuses, non_finite, bracketed = set(), 0, 0
    with np.errstate(all="ignore"):
        for case in draw_iterations(rng, dtype, 400):
            expected = graph(*case)
            got = as_outputs(kernel(*case), dtype)
            assert_same(got, expected)
            statuses.add(int(expected[1]))
            non_finite += not case[4]
            bracketed += bool(expected[2][1])
    assert statuses == {RUNNING, CONVERGED, XTOL, AT_MIN, AT_MAX, ROUNDING}
    assert non_finite > 10 and bracketed > 10


@pytest.mark.parametrize("mode", ["FAST_COMPILE", "CVM", "NUMBA", "JAX"])
def test_node_on_every_backend(mode, rng):
    """FAST_COMPILE, the C VM and Numba run the kernel: equal to the bit.
    JAX runs the inner graph, with XLA's arithmetic: equal statuses, and
    values to the last bits."""
    if mode == "JAX":
        pytest.importorskip("jax")
    dtype = "float64"
    state = pt.vector(dtype=dtype, shape=(len(FIELDS),))
    scalars = [pt.scalar(dtype=dtype) for _ in range(3)]
    finite = pt.scalar(dtype="bool")
    options = [pt.scalar(dtype=dtype) for _ in range(7)]
    outputs = dcsrch_step(
        state, (*scalars, finite), tuple(options[:2]), tuple(options[2:])
    )
    f = pytensor.function([state, *scalars, finite, *options], outputs, mode=mode)
    kernel = compiled(_dcsrch._kernel)
    with np.errstate(all="ignore"):
        for case in draw_iterations(rng, dtype, 60):
            got = f(*case)
            expected = as_outputs(kernel(*case), dtype)
            if mode == "JAX":
                assert_same(got[1::2], expected[1::2])
                for a, b in zip(got[::2], expected[::2], strict=True):
                    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300)
            else:
                assert_same(got, expected)


@pytest.mark.parametrize("mode", ["NUMBA", "FAST_COMPILE"])
def test_node_keeps_float32(mode, rng):
    dtype = "float32"
    case = draw_iterations(rng, dtype, 1)[0]
    inputs = [pt.as_tensor_variable(value).type() for value in case]
    outputs = dcsrch_step(
        inputs[0], tuple(inputs[1:5]), tuple(inputs[5:7]), tuple(inputs[7:])
    )
    assert [o.dtype for o in outputs] == [dtype, "int8", dtype, "bool"]
    got = pytensor.function(inputs, outputs, mode=mode)(*case)
    assert [np.asarray(o).dtype for o in got] == [dtype, "int8", dtype, "bool"]


class _VectorOfUnknownLength(LineSearch):
    def init(self, line):
        return {"trial": line.initial_step, "values": pt.dvector()}


def test_a_state_entry_needs_a_static_shape():
    x = pytensor.shared(np.ones(2))
    cost = pt.sum(x**2)
    gradient = pytensor.grad(cost, x)
    line = Line([x], [-gradient], cost, [gradient], (cost, [gradient]), 0.5)
    with pytest.raises(ValueError, match="'values' must have a static shape"):
        run(_VectorOfUnknownLength(), line)
