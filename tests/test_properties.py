"""Property tests: random shapes, dtypes and hyperparameters for every rule."""

import numpy as np
import pytensor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import compile_step
from .registry import every_rule

shapes = st.lists(
    st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple),
    min_size=1,
    max_size=3,
)


def scaled(kwargs, factor):
    """Float hyperparameters times ``factor``; integers, flags, schedules kept."""
    return {
        key: value * factor if isinstance(value, float) else value
        for key, value in kwargs.items()
    }


# other configurations of a rule (registry.VARIANT_IDS) with -m slow only
@every_rule(variants=False)
@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    shapes=shapes,
    dtype=st.sampled_from(["float32", "float64"]),
    factor=st.sampled_from([-1.0, 0.5, 1.0, 2.0]),
    seed=st.integers(0, 2**16),
)
def test_random_problems_keep_types_or_raise_documented_errors(
    rule, shapes, dtype, factor, seed
):
    rng = np.random.default_rng(seed)
    params = [
        pytensor.shared(rng.normal(size=shape).astype(dtype), name=f"p{i}")
        for i, shape in enumerate(shapes)
    ]
    cost = sum(((p - 0.5) ** 2).sum() for p in params)
    try:
        updates = rule.function(
            params, cost, stop=pytensor.shared(0), **scaled(rule.kwargs, factor)
        )
    except ValueError as error:
        # the registry's values are valid; scaled ones may leave their range
        # (negative, or a beta beyond 1): the error names the hyperparameter
        assert factor != 1.0
        assert any(key in str(error) for key in rule.kwargs), str(error)
        return
    step = compile_step(updates)
    for _ in range(2):
        step()
    for param, shape in zip(params, shapes, strict=True):
        value = param.get_value()
        assert value.dtype == dtype and value.shape == shape
    for variable in updates.state:
        value = variable.get_value()
        if isinstance(value, np.random.Generator):  # a random rule's generator
            continue
        assert value.dtype in (dtype, "float64", "int64", "int8")
