"""The rules by name: what ``minimize(..., opt_algo="sgd")``, ``optimize``
and ``scipy_minimize(method=...)`` look names up in."""

from . import (
    adaptive,
    conjugate,
    curvature,
    descent,
    evolution,
    first_order,
    momentum,
    newton,
    proximal,
    quasi_newton,
)

#: The rules by name, as accepted by ``minimize(..., opt_algo="sgd")``.
ALGORITHMS = {
    rule.__name__: rule
    for rule in (
        first_order.adadelta, first_order.adagrad, first_order.adam,
        first_order.adamax, first_order.adamw, first_order.asgd,
        descent.gradient_descent, quasi_newton.lbfgs, quasi_newton.bfgs,
        conjugate.cg, quasi_newton.sr1, proximal.fista, first_order.nadam,
        first_order.nag, first_order.radam, conjugate.rasmussen_cg,
        first_order.rmsprop, first_order.rprop, first_order.sgd,
        adaptive.delta_bar_delta, momentum.momentum_descent, adaptive.sgd_qn,
        newton.truncated_newton, curvature.hessian_free, evolution.cmaes,
    )
}  # fmt: skip


def derivative_free(rule) -> bool:
    """Whether ``rule`` never differentiates the cost, as it declares with
    ``rule.derivative_free = True`` (``cmaes``): the NumPy interface then
    needs no ``df``, and the SciPy bridge makes no finite differences."""
    return bool(getattr(rule, "derivative_free", False))
