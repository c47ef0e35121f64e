"""The rules by name: what ``minimize(..., opt_algo="sgd")``, ``optimize``
and ``scipy_minimize(method=...)`` look names up in."""

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
from .momentum import momentum_descent
from .newton import truncated_newton
from .proximal import fista
from .quasi_newton import bfgs, lbfgs, sr1

#: The rules by name, as accepted by ``minimize(..., opt_algo="sgd")``.
ALGORITHMS = {
    rule.__name__: rule
    for rule in (
        adadelta, adagrad, adam, adamax, adamw, asgd, gradient_descent, lbfgs,
        bfgs, cg, sr1, fista,
        nadam, nag, radam, rasmussen_cg,
        rmsprop, rprop, sgd,
        delta_bar_delta, momentum_descent, sgd_qn,
        truncated_newton, hessian_free,
        cmaes,
    )
}  # fmt: skip


def derivative_free(rule) -> bool:
    """Whether ``rule`` never differentiates the cost, as it declares with
    ``rule.derivative_free = True`` (``cmaes``): the NumPy interface then
    needs no ``df``, and the SciPy bridge makes no finite differences."""
    return bool(getattr(rule, "derivative_free", False))
