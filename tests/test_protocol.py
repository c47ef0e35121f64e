"""Generic conformance of every rule in the registry to the protocol (API.md §1)."""

import re

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.graph.traversal import ancestors

import pytensor_optim as po
from pytensor_optim import Status, Updates
from pytensor_optim.line_search import LineSearch

from .conftest import compile_step
from .registry import RULES, every_rule, quick_first

rules = every_rule()
# checks of code that every configuration of a rule runs alike: the
# registry's other configurations of a rule (VARIANT_IDS), and the rules slow
# to compile (SLOW_TO_COMPILE), with -m slow only
first_configurations = every_rule(variants=False)

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
            "gradients\\[1\\] is None",
            dict(params=params, gradients=[params[0], None]),
        ),
        # w holds 3 numbers: a gradient of 2 would fail only when run
        (
            ValueError,
            "gradients\\[0\\] has shape \\(2,\\).*params\\[0\\] of shape \\(3,\\)",
            dict(params=params, gradients=[pt.as_tensor(np.ones(2)), params[1]]),
        ),
        (
            TypeError,
            "cost must have a float dtype",
            dict(params=params, cost=pt.cast(cost, "int64")),
        ),
        (
            TypeError,
            "cost must have a float dtype",
            dict(params=params, cost=pt.gt(cost, 1.0)),
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


@pytest.mark.parametrize(
    "algo, kwargs",
    [
        (po.sgd, dict(step_size=0.1, momentum=0.9)),
        (po.adam, {}),
        (po.rprop, {}),
        (po.lbfgs, dict(line_search=None)),
    ],
    ids=["sgd", "adam", "rprop", "lbfgs"],
)
def test_gradient_fed_with_the_wrong_shape_names_gradients(algo, kwargs):
    # a gradient fed when the function runs: its length is known only then;
    # with stop, the rule checks it as it checks for non-finite values
    w = pytensor.shared(np.zeros(3), name="w")
    g = pt.vector("g")
    stop = pytensor.shared(0)
    updates = algo([w], gradients=[g], stop=stop, **kwargs)
    step = pytensor.function([g], [], updates=updates)
    step(np.ones(3))
    moved = w.get_value().copy()
    assert np.all(moved < 0)  # it stepped against the gradient
    with pytest.raises(AssertionError, match=r"gradients\[0\].*params\[0\] \(w\)"):
        step(np.ones(4))
    np.testing.assert_array_equal(w.get_value(), moved)  # and wrote nothing


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
@first_configurations
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


@first_configurations
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
    "kind",
    quick_first({"float": "python", "shared": "shared64", "np.float64": "numpy64"}),
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
        # same dtype, rank and static 1s; other static lengths may be more
        # specific than the key's
        assert variable.type.is_super(expression.type), variable
        assert variable.type.in_same_class(expression.type), variable
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
    with pytest.raises(TypeError, match="state_dict must be a mapping"):
        result.load_state_dict([1, 2])
    counter = result.counter.name
    for name, bad, text in [
        (counter, np.int64(-1), "non-negative"),
        (result.status.name, np.int8(99), "Status code"),
    ]:
        with pytest.raises(ValueError, match=re.escape(name)) as info:
            result.load_state_dict({**state, name: bad})
        assert text in str(info.value)
    # nothing was loaded by the refused calls
    np.testing.assert_array_equal(result.counter.get_value(), initial_state[counter])


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


@first_configurations
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


@first_configurations
def test_ftol(rule):
    params, cost = quadratic()
    ftol = 1e-6
    result, _, _, costs = run_until_stop(rule, params, cost, ftol=ftol)
    assert Status(int(result.status.get_value())) == Status.CONVERGED_FTOL
    previous, last = costs[-2], costs[-1]
    assert abs(previous - last) <= ftol * max(abs(previous), abs(last), 1)
    for a, b in zip(costs[:-2], costs[1:-1], strict=True):
        assert abs(a - b) > ftol * max(abs(a), abs(b), 1)


@first_configurations
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
@pytest.mark.parametrize("bad", quick_first({"nan": np.nan, "inf": np.inf}))
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


@first_configurations
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


# ---- parameter shapes: lengths of 1, 0-d, size 0 ---------------------------
def shaped_problem(shapes, dtype="float64"):
    """A convex quadratic in one parameter per shape, from 1.5 to the targets."""
    params = [
        pytensor.shared(np.full(shape, 1.5, dtype=dtype), name=f"p{index}")
        for index, shape in enumerate(shapes)
    ]
    targets = [
        np.linspace(-1.0, 0.5, int(np.prod(shape))).reshape(shape) for shape in shapes
    ]
    cost = sum(
        0.5 * ((param - target.astype(dtype)) ** 2).sum()
        for param, target in zip(params, targets, strict=True)
    )
    return params, targets, cost


def numpy_cost(params, targets):
    return sum(
        0.5 * ((param.get_value() - target) ** 2).sum()
        for param, target in zip(params, targets, strict=True)
    )


def build_with_stop(rule, params, cost):
    stop = pytensor.shared(0)
    gtol = {} if rule.derivative_free else {"gtol": 1e-10}
    result = rule.function(params, cost, stop=stop, xtol=1e-12, **gtol, **rule.kwargs)
    return result, stop


# "mixed", in the default run, holds the lengths of the others
SHAPES_WITH_ONES = {
    "mixed": [(), (1,), (3, 1), (1, 1)],
    "0-d": [()],
    "(1,)": [(1,)],
    "(3,1)": [(3, 1)],
}


@first_configurations
@pytest.mark.parametrize("shapes", quick_first(SHAPES_WITH_ONES))
def test_lengths_of_one_and_0d_parameters_compile_and_step(rule, shapes):
    params, _, cost = shaped_problem(shapes)
    result, _ = build_with_stop(rule, params, cost)
    for variable, expression in result.items():
        # pytensor.function compares the static 1s of an update and its key
        assert variable.type.in_same_class(expression.type), (variable, expression)
        assert variable.type.is_super(expression.type), (variable, expression)
    step = compile_step(result)
    for _ in range(4):
        step()
    for param, shape in zip(params, shapes, strict=True):
        assert param.get_value().shape == shape
        assert np.isfinite(param.get_value()).all()
    # the steps were applied (the registry's hyperparameters suit the
    # conformance problem: four calls need not descend on this one)
    assert any(np.any(param.get_value() != 1.5) for param in params)


# the first two in the default run: all empty, and empty beside 0-d
SHAPES_WITH_ZEROS = {
    "(0,)": [(0,)],
    "(2,0)+()": [(2, 0), ()],
    "(0,)+(2,)": [(0,), (2,)],
}


@first_configurations
@pytest.mark.parametrize("shapes", quick_first(SHAPES_WITH_ZEROS, 2))
def test_size_0_parameters_contribute_nothing(rule, shapes):
    params, _, cost = shaped_problem(shapes)
    if rule.derivative_free and all(0 in shape for shape in shapes):
        with pytest.raises(ValueError, match="params have no element"):
            build_with_stop(rule, params, cost)
        return
    result, stop = build_with_stop(rule, params, cost)
    step = compile_step(result)
    for _ in range(3):
        step()
    for param, shape in zip(params, shapes, strict=True):
        assert param.get_value().shape == shape
    if all(0 in shape for shape in shapes):
        # no gradient component exceeds gtol: converged at once
        assert stop.get_value() == 1
        assert Status(int(result.status.get_value())) == Status.CONVERGED_GTOL
        return
    # the other parameters take the steps they take without the empty ones
    others = [shape for shape in shapes if 0 not in shape]
    alone, _, alone_cost = shaped_problem(others)
    step = compile_step(build_with_stop(rule, alone, alone_cost)[0])
    for _ in range(3):
        step()
    nonempty = [param for param in params if param.get_value().size]
    assert not np.allclose(alone[0].get_value(), 1.5)
    for param, expected in zip(nonempty, alone, strict=True):
        np.testing.assert_allclose(param.get_value(), expected.get_value(), rtol=1e-12)


@pytest.mark.parametrize(
    "rule",
    [r for r in RULES if r.id in ("sgd", "lbfgs-strong-wolfe")],
    ids=lambda r: r.id,
)
def test_size_0_parameters_on_the_c_backend(rule):
    # the C implementation of a maximum refuses an empty input as NumPy does
    params, targets, cost = shaped_problem([(0,), (2,)])
    result, _ = build_with_stop(rule, params, cost)
    step = compile_step(result, mode="CVM")
    before = numpy_cost(params, targets)
    for _ in range(3):
        step()
    assert params[0].get_value().shape == (0,)
    assert numpy_cost(params, targets) < before


# ---- a step that is not finite -----------------------------------------------
UNDEFINED_STEPS = {
    # epsilon 0 (refused as a number) divides 0 by 0 where a gradient
    # component is 0 from the start
    "adam": (po.adam, "epsilon", 0.0),
    "adagrad": (po.adagrad, "epsilon", 0.0),
    "adadelta": (po.adadelta, "epsilon", 0.0),
    "rmsprop": (po.rmsprop, "epsilon", 0.0),
    "adamax": (po.adamax, "epsilon", 0.0),
    "nadam": (po.nadam, "epsilon", 0.0),
    # a decay above 1 makes the mean square negative
    "rmsprop-alpha": (po.rmsprop, "alpha", 1.5),
}


@pytest.mark.parametrize("name", list(UNDEFINED_STEPS))
def test_a_step_that_is_not_finite_is_not_written(name):
    function, key, value = UNDEFINED_STEPS[name]
    with pytest.raises(ValueError, match=key):
        function([pytensor.shared(np.ones(2))], gradients=[np.ones(2)], **{key: value})
    hyperparameter = pytensor.shared(value, name=key)  # not checked when built
    w = pytensor.shared(np.array([1.0, 2.0]), name="w")
    cost = ((w - np.array([1.0, 0.0])) ** 2).sum()  # finite, gradient (0, 4)
    stop = pytensor.shared(0)
    result = function([w], cost, stop=stop, **{key: hyperparameter})
    step = compile_step(result, [cost])
    state = result.state_dict()
    assert np.isfinite(step()[0])
    assert stop.get_value() == 1
    assert Status(int(result.status.get_value())) == Status.NON_FINITE
    np.testing.assert_array_equal(w.get_value(), [1.0, 2.0])
    for key_, value_ in result.state_dict().items():
        if not key_.endswith(".status"):
            np.testing.assert_array_equal(value_, state[key_], err_msg=key_)
    # without stop nothing guards the step: this is the value kept out
    compile_step(function([w], cost, **{key: hyperparameter}))()
    assert not np.isfinite(w.get_value()).all()


def test_load_state_dict_refuses_non_finite_values_unless_initial():
    params, cost = quadratic()
    result = po.adam(params, cost, stop=pytensor.shared(0), ftol=1e-9)
    initial = result.state_dict()
    assert np.isnan(initial["adam.previous_cost"])  # no cost seen yet
    result.load_state_dict(initial)
    compile_step(result)()
    state = result.state_dict()
    for bad in (np.nan, np.inf):
        moments = state["adam.exp_avg[w]"].copy()
        moments[1] = bad
        with pytest.raises(ValueError, match=re.escape("adam.exp_avg[w]")):
            result.load_state_dict({**state, "adam.exp_avg[w]": moments})
    for bad in (np.inf, -np.inf):
        with pytest.raises(ValueError, match="previous_cost"):
            result.load_state_dict({**state, "adam.previous_cost": np.float64(bad)})
    # NaN is its initial value (no cost seen): accepted
    result.load_state_dict({**state, "adam.previous_cost": np.float64(np.nan)})
    assert np.isnan(result.state_dict()["adam.previous_cost"])
