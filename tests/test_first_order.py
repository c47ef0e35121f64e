"""First-order rules: parity with torch.optim trajectories (float64, rtol 1e-10),
and nag against a NumPy transcription of Lua ``optim.nag``."""

import json
import pathlib

import numpy as np
import pytensor
import pytest

import pytensor_optim as po

from .conftest import compile_step
from .reference.problems import PROBLEMS, from_reference

REFERENCE = np.load(
    pathlib.Path(__file__).parent / "reference/data/torch_first_order.npz"
)
CONFIGS = json.loads(str(REFERENCE["configs"]))
STEP_SIZES = json.loads(str(REFERENCE["step_sizes"]))

RULES = {
    "Adagrad": po.adagrad,
    "Adadelta": po.adadelta,
    "RMSprop": po.rmsprop,
    "Adam": po.adam,
    "AdamW": po.adamw,
    "Adamax": po.adamax,
    "NAdam": po.nadam,
    "RAdam": po.radam,
    "Rprop": po.rprop,
    "ASGD": po.asgd,
}


def translate(options):
    """torch.optim keyword arguments -> ours."""
    ours = {}
    for key, value in options.items():
        if key == "betas":
            ours["beta1"], ours["beta2"] = value
        elif key == "etas":
            ours["eta_minus"], ours["eta_plus"] = value
        elif key == "step_sizes":
            ours["step_size_min"], ours["step_size_max"] = value
        else:
            renamed = {
                "eps": "epsilon",
                "lr_decay": "step_size_decay",
                "initial_accumulator_value": "initial_accumulator",
            }
            ours[renamed.get(key, key)] = value
    return ours


def build(problem, config):
    params, cost = from_reference(REFERENCE, problem, f"{problem}/{config}")
    torch_name, options, factor = CONFIGS[config]
    rule = RULES[torch_name]
    updates = rule(
        params, cost, step_size=STEP_SIZES[problem] * factor, **translate(options)
    )
    return params, cost, updates


CASES = [(problem, config) for problem in PROBLEMS for config in CONFIGS]


@pytest.mark.parametrize("problem, config", CASES)
def test_matches_torch(problem, config):
    params, cost, updates = build(problem, config)
    step = compile_step(updates, [cost])
    steps = len(REFERENCE[f"{problem}/{config}/cost"])
    costs = [float(step()[0]) for _ in range(steps)]
    np.testing.assert_allclose(
        costs, REFERENCE[f"{problem}/{config}/cost"], rtol=1e-10, atol=0
    )
    for param in params:
        expected = REFERENCE[f"{problem}/{config}/{param.name}"][-1]
        np.testing.assert_allclose(param.get_value(), expected, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize(
    "config", ["adam-amsgrad", "radam", "nadam-l2", "rmsprop-centered-momentum"]
)
def test_matches_torch_compiled_with_c(config):
    params, cost, updates = build("linreg", config)
    step = compile_step(updates, [cost], mode="CVM")
    for _ in range(len(REFERENCE[f"linreg/{config}/cost"])):
        step()
    for param in params:
        expected = REFERENCE[f"linreg/{config}/{param.name}"][-1]
        np.testing.assert_allclose(param.get_value(), expected, rtol=1e-10, atol=1e-13)


def test_reference_covers_every_torch_rule_and_both_radam_branches():
    assert {name for name, _, _ in CONFIGS.values()} == set(RULES)
    # RAdam's rectification starts once rho_t > 5 (step 6 for beta2 = 0.999)
    beta2, steps = 0.999, np.arange(1, 26)
    rho_inf = 2 / (1 - beta2) - 1
    rho = rho_inf - 2 * steps * beta2**steps / (1 - beta2**steps)
    assert (rho <= 5).any() and (rho > 5).any()


# ---- nag: NumPy transcription of Lua optim.nag -------------------------------
def lua_nag(x, gradient, steps, lr, momentum, lr_decay=0.0, weight_decay=0.0):
    """Lua optim.nag: x moved to the look-ahead point, evaluated, stepped."""
    x, velocity, out = x.copy(), np.zeros_like(x), []
    for n in range(steps):
        x = x + momentum * velocity  # look-ahead, in place in Lua
        g = gradient(x) + weight_decay * x
        clr = lr / (1 + n * lr_decay)
        velocity = momentum * velocity - clr * g
        x = x - clr * g
        out.append(x.copy())
    return out


def rosenbrock_gradient(x):
    return np.array(
        [-400 * x[0] * (x[1] - x[0] ** 2) - 2 * (1 - x[0]), 200 * (x[1] - x[0] ** 2)]
    )


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"momentum": 0.5, "step_size_decay": 0.1},
        {"weight_decay": 0.05, "momentum": 0.95},
    ],
)
def test_nag_matches_lua(options):
    start = np.array([-1.2, 1.0])
    x = pytensor.shared(start.copy(), name="x")
    cost = 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
    step = compile_step(po.nag([x], cost, step_size=1e-3, **options))
    expected = lua_nag(
        start,
        rosenbrock_gradient,
        30,
        1e-3,
        options.get("momentum", 0.9),
        options.get("step_size_decay", 0.0),
        options.get("weight_decay", 0.0),
    )
    for point in expected:
        step()
        np.testing.assert_allclose(x.get_value(), point, rtol=1e-12)


def test_nag_momentum_must_be_positive():
    x = pytensor.shared(np.zeros(2), name="x")
    with pytest.raises(ValueError, match="momentum"):
        po.nag([x], (x**2).sum(), step_size=0.1, momentum=0.0)


def test_asgd_average_is_the_running_mean_after_t0():
    x = pytensor.shared(np.array([4.0]), name="x")
    updates = po.asgd([x], (x**2).sum(), step_size=0.1, lambd=0.0, t0=0)
    step = compile_step(updates)
    iterates = []
    for _ in range(6):
        step()
        iterates.append(x.get_value()[0])
    # mu_s = 1/max(1, s - 1 - t0): with t0 = 0, the mean of the iterates from
    # step 2 on (steps 1 and 2 both copy the iterate)
    np.testing.assert_allclose(
        updates.slots["ax"][0].get_value(), [np.mean(iterates[1:])], rtol=1e-14
    )
