"""Optimization algorithms for PyTensor.

Every algorithm is a function ``rule(params, cost, gradients, stop, updates,
**hyperparameters)`` returning an :class:`Updates` dict for
``pytensor.function``; :func:`minimize` and :class:`minimize_iterator` run
the same rules on NumPy callables.
"""

from . import schedules
from ._protocol import Updates
from ._stopping import Status
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
from .interface import minimize, minimize_iterator

__all__ = [
    "ALGORITHMS",
    "Status",
    "Updates",
    "adadelta",
    "adagrad",
    "adam",
    "adamax",
    "adamw",
    "asgd",
    "minimize",
    "minimize_iterator",
    "nadam",
    "nag",
    "radam",
    "rmsprop",
    "rprop",
    "schedules",
    "sgd",
]

__version__ = "0.1.0"

#: The rules by name, as accepted by ``minimize(..., opt_algo="sgd")``.
ALGORITHMS = {
    rule.__name__: rule
    for rule in (
        adadelta, adagrad, adam, adamax, adamw, asgd, nadam, nag, radam, rmsprop,
        rprop, sgd,
    )
}  # fmt: skip
