"""Figure: f - f* against evaluations, our rules beside SciPy's methods.

Run by Matplotlib's ``plot`` directive when the documentation is built, so the
curves are those of the installed package. Our runs use
:class:`pytensor_optim.minimize_iterator` and record, after each iteration,
the number of calls of ``f`` so far and the gap at the current point; SciPy's
use :func:`scipy.optimize.minimize` with a callback and a counting ``f``.
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy.optimize import minimize, rosen, rosen_der, rosen_hess_prod

import pytensor_optim as po
from pytensor_optim.line_search import more_thuente

EPS = np.finfo(np.float64).eps
GTOL = 1e-8
MAX_ITER = 3000
FLOOR = 1e-20  # gaps at or below it are drawn at it (log scale)

# An ill-conditioned quadratic: eigenvalues from 1 to 1e4, minimum 0 at 0
EIGENVALUES = np.logspace(0, 4, 20)


def quadratic(x):
    return 0.5 * np.sum(EIGENVALUES * x * x)


def quadratic_gradient(x):
    return EIGENVALUES * x


def quadratic_hessp(x, p):
    return EIGENVALUES * p


PROBLEMS = [
    # title, x0, f, df, hessp, f*
    (
        "Rosenbrock, 2-D, from (-1.2, 1)",
        np.array([-1.2, 1.0]),
        rosen,
        rosen_der,
        rosen_hess_prod,
        0.0,
    ),
    (
        "quadratic, 20-D, condition number 1e4",
        np.ones(20),
        quadratic,
        quadratic_gradient,
        quadratic_hessp,
        0.0,
    ),
]

# label, colour, our rule and its options, SciPy's method and its options
# (None: no SciPy counterpart)
METHODS = [
    (
        "lbfgs, set as L-BFGS-B",
        "C0",
        (
            "lbfgs",
            # configured as SciPy's L-BFGS-B (docs/quasi_newton.rst)
            {
                "step0": "scipy",
                "line_search": more_thuente(c1=1e-3, xtol=0.1),
                "curvature_test": "relative",
                "ftol": 1e7 * EPS,
            },
        ),
        ("L-BFGS-B", {"gtol": GTOL}),
    ),
    ("bfgs", "C1", ("bfgs", {}), ("BFGS", {"gtol": GTOL})),
    (
        "cg, variant PR+",
        "C2",
        ("cg", {"variant": "PR+", "line_search": more_thuente(c2=0.4)}),
        ("CG", {"gtol": GTOL}),
    ),
    (
        "truncated_newton",
        "C3",
        ("truncated_newton", {"hessp": True}),
        ("Newton-CG", {"xtol": 1e-12, "hessp": True}),
    ),
    ("adam, step size 0.05", "C4", ("adam", {"step_size": 0.05}), None),
]


def ours(problem, rule, options):
    _, x0, f, df, hessp, f_min = problem
    options = dict(options)
    if options.pop("hessp", False):
        options["hessp"] = hessp
    run = po.minimize_iterator(x0, f, df, rule, max_iter=MAX_ITER, gtol=GTOL, **options)
    evaluations, gaps = [0], [f(x0) - f_min]
    for _ in run:
        evaluations.append(run.n_evals)
        gaps.append(f(run.x) - f_min)
    return evaluations, gaps


def scipy(problem, method, options):
    _, x0, f, df, hessp, f_min = problem
    options = dict(options)
    hessp = hessp if options.pop("hessp", False) else None
    calls = 0

    def counted(x):
        nonlocal calls
        calls += 1
        return f(x)

    evaluations, gaps = [0], [f(x0) - f_min]

    def callback(xk):
        evaluations.append(calls)
        gaps.append(f(xk) - f_min)

    minimize(
        counted,
        x0,
        jac=df,
        hessp=hessp,
        method=method,
        callback=callback,
        options={"maxiter": MAX_ITER, **options},
    )
    return evaluations, gaps


def main():
    figure, axes = plt.subplots(1, 2, figsize=(9.5, 4.8), layout="constrained")
    for ax, problem in zip(axes, PROBLEMS, strict=True):
        for label, colour, (rule, options), scipy_method in METHODS:
            evaluations, gaps = ours(problem, rule, options)
            ax.plot(evaluations, np.maximum(gaps, FLOOR), color=colour, label=label)
            if scipy_method is not None:
                method, scipy_options = scipy_method
                evaluations, gaps = scipy(problem, method, scipy_options)
                ax.plot(
                    evaluations,
                    np.maximum(gaps, FLOOR),
                    color=colour,
                    linestyle="--",
                    label=f"SciPy {method}",
                )
        ax.set_xscale("symlog", linthresh=10)
        ax.set_yscale("log")
        ax.set_ylim(FLOOR / 10, None)
        ax.set_xlabel("calls of f")
        ax.set_title(problem[0], fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("f - f*")
    figure.legend(
        *axes[0].get_legend_handles_labels(),
        loc="outside lower center",
        ncols=5,
        fontsize=7.5,
    )
    return figure
