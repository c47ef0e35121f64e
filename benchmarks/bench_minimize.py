"""Quasi-Newton and CG on the problem zoo: pytensor_optim against SciPy, same run.

    python benchmarks/bench_minimize.py [--methods lbfgs,bfgs,cg]
        [--problems all|mgh|NAME,...] [--paths numpy,symbolic] [--repeat 5]
        [--mode NUMBA] [--steps-per-call 10000] [--json FILE]

For every problem of a set from ``tests/problems.py`` (Moré, Garbow &
Hillstrom's starting points) and every pair (ours, SciPy's) of a method:

* SciPy: ``scipy.optimize.minimize(fun, x0, jac=True, method=...)`` with its
  default tolerances (``gtol=1e-5`` on max|g|); ``fun`` returns the cost and
  the gradient together, so ``nfev`` counts joint evaluations, as ours do.
* Ours, NumPy path: ``pytensor_optim.minimize`` with the same callable
  (``df=True``) and ``gtol=1e-5``.
* Ours, symbolic path: ``pytensor_optim.optimize`` on the PyTensor graph of the
  cost, ``steps_per_call`` iterations per compiled call (the whole run in one
  call by default), ``gtol=1e-5``.

``--paths`` picks our paths (both by default; the symbolic path compiles
each problem's cost anew, so ``--paths numpy`` is the quick way through the
35 MGH problems). The evaluations and the solved flags of the table are the
symbolic path's when it ran, else the NumPy path's.

The sets: ``all`` (the default) is the zoo, ``ZOO``; ``mgh`` is all 35
problems of Moré, Garbow & Hillstrom (1981), ``MGH``, in the paper's order;
or name problems of either, separated by commas.

A problem is *solved* when the NumPy cost at the returned point is the
problem's minimum (or its documented local minimum) within 1e-6 (relative
above 1), or within the last printed digit of a published minimum where
that is wider. Times are medians over ``--repeat`` runs. Our runs happen in a
fresh process per problem, with a PyTensor cache that is empty at the start
of each method: the set-up (graph, compilation, Numba's machine code) of the
first run of a process is reported apart ("first": cold for a method's first
problem) from that of the later runs ("warm"), and the run itself apart from
both (see ``ours_worker``).
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

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")

GTOL = 1e-5
MAX_ITER = 10_000
# L-BFGS-B's default ftol: factr = 1e7 times the machine epsilon
LBFGSB_FTOL = 1e7 * np.finfo(float).eps

# ours: (rule name, hyperparameters); SciPy: (method, options)
METHODS = {
    # the rule's defaults: Moré-Thuente with L-BFGS-B's tolerances and first
    # step, stopping on the gradient only
    "lbfgs": (
        ("lbfgs", {}),
        ("L-BFGS-B", {"maxcor": 10, "gtol": GTOL, "maxiter": MAX_ITER}),
    ),
    # L-BFGS configured as L-BFGS-B: first step 1/|g|_2, MINPACK's search with
    # L-BFGS-B's tolerances, and its stop on the relative reduction of f
    "lbfgs-scipy": (
        (
            "lbfgs",
            {
                "history": 10,
                "line_search": ("more_thuente", {"c1": 1e-3, "xtol": 0.1}),
                "step0": "scipy",
                "curvature_test": "relative",
                "ftol": LBFGSB_FTOL,
            },
        ),
        ("L-BFGS-B", {"maxcor": 10, "gtol": GTOL, "maxiter": MAX_ITER}),
    ),
    "bfgs": (
        ("bfgs", {}),
        ("BFGS", {"gtol": GTOL, "maxiter": MAX_ITER}),
    ),
    # BFGS configured as SciPy's: no scaling of H before the first update,
    # and SciPy's first step 1.01 / |g|
    "bfgs-scipy": (
        ("bfgs", {"scale_hess": False, "step0": "scipy"}),
        ("BFGS", {"gtol": GTOL, "maxiter": MAX_ITER}),
    ),
    "cg": (
        ("cg", {}),
        ("CG", {"gtol": GTOL, "maxiter": MAX_ITER}),
    ),
}


def problems_named(choice):
    """The problems of ``--problems``: the zoo, the MGH set, or names of either."""
    from tests.problems import MGH, ZOO

    if choice == "all":
        return {name: ZOO[name] for name in sorted(ZOO)}
    if choice == "mgh":
        return dict(MGH)
    every = {**ZOO, **MGH}
    unknown = [name for name in choice.split(",") if name not in every]
    if unknown:
        raise SystemExit(
            f"--problems: unknown {', '.join(unknown)}; expected 'all', 'mgh' "
            f"or names among {', '.join(every)}"
        )
    return {name: every[name] for name in choice.split(",")}


def median_time(run, repeat):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def value_and_grad(problem, mode):
    """The zoo problem's cost and gradient as one compiled NumPy callable."""
    import pytensor
    import pytensor.tensor as pt

    x = pt.vector("x", dtype="float64")
    cost = problem.cost(x, pt)
    function = pytensor.function([x], [cost, pytensor.grad(cost, x)], mode=mode)

    def fun(v):
        value, gradient = function(v)
        return float(value), gradient

    return fun


def run_scipy(problem, method, repeat):
    from scipy.optimize import minimize

    fun = value_and_grad(problem, "CVM")
    name, options = METHODS[method][1]

    def run():
        return minimize(fun, problem.x0, jac=True, method=name, options=options)

    seconds, result = median_time(run, repeat)
    return {"seconds": seconds, "nfev": int(result.nfev), "x": result.x.tolist()}


class Timed:
    """A compiled function that times its calls and can run again from its start.

    On its first call it notes the values of every shared variable it
    updates; :meth:`rerun` puts them back and calls it once more, so a whole
    run is timed again with the function already compiled (and, with Numba,
    its machine code already loaded).
    """

    def __init__(self, function, updated):
        self.function = function
        self.updated = list(updated)
        self.calls = []
        self.start = None

    def __call__(self, *args, **kwargs):
        if self.start is None:
            self.start = [v.get_value(borrow=False) for v in self.updated]
        began = time.perf_counter()
        result = self.function(*args, **kwargs)
        self.calls.append(time.perf_counter() - began)
        return result

    def rerun(self):
        """Seconds of one call from the first call's starting state."""
        for variable, value in zip(self.updated, self.start, strict=True):
            variable.set_value(value.copy())
        began = time.perf_counter()
        self.function()
        return time.perf_counter() - began

    def __getattr__(self, name):
        return getattr(self.function, name)


def ours_worker(problem_name, method, repeat, mode, steps_per_call, paths):
    """Our two paths in this process: set-up and run times.

    The set-up of a run is the time ``minimize_iterator`` / ``optimize``
    spends before the compiled function starts iterating: building the
    rule's graph, ``pytensor.function`` (rewrites, C compilation or the C
    cache), and, with Numba, the first call's compilation of machine code
    (or its loading from the cache) — measured as the whole run less the
    run of the same function once more. The first run of a process reads
    whatever the PyTensor cache holds; the later ones (``repeat`` of them)
    also reuse what the process has loaded. The run time of the symbolic
    path is one call of the compiled function (the whole run), again from
    the starting point; of the NumPy path, its calls during a run.
    """
    import pytensor
    import pytensor.tensor as pt

    import pytensor_optim as po

    problem = problems_named(problem_name)[problem_name]
    fun = value_and_grad(problem, "CVM")
    made = []
    original = pytensor.function

    def timed_function(*args, updates=None, **kwargs):
        function = original(*args, updates=updates, **kwargs)
        made.append(Timed(function, dict(updates or {})))
        return made[-1]

    pytensor.function = timed_function
    rule, options = METHODS[method][0]
    options = {**options, "gtol": GTOL, "max_iter": MAX_ITER}
    if isinstance(options.get("line_search"), tuple):
        name, settings = options["line_search"]
        options["line_search"] = getattr(po.line_search, name)(**settings)

    def numpy_path():
        iterator = po.minimize_iterator(problem.x0, fun, True, rule, **options)
        for _ in iterator:
            pass
        return iterator

    x = pytensor.shared(problem.x0.copy(), name="x")
    cost = problem.cost(x, pt)

    def symbolic_path():
        x.set_value(problem.x0.copy())
        return po.optimize(
            cost,
            [x],
            rule,
            steps_per_call=steps_per_call,
            mode=mode,
            max_evals=10**9,
            **options,
        )

    report = {}
    runs_of = {"numpy": numpy_path, "symbolic": symbolic_path}
    for path, run in ((path, runs_of[path]) for path in paths):
        setups, runs = [], []
        for _ in range(1 + repeat):
            # a reused iteration keeps its Timed function: count this run's calls
            earlier = {id(function): len(function.calls) for function in made}
            began = time.perf_counter()
            result = run()
            total = time.perf_counter() - began
            function = made[-1]
            if path == "numpy":
                again = sum(function.calls[earlier.get(id(function), 0) :])
            else:
                if len(function.calls) != 1:
                    raise RuntimeError("raise --steps-per-call: the run took calls")
                again = function.rerun()
            setups.append(total - again)
            runs.append(again)
        report[path] = {
            "setup_first": setups[0],
            "setup_warm": statistics.median(setups[1:]),
            "run": statistics.median(runs[1:]),
        }
        if path == "numpy":
            report[path]["nfev"] = int(result.n_evals)
            report[path]["x"] = np.asarray(result.x_last).tolist()
        else:
            report[path]["nfev"] = int(result.nfev)
            report[path]["nit"] = int(result.nit)
            report[path]["x"] = np.asarray(result.x[0]).tolist()
    return report


def run_ours(problem_name, method, repeat, mode, steps_per_call, paths, compiledir):
    command = [
        sys.executable,
        __file__,
        "--worker",
        problem_name,
        method,
        "--repeat",
        str(repeat),
        "--mode",
        mode,
        "--steps-per-call",
        str(steps_per_call),
        "--paths",
        ",".join(paths),
    ]
    environment = {
        **os.environ,
        "PYTENSOR_FLAGS": f"base_compiledir={compiledir}",
        "PYTHONPATH": str(ROOT),
    }
    output = subprocess.run(
        command, env=environment, capture_output=True, text=True, check=False
    )
    if output.returncode != 0:
        raise RuntimeError(f"{problem_name}/{method} failed:\n{output.stderr}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument(
        "--problems",
        default="all",
        help="'all' (the zoo, default), 'mgh' (the 35 Moré-Garbow-Hillstrom "
        "problems) or problem names separated by commas",
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--mode", default="NUMBA")
    parser.add_argument("--steps-per-call", type=int, default=MAX_ITER)
    parser.add_argument(
        "--paths",
        default="numpy,symbolic",
        help="our paths to run: numpy, symbolic or both (the default)",
    )
    parser.add_argument("--worker", nargs=2, metavar=("PROBLEM", "METHOD"))
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    paths = args.paths.split(",")
    if not paths or any(path not in ("numpy", "symbolic") for path in paths):
        raise SystemExit(f"--paths: expected numpy, symbolic or both, got {args.paths}")
    if args.worker:
        result = ours_worker(
            *args.worker, args.repeat, args.mode, args.steps_per_call, paths
        )
        print(json.dumps(result))
        return

    problems = problems_named(args.problems)
    methods = args.methods.split(",")
    rows = []
    for method in methods:
        # a fresh PyTensor cache for each method: its first problem's first
        # run is cold, later problems reuse what the earlier ones compiled
        with tempfile.TemporaryDirectory() as compiledir:
            for name, problem in problems.items():
                ours = run_ours(
                    name,
                    method,
                    args.repeat,
                    args.mode,
                    args.steps_per_call,
                    paths,
                    compiledir,
                )
                scipy = run_scipy(problem, method, args.repeat)
                row = {"method": method, "problem": name, "scipy": scipy, "ours": ours}
                for side in (scipy, *ours.values()):
                    side["f"] = float(problem.cost(np.asarray(side["x"]), np))
                    side["solved"] = bool(problem.solved(side["f"]))
                rows.append(row)
                print_row(row, flush=True)
                if args.json:  # the rows so far, should the run be cut short
                    Path(args.json).write_text(json.dumps(rows, indent=1))
    print_table(rows, args)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


def judged(row):
    """The path whose evaluations and solution the table reports."""
    return row["ours"].get("symbolic", row["ours"].get("numpy"))


def milliseconds(row, path):
    side = row["ours"].get(path)
    return "—" if side is None else f"{side['run'] * 1e3:.2f}"


def print_row(row, flush=False):
    scipy, ours = row["scipy"], judged(row)
    print(
        f"{row['method']:6s} {row['problem']:29s} "
        f"scipy {scipy['nfev']:5d} ev {'ok' if scipy['solved'] else '--'} "
        f"{scipy['seconds'] * 1e3:8.2f} ms | "
        f"ours {ours['nfev']:5d} ev {'ok' if ours['solved'] else '--'} "
        f"numpy {milliseconds(row, 'numpy')} ms "
        f"symbolic {milliseconds(row, 'symbolic')} ms "
        f"set-up first {ours['setup_first']:5.1f} s "
        f"warm {ours['setup_warm']:5.1f} s",
        file=sys.stderr,
        flush=flush,
    )


def print_table(rows, args):
    print(
        f"\nmode={args.mode}, steps_per_call={args.steps_per_call}, "
        f"repeat={args.repeat}, gtol={GTOL}, paths={args.paths}\n"
    )
    print(
        "| method | problem | SciPy evals | ours evals (symbolic / NumPy) | "
        "solved SciPy / ours | SciPy ms | ours NumPy ms | ours symbolic ms | "
        "set-up first s | set-up warm s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        scipy, ours = row["scipy"], judged(row)
        evaluations = " / ".join(
            str(row["ours"][path]["nfev"]) if path in row["ours"] else "—"
            for path in ("symbolic", "numpy")
        )
        print(
            f"| {row['method']} | {row['problem']} | {scipy['nfev']} | "
            f"{evaluations} | "
            f"{'yes' if scipy['solved'] else 'no'} / "
            f"{'yes' if ours['solved'] else 'no'} | "
            f"{scipy['seconds'] * 1e3:.2f} | {milliseconds(row, 'numpy')} | "
            f"{milliseconds(row, 'symbolic')} | "
            f"{ours['setup_first']:.1f} | {ours['setup_warm']:.1f} |"
        )
    print()
    for method in dict.fromkeys(row["method"] for row in rows):
        mine = [row for row in rows if row["method"] == method]
        both = [r for r in mine if r["scipy"]["solved"] and judged(r)["solved"]]
        only_ours = [
            r["problem"]
            for r in mine
            if judged(r)["solved"] and not r["scipy"]["solved"]
        ]
        only_scipy = [
            r["problem"]
            for r in mine
            if r["scipy"]["solved"] and not judged(r)["solved"]
        ]
        print(
            f"{method}: solved SciPy "
            f"{sum(r['scipy']['solved'] for r in mine)}/{len(mine)}, ours "
            f"{sum(judged(r)['solved'] for r in mine)}/{len(mine)}; on the "
            f"{len(both)} both solve, evaluations SciPy "
            f"{sum(r['scipy']['nfev'] for r in both)}, ours "
            f"{sum(judged(r)['nfev'] for r in both)}; solved by ours only: "
            f"{', '.join(only_ours) or '—'}; by SciPy only: "
            f"{', '.join(only_scipy) or '—'}"
        )


if __name__ == "__main__":
    main()
