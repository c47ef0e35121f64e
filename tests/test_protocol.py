"""Generic conformance of every rule in the registry to the protocol (API.md §1)."""

import re

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.graph.traversal import ancestors

from pytensor_optim import Status, Updates
from pytensor_optim.line_search import LineSearch

from .conftest import compile_step
from .registry import IDS, RULES

rules = pytest.mark.parametrize("rule", RULES, ids=IDS)

CENTRE_W = np.array([1.0, -2.0, 0.5])
CENTRE_M = np.array([[0.5, 1.5], [-1.0, 2.0]])


def quadratic(dtype="float64", scale=None):
    """A convex quadratic in two parameters (a vector and a matrix)."""
    w = pytensor.shared(np.zeros(3, dtype=dtype), name="w")
    m = pytensor.shared(np.ones((2, 2), dtype=dtype), name="m")
    cost = (
        0.5 * ((w - CENTRE_W.astype(dtype)) ** 2).sum()
        + 0.5 * ((m - CENTRE_M.astype(dtype)) ** 2).sum()
    )
    if scale is not None:
        cost = cost * scale
    return [w, m], cost


def gradient_of(params):
    """The quadratic's gradient in NumPy (independent of PyTensor)."""
    w, m = (p.get_value() for p in params)
    return [w - CENTRE_W, m - CENTRE_M]


def cost_of(params):
    w, m = (p.get_value() for p in params)
    return 0.5 * ((w - CENTRE_W) ** 2).sum() + 0.5 * ((m - CENTRE_M) ** 2).sum()


def values(params):
    return [p.get_value().copy() for p in params]


# ---- argument errors -------------------------------------------------------
@rules
def test_errors_name_the_argument(rule):
    params, cost = quadratic()
    algo, kw = rule.function, rule.kwargs
    stop = pytensor.shared(0)
    integer = pytensor.shared(np.zeros(3, dtype="int64"), name="k")
    cases = [
        (TypeError, "params", dict(params=[integer], cost=cost)),
        (TypeError, "params", dict(params=[np.zeros(3)], cost=cost)),
        (TypeError, "params", dict(params="w", cost=cost)),
        (ValueError, "more than once", dict(params=[params[0], params[0]], cost=cost)),
        (ValueError, "cost must be a scalar", dict(params=params, cost=params[0] * 2)),
        (ValueError, "neither", dict(params=params)),
        (ValueError, "gradients has 1", dict(params=params, gradients=[params[0]])),
        (
            ValueError,
            "gradients\\[1\\]",
            dict(params=params, gradients=[params[0], params[0]]),
        ),
        (
            TypeError,
            "stop",
            dict(params=params, cost=cost, stop=pytensor.shared(0.0)),
        ),
        (
            TypeError,
            "stop",
            dict(params=params, cost=cost, stop=pytensor.shared(np.zeros(2, "int64"))),
        ),
        (TypeError, "stop", dict(params=params, cost=cost, stop=pt.lscalar())),
        (TypeError, "updates", dict(params=params, cost=cost, updates=3)),
        (TypeError, "'nonsense'", dict(params=params, cost=cost, nonsense=1)),
        (
            ValueError,
            "max_iter",
            dict(params=params, cost=cost, max_iter=10),  # no stop
        ),
        (ValueError, "max_iter", dict(params=params, cost=cost, stop=stop, max_iter=0)),
        (ValueError, "gtol", dict(params=params, cost=cost, stop=stop, gtol=-1.0)),
        (
            ValueError,
            "ftol",
            dict(params=params, gradients=list(params), stop=stop, ftol=1e-3),
        ),
    ]
    for error, text, arguments in cases:
        with pytest.raises(error, match=text):
            algo(**{**kw, **arguments})


@rules
def test_bad_hyperparameters_raise_value_error_naming_them(rule):
    params, cost = quadratic()
    assert rule.bad_hyperparameters, "every rule lists at least one bad value"
    for override in rule.bad_hyperparameters:
        with pytest.raises(ValueError) as info:
            rule.function(params, cost, **{**rule.kwargs, **override})
        assert any(key in str(info.value) for key in override), str(info.value)


@rules
def test_hyperparameter_of_wrong_kind_is_type_error(rule):
    params, cost = quadratic()
    # a hyperparameter given as a number, shared variable or schedule; the
    # name of a choice (a string) and a line search are other kinds
    key = next(
        (
            k
            for k, v in rule.kwargs.items()
            if not isinstance(v, bool | str | LineSearch)
            and k not in rule.initial_values
        ),
        None,
    )
    if key is None:
        pytest.skip("no numeric hyperparameter in the registry's kwargs")
    for bad in ("fast", None):
        with pytest.raises(TypeError, match=key):
            rule.function(params, cost, **{**rule.kwargs, key: bad})
    with pytest.raises(ValueError, match=key):
        rule.function(params, cost, **{**rule.kwargs, key: np.ones(2)})


# ---- the updates dict --------------------------------------------------------
@rules
def test_extends_updates_without_mutating_them(rule):
    params, cost = quadratic()
    other = pytensor.shared(0.0, name="other")
    given = {other: other + 1}
    snapshot = dict(given)
    result = rule.function(params, cost, updates=given, **rule.kwargs)
    assert given == snapshot
    assert isinstance(result, Updates)
    keys = list(result)
    assert keys[0] is other and result[other] is given[other]
    assert all(p in result for p in params)
    as_pairs = rule.function(params, cost, updates=[(other, other + 1)], **rule.kwargs)
    assert next(iter(as_pairs)) is other


@rules
def test_key_collision_raises_key_error(rule):
    params, cost = quadratic()
    stop = pytensor.shared(0, name="my_stop")
    with pytest.raises(KeyError, match="w"):
        rule.function(params, cost, updates={params[0]: params[0]}, **rule.kwargs)
    with pytest.raises(KeyError, match="my_stop"):
        rule.function(params, cost, stop=stop, updates={stop: stop}, **rule.kwargs)


@rules
def test_initial_values_must_be_numbers(rule):
    params, cost = quadratic()
    for key in rule.initial_values:
        with pytest.raises(TypeError, match=key):
            rule.function(params, cost, **{**rule.kwargs, key: pytensor.shared(0.1)})


@rules
def test_single_variable_is_a_list_of_one(rule):
    params, cost = quadratic()
    result = rule.function(params[0], cost, **rule.kwargs)
    assert result.params == (params[0],)


@rules
def test_state_is_named_and_independent_between_calls(rule):
    params, cost = quadratic()
    first = rule.function(params, cost, stop=pytensor.shared(0), **rule.kwargs)
    second = rule.function(params, cost, stop=pytensor.shared(0), **rule.kwargs)
    assert not set(first.state) & set(second.state)
    pattern = re.compile(re.escape(rule.function.__name__) + r"\.\w+(\[(w|m)\])?$")
    for variable in first.state:
        assert pattern.match(variable.name), variable.name
    for slot, variables in first.slots.items():
        assert [v.name for v in variables] == [
            f"{rule.function.__name__}.{slot}[w]",
            f"{rule.function.__name__}.{slot}[m]",
        ]
    if first.counter is not None:
        assert first.counter.dtype == "int64"


# ---- types -----------------------------------------------------------------
@rules
@pytest.mark.parametrize(
    "kind", ["python", "numpy64", "shared64"], ids=["float", "np.float64", "shared"]
)
def test_float32_stays_float32(rule, kind):
    params, cost = quadratic("float32")

    def convert(key, value):
        if isinstance(value, float) and key not in rule.initial_values:
            if kind == "numpy64":
                return np.float64(value)
            if kind == "shared64":
                return pytensor.shared(np.float64(value))
        return value

    kwargs = {key: convert(key, value) for key, value in rule.kwargs.items()}
    stop = pytensor.shared(np.int32(0))
    gtol = {} if rule.derivative_free else {"gtol": 1e-6}
    result = rule.function(params, cost, stop=stop, **gtol, xtol=1e-9, **kwargs)
    for variable, expression in result.items():
        # same dtype and rank; static lengths may be more specific than the key's
        assert variable.type.is_super(expression.type), variable
        if hasattr(variable.type, "dtype"):  # not a random generator
            assert expression.type.dtype == variable.type.dtype
    # no float64 tensor anywhere: only scalars (schedules, counters) may be
    for variable in ancestors(list(result.values())):
        if getattr(variable.type, "ndim", 0) > 0:
            assert variable.type.dtype != "float64", variable
    step = compile_step(result)
    before = values(params)
    step()
    after = values(params)
    assert all(a.dtype == np.float32 for a in after)
    assert not np.allclose(before[0], after[0])


# ---- checkpointing ---------------------------------------------------------
@rules
def test_state_dict_round_trip_and_reset(rule):
    params, cost = quadratic()
    stop = pytensor.shared(0)
    result = rule.function(params, cost, stop=stop, max_iter=50, **rule.kwargs)
    step = compile_step(result)
    initial_state = result.state_dict()
    for _ in range(3):
        step()
    state, saved = result.state_dict(), values(params)
    for _ in range(2):
        step()
    expected = values(params)
    result.load_state_dict(state)
    for param, value in zip(params, saved, strict=True):
        param.set_value(value)
    for _ in range(2):
        step()
    for a, b in zip(values(params), expected, strict=True):
        np.testing.assert_array_equal(a, b)

    result.reset()
    for name, value in result.state_dict().items():
        np.testing.assert_array_equal(value, initial_state[name], err_msg=name)
    with pytest.raises(KeyError):
        result.load_state_dict({})
    wrong = {k: np.zeros((7, 7)) for k in state}
    with pytest.raises(ValueError, match="shape"):
        result.load_state_dict(wrong)


# ---- stopping --------------------------------------------------------------
def run_until_stop(rule, params, cost, limit=None, **stopping):
    stop = pytensor.shared(0)
    result = rule.function(params, cost, stop=stop, **stopping, **rule.kwargs)
    step = compile_step(result, [cost])
    history = [values(params)]
    costs = []
    for _ in range(limit or rule.max_calls):
        costs.append(float(step()[0]))
        history.append(values(params))
        if stop.get_value():
            break
    return result, stop, history, costs


@rules
def test_max_iter_stops_and_freezes_until_reset(rule):
    params, cost = quadratic()
    result, stop, history, _ = run_until_stop(rule, params, cost, max_iter=3)
    assert len(history) == 4 and stop.get_value() == 1
    assert Status(int(result.status.get_value())) == Status.MAX_ITER
    assert not np.allclose(history[-1][0], history[-2][0])  # the 3rd step was taken
    step = compile_step(result)
    frozen_state, frozen = result.state_dict(), values(params)
    step()
    step()
    for a, b in zip(values(params), frozen, strict=True):
        np.testing.assert_array_equal(a, b)
    for name, value in result.state_dict().items():
        np.testing.assert_array_equal(value, frozen_state[name], err_msg=name)
    stop.set_value(0)
    step()
    assert stop.get_value() == 1  # the counter is past max_iter: one more step
    assert not np.allclose(values(params)[0], frozen[0])


@rules
def test_max_evals(rule):
    params, cost = quadratic()
    result, _, history, _ = run_until_stop(rule, params, cost, max_evals=4)
    assert Status(int(result.status.get_value())) == Status.MAX_EVALS
    if rule.evals_vary:
        # a line search makes a varying number of evaluations per call
        (evals,) = (v for v in result.state if v.name.endswith(".evals"))
        assert evals.get_value() >= 4
        assert len(history) <= 5
    else:
        assert len(history) == 5


@rules
def test_gtol_stops_at_the_converged_point(rule):
    if rule.derivative_free:
        pytest.skip("no gradient: gtol raises ValueError (see the rule's tests)")
    params, cost = quadratic()
    result, _, history, _ = run_until_stop(rule, params, cost, gtol=1e-4)
    assert Status(int(result.status.get_value())) == Status.CONVERGED_GTOL
    assert max(np.abs(g).max() for g in gradient_of(params)) <= 1e-4
    # the last call found convergence at the point it evaluated: no step
    if not rule.look_ahead:
        for a, b in zip(history[-1], history[-2], strict=True):
            np.testing.assert_array_equal(a, b)
    assert len(history) > 3


@rules
def test_ftol(rule):
    params, cost = quadratic()
    ftol = 1e-6
    result, _, _, costs = run_until_stop(rule, params, cost, ftol=ftol)
    assert Status(int(result.status.get_value())) == Status.CONVERGED_FTOL
    previous, last = costs[-2], costs[-1]
    assert abs(previous - last) <= ftol * max(abs(previous), abs(last), 1)
    for a, b in zip(costs[:-2], costs[1:-1], strict=True):
        assert abs(a - b) > ftol * max(abs(a), abs(b), 1)


@rules
def test_xtol(rule):
    params, cost = quadratic()
    xtol = 1e-5
    result, _, history, _ = run_until_stop(rule, params, cost, xtol=xtol)
    assert Status(int(result.status.get_value())) == Status.CONVERGED_XTOL

    def largest_step(a, b):
        return max(np.abs(x - y).max() for x, y in zip(a, b, strict=True))

    assert largest_step(history[-1], history[-2]) <= xtol
    assert all(
        largest_step(a, b) > xtol
        for a, b in zip(history[:-2], history[1:-1], strict=True)
    )


@rules
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_cost_stops_and_keeps_last_finite_point(rule, bad):
    scale = pytensor.shared(1.0, name="scale")
    params, cost = quadratic(scale=scale)
    stop = pytensor.shared(0)
    result = rule.function(params, cost, stop=stop, **rule.kwargs)
    step = compile_step(result)
    step()
    step()
    state, point = result.state_dict(), values(params)
    scale.set_value(bad)
    step()
    assert stop.get_value() == 1
    assert Status(int(result.status.get_value())) == Status.NON_FINITE
    for a, b in zip(values(params), point, strict=True):
        np.testing.assert_array_equal(a, b)
    for name, value in result.state_dict().items():
        if not name.endswith(".status"):
            np.testing.assert_array_equal(value, state[name], err_msg=name)


@rules
def test_without_stop_no_status(rule):
    params, cost = quadratic()
    result = rule.function(params, cost, **rule.kwargs)
    assert result.status is None
    assert all(not v.name.endswith((".status", ".previous_cost")) for v in result.state)


@rules
def test_converges_on_the_quadratic(rule):
    params, cost = quadratic()
    if rule.derivative_free:
        result, _, _, _ = run_until_stop(rule, params, cost, xtol=1e-7)
        assert Status(int(result.status.get_value())).success
    else:
        result, _, _, _ = run_until_stop(rule, params, cost, gtol=1e-6)
        assert Status(int(result.status.get_value())) == Status.CONVERGED_GTOL
    np.testing.assert_allclose(params[0].get_value(), CENTRE_W, atol=1e-5)
    np.testing.assert_allclose(params[1].get_value(), CENTRE_M, atol=1e-5)
