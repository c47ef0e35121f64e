"""Microseconds per iteration of the symbolic path, by configuration.

    python benchmarks/bench_iteration.py [--problem rosenbrock] [--mode NUMBA]
        [--repeat 31]
    python benchmarks/bench_iteration.py --scalar-states 1,2,5,10,20,40

``optimize`` compiles the whole run into one call (``steps_per_call=10000``);
that call is timed again from the same start, ``--repeat`` times, and its
median divided by the iterations (and by the evaluations) of the run. The
configurations add one piece at a time, so that the differences say what a
piece costs: a plain step (the gradient evaluated at the start of every
call), a step through the ``constant`` search (one evaluation in the search's
loop, its values kept for the next call), More-Thuente's search, L-BFGS's
direction.
Every run has ``gtol``, ``max_iter`` and ``max_evals`` set (the protocol's
criteria are part of the cost). Compilation is not timed (see
``bench_minimize.py`` for set-up times).

``--scalar-states`` times instead a bare ``scan`` of 20000 steps that carries
k scalar states, each updated as x <- x / 2 + (sum of the states) / 1000 + 1:
what carrying scalars costs per step, apart from any arithmetic.
"""

import argparse
import statistics
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")

# name: (rule, hyperparameters)
CONFIGURATIONS = {
    "gradient_descent, no search": (
        "gradient_descent",
        {"step_size": 1e-4, "line_search": None},
    ),
    "gradient_descent, constant search": (
        "gradient_descent",
        {"step_size": 1e-4, "line_search": "constant"},
    ),
    "gradient_descent, more_thuente": (
        "gradient_descent",
        {"line_search": "more_thuente"},
    ),
    "lbfgs, no search": (
        "lbfgs",
        {"history": 10, "line_search": None, "step_size": 0.01},
    ),
    "lbfgs as L-BFGS-B": (
        "lbfgs",
        {
            "history": 10,
            "line_search": ("more_thuente", {"c1": 1e-3, "xtol": 0.1}),
            "step0": "scipy",
            "curvature_test": "relative",
            "ftol": 1e7 * np.finfo(float).eps,
        },
    ),
}


def time_configuration(problem, rule, options, mode, repeat):
    """(iterations, evaluations, median seconds of the whole run)."""
    import pytensor
    import pytensor.tensor as pt

    import pytensor_optim as po
    from benchmarks.bench_minimize import Timed

    if isinstance(options.get("line_search"), tuple):
        name, settings = options["line_search"]
        options = {**options, "line_search": getattr(po.line_search, name)(**settings)}
    made = []
    original = pytensor.function

    def recording(*args, updates=None, **kwargs):
        # Timed keeps the state before the first call, to run again from it
        made.append(Timed(original(*args, updates=updates, **kwargs), updates or {}))
        return made[-1]

    x = pytensor.shared(problem.x0.copy(), name="x")
    pytensor.function = recording
    try:
        result = po.optimize(
            problem.cost(x, pt),
            [x],
            rule,
            steps_per_call=10_000,
            max_iter=2000,
            max_evals=10**9,
            gtol=1e-5,
            mode=mode,
            **options,
        )
    finally:
        pytensor.function = original
    times = [made[-1].rerun() for _ in range(repeat)]
    return result.nit, result.nfev, statistics.median(times)


def time_scalar_states(k, mode, repeat, steps=20_000):
    """Median nanoseconds per step of a scan carrying ``k`` scalar states."""
    import time

    import pytensor
    import pytensor.tensor as pt

    states = [pt.dscalar(f"x{i}") for i in range(k)]

    def body(*values):
        total = pt.add(*values) if k > 1 else values[0]
        return [v * 0.5 + total * 1e-3 + 1.0 for v in values]

    finals = pytensor.scan(
        body, outputs_info=states, n_steps=steps, return_updates=False, mode=mode
    )
    finals = finals if k > 1 else [finals]
    f = pytensor.function(states, [final[-1] for final in finals], mode=mode)
    start = [1.0] * k
    f(*start)
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        f(*start)
        times.append(time.perf_counter() - began)
    return statistics.median(times) / steps * 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problem", default="rosenbrock")
    parser.add_argument("--mode", default="NUMBA")
    parser.add_argument("--repeat", type=int, default=31)
    parser.add_argument("--scalar-states", help="comma-separated counts")
    args = parser.parse_args()
    if args.scalar_states:
        print(f"mode={args.mode}, repeat={args.repeat}\n")
        print("| scalar states | ns / step |\n|---|---|")
        for k in map(int, args.scalar_states.split(",")):
            print(f"| {k} | {time_scalar_states(k, args.mode, args.repeat):.0f} |")
        return
    from tests.problems import ZOO

    problem = ZOO[args.problem]
    print(f"problem={args.problem}, mode={args.mode}, repeat={args.repeat}\n")
    print(
        "| configuration | iterations | evaluations "
        "| µs / iteration | µs / evaluation |"
    )
    print("|---|---|---|---|---|")
    for name, (rule, options) in CONFIGURATIONS.items():
        nit, nfev, seconds = time_configuration(
            problem, rule, dict(options), args.mode, args.repeat
        )
        print(
            f"| {name} | {nit} | {nfev} | {seconds / nit * 1e6:.2f} "
            f"| {seconds / nfev * 1e6:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
