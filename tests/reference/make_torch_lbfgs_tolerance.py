"""Write torch.optim.LBFGS runs that end on ``tolerance_change`` (run by hand).

    pip install torch==2.13.0
    python tests/reference/make_torch_lbfgs_tolerance.py

``LBFGS(max_iter=1)`` with torch's default ``tolerance_change=1e-9`` (and
``tolerance_grad=0``, so that only the slope test ends a run): once the
directional derivative is above ``-tolerance_change``, a ``step()`` leaves
the parameters where they are, and every later one too. Each configuration
runs until that happens (or ``steps``) and stores, in
data/torch_lbfgs_tolerance.npz (float64), the parameters after every step
(row 0 the start) and ``moves``: the number of steps that moved the
parameters before the first that did not. ``CONFIGS`` is stored as JSON.
"""

import json
import pathlib
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from problems import PROBLEMS

# name: (problem, lr, history_size, line_search_fn, max_eval, steps)
CONFIGS = {
    "linreg-fixed": ("linreg", 1.0, 10, None, 1, 400),
    "linreg-wolfe": ("linreg", 1.0, 10, "strong_wolfe", 26, 400),
    "rosenbrock-fixed": ("rosenbrock", 0.5, 10, None, 1, 400),
    "rosenbrock-wolfe": ("rosenbrock", 1.0, 10, "strong_wolfe", 26, 400),
}


def run(config):
    problem, lr, history, line_search, max_eval, steps = CONFIGS[config]
    cost_function, data, start = PROBLEMS[problem]
    tensors = {k: torch.tensor(v) for k, v in data.items()}
    params = [torch.tensor(v, requires_grad=True) for v in start.values()]
    optimizer = torch.optim.LBFGS(
        params,
        lr=lr,
        max_iter=1,
        max_eval=max_eval,
        history_size=history,
        tolerance_grad=0.0,
        line_search_fn=line_search,
    )  # tolerance_change: torch's default, 1e-9

    def closure():
        optimizer.zero_grad()
        cost = cost_function(params, tensors)
        cost.backward()
        return cost

    trajectory = [[p.detach().numpy().copy()] for p in params]
    moves = None
    for step in range(steps):
        optimizer.step(closure)
        for rows, p in zip(trajectory, params, strict=True):
            rows.append(p.detach().numpy().copy())
        if all((rows[-1] == rows[-2]).all() for rows in trajectory):
            moves = step
            break
    if moves is None:
        raise RuntimeError(f"{config}: no step ended on tolerance_change")
    stacked = {
        name: np.stack(rows) for name, rows in zip(start, trajectory, strict=True)
    }
    return stacked, moves


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
        trajectories, moves = run(config)
        for name, trajectory in trajectories.items():
            arrays[f"{config}/{name}"] = trajectory
        arrays[f"{config}/moves"] = np.array(moves)
        print(config, "moves", moves)
    out = pathlib.Path(__file__).parent / "data" / "torch_lbfgs_tolerance.npz"
    np.savez_compressed(out, **arrays)
    print(f"wrote {out} ({len(arrays)} arrays, torch {torch.__version__})")


if __name__ == "__main__":
    main()
