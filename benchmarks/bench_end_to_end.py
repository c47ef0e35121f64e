"""The Moré–Garbow–Hillstrom problems end to end: ours against SciPy, one process.

    python benchmarks/bench_end_to_end.py [--methods lbfgs,bfgs,cg] [--repeat 1]

What a SciPy user waits for when solving the 35 problems of ``MGH`` in
``tests/problems.py`` one after the other in a fresh process: every set-up
(ours: building, rewriting or loading the compiled iteration; a new size
reuses it) and every run. For each method a fresh process (after one
warm-up process that fills the caches, as a user's second session finds
them) first builds each problem's ``f`` and gradient (one compiled PyTensor
function per problem, outside the clock, used by both sides), then times

* SciPy: ``scipy.optimize.minimize(fun, x0, jac=True, method=...)`` over
  all problems (``L-BFGS-B``, ``BFGS``, ``CG``, their default options);
* ours: ``pytensor_optim.minimize_iterator(x0, fun, True, rule)`` over all
  problems with the rule's defaults (``gtol`` 1e-5 on max|g|, as SciPy's;
  ``max_iter`` 1000, and L-BFGS-B's 15000 iterations and evaluations for
  ``lbfgs``).

Reported: the total wall-clock of each side, their ratio, the problems each
solves (the published minimum or a documented local one, see
``TestProblem.solved``) and the evaluations of each on the problems both
solve.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# ours: (rule, SciPy's method)
METHODS = {"lbfgs": "L-BFGS-B", "bfgs": "BFGS", "cg": "CG"}


def measure(method):
    """Totals of one process: SciPy's run, then ours."""
    warnings.simplefilter("ignore")
    import numpy as np
    import pytensor
    import pytensor.tensor as pt
    from scipy.optimize import minimize

    import pytensor_optim as po
    from tests.problems import MGH

    functions = {}
    for name, problem in MGH.items():
        x = pt.vector("x", dtype="float64")
        cost = problem.cost(x, pt)
        compiled = pytensor.function([x], [cost, pytensor.grad(cost, x)], mode="CVM")

        def both(point, compiled=compiled):
            value, gradient = compiled(point)
            return float(value), gradient

        functions[name] = both

    # L-BFGS-B's limits for lbfgs; the interface's default max_iter=1000 for
    # the others (SciPy's BFGS and CG allow 200 n: a limit that changes
    # with n is another option, hence another compiled iteration, per size)
    limits = {"max_iter": 15000, "max_evals": 15000} if method == "lbfgs" else {}

    scipy_runs, our_runs = {}, {}
    start = time.perf_counter()
    for name, problem in MGH.items():
        result = minimize(functions[name], problem.x0, jac=True, method=METHODS[method])
        scipy_runs[name] = (float(result.fun), int(result.nfev))
    scipy_time = time.perf_counter() - start
    start = time.perf_counter()
    for name, problem in MGH.items():
        iterator = po.minimize_iterator(
            problem.x0, functions[name], True, method, gtol=1e-5, **limits
        )
        for _ in iterator:
            pass
        our_runs[name] = (float(iterator.fx), int(iterator.n_evals))
    our_time = time.perf_counter() - start
    solved = {
        side: {
            name
            for name, (value, _) in runs.items()
            if np.isfinite(value) and MGH[name].solved(value)
        }
        for side, runs in (("scipy", scipy_runs), ("ours", our_runs))
    }
    both_solved = solved["scipy"] & solved["ours"]
    return {
        "scipy_time": scipy_time,
        "our_time": our_time,
        "scipy_solved": len(solved["scipy"]),
        "our_solved": len(solved["ours"]),
        "only_scipy": sorted(solved["scipy"] - solved["ours"]),
        "only_ours": sorted(solved["ours"] - solved["scipy"]),
        "scipy_evals": sum(scipy_runs[name][1] for name in both_solved),
        "our_evals": sum(our_runs[name][1] for name in both_solved),
    }


def in_process(method):
    out = subprocess.run(
        [sys.executable, __file__, "--measure", method],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ),
    )
    return json.loads(out.stdout.splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    import pytensor

    print(f"PyTensor {pytensor.__version__}, Python {sys.version.split()[0]}")
    print(
        "| ours / SciPy | SciPy (s) | ours (s) | ratio | solved SciPy / ours "
        "| evaluations SciPy / ours (both solved) | solved by one only |"
    )
    print("|---|---|---|---|---|---|---|")
    for method in args.methods.split(","):
        in_process(method)  # warm-up: fills PyTensor's and our caches
        runs = [in_process(method) for _ in range(args.repeat)]
        scipy_time = statistics.median(run["scipy_time"] for run in runs)
        our_time = statistics.median(run["our_time"] for run in runs)
        run = runs[-1]
        only = ", ".join(
            [f"SciPy: {name}" for name in run["only_scipy"]]
            + [f"ours: {name}" for name in run["only_ours"]]
        )
        print(
            f"| {method} / {METHODS[method]} | {scipy_time:.2f} | {our_time:.2f} "
            f"| {our_time / scipy_time:.1f} "
            f"| {run['scipy_solved']} / {run['our_solved']} "
            f"| {run['scipy_evals']} / {run['our_evals']} | {only or '—'} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
