"""Curvature times a vector, as graphs: the exact Hessian-vector product
(truncated_newton, hessian_free) and the Gauss-Newton product of a model
and its loss (hessian_free)."""

import warnings

import pytensor
import pytensor.tensor as pt
from pytensor.gradient import (
    DisconnectedInputError,
    NullTypeGradError,
    hessian_vector_product,
    pullback,
)
from pytensor.graph.basic import Variable
from pytensor.graph.replace import graph_replace

__all__ = ["gauss_newton_vector", "hessian_vector"]


def hessian_vector(problem, placeholders):
    """The graph of :math:`H v` (``v`` the placeholders), or None if PyTensor
    cannot differentiate the gradient of the cost."""
    try:
        with warnings.catch_warnings():
            # an Op with the older L_op interface is asked for its derivative
            warnings.simplefilter("ignore", FutureWarning)
            return hessian_vector_product(
                problem.cost,
                list(problem.params),
                list(placeholders),
                disconnected_inputs="ignore",
            )
    except (NullTypeGradError, NotImplementedError, DisconnectedInputError):
        return None


def gauss_newton_vector(params, outputs, loss, placeholders):
    r"""The graph of :math:`J^\top H_L J v` (``v`` the placeholders)."""
    params = list(params)
    # J v by two pull-backs (Towns' trick), with the auxiliary cotangent in
    # the outputs' dtype (pytensor's pushforward makes it floatX)
    cotangent = pt.zeros_like(outputs)
    transposed = pullback(outputs, params, cotangent, disconnected_inputs="ignore")
    jv = pullback(
        transposed, cotangent, list(placeholders), disconnected_inputs="ignore"
    )
    at = outputs.type()
    loss_at = loss(at)
    if not isinstance(loss_at, Variable) or getattr(loss_at.type, "ndim", None) != 0:
        raise ValueError(
            f"loss must map the model output to a scalar expression, got {loss_at!r}"
        )
    loss_gradient = pytensor.grad(loss_at, at)
    # H_L u as the gradient of (dL/dz)^T u: an L-op, available for every Op
    curvature = pytensor.grad(
        (loss_gradient * pt.cast(jv, loss_gradient.dtype)).sum(), at
    )
    curvature = graph_replace(curvature, {at: outputs}, strict=False)
    return pullback(outputs, params, curvature, disconnected_inputs="ignore")
