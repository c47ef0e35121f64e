"""Evaluations that CMA-ES needs to reach ftarget=1e-8: reference medians.

Run by hand (needs the ``cma`` package, which the test suite does not):

    python tests/reference/make_cma_runs.py

For each problem (10-D sphere and ellipsoid with condition 1e6 from
0.5 * ones, 10-D Rosenbrock from zeros: see PROBLEMS), sigma0 = 0.5
and seeds 1..SEEDS, it records the number of evaluations after which the best
value of a generation was at most 1e-8 (``null`` for a run that stopped
elsewhere, e.g. in the local minimum of Rosenbrock's function; the median is
over the runs that reached the target), for two implementations by
N. Hansen:

* ``purecma``: ``cma.purecma`` with the non-negative recombination weights
  (the module's fallback without ``RecombinationWeights``): the algorithm
  :func:`pytensor_optim.cmaes` implements, the one ``tests/test_cmaes.py``
  compares with;
* ``cma``: the full ``cma.CMAEvolutionStrategy`` with its defaults
  (``CMA_active=True``: the active covariance update, and more refined
  settings): what :func:`pytensor_optim.cmaes` with ``active=True`` (the
  active CMA-ES of Hansen's tutorial) is compared with.

The medians (and the raw counts) go to ``data/cma_runs.json``.
"""

import json
import random
from pathlib import Path

import cma
import numpy as np
from cma.more_algorithms import purecma

N = 10
SEEDS = 11
FTARGET = 1e-8
SIGMA0 = 0.5


def sphere(x):
    x = np.asarray(x)
    return float(x @ x)


def ellipsoid(x):
    x = np.asarray(x)
    return float((1e6 ** (np.arange(N) / (N - 1)) * x**2).sum())


def rosenbrock(x):
    x = np.asarray(x)
    return float((100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum())


PROBLEMS = {
    "sphere": (sphere, 0.5 * np.ones(N)),
    "ellipsoid": (ellipsoid, 0.5 * np.ones(N)),
    "rosenbrock": (rosenbrock, np.zeros(N)),
}


def run_purecma(function, x0, seed):
    random.seed(seed)
    purecma.RecombinationWeights = None  # the non-negative weights
    es = purecma.CMAES(list(x0), SIGMA0, ftarget=FTARGET, maxfevals=1e6)
    while not es.stop():
        candidates = es.ask()
        es.tell(candidates, [function(x) for x in candidates])
    # a run may end in the local minimum of Rosenbrock's function: None
    return es.counteval if min(es.fitvals) <= FTARGET else None


def run_cma(function, x0, seed):
    es = cma.CMAEvolutionStrategy(
        list(x0), SIGMA0, {"seed": seed, "ftarget": FTARGET, "verbose": -9}
    )
    while not es.stop():
        candidates = es.ask()
        es.tell(candidates, [function(x) for x in candidates])
    return int(es.result.evaluations) if es.result.fbest <= FTARGET else None


def main():
    data = {
        "n": N,
        "ftarget": FTARGET,
        "sigma0": SIGMA0,
        "seeds": list(range(1, SEEDS + 1)),
        "x0": {name: float(x0[0]) for name, (_, x0) in PROBLEMS.items()},
        "cma_version": cma.__version__,
    }
    for label, runner in (("purecma", run_purecma), ("cma", run_cma)):
        data[label] = {}
        for name, (function, x0) in PROBLEMS.items():
            counts = [runner(function, x0, seed) for seed in data["seeds"]]
            reached = [count for count in counts if count is not None]
            data[label][name] = {"median": float(np.median(reached)), "evals": counts}
            print(label, name, data[label][name]["median"], counts)
    path = Path(__file__).parent / "data" / "cma_runs.json"
    path.write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    main()
