"""The problems of the reference trajectories, for NumPy/torch and PyTensor alike.

Each problem is data plus a cost written once with array operations that
both ``torch`` and ``pytensor.tensor`` provide (``@``, ``**``, ``.sum()``,
``.mean()``), so the reference script and the tests build the same function.
"""

import numpy as np

__all__ = ["PROBLEMS"]


def _linreg_data():
    rng = np.random.default_rng(20261122)
    features = rng.normal(size=(8, 3))
    targets = rng.normal(size=(8, 2))
    start = {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=2)}
    return {"X": features, "Y": targets}, start


def linreg_cost(params, data):
    """Mean squared error of an affine map: two parameters, a matrix and a vector."""
    weights, bias = params
    residual = data["X"] @ weights + bias - data["Y"]
    return (residual**2).mean()


def rosenbrock_cost(params, data):
    """The 2-D Rosenbrock function."""
    (x,) = params
    return (100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2).sum()


PROBLEMS = {
    "linreg": (linreg_cost, *_linreg_data()),
    "rosenbrock": (rosenbrock_cost, {}, {"x": np.array([-1.2, 1.0])}),
}


def from_reference(reference, problem, trajectories):
    """Shared parameters at a stored trajectory's start, and the cost on the data.

    ``reference`` is a loaded ``.npz`` of a reference script: its
    ``{problem}/data/{key}`` arrays are the problem's data and
    ``{trajectories}/{param}`` rows the parameters after every step (row 0
    the start). Imports PyTensor lazily: the scripts run without it.
    """
    import pytensor
    import pytensor.tensor as pt

    cost_function, _, start = PROBLEMS[problem]
    prefix = f"{problem}/data/"
    data = {
        key.removeprefix(prefix): pt.constant(reference[key])
        for key in reference.files
        if key.startswith(prefix)
    }
    params = [
        pytensor.shared(reference[f"{trajectories}/{name}"][0].copy(), name=name)
        for name in start
    ]
    return params, cost_function(params, data)
