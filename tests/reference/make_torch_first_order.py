"""Write torch.optim trajectories of the first-order rules (run by hand).

    pip install torch==2.13.0
    python tests/reference/make_torch_first_order.py

Writes data/torch_first_order.npz: for every configuration in ``CONFIGS``
(a torch.optim class with its keyword arguments) and every problem of
``problems.py``, ``STEPS`` steps in float64, storing the parameters after
every step (``{problem}/{config}/{param}``, row 0 the start) and the costs
before every step. The default dtype is float64 so that the scalar state
torch keeps (step counts, NAdam's mu_product) is float64 too. The tests
translate the torch keyword arguments to ours (``translate`` in
tests/test_first_order.py) and need no torch.
"""

import json
import pathlib
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from problems import PROBLEMS

STEPS = 25
STEP_SIZES = {"linreg": 0.05, "rosenbrock": 2e-3}

# name: (torch.optim class name, keyword arguments other than lr, lr factor)
CONFIGS = {
    "adagrad": ("Adagrad", {}, 4.0),
    "adagrad-all": (
        "Adagrad",
        {
            "lr_decay": 0.05,
            "initial_accumulator_value": 0.3,
            "weight_decay": 0.01,
            "eps": 1e-6,
        },
        4.0,
    ),
    "adadelta": ("Adadelta", {}, 20.0),
    "adadelta-all": ("Adadelta", {"rho": 0.8, "eps": 1e-4, "weight_decay": 0.01}, 10),
    "rmsprop": ("RMSprop", {}, 0.2),
    "rmsprop-centered": ("RMSprop", {"centered": True}, 0.2),
    "rmsprop-centered-momentum": (
        "RMSprop",
        {"centered": True, "momentum": 0.9, "alpha": 0.9},
        0.1,
    ),
    "rmsprop-momentum-wd": ("RMSprop", {"momentum": 0.5, "weight_decay": 0.01}, 0.1),
    "adam": ("Adam", {}, 1.0),
    "adam-amsgrad": ("Adam", {"amsgrad": True, "betas": (0.8, 0.99)}, 1.0),
    "adam-l2": ("Adam", {"weight_decay": 0.05, "eps": 1e-6}, 1.0),
    "adam-decoupled": (
        "Adam",
        {"weight_decay": 0.1, "decoupled_weight_decay": True},
        1.0,
    ),
    "adamw": ("AdamW", {}, 1.0),
    "adamw-amsgrad": ("AdamW", {"weight_decay": 0.1, "amsgrad": True}, 1.0),
    "adamax": ("Adamax", {}, 1.0),
    "adamax-all": ("Adamax", {"weight_decay": 0.01, "betas": (0.8, 0.99)}, 1.0),
    "nadam": ("NAdam", {}, 1.0),
    "nadam-l2": ("NAdam", {"weight_decay": 0.01, "momentum_decay": 0.01}, 1.0),
    "nadam-decoupled": (
        "NAdam",
        {"weight_decay": 0.1, "decoupled_weight_decay": True},
        1.0,
    ),
    "radam": ("RAdam", {}, 1.0),
    "radam-l2": ("RAdam", {"weight_decay": 0.01, "betas": (0.8, 0.9)}, 1.0),
    "radam-decoupled": (
        "RAdam",
        {"weight_decay": 0.1, "decoupled_weight_decay": True, "betas": (0.9, 0.9)},
        1.0,
    ),
    "rprop": ("Rprop", {}, 1.0),
    "rprop-all": ("Rprop", {"etas": (0.3, 1.5), "step_sizes": (1e-3, 0.05)}, 1.0),
    "asgd": ("ASGD", {}, 1.0),
    "asgd-all": (
        "ASGD",
        {"lambd": 0.01, "alpha": 0.5, "t0": 5, "weight_decay": 0.01},
        1.0,
    ),
}


def run(problem, config):
    cost_function, data, start = PROBLEMS[problem]
    name, options, factor = CONFIGS[config]
    tensors = {k: torch.tensor(v) for k, v in data.items()}
    params = [torch.tensor(v, requires_grad=True) for v in start.values()]
    optimizer = getattr(torch.optim, name)(
        params, lr=STEP_SIZES[problem] * factor, **options
    )
    trajectory = [[p.detach().numpy().copy()] for p in params]
    costs = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        cost = cost_function(params, tensors)
        cost.backward()
        optimizer.step()
        costs.append(cost.item())
        for rows, p in zip(trajectory, params, strict=True):
            rows.append(p.detach().numpy().copy())
    return [np.stack(rows) for rows in trajectory], np.array(costs)


def main():
    torch.set_default_dtype(torch.float64)
    arrays = {
        "configs": np.array(json.dumps(CONFIGS)),
        "step_sizes": np.array(json.dumps(STEP_SIZES)),
        "torch_version": np.array(torch.__version__),
    }
    for problem, (_, data, start) in PROBLEMS.items():
        for key, value in data.items():
            arrays[f"{problem}/data/{key}"] = value
        for config in CONFIGS:
            trajectories, costs = run(problem, config)
            for name, trajectory in zip(start, trajectories, strict=True):
                arrays[f"{problem}/{config}/{name}"] = trajectory
            arrays[f"{problem}/{config}/cost"] = costs
    out = pathlib.Path(__file__).parent / "data" / "torch_first_order.npz"
    np.savez_compressed(out, **arrays)
    print(f"wrote {out} ({len(arrays)} arrays, torch {torch.__version__})")


if __name__ == "__main__":
    main()
