"""delta_bar_delta against a NumPy transcription of Jacobs' rule as mize's DBD."""

import numpy as np
import pytensor
import pytest

import pytensor_optim as po

from .conftest import compile_step

CURVATURE = np.array([1.0, 10.0, 40.0, 0.0])
START = np.array([1.0, -1.0, 0.5, 0.0])


def grad(x):
    g = CURVATURE * x
    g[0] += x[0] ** 3
    return g


def reference(steps, step_size, kappa, phi, theta, increase, momentum, min_gain):
    x, gain = START.copy(), np.ones(4)
    trace, u_prev = np.zeros(4), np.zeros(4)
    path = []
    for t in range(steps):
        delta = grad(x)
        old = -u_prev if momentum is not None else trace
        agree = np.ones(4, bool) if not old.any() else np.sign(old) == np.sign(delta)
        grown = gain + kappa if increase == "add" else gain * kappa
        gain = np.maximum(np.where(agree, grown, gain * phi), min_gain)
        u = -np.maximum(step_size * gain, 0) * delta
        if momentum is not None:
            u = u + (0.0 if t == 0 else momentum) * u_prev
        else:
            trace = (1 - theta) * delta + theta * old
        x, u_prev = x + u, u
        path.append(x.copy())
    return np.array(path)


CASES = [
    (0.01, 0.2, 0.5, 0.1, "add", None, 0.0),
    (0.01, 1.1, 0.5, 0.7, "multiply", None, 0.0),
    (0.02, 0.2, 0.8, 0.1, "add", 0.5, 0.01),
    (0.02, 0.3, 0.2, 0.1, "add", None, 0.3),
]


@pytest.mark.parametrize(
    ("step_size", "kappa", "phi", "theta", "increase", "momentum", "min_gain"), CASES
)
def test_trajectory_matches_transcription(
    step_size, kappa, phi, theta, increase, momentum, min_gain
):
    w = pytensor.shared(START.copy(), name="w")
    cost = 0.5 * (CURVATURE * w**2).sum() + 0.25 * w[0] ** 4
    updates = po.delta_bar_delta(
        [w], cost, step_size=step_size, kappa=kappa, phi=phi, theta=theta,
        increase=increase, momentum=momentum, min_gain=min_gain,
    )  # fmt: skip
    step = compile_step(updates)
    path = []
    for _ in range(30):
        step()
        path.append(w.get_value())
    expected = reference(30, step_size, kappa, phi, theta, increase, momentum, min_gain)
    np.testing.assert_allclose(np.array(path), expected, rtol=1e-10, atol=1e-14)
    # gains went both ways
    assert (np.diff(expected[:, 1]) != 0).any()


def test_float32_stays_float32():
    w = pytensor.shared(START.astype("float32"), name="w")
    cost = (w**2).sum()
    updates = po.delta_bar_delta([w], cost, step_size=0.1, momentum=0.5, min_gain=0.01)
    compile_step(updates)()
    assert w.get_value().dtype == np.float32
    assert all(update.dtype == variable.dtype for variable, update in updates.items())


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"kappa": 0.0}, "kappa"),
        ({"phi": 1.5}, "phi"),
        ({"theta": -0.1}, "theta"),
        ({"min_gain": -1.0}, "min_gain"),
        ({"momentum": 2.0}, "momentum"),
        ({"increase": "power"}, "increase"),
    ],
)
def test_bad_options(kwargs, name):
    w = pytensor.shared(START.copy(), name="w")
    with pytest.raises(ValueError, match=name):
        po.delta_bar_delta([w], (w**2).sum(), step_size=0.1, **kwargs)
