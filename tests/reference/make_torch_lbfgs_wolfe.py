"""Write torch.optim.LBFGS trajectories with the strong Wolfe search (run by hand).

    pip install torch==2.13.0
    python tests/reference/make_torch_lbfgs_wolfe.py

Each ``step()`` of ``LBFGS(max_iter=1, line_search_fn="strong_wolfe")`` is
one inner L-BFGS iteration including its line search, the unit of one call
of ``pytensor_optim.lbfgs(..., line_search="strong_wolfe")``. ``max_eval``
is given explicitly (torch's default for ``max_iter=1`` is 1): torch then
runs ``_strong_wolfe`` with ``max_ls = max_eval - 1``, that is at most
``max_eval`` evaluations by the search, which is what ``max_evals_per_iter``
means in ``lbfgs``. The tolerances are 0 so that torch never leaves early
(``_strong_wolfe`` itself keeps its default ``tolerance_change=1e-9``).

Stored per configuration, in data/torch_lbfgs_wolfe.npz (float64): the
parameters after every step (row 0 the start), the cost evaluated at the
start of every step, the accepted step ``state["t"]`` and the cumulative
``state["func_evals"]`` after every step. torch evaluates the cost once at
the start of every ``step()`` and then ``ls_func_evals`` times in the
search, so ``diff(func_evals) - 1`` are the evaluations of each search.
``CONFIGS`` is stored as JSON.
"""

import json
import pathlib
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from problems import PROBLEMS

# name: (problem, lr, history_size, max_eval, steps)
CONFIGS = {
    "linreg": ("linreg", 1.0, 10, 26, 9),
    "linreg-short-history": ("linreg", 0.8, 2, 26, 20),
    "rosenbrock": ("rosenbrock", 1.0, 10, 26, 30),
    "rosenbrock-short-history": ("rosenbrock", 1.0, 3, 26, 30),
    "rosenbrock-budget-3": ("rosenbrock", 1.0, 5, 3, 30),
    "rosenbrock-budget-1": ("rosenbrock", 1.0, 10, 1, 5),
}


def run(config):
    problem, lr, history, max_eval, steps = CONFIGS[config]
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
        tolerance_change=0.0,
        line_search_fn="strong_wolfe",
    )

    def closure():
        optimizer.zero_grad()
        cost = cost_function(params, tensors)
        cost.backward()
        return cost

    trajectory = [[p.detach().numpy().copy()] for p in params]
    costs, accepted, func_evals = [], [], []
    for _ in range(steps):
        costs.append(optimizer.step(closure).item())
        state = optimizer.state[params[0]]
        accepted.append(float(state["t"]))
        func_evals.append(state["func_evals"])
        for rows, p in zip(trajectory, params, strict=True):
            rows.append(p.detach().numpy().copy())
    stacked = {
        name: np.stack(rows) for name, rows in zip(start, trajectory, strict=True)
    }
    return stacked, np.array(costs), np.array(accepted), np.array(func_evals)


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
        trajectories, costs, accepted, func_evals = run(config)
        for name, trajectory in trajectories.items():
            arrays[f"{config}/{name}"] = trajectory
        arrays[f"{config}/cost"] = costs
        arrays[f"{config}/step"] = accepted
        arrays[f"{config}/func_evals"] = func_evals
        print(config, "costs", costs[[0, -1]], "evals", func_evals.tolist())
    out = pathlib.Path(__file__).parent / "data" / "torch_lbfgs_wolfe.npz"
    np.savez_compressed(out, **arrays)
    print(f"wrote {out} ({len(arrays)} arrays, torch {torch.__version__})")


if __name__ == "__main__":
    main()
