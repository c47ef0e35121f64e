"""sgd: the seed's examples and parity with torch.optim.SGD."""

import json
import pathlib

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.graph.basic import equal_computations

from pytensor_optim import schedules, sgd

from .conftest import compile_step
from .reference.problems import PROBLEMS, from_reference

REFERENCE = np.load(pathlib.Path(__file__).parent / "reference/data/torch_sgd.npz")
CONFIGS = json.loads(str(REFERENCE["configs"]))
STEP_SIZES = json.loads(str(REFERENCE["step_sizes"]))


def test_minimal_dict_is_exactly_the_seed_example():
    p = pytensor.shared(np.zeros(3), name="p")
    g = pt.vector("g")
    result = sgd([p], gradients=[g], step_size=0.1)
    assert list(result) == [p]
    assert result.counter is None and result.status is None and result.slots == {}
    assert result.state == ()
    assert equal_computations([result[p]], [p - pt.constant(0.1) * g])


def test_extra_updates_come_first_and_collisions_raise():
    p = pytensor.shared(np.zeros(3), name="p")
    a, b = pytensor.shared(0.0, name="a"), pytensor.shared(1.0, name="b")
    g = pt.vector("g")
    result = sgd([p], gradients=[g], updates={a: b}, step_size=0.1)
    assert list(result.items())[:2] == [(a, b), (p, result[p])]
    with pytest.raises(KeyError):
        sgd([p], gradients=[g], updates={p: b}, step_size=0.1)


def test_step_size_is_required():
    p = pytensor.shared(np.zeros(3), name="p")
    with pytest.raises(TypeError, match="step_size"):
        sgd([p], gradients=[p])


def test_nesterov_needs_momentum_and_no_dampening():
    p = pytensor.shared(np.zeros(3), name="p")
    with pytest.raises(ValueError, match="nesterov"):
        sgd([p], gradients=[p], step_size=0.1, nesterov=True)
    with pytest.raises(ValueError, match="dampening"):
        sgd(
            [p],
            gradients=[p],
            step_size=0.1,
            momentum=0.9,
            dampening=0.1,
            nesterov=True,
        )
    with pytest.raises(TypeError, match="nesterov"):
        sgd([p], gradients=[p], step_size=0.1, momentum=0.9, nesterov=1)


def test_per_element_step_sizes():
    p = pytensor.shared(np.ones(3), name="p")
    q = pytensor.shared(np.ones((2, 2), dtype="float32"), name="q")
    multipliers = [np.array([1.0, 0.5, 0.0]), pytensor.shared(np.full((2, 2), 2.0))]
    result = sgd([p, q], gradients=[p, q], step_size=0.1, step_sizes=multipliers)
    compile_step(result)()
    np.testing.assert_allclose(p.get_value(), [0.9, 0.95, 1.0])
    np.testing.assert_allclose(q.get_value(), np.full((2, 2), 0.8))
    assert q.get_value().dtype == np.float32
    with pytest.raises(ValueError, match=r"step_sizes\[0\] has shape"):
        sgd([p], gradients=[p], step_size=0.1, step_sizes=[np.ones(4)])
    with pytest.raises(ValueError, match="step_sizes"):
        sgd([p, q], gradients=[p, q], step_size=0.1, step_sizes=[np.ones(3)])
    with pytest.raises(ValueError, match="non-negative"):
        sgd([p], gradients=[p], step_size=0.1, step_sizes=[-np.ones(3)])


def test_shared_step_size_can_change_between_calls():
    p = pytensor.shared(np.ones(2), name="p")
    step_size = pytensor.shared(0.5)
    step = compile_step(sgd([p], gradients=[p], step_size=step_size))
    step()
    step_size.set_value(0.0)
    step()
    np.testing.assert_allclose(p.get_value(), [0.5, 0.5])


# ---- parity with torch.optim.SGD --------------------------------------------
def ours(problem, config):
    params, cost = from_reference(REFERENCE, problem, f"{problem}/{config}")
    options, spec = CONFIGS[config]
    step_size = STEP_SIZES[problem]
    if spec is not None:
        name = spec["name"]
        if name == "inverse_time":
            options = {**options, "step_size_decay": spec["decay"]}
        elif name == "step":
            step_size = schedules.step(step_size, spec["factor"], spec["every"])
        elif name == "cosine":
            step_size = schedules.cosine(step_size, spec["t_max"])
        elif name == "exponential":
            step_size = schedules.exponential(step_size, spec["rate"])
    return params, cost, sgd(params, cost, step_size=step_size, **options)


# every configuration with Python implementations, a subset compiled with C
CASES = [
    (problem, config, "FAST_COMPILE") for problem in PROBLEMS for config in CONFIGS
] + [(problem, config, "CVM") for problem in PROBLEMS for config in ("all", "cosine")]


@pytest.mark.parametrize("problem, config, mode", CASES)
def test_matches_torch_sgd(problem, config, mode):
    params, cost, result = ours(problem, config)
    step = compile_step(result, [cost], mode=mode)
    steps = len(REFERENCE[f"{problem}/{config}/cost"])
    costs = [float(step()[0]) for _ in range(steps)]
    np.testing.assert_allclose(
        costs, REFERENCE[f"{problem}/{config}/cost"], rtol=1e-10, atol=0
    )
    for param in params:
        expected = REFERENCE[f"{problem}/{config}/{param.name}"][-1]
        np.testing.assert_allclose(param.get_value(), expected, rtol=1e-10, atol=1e-14)
