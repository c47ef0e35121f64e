"""Figure: the trial points of four line searches on a 1-D slice.

Run by Matplotlib's ``plot`` directive when the documentation is built, so the
trials are those of the installed package. Each search makes the first
iteration of ``gradient_descent`` on Rosenbrock's function from (-1.2, 1),
through :class:`pytensor_optim.minimize_iterator`; the function records the
points where it is called, each a step ``alpha`` along the direction.
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy.optimize import rosen, rosen_der

import pytensor_optim as po
from pytensor_optim import line_search

X0 = np.array([-1.2, 1.0])
DIRECTION = -rosen_der(X0)
C1 = 1e-4  # the sufficient-decrease constant of the four searches

SEARCHES = [
    ("more_thuente()", line_search.more_thuente()),
    ("strong_wolfe()", line_search.strong_wolfe()),
    ("hager_zhang()", line_search.hager_zhang()),
    ("backtracking()", line_search.backtracking()),
]


def phi(alpha):
    return rosen(X0 + alpha * DIRECTION)


def trials(search):
    """The steps at which the search called f, and the step it accepted."""
    points = []

    def f_and_gradient(x):
        points.append(x.copy())
        return rosen(x), rosen_der(x)

    run = po.minimize_iterator(
        X0, f_and_gradient, True, "gradient_descent", line_search=search, max_iter=1
    )
    next(run)
    squared_norm = DIRECTION @ DIRECTION
    steps = [(point - X0) @ DIRECTION / squared_norm for point in points]
    accepted = (run.x - X0) @ DIRECTION / squared_norm
    # the call at the starting point is not a trial of the search
    return [step for step in steps if step > 0], accepted


def main():
    alphas = np.logspace(-8, 0, 500)
    values = np.array([phi(alpha) for alpha in alphas])
    armijo = phi(0.0) + C1 * alphas * (rosen_der(X0) @ DIRECTION)
    figure, axes = plt.subplots(
        2, 2, figsize=(9.5, 6.4), sharex=True, sharey=True, layout="constrained"
    )
    for ax, (label, search) in zip(axes.flat, SEARCHES, strict=True):
        steps, accepted = trials(search)
        ax.plot(alphas, values, color="0.5", label="f(x0 + alpha d)")
        ax.plot(alphas, armijo, color="0.5", linestyle=":", label="sufficient decrease")
        ax.axhline(phi(0.0), color="0.8", linewidth=0.8)
        ax.plot(steps, [phi(step) for step in steps], "o", color="C0", label="trial")
        for number, step in enumerate(steps, start=1):
            ax.annotate(
                str(number),
                (step, phi(step)),
                textcoords="offset points",
                xytext=(4, 4),
                fontsize=7,
                color="C0",
            )
        ax.plot(
            accepted, phi(accepted), "*", color="C3", markersize=11, label="accepted"
        )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylim(1, None)
        ax.set_title(f"{label}: {len(steps)} trials", fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("step alpha along d = -grad f(x0)")
    for ax in axes[:, 0]:
        ax.set_ylabel("f")
    axes[0, 0].legend(fontsize=7.5, loc="upper left")
    return figure
