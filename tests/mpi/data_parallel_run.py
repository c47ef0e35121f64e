"""Data-parallel training, run by ``tests/test_distributed.py`` under MPI.

    mpirun -n 2 python -m mpi4py tests/mpi/data_parallel_run.py OUTPUT_DIR

Each rank trains every configuration of :data:`RUNS` on its shard of one
logistic-regression data set with :func:`allreduce_mean` gradients, checks
:func:`broadcast_parameters`, and writes what it got to
``OUTPUT_DIR/rank{r}.npz``. The test compares the ranks with each other and
with :func:`train` run in one process on the whole data set. Importing this
module runs nothing and needs no MPI.
"""

import sys
from pathlib import Path

import numpy as np
import pytensor
import pytensor.tensor as pt

import pytensor_optim as po
from pytensor_optim import distributed

MODE = "FAST_COMPILE"
ROWS, FEATURES = 64, 5

# name: (rule, hyperparameters, dtype, steps)
RUNS = {
    "sgd-momentum": (po.sgd, {"step_size": 0.5, "momentum": 0.9}, "float64", 20),
    "adam": (po.adam, {"step_size": 0.05}, "float64", 20),
    "adam-float32": (po.adam, {"step_size": 0.05}, "float32", 20),
    "lbfgs": (po.lbfgs, {"step_size": 0.5, "history": 5}, "float64", 20),
    # The search compares averaged costs: the cost is averaged too. After
    # 12 steps the cost falls by 1e-8 per step; from about 16 on it has
    # converged and the steps are made of rounding errors.
    "lbfgs-strong-wolfe": (
        po.lbfgs,
        {"line_search": po.line_search.strong_wolfe(mode=MODE)},
        "float64",
        12,
    ),
}


def data(dtype="float64"):
    """A logistic-regression data set (features, labels), the same on every rank."""
    rng = np.random.default_rng(42)
    features = rng.normal(size=(ROWS, FEATURES))
    weights = rng.normal(size=FEATURES)
    labels = (features @ weights + rng.normal(size=ROWS) > 0).astype(float)
    return features.astype(dtype), labels.astype(dtype)


def train(name, features, labels, average=False):
    """Train configuration ``name``; the final ``w``, ``b`` and the costs.

    ``average``: average the cost and gradients over the MPI ranks.
    """
    rule, hyperparameters, dtype, steps = RUNS[name]
    w = pytensor.shared(np.zeros(FEATURES, dtype=dtype), name="w")
    b = pytensor.shared(np.asarray(0.0, dtype=dtype), name="b")
    logits = pt.as_tensor_variable(features) @ w + b
    cost = pt.mean(pt.softplus(logits) - pt.as_tensor_variable(labels) * logits)
    gradients = pytensor.grad(cost, [w, b])
    if average:
        cost, *gradients = distributed.allreduce_mean([cost, *gradients])
    updates = rule([w, b], cost, gradients=gradients, **hyperparameters)
    step = pytensor.function([], cost, updates=updates, mode=MODE)
    costs = [step() for _ in range(steps)]
    return w.get_value(), b.get_value(), np.array(costs)


def check_broadcast(features, labels, results):
    """Ranks start apart (own seed, own local Adam steps), then broadcast."""
    rank = distributed.rank()
    w = pytensor.shared(np.random.default_rng(rank).normal(size=FEATURES), name="w")
    generator = pytensor.shared(np.random.default_rng(100 + rank), name="generator")
    cost = pt.mean((pt.as_tensor_variable(features) @ w - labels) ** 2)
    updates = po.adam([w], cost, step_size=0.1)
    step = pytensor.function([], cost, updates=updates, mode=MODE)
    for _ in range(3):
        step()  # on this rank's shard only: the moments differ
    variables = [*updates, *updates.state]
    for variable in variables:
        results[f"before/{variable.name}"] = variable.get_value()
    broadcast = distributed.broadcast_parameters(updates)
    distributed.broadcast_parameters([generator], root=1)
    results["broadcast"] = np.array([variable.name for variable in broadcast])
    for variable in variables:
        results[f"after/{variable.name}"] = variable.get_value()
    results["generator-draw"] = generator.get_value().normal(size=3)


def errors(results):
    """The messages of errors every rank must raise alike."""
    rank = distributed.rank()
    a, b = pytensor.shared(np.zeros(2), name="a"), pytensor.shared(1.0, name="b")
    attempts = {
        "order": lambda: distributed.broadcast_parameters([a, b][:: 1 - 2 * rank]),
        "shard": lambda: distributed.shard(np.zeros(7)),
    }
    for key, attempt in attempts.items():
        try:
            attempt()
            results[f"error/{key}"] = np.array("no error")
        except ValueError as error:
            results[f"error/{key}"] = np.array(str(error))


def main(output):
    comm_rank, comm_size = distributed.rank(), distributed.size()
    features, labels = data()
    results = {"size": np.array(comm_size)}
    for name, (_, _, dtype, _) in RUNS.items():
        x, y = data(dtype)
        w, b, costs = train(
            name, distributed.shard(x), distributed.shard(y), average=True
        )
        results[f"{name}/w"], results[f"{name}/b"] = w, b
        results[f"{name}/costs"] = costs
    check_broadcast(distributed.shard(features), distributed.shard(labels), results)
    errors(results)
    np.savez(Path(output) / f"rank{comm_rank}.npz", **results)


if __name__ == "__main__":
    main(sys.argv[1])
