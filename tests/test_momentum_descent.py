"""momentum_descent against a NumPy transcription of mize's MOM (with restarts)."""

import numpy as np
import pytensor
import pytest

import pytensor_optim as po

from .conftest import compile_step

CURVATURE = np.array([1.0, 10.0, 40.0])
START = np.array([1.0, -1.0, 0.5])


def f(x):
    return 0.5 * (CURVATURE * x**2).sum() + 0.25 * x[0] ** 4


def grad(x):
    g = CURVATURE * x
    g[0] += x[0] ** 3
    return g


def reference(steps, step_size, momentum, nesterov, restart, wait):
    """mize MOM: u = s + mu u_prev (or s + mu (s + m_prev)); restart rolls back."""
    x = START.copy()
    u_prev = np.zeros(3)
    m_prev = np.zeros(3)
    t, a_old, restart_at = 1, 1.0, None
    path = []
    for iteration in range(steps):
        g = grad(x)
        s = -step_size * g
        if momentum == "nsconvex":
            a = (1 + np.sqrt(4 * a_old**2 + 1)) / 2
            mu = (a_old - 1) / a
        else:
            mu = 0.0 if t <= 1 else momentum
        u = s + mu * (s + m_prev if nesterov else u_prev)
        ok = True
        if restart and (restart_at is None or iteration - restart_at > wait):
            ok = {
                "fn": f(x + u) < f(x),
                "gr": g @ u < 0,
                "speed": u @ u > u_prev @ u_prev,
            }[restart]
        if ok:
            x = x + u
            m_prev, u_prev, t = u - s, u, t + 1
            if momentum == "nsconvex":
                a_old = a
        else:
            m_prev, u_prev, t, a_old, restart_at = 0 * u, 0 * u, 1, 1.0, iteration
        path.append(x.copy())
    return np.array(path)


CASES = [
    (0.02, 0.9, False, None, 10),
    (0.02, 0.9, True, None, 10),
    (0.02, 0.95, False, "fn", 3),
    (0.02, 0.95, True, "fn", 1),
    (0.02, 0.95, False, "gr", 2),
    (0.02, 0.95, True, "gr", 2),
    (0.02, 0.95, False, "speed", 1),
    (0.02, "nsconvex", True, "speed", 2),
    (0.02, "nsconvex", False, "fn", 1),
]


@pytest.mark.parametrize(
    ("step_size", "momentum", "nesterov", "restart", "wait"), CASES
)
def test_trajectory_matches_mize_transcription(
    step_size, momentum, nesterov, restart, wait
):
    w = pytensor.shared(START.copy(), name="w")
    cost = 0.5 * (CURVATURE * w**2).sum() + 0.25 * w[0] ** 4
    updates = po.momentum_descent(
        [w], cost, step_size=step_size, momentum=momentum, nesterov=nesterov,
        restart=restart, restart_wait=wait,
    )  # fmt: skip
    step = compile_step(updates)
    path = []
    for _ in range(30):
        step()
        path.append(w.get_value())
    expected = reference(30, step_size, momentum, nesterov, restart, wait)
    np.testing.assert_allclose(np.array(path), expected, rtol=1e-10, atol=1e-14)
    if restart is not None:
        # the case exercises restarts: some call moved nothing
        moved = np.abs(np.diff(expected, axis=0)).max(axis=1)
        assert (moved == 0).any()


def test_a_restart_call_is_not_judged_by_xtol():
    # the "fn" case with wait 3 rolls back a step within 30 calls
    expected = reference(30, 0.02, 0.95, False, "fn", 3)
    moved = np.abs(np.diff(expected, axis=0)).max(axis=1)
    first_restart = int(np.argmax(moved == 0)) + 1
    w = pytensor.shared(START.copy(), name="w")
    cost = 0.5 * (CURVATURE * w**2).sum() + 0.25 * w[0] ** 4
    stop = pytensor.shared(np.int64(0), name="stop")
    updates = po.momentum_descent(
        [w], cost, stop=stop, step_size=0.02, momentum=0.95, restart="fn",
        restart_wait=3, xtol=1e-12, max_iter=30,
    )  # fmt: skip
    step = compile_step(updates)
    calls = 0
    while not stop.get_value():
        step()
        calls += 1
    assert calls == 30 > first_restart
    assert updates.status.get_value() == po.Status.MAX_ITER
    np.testing.assert_allclose(w.get_value(), expected[-1], rtol=1e-10)


def test_schedule_gets_the_steps_since_the_last_restart():
    w = pytensor.shared(START.copy(), name="w")
    cost = 0.5 * (CURVATURE * w**2).sum() + 0.25 * w[0] ** 4
    seen = po.schedules.piecewise([3], [0.5, 0.9])
    updates = po.momentum_descent([w], cost, step_size=0.02, momentum=seen)
    step = compile_step(updates)
    x, u_prev = START.copy(), np.zeros(3)
    for count in range(8):
        step()
        mu = 0.0 if count == 0 else (0.5 if count < 3 else 0.9)
        u = -0.02 * grad(x) + mu * u_prev
        x, u_prev = x + u, u
        np.testing.assert_allclose(w.get_value(), x, rtol=1e-12)


def test_float32_with_restart_stays_float32():
    w = pytensor.shared(START.astype("float32"), name="w")
    cost = 0.5 * (CURVATURE.astype("float32") * w**2).sum()
    updates = po.momentum_descent(
        [w], cost, step_size=0.02, momentum="nsconvex", nesterov=True, restart="fn"
    )
    step = compile_step(updates)
    step()
    assert w.get_value().dtype == np.float32
    assert all(update.dtype == variable.dtype for variable, update in updates.items())


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"momentum": 1.5}, ValueError, "momentum"),
        ({"momentum": "ramp"}, ValueError, "momentum"),
        ({"restart": "always"}, ValueError, "restart"),
        ({"restart_wait": 0}, ValueError, "restart_wait"),
        ({"restart_wait": 2.5}, ValueError, "restart_wait"),
        ({"nesterov": 1}, TypeError, "nesterov"),
    ],
)
def test_bad_options(kwargs, error, name):
    w = pytensor.shared(START.copy(), name="w")
    with pytest.raises(error, match=name):
        po.momentum_descent([w], (w**2).sum(), step_size=0.1, **kwargs)


def test_fn_restart_needs_cost():
    w = pytensor.shared(START.copy(), name="w")
    with pytest.raises(ValueError, match="cost"):
        po.momentum_descent([w], gradients=[w], step_size=0.1, restart="fn")
