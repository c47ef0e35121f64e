"""lbfgs: parity with torch.optim.LBFGS and the two-loop direction."""

import json
import pathlib

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

import pytensor_optim as po

from .conftest import compile_step
from .reference.problems import PROBLEMS

REFERENCE = np.load(pathlib.Path(__file__).parent / "reference/data/torch_lbfgs.npz")
CONFIGS = json.loads(str(REFERENCE["configs"]))


def build(config):
    problem, lr, history = CONFIGS[config]
    cost_function, _, start = PROBLEMS[problem]
    data = {
        key.split("/")[-1]: pt.constant(REFERENCE[key])
        for key in REFERENCE.files
        if key.startswith(f"{problem}/data/")
    }
    params = [
        pytensor.shared(REFERENCE[f"{config}/{name}"][0].copy(), name=name)
        for name in start
    ]
    cost = cost_function(params, data)
    return params, cost, po.lbfgs(params, cost, step_size=lr, history=history)


@pytest.mark.parametrize("mode", ["FAST_COMPILE", "CVM"])
@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_matches_torch_lbfgs_without_line_search(config, mode):
    params, cost, updates = build(config)
    step = compile_step(updates, [cost], mode=mode)
    costs = [float(step()[0]) for _ in range(len(REFERENCE[f"{config}/cost"]))]
    np.testing.assert_allclose(costs, REFERENCE[f"{config}/cost"], rtol=1e-10)
    for param in params:
        np.testing.assert_allclose(
            param.get_value(), REFERENCE[f"{config}/{param.name}"][-1], rtol=1e-10
        )


def two_loop(gradient, pairs, gamma):
    """Nocedal & Wright, Algorithm 7.4, on flat NumPy vectors (newest pair last)."""
    q = gradient.copy()
    alphas = []
    for s, y in reversed(pairs):
        alpha = (s @ q) / (y @ s)
        q -= alpha * y
        alphas.append(alpha)
    r = gamma * q
    for (s, y), alpha in zip(pairs, reversed(alphas), strict=True):
        beta = (y @ r) / (y @ s)
        r += s * (alpha - beta)
    return -r


def test_direction_is_the_two_loop_recursion(rng):
    # a strictly convex quadratic; replay our iterates in NumPy
    a = rng.normal(size=(6, 6))
    hessian = a @ a.T + 6 * np.eye(6)
    x = pytensor.shared(rng.normal(size=6), name="x")
    cost = 0.5 * pt.dot(x, pt.dot(pt.constant(hessian), x))
    updates = po.lbfgs([x], cost, history=3, step_size=0.3)
    step = compile_step(updates)
    points = [x.get_value().copy()]
    for _ in range(8):
        step()
        points.append(x.get_value().copy())
    gradients = [hessian @ p for p in points]
    pairs = [
        (points[k] - points[k - 1], gradients[k] - gradients[k - 1])
        for k in range(1, len(points) - 1)
    ][-3:]
    s, y = pairs[-1]
    expected = two_loop(gradients[-2], pairs, (s @ y) / (y @ y))
    np.testing.assert_allclose(points[-1] - points[-2], 0.3 * expected, rtol=1e-10)


def test_bad_arguments():
    x = pytensor.shared(np.zeros(2), name="x")
    cost = (x**2).sum()
    with pytest.raises(ValueError, match="history"):
        po.lbfgs([x], cost, history=0)
    with pytest.raises(ValueError, match="line_search"):
        po.lbfgs([x], cost, line_search="strong_wolfe")


def test_solves_rosenbrock_with_minimize():
    from scipy.optimize import rosen, rosen_der

    it = po.minimize_iterator(
        np.array([-1.2, 1.0]), rosen, rosen_der, "lbfgs", step_size=0.5, max_iter=3000
    )
    for _ in it:
        pass
    assert it.status == po.Status.CONVERGED_GTOL
    np.testing.assert_allclose(it.x, [1.0, 1.0], atol=1e-4)
