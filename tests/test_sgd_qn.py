"""sgd_qn against a NumPy transcription of Bordes, Bottou & Gallinari (2009), Alg. 2."""

import numpy as np
import pytensor
import pytest

import pytensor_optim as po

from .conftest import compile_step

CURVATURE = np.array([1.0, 10.0, 40.0])
START = np.array([1.0, -1.0, 0.5])


def grad(x):
    g = CURVATURE * x
    g[0] += x[0] ** 3
    return g


def reference(steps, eta, lam, t0, skip):
    """Algorithm 2 (SGD-QN), with g the cost's gradient and G = g + lam w."""
    w = START.copy()
    B = np.full(3, 1 / lam)
    count, update_b, r = skip, False, 2.0
    path = []
    for t in range(steps):
        rate = eta / (t + t0)
        new = w - rate * B * grad(w)
        if update_b:
            p = (grad(new) + lam * new) - (grad(w) + lam * w)
            B = B + (2 / r) * ((new - w) / p - B)
            B = np.maximum(B, 1e-2 / lam)
            r += 1
            update_b = False
        count -= 1
        if count <= 0:
            new = new - skip * lam * rate * B * new
            count, update_b = skip, True
        w = new
        path.append(w.copy())
    return np.array(path)


@pytest.mark.parametrize(
    ("eta", "lam", "t0", "skip"),
    [
        (1.0, 0.5, 100.0, 4),
        (2.0, 10.0, 1e3, 1),
        (1.0, 1.0, 50.0, 16),
        (3.0, 30.0, 5.0, 3),
    ],
)
def test_trajectory_matches_transcription(eta, lam, t0, skip):
    w = pytensor.shared(START.copy(), name="w")
    cost = 0.5 * (CURVATURE * w**2).sum() + 0.25 * w[0] ** 4
    updates = po.sgd_qn([w], cost, step_size=eta, lambd=lam, t0=t0, skip=skip)
    step = compile_step(updates)
    path = []
    for _ in range(30):
        step()
        path.append(w.get_value())
    expected = reference(30, eta, lam, t0, skip)
    np.testing.assert_allclose(np.array(path), expected, rtol=1e-10, atol=1e-14)
    assert not np.allclose(updates.slots["scaling"][0].get_value(), 1 / lam)


def test_float32_stays_float32():
    w = pytensor.shared(START.astype("float32"), name="w")
    updates = po.sgd_qn([w], (w**2).sum(), lambd=1.0, t0=10.0, skip=1)
    step = compile_step(updates)
    step()
    step()
    assert w.get_value().dtype == np.float32
    assert all(update.dtype == variable.dtype for variable, update in updates.items())


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"lambd": 0.0}, ValueError, "lambd"),
        ({"skip": 0}, ValueError, "skip"),
        ({"skip": 1.5}, ValueError, "skip"),
        ({"t0": -1.0}, ValueError, "t0"),
        ({"lambd": pytensor.shared(0.1)}, TypeError, "lambd"),
    ],
)
def test_bad_options(kwargs, error, name):
    w = pytensor.shared(START.copy(), name="w")
    with pytest.raises(error, match=name):
        po.sgd_qn([w], (w**2).sum(), **kwargs)
