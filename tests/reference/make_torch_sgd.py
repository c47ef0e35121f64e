"""Write torch.optim.SGD trajectories to data/torch_sgd.npz (run by hand).

    pip install torch==2.13.0
    python tests/reference/make_torch_sgd.py

Every configuration runs ``STEPS`` steps of ``torch.optim.SGD`` in float64
on each problem of ``problems.py``. Stored per problem: the data, the
starting point, and for each configuration the parameters after every step
(``{problem}/{config}/{param}``, shape ``(STEPS + 1, *shape)``, row 0 the
start) and the costs evaluated before every step. ``CONFIGS`` is stored as
JSON, so the tests rebuild the same runs with ``pytensor_optim.sgd``.

Configurations with a ``schedule`` entry use a ``torch.optim.lr_scheduler``
stepped after every optimizer step; the tests run the matching
``pytensor_optim.schedules`` (or ``step_size_decay``) instead.
"""

import json
import pathlib
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from problems import PROBLEMS

STEPS = 25
STEP_SIZES = {"linreg": 0.05, "rosenbrock": 1e-3}

# name: (torch.optim.SGD keyword arguments other than lr, scheduler or None)
CONFIGS = {
    "plain": ({}, None),
    "momentum": ({"momentum": 0.9}, None),
    "dampening": ({"momentum": 0.9, "dampening": 0.3}, None),
    "nesterov": ({"momentum": 0.9, "nesterov": True}, None),
    "weight_decay": ({"weight_decay": 0.1}, None),
    "all": ({"momentum": 0.5, "nesterov": True, "weight_decay": 0.05}, None),
    "inverse_time": ({"momentum": 0.9}, {"name": "inverse_time", "decay": 0.1}),
    "step": ({}, {"name": "step", "factor": 0.5, "every": 7}),
    "cosine": ({"momentum": 0.9}, {"name": "cosine", "t_max": STEPS}),
    "exponential": ({}, {"name": "exponential", "rate": 0.9}),
}


def scheduler(optimizer, spec):
    if spec is None:
        return None
    name = spec["name"]
    lr_scheduler = torch.optim.lr_scheduler
    if name == "inverse_time":
        return lr_scheduler.LambdaLR(
            optimizer, lambda t: 1.0 / (1.0 + spec["decay"] * t)
        )
    if name == "step":
        return lr_scheduler.StepLR(optimizer, spec["every"], gamma=spec["factor"])
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=spec["t_max"])
    if name == "exponential":
        return lr_scheduler.ExponentialLR(optimizer, gamma=spec["rate"])
    raise ValueError(name)


def run(problem, config):
    cost_function, data, start = PROBLEMS[problem]
    options, spec = CONFIGS[config]
    tensors = {k: torch.tensor(v, dtype=torch.float64) for k, v in data.items()}
    params = [
        torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in start.values()
    ]
    optimizer = torch.optim.SGD(params, lr=STEP_SIZES[problem], **options)
    schedule = scheduler(optimizer, spec)
    trajectory = [[p.detach().numpy().copy()] for p in params]
    costs = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        cost = cost_function(params, tensors)
        cost.backward()
        optimizer.step()
        if schedule is not None:
            schedule.step()
        costs.append(cost.item())
        for rows, p in zip(trajectory, params, strict=True):
            rows.append(p.detach().numpy().copy())
    return [np.stack(rows) for rows in trajectory], np.array(costs)


def main():
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
    out = pathlib.Path(__file__).parent / "data" / "torch_sgd.npz"
    np.savez_compressed(out, **arrays)
    print(f"wrote {out} ({len(arrays)} arrays, torch {torch.__version__})")


if __name__ == "__main__":
    main()
