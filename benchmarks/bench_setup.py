"""Time to the first answer: the set-up of the NumPy interface, per rule.

    python benchmarks/bench_setup.py [--rules sgd,bfgs] [--no-cold]

For every rule of ``tests/registry.py`` (its options there), on a 3-variable
quadratic given as NumPy callables, four figures of ``minimize_iterator``'s
set-up, everything before the first call of ``f`` (graph building, PyTensor's
rewrites, compilation or the cache's look-ups):

- cold: a fresh process with an empty PyTensor compile directory and Numba
  cache (fresh temporary folders for each rule);
- warm: a fresh process after the cold one, with the same folders
  (``--no-cold``: in the machine's own caches, after a first process);
- again: a second run in the warm process, same rule, options and structure,
  another starting point and another ``f``;
- other size: then a run with ``x0`` of 5 elements (the compiled iteration
  serves it after building the rule's graph for that size once, or a
  compilation where the graph depends on the size).

"warm" loads the iteration that the cold process kept in the disk cache
(``interface/_disk.py``, in the compile directory).

Each figure is one process's (``--repeat`` takes the median of several warm
processes). The table ends with the median and the maximum of each column.
SciPy's BFGS on the same problem is timed in the same run for scale.

A second table (``--symbolic``) times the symbolic path the same way:
``optimize`` (the default mode, Numba, the whole run in one compiled call) with
lbfgs and its Moré–Thuente search, bfgs, cg and truncated_newton on extended
Rosenbrock with 100 parameters, up to the end of its first compiled call
(set-up and the run, which takes milliseconds).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CENTRE = 0.5  # the minimum, in every coordinate


def measure(rule_id):
    """Set-up of a first and a second run in this process (seconds)."""
    import numpy as np

    warnings.simplefilter("ignore")
    start = time.perf_counter()
    import pytensor_optim as po
    from tests.registry import RULES

    imported = time.perf_counter() - start
    rule = {rule.id: rule for rule in RULES}[rule_id]
    first_call = []

    def f(x):
        if not first_call:
            first_call.append(time.perf_counter())
        return float(((x - CENTRE) ** 2).sum())

    def df(x):
        return 2 * (x - CENTRE)

    set_ups = []
    # the first run, another x0 of the same size, then one of another size
    for x0 in (np.zeros(3), np.ones(3), np.full(5, 0.5)):
        first_call.clear()
        start = time.perf_counter()
        iterator = po.minimize_iterator(
            x0,
            f,
            None if rule.derivative_free else df,
            rule.function,
            max_iter=5,
            **rule.kwargs,
        )
        next(iterator)
        set_ups.append(first_call[0] - start)
        for _ in iterator:
            pass
    return {
        "import": imported,
        "first": set_ups[0],
        "again": set_ups[1],
        "other size": set_ups[2],
    }


SYMBOLIC = {
    "lbfgs (L-BFGS-B's search)": ("lbfgs", {}),
    "bfgs": ("bfgs", {}),
    "cg": ("cg", {}),
    "truncated_newton": ("truncated_newton", {}),
}


def measure_symbolic(name):
    """``optimize`` of extended Rosenbrock (n = 100) until it returns."""
    import numpy as np

    warnings.simplefilter("ignore")
    import pytensor

    import pytensor_optim as po
    from tests.problems import ZOO

    problem = ZOO["extended_rosenbrock_100"]
    rule, options = SYMBOLIC[name]
    start = time.perf_counter()
    x = pytensor.shared(np.array(problem.x0), name="x")
    po.optimize(
        problem.cost(x, pytensor.tensor),
        [x],
        rule,
        steps_per_call=1000,
        max_iter=1000,
        gtol=1e-5,
        **options,
    )
    return {"first": time.perf_counter() - start}


def scipy_bfgs():
    import numpy as np
    from scipy.optimize import minimize

    start = time.perf_counter()
    minimize(
        lambda x: float(((x - CENTRE) ** 2).sum()),
        np.zeros(3),
        jac=lambda x: 2 * (x - CENTRE),
        method="BFGS",
    )
    return time.perf_counter() - start


def in_process(rule_id, folder, flag="--measure"):
    """One fresh process's figures; with ``folder`` None, in the machine's
    own caches (warm after any earlier run)."""
    env = dict(os.environ)
    if folder is not None:
        env["PYTENSOR_FLAGS"] = f"compiledir={folder}/pytensor"
        env["NUMBA_CACHE_DIR"] = f"{folder}/numba"
    out = subprocess.run(
        [sys.executable, __file__, flag, rule_id],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return json.loads(out.stdout.splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", help="comma-separated ids (default: all)")
    parser.add_argument("--no-cold", action="store_true")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--symbolic", action="store_true")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--measure-symbolic", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    if args.measure_symbolic:
        print(json.dumps(measure_symbolic(args.measure_symbolic)))
        return

    import pytensor

    from tests.registry import RULES

    print(f"PyTensor {pytensor.__version__}, Python {sys.version.split()[0]}")
    if args.symbolic:
        symbolic_table(args)
        return
    ids = args.rules.split(",") if args.rules else [rule.id for rule in RULES]
    print(f"SciPy BFGS, whole run: {1e3 * scipy_bfgs():.2f} ms")
    print(
        "| rule | cold set-up (s) | warm set-up (s) | again (ms) "
        "| other size (ms) | import (s) |"
    )
    print("|---|---|---|---|---|---|")
    columns = {"cold": [], "warm": [], "again": [], "other size": []}
    for rule_id in ids:
        with tempfile.TemporaryDirectory() as folder:
            # --no-cold: the machine's own caches, warmed by a first process
            where = None if args.no_cold else folder
            first = in_process(rule_id, where)
            cold = None if args.no_cold else first["first"]
            warm_runs = [in_process(rule_id, where) for _ in range(args.repeat)]
        warm = statistics.median(run["first"] for run in warm_runs)
        again = statistics.median(run["again"] for run in warm_runs)
        other = statistics.median(run["other size"] for run in warm_runs)
        imported = statistics.median(run["import"] for run in warm_runs)
        if cold is not None:
            columns["cold"].append(cold)
        columns["warm"].append(warm)
        columns["again"].append(again)
        columns["other size"].append(other)
        cold_text = "—" if cold is None else f"{cold:.2f}"
        print(
            f"| {rule_id} | {cold_text} | {warm:.2f} | {1e3 * again:.2f} "
            f"| {1e3 * other:.1f} | {imported:.2f} |",
            flush=True,
        )
    for name, summary in (("median", statistics.median), ("max", max)):
        cells = [
            f"{summary(columns['cold']):.2f}" if columns["cold"] else "—",
            f"{summary(columns['warm']):.2f}",
            f"{1e3 * summary(columns['again']):.2f}",
            f"{1e3 * summary(columns['other size']):.1f}",
        ]
        print(f"| **{name}** | {' | '.join(cells)} | |")


def symbolic_table(args):
    print("| optimize, extended Rosenbrock n=100 | cold (s) | warm (s) |")
    print("|---|---|---|")
    for name in SYMBOLIC:
        with tempfile.TemporaryDirectory() as folder:
            where = None if args.no_cold else folder
            first = in_process(name, where, "--measure-symbolic")["first"]
            cold = None if args.no_cold else first
            warm = statistics.median(
                in_process(name, where, "--measure-symbolic")["first"]
                for _ in range(args.repeat)
            )
        cold_text = "—" if cold is None else f"{cold:.2f}"
        print(f"| {name} | {cold_text} | {warm:.2f} |", flush=True)


if __name__ == "__main__":
    main()
