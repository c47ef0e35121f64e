"""MAP estimates of PyMC models: ``find_map`` against ``pm.find_MAP``.

    python benchmarks/bench_pymc.py [--repeat 3] [--methods lbfgs,bfgs]

Needs pymc (Python 3.12+: ``pip install -e ".[pymc]"``). The models are
those of the tests (``tests/pymc_models.py``): a hierarchical regression with
10 groups and a logistic regression with 20 features.

Each measurement is a fresh Python process that builds the model and times
two calls: the first (everything a user waits for in a new process: graph
building, rewrites, compilation or cache look-ups, the iterations) and a
second one on the same model (what is left when the process has compiled
it once). PyTensor's compile cache is whatever the machine has: run the
script twice and read the second run for "warm" figures. Reported: median
seconds over ``--repeat`` processes, iterations and evaluations.
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def measure(model_name, method):
    """One process's timings: first and second call, and the counts."""
    import pymc as pm

    from pytensor_optim.pymc import find_map
    from tests.pymc_models import MODELS

    warnings.simplefilter("ignore")
    model = MODELS[model_name]()
    times = []
    for _ in range(2):
        start = time.perf_counter()
        if method == "pm.find_MAP":
            _, raw = pm.find_MAP(
                model=model, progressbar=False, jitter=False, return_raw=True
            )
        else:
            _, raw = find_map(model, method=method, return_raw=True)
        times.append(time.perf_counter() - start)
    return {"first": times[0], "second": times[1], "nit": raw.nit, "nfev": raw.nfev}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--methods", default="lbfgs")
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(*args.measure)))
        return

    import pymc
    import pytensor

    print(
        f"pymc {pymc.__version__}, PyTensor {pytensor.__version__}, "
        f"Python {sys.version.split()[0]}"
    )
    print("| model | method | first call (s) | second call (s) | nit | nfev |")
    print("|---|---|---|---|---|---|")
    for model_name in ("hierarchical", "logistic"):
        for method in ["pm.find_MAP", *args.methods.split(",")]:
            runs = []
            for _ in range(args.repeat):
                out = subprocess.run(
                    [sys.executable, __file__, "--measure", model_name, method],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                runs.append(json.loads(out.stdout.splitlines()[-1]))
            first = statistics.median(run["first"] for run in runs)
            second = statistics.median(run["second"] for run in runs)
            counts = runs[-1]
            label = method if method == "pm.find_MAP" else f"find_map {method}"
            print(
                f"| {model_name} | {label} | {first:.2f} | {second:.3f} | "
                f"{counts['nit']} | {counts['nfev']} |"
            )


if __name__ == "__main__":
    main()
