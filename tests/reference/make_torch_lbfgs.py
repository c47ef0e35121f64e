"""Write torch.optim.LBFGS trajectories without a line search (run by hand).

    pip install torch==2.13.0
    python tests/reference/make_torch_lbfgs.py

Each ``step()`` of ``LBFGS(max_iter=1)`` is one inner L-BFGS iteration, the
unit of one call of ``pytensor_optim.lbfgs``. The tolerances are 0 so that
torch never leaves early. Stored per problem and configuration: the
parameters after every iteration (row 0 the start) and the cost evaluated
before it, in data/torch_lbfgs.npz, with ``CONFIGS`` as JSON.
"""

import json
import pathlib
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from problems import PROBLEMS

STEPS = 30
# name: (problem, lr, history_size)
CONFIGS = {
    "linreg": ("linreg", 1.0, 10),
    "linreg-short-history": ("linreg", 0.8, 2),
    "rosenbrock": ("rosenbrock", 1.0, 10),
    "rosenbrock-small-steps": ("rosenbrock", 0.5, 3),
}


def run(config):
    problem, lr, history = CONFIGS[config]
    cost_function, data, start = PROBLEMS[problem]
    tensors = {k: torch.tensor(v) for k, v in data.items()}
    params = [torch.tensor(v, requires_grad=True) for v in start.values()]
    optimizer = torch.optim.LBFGS(
        params,
        lr=lr,
        max_iter=1,
        history_size=history,
        tolerance_grad=0.0,
        tolerance_change=0.0,
        line_search_fn=None,
    )
    costs = []

    def closure():
        optimizer.zero_grad()
        cost = cost_function(params, tensors)
        cost.backward()
        return cost

    trajectory = [[p.detach().numpy().copy()] for p in params]
    for _ in range(STEPS):
        costs.append(optimizer.step(closure).item())
        for rows, p in zip(trajectory, params, strict=True):
            rows.append(p.detach().numpy().copy())
    stacked = [np.stack(rows) for rows in trajectory]
    return dict(zip(start, stacked, strict=True)), np.array(costs)


def main():
    torch.set_default_dtype(torch.float64)
    arrays = {
        "configs": np.array(json.dumps(CONFIGS)),
        "torch_version": np.array(torch.__version__),
    }
    for problem, (_, data, _) in PROBLEMS.items():
        for key, value in data.items():
            arrays[f"{problem}/data/{key}"] = value
    for config in CONFIGS:
        trajectories, costs = run(config)
        for name, trajectory in trajectories.items():
            arrays[f"{config}/{name}"] = trajectory
        arrays[f"{config}/cost"] = costs
    out = pathlib.Path(__file__).parent / "data" / "torch_lbfgs.npz"
    np.savez_compressed(out, **arrays)
    print(f"wrote {out} ({len(arrays)} arrays, torch {torch.__version__})")


if __name__ == "__main__":
    main()
