"""The problem and configurations of the ``pymc.variational.updates`` reference data.

Imported by ``make_pymc_updates.py`` (run with pymc) and by
``tests/test_compat_pymc.py`` (run with ``pytensor_optim.compat.pymc``). Both
build every configuration with :func:`build`, given the module to use, so
the two trajectories differ only in the update functions.

:func:`run` compiles one configuration and returns its trajectory.

The problem is a separable quadratic in a matrix ``W`` (3 x 2) and a vector
``b`` (2) with curvatures between 0.5 and 4. Its gradient is elementwise,
``A * (W - C)``, and is rounded the same way by every PyTensor backend; the
constants are integers so that a float32 problem stays float32 whatever
``floatX`` is.
"""

import subprocess

import numpy as np
import pytensor
from pytensor.link.c.cmodule import GCC_compiler

__all__ = ["CONFIGS", "STEPS", "build", "c_compiler", "cost", "problem_data", "run"]

STEPS = 15


def problem_data():
    """Curvatures ``A``, ``a``, minimisers ``C``, ``c``, starting points (float64)."""
    rng = np.random.default_rng(20261122)
    return {
        "A": rng.uniform(0.5, 4.0, size=(3, 2)),
        "C": rng.normal(size=(3, 2)),
        "a": rng.uniform(0.5, 4.0, size=2),
        "c": rng.normal(size=2),
        "W0": 2.0 * rng.normal(size=(3, 2)),
        "b0": 2.0 * rng.normal(size=2),
    }


def cost(params, data):
    """``(sum A (W - C)^2 + sum a (b - c)^2) / 2`` for ``params = [W, b]``."""
    weights, bias = params
    return (
        (data["A"] * (weights - data["C"]) ** 2).sum()
        + (data["a"] * (bias - data["c"]) ** 2).sum()
    ) / 2


# name: {"function": the function of the module, "kwargs": its keyword
# arguments, and for some kinds:
#   "gradients": pass the list of gradients instead of the loss,
#   "partial": call the function with the keywords only, then the result,
#   "inner": keyword arguments of the sgd updates that apply_* and the norm
#            constraints modify,
#   "params": indices of the parameters apply_* wraps (default: all keys),
#   "norm_axes": norm_constraint's axes for W and b (None: the default),
#   "on": what norm_constraint constrains, "updates" or "gradients"}
CONFIGS = {
    "sgd": {"function": "sgd", "kwargs": {}},
    "sgd-lr": {"function": "sgd", "kwargs": {"learning_rate": 0.1}},
    "sgd-gradients": {
        "function": "sgd",
        "kwargs": {"learning_rate": 0.1},
        "gradients": True,
    },
    "momentum": {"function": "momentum", "kwargs": {}},
    "momentum-lr": {
        "function": "momentum",
        "kwargs": {"learning_rate": 0.05, "momentum": 0.5},
    },
    "nesterov_momentum": {"function": "nesterov_momentum", "kwargs": {}},
    "nesterov_momentum-lr": {
        "function": "nesterov_momentum",
        "kwargs": {"learning_rate": 0.05, "momentum": 0.7},
        "gradients": True,
    },
    "apply_momentum": {
        "function": "apply_momentum",
        "kwargs": {},
        "inner": {"learning_rate": 0.05},
    },
    "apply_momentum-W": {
        "function": "apply_momentum",
        "kwargs": {"momentum": 0.5},
        "inner": {"learning_rate": 0.05},
        "params": [0],
    },
    "apply_nesterov_momentum": {
        "function": "apply_nesterov_momentum",
        "kwargs": {},
        "inner": {"learning_rate": 0.05},
    },
    "apply_nesterov_momentum-b": {
        "function": "apply_nesterov_momentum",
        "kwargs": {"momentum": 0.8},
        "inner": {"learning_rate": 0.05},
        "params": [1],
    },
    "adagrad": {"function": "adagrad", "kwargs": {}},
    "adagrad-lr": {
        "function": "adagrad",
        "kwargs": {"learning_rate": 0.1, "epsilon": 1e-3},
        "gradients": True,
    },
    "adagrad_window": {"function": "adagrad_window", "kwargs": {}},
    "adagrad_window-n4": {
        "function": "adagrad_window",
        "kwargs": {"learning_rate": 0.1, "epsilon": 1e-3, "n_win": 4},
    },
    "adagrad_window-n1": {
        "function": "adagrad_window",
        "kwargs": {"learning_rate": 0.05, "n_win": 1},
        "gradients": True,
    },
    "adagrad_window-partial": {
        "function": "adagrad_window",
        "kwargs": {"learning_rate": 0.2, "n_win": 6},
        "partial": True,
    },
    "rmsprop": {"function": "rmsprop", "kwargs": {}},
    "rmsprop-lr": {
        "function": "rmsprop",
        "kwargs": {"learning_rate": 0.01, "rho": 0.5, "epsilon": 1e-4},
    },
    "adadelta": {"function": "adadelta", "kwargs": {}},
    "adadelta-lr": {
        "function": "adadelta",
        "kwargs": {"learning_rate": 0.5, "rho": 0.8, "epsilon": 1e-4},
    },
    "adam": {"function": "adam", "kwargs": {}},
    "adam-lr": {
        "function": "adam",
        "kwargs": {"learning_rate": 0.1, "beta1": 0.5, "beta2": 0.9, "epsilon": 1e-4},
    },
    "adam-gradients": {
        "function": "adam",
        "kwargs": {"learning_rate": 0.05},
        "gradients": True,
    },
    "adam-partial": {
        "function": "adam",
        "kwargs": {"learning_rate": 0.02, "beta2": 0.99},
        "partial": True,
    },
    "adamax": {"function": "adamax", "kwargs": {}},
    "adamax-lr": {
        "function": "adamax",
        "kwargs": {"learning_rate": 0.1, "beta1": 0.8, "beta2": 0.95, "epsilon": 1e-4},
    },
    "norm_constraint": {
        "function": "norm_constraint",
        "kwargs": {"max_norm": 1.0},
        "inner": {"learning_rate": 0.1},
        "norm_axes": [None, [0]],
        "on": "updates",
    },
    "norm_constraint-axes1": {
        "function": "norm_constraint",
        "kwargs": {"max_norm": 1.5, "epsilon": 1e-3},
        "inner": {"learning_rate": 0.1},
        "norm_axes": [[1], [0]],
        "on": "updates",
    },
    "norm_constraint-gradients": {
        "function": "norm_constraint",
        "kwargs": {"max_norm": 0.5},
        "inner": {"learning_rate": 0.2},
        "norm_axes": [None, [0]],
        "on": "gradients",
    },
    "total_norm_constraint": {
        "function": "total_norm_constraint",
        "kwargs": {"max_norm": 1.0},
        "inner": {"learning_rate": 0.1},
    },
    "total_norm_constraint-norm": {
        "function": "total_norm_constraint",
        "kwargs": {"max_norm": 2.0, "epsilon": 1e-4, "return_norm": True},
        "inner": {"learning_rate": 0.2},
    },
    "total_norm_constraint-inactive": {
        "function": "total_norm_constraint",
        "kwargs": {"max_norm": 100.0, "return_norm": True},
        "inner": {"learning_rate": 0.05},
    },
}


def build(module, name, params, loss):
    """The updates and extra outputs of configuration ``name``, built with ``module``.

    ``module`` is ``pymc.variational.updates`` or ``pytensor_optim.compat.pymc``.
    The extra outputs are the total norms of ``total_norm_constraint`` with
    ``return_norm=True``.
    """
    config = CONFIGS[name]
    kind = config["function"]
    function = getattr(module, kind)
    kwargs = config["kwargs"]
    gradients = pytensor.grad(loss, params)
    outputs = []
    if kind in ("apply_momentum", "apply_nesterov_momentum"):
        updates = module.sgd(loss, params, **config["inner"])
        wrapped = (
            [params[index] for index in config["params"]]
            if "params" in config
            else None
        )
        updates = function(updates, wrapped, **kwargs)
    elif kind == "norm_constraint":
        axes = config["norm_axes"]
        if config["on"] == "gradients":
            clipped = [
                function(gradient, norm_axes=axis, **kwargs)
                for gradient, axis in zip(gradients, axes, strict=True)
            ]
            updates = module.sgd(clipped, params, **config["inner"])
        else:
            updates = module.sgd(loss, params, **config["inner"])
            for param, axis in zip(params, axes, strict=True):
                updates[param] = function(updates[param], norm_axes=axis, **kwargs)
    elif kind == "total_norm_constraint":
        clipped = function(gradients, **kwargs)
        if kwargs.get("return_norm"):
            clipped, norm = clipped
            outputs = [norm]
        updates = module.sgd(clipped, params, **config["inner"])
    elif config.get("partial"):
        updates = function(**kwargs)(loss, params)
    else:
        first = list(gradients) if config.get("gradients") else loss
        updates = function(first, params, **kwargs)
    return updates, outputs


def run(module, name, dtype, mode=None, float_x=None):
    """Compile configuration ``name`` with ``module`` and take ``STEPS`` steps.

    Parameters
    ----------
    module : module
        ``pymc.variational.updates`` or ``pytensor_optim.compat.pymc``.
    name : str
        A key of ``CONFIGS``.
    dtype : {"float64", "float32"}
        The dtype of the data and parameters (``problem_data()`` cast to it).
    mode : str, optional
        The mode of ``pytensor.function`` (default: PyTensor's default mode).
    float_x : str, optional
        ``floatX`` while the graph is built and compiled (default: unchanged).

    Returns
    -------
    params : ndarray, shape (STEPS, 8)
        Row ``k``: ``W.ravel()`` and ``b`` after step ``k + 1``.
    norms : ndarray, shape (STEPS,)
        The norms returned by ``total_norm_constraint(..., return_norm=True)``
        at every step, NaN for the other configurations.
    """
    data = {key: value.astype(dtype) for key, value in problem_data().items()}
    weights = pytensor.shared(data["W0"].copy(), name="W")
    bias = pytensor.shared(data["b0"].copy(), name="b")
    params = [weights, bias]
    flags = {} if float_x is None else {"floatX": float_x}
    with pytensor.config.change_flags(**flags):
        constants = {
            key: pytensor.tensor.constant(value) for key, value in data.items()
        }
        updates, outputs = build(module, name, params, cost(params, constants))
        step = pytensor.function([], outputs, updates=updates, mode=mode)
    rows, norms = [], []
    for _ in range(STEPS):
        returned = step()
        norms.append(returned[0] if returned else np.nan)
        rows.append(np.concatenate([weights.get_value().ravel(), bias.get_value()]))
    return np.stack(rows), np.array(norms, dtype=dtype)


def c_compiler():
    """The C compiler's version and machine flags, on which CVM's rounding depends.

    PyTensor compiles with ``-march=native``; where the machine has FMA, GCC
    contracts ``a * b + c`` into fused multiply-adds (``-ffp-contract=fast``
    is GCC's default), so CVM trajectories are reproducible bit for bit only
    with the same compiler and flags.
    """
    version = subprocess.run(
        [pytensor.config.cxx, "--version"], capture_output=True, text=True, check=True
    ).stdout.splitlines()[0]
    flags = [arg for arg in GCC_compiler.compile_args() if arg.startswith("-m")]
    return " ".join([version, *flags])
