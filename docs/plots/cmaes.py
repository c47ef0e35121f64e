"""Figure: CMA-ES's population on Rosenbrock's function in two dimensions.

Run by Matplotlib's ``plot`` directive when the documentation is built, so the
populations are those of the installed package. ``cmaes`` runs through
:class:`pytensor_optim.minimize_iterator` with ``df=None``; the function
records where it is called, so each generation's calls are its population.
"""

import matplotlib.pyplot as plt
import numpy as np
from scipy.optimize import rosen

import pytensor_optim as po

X0 = np.array([-1.5, 2.0])
GENERATIONS = 200
SHOWN = [1, 25, 50, 100, 150]  # the generations drawn


def generations(count):
    """The mean and the population of each generation.

    A generation calls ``f`` at the mean of the distribution (the parameters)
    and then at its candidates; the next mean is the weighted mean of the
    best candidates.
    """
    calls = []

    def f(x):
        calls.append(x.copy())
        return rosen(x)

    run = po.minimize_iterator(
        X0, f, None, po.cmaes, sigma=0.5, seed=1, max_iter=count, gtol=None
    )
    means, populations = [], []
    for _ in run:
        means.append(calls[0])
        populations.append(np.array(calls[1:]))
        calls.clear()
    return np.array(means), populations


def main():
    means, populations = generations(GENERATIONS)
    grid_x, grid_y = np.meshgrid(np.linspace(-2, 2, 300), np.linspace(-1, 3, 300))
    values = rosen(np.stack([grid_x, grid_y]))
    figure, ax = plt.subplots(figsize=(6.4, 5.2), layout="constrained")
    ax.contour(
        grid_x,
        grid_y,
        values,
        levels=np.logspace(-1, 3.5, 12),
        colors="0.75",
        linewidths=0.7,
    )
    ax.plot(
        means[:, 0],
        means[:, 1],
        "-",
        color="0.35",
        linewidth=1,
        label=f"mean, {GENERATIONS} generations",
    )
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(SHOWN)))
    for generation, colour in zip(SHOWN, colours, strict=True):
        population = populations[generation - 1]
        ax.plot(
            population[:, 0],
            population[:, 1],
            "o",
            color=colour,
            markersize=5,
            label=f"generation {generation}",
        )
    ax.plot(1, 1, "*", color="C3", markersize=12, label="minimum (1, 1)")
    ax.set_xlabel("x[0]")
    ax.set_ylabel("x[1]")
    ax.set_aspect("equal")
    ax.legend(fontsize=8, loc="upper right")
    return figure
