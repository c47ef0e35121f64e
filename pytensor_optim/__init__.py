"""Optimization algorithms for PyTensor.

Every algorithm is a function ``rule(params, cost, gradients, stop, updates,
**hyperparameters)`` returning an :class:`Updates` dict for
``pytensor.function``; :func:`minimize` and :class:`minimize_iterator` run
the same rules on NumPy callables.
"""

from . import _backends, line_search, schedules
from ._algorithms import ALGORITHMS
from ._protocol import Updates
from ._stopping import Status
from .adaptive import delta_bar_delta, sgd_qn
from .conjugate import cg, rasmussen_cg
from .curvature import hessian_free
from .descent import gradient_descent
from .evolution import cmaes
from .first_order import (
    adadelta,
    adagrad,
    adam,
    adamax,
    adamw,
    asgd,
    nadam,
    nag,
    radam,
    rmsprop,
    rprop,
    sgd,
)
from .interface import minimize, minimize_iterator, optimize
from .momentum import momentum_descent
from .newton import truncated_newton
from .proximal import fista, prox_box, prox_l1, prox_nonneg
from .quasi_newton import bfgs, lbfgs, sr1
from .resident import ResidentFunction, resident_function
from .transforms import (
    apply_momentum,
    apply_nesterov_momentum,
    clip_by_global_norm,
    clip_by_norm,
    clip_by_value,
    lookahead,
    polyak_average,
    skip_nonfinite,
)

__all__ = [
    "ALGORITHMS",
    "ResidentFunction",
    "ScipyOptimizer",
    "Status",
    "Updates",
    "adadelta",
    "adagrad",
    "adam",
    "adamax",
    "adamw",
    "apply_momentum",
    "apply_nesterov_momentum",
    "as_scipy_method",
    "asgd",
    "bfgs",
    "cg",
    "clip_by_global_norm",
    "clip_by_norm",
    "clip_by_value",
    "cmaes",
    "delta_bar_delta",
    "fista",
    "gradient_descent",
    "hessian_free",
    "lbfgs",
    "line_search",
    "lookahead",
    "minimize",
    "minimize_iterator",
    "momentum_descent",
    "nadam",
    "nag",
    "optimize",
    "polyak_average",
    "prox_box",
    "prox_l1",
    "prox_nonneg",
    "radam",
    "rasmussen_cg",
    "resident_function",
    "rmsprop",
    "rprop",
    "schedules",
    "scipy_minimize",
    "sgd",
    "sgd_qn",
    "skip_nonfinite",
    "sr1",
    "truncated_newton",
]

__version__ = "0.1.0"


def __getattr__(name):
    # the SciPy bridge imports scipy.optimize (a quarter of a second):
    # only when it is used
    if name in ("ScipyOptimizer", "as_scipy_method", "scipy_minimize"):
        from .interface import scipy

        return getattr(scipy, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# what the rules need from the JAX and Numba backends, registered when a
# backend is first used (imports neither JAX nor Numba)
_backends.install()
