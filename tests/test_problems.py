"""The problem zoo: PyTensor and NumPy forms agree, and the minima are minima."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from scipy.optimize import minimize as scipy_minimize

from .problems import ZOO


@pytest.mark.parametrize("name", sorted(ZOO))
def test_zoo(name):
    problem = ZOO[name]
    x = pt.vector("x")
    cost = problem.cost(x, pt)
    value_and_grad = pytensor.function(
        [x], [cost, pytensor.grad(cost, x)], mode="FAST_COMPILE"
    )
    start_value, _ = value_and_grad(problem.x0)
    assert start_value == pytest.approx(problem.cost(problem.x0, np), rel=1e-12)
    value, gradient = value_and_grad(problem.minimiser)
    assert value == pytest.approx(problem.minimum, abs=1e-12)
    np.testing.assert_allclose(gradient, 0, atol=1e-6)
    # SciPy (an independent solver) finds the same minimum from the start point
    result = scipy_minimize(
        lambda v: float(value_and_grad(v)[0]),
        problem.x0,
        jac=lambda v: value_and_grad(v)[1],
        method="BFGS",
        options={"gtol": 1e-10, "maxiter": 10_000},
    )
    assert problem.solved(result.fun), result.fun
