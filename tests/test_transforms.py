"""Gradient transforms, wrappers, the king schedule and composition."""

import json
import pathlib

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.graph.traversal import ancestors

import pytensor_optim as po

from .conftest import compile_step
from .reference.problems import from_reference

TORCH_SGD = np.load(pathlib.Path(__file__).parent / "reference/data/torch_sgd.npz")


def evaluate(expressions):
    return pytensor.function([], expressions, mode="FAST_COMPILE")()


@pytest.fixture
def gradients(rng):
    return [
        rng.normal(size=(4, 3)) * 3,
        rng.normal(size=5),
        rng.normal(size=(2, 3, 4)),
    ]


def test_clip_by_value(gradients):
    clipped = evaluate(po.clip_by_value([pt.constant(g) for g in gradients], 0.5))
    for out, g in zip(clipped, gradients, strict=True):
        np.testing.assert_array_equal(out, np.clip(g, -0.5, 0.5))
    with pytest.raises(ValueError, match="bound"):
        po.clip_by_value([pt.constant(gradients[0])], -1.0)


def test_clip_by_norm_follows_the_axes_rule(gradients):
    clipped = evaluate(po.clip_by_norm([pt.constant(g) for g in gradients], 1.5))
    for out, g, axes in zip(clipped, gradients, [(0,), (0,), (1, 2)], strict=True):
        norms = np.sqrt((g**2).sum(axis=axes, keepdims=True))
        expected = g * (np.clip(norms, 0, 1.5) / (1e-7 + norms))
        np.testing.assert_allclose(out, expected, rtol=1e-14)
        assert np.all(np.sqrt((out**2).sum(axis=axes)) <= 1.5 + 1e-12)
    explicit = evaluate(
        po.clip_by_norm([pt.constant(gradients[0])], 1.0, norm_axes=[1])
    )
    norms = np.sqrt((gradients[0] ** 2).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(
        explicit[0], gradients[0] * np.clip(norms, 0, 1) / (1e-7 + norms), rtol=1e-14
    )
    with pytest.raises(ValueError, match="norm_axes"):
        po.clip_by_norm([pt.tensor6()], 1.0)
    with pytest.raises(ValueError, match="max_norm"):
        po.clip_by_norm([pt.constant(gradients[0])], 0.0)


@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_by_global_norm(gradients, max_norm):
    clipped, norm = (
        evaluate(
            list(
                _flatten(
                    po.clip_by_global_norm(
                        [pt.constant(g) for g in gradients], max_norm, return_norm=True
                    )
                )
            )
        )[:-1],
        evaluate(
            po.clip_by_global_norm(
                [pt.constant(g) for g in gradients], max_norm, return_norm=True
            )[1]
        ),
    )
    total = np.sqrt(sum((g**2).sum() for g in gradients))
    np.testing.assert_allclose(norm, total, rtol=1e-14)
    for out, g in zip(clipped, gradients, strict=True):
        np.testing.assert_allclose(
            out, g * min(total, max_norm) / (1e-7 + total), rtol=1e-14
        )


def _flatten(result):
    scaled, norm = result
    return [*scaled, norm]


def test_transforms_keep_float32():
    g32 = pt.vector("g", dtype="float32")
    outs = [
        *po.clip_by_value([g32], 1.0),
        *po.clip_by_norm([g32], 1.0),
        *po.clip_by_global_norm([g32, pt.matrix(dtype="float32")], 1.0),
    ]
    assert all(out.dtype == "float32" for out in outs)
    assert all(v.type.dtype != "float64" for v in ancestors(outs) if v.type.ndim > 0)


# ---- wrappers: against torch.optim.SGD and NumPy ---------------------------------
def torch_problem(config):
    return from_reference(TORCH_SGD, "linreg", f"linreg/{config}")


@pytest.mark.parametrize(
    "wrapper, config",
    [(po.apply_momentum, "momentum"), (po.apply_nesterov_momentum, "nesterov")],
)
def test_momentum_wrappers_equal_torch_sgd_momentum(wrapper, config):
    # heavy ball / Nesterov written as wrappers of plain sgd steps are the same
    # recurrences as torch.optim.SGD(momentum=0.9[, nesterov=True])
    params, cost = torch_problem(config)
    step_size = json.loads(str(TORCH_SGD["step_sizes"]))["linreg"]
    updates = wrapper(po.sgd(params, cost, step_size=step_size), momentum=0.9)
    assert set(updates.slots) == {"velocity"}
    step = compile_step(updates)
    for _ in range(len(TORCH_SGD[f"linreg/{config}/cost"])):
        step()
    for p in params:
        np.testing.assert_allclose(
            p.get_value(), TORCH_SGD[f"linreg/{config}/{p.name}"][-1], rtol=1e-10
        )


def quadratic_sgd(step_size=0.1):
    w = pytensor.shared(np.array([3.0, -2.0]), name="w")
    return w, po.sgd([w], (w**2).sum(), step_size=step_size)


def test_polyak_average():
    w, updates = quadratic_sgd()
    wrapped = po.polyak_average(updates, decay=0.9)
    step = compile_step(wrapped)
    average, x = np.array([3.0, -2.0]), np.array([3.0, -2.0])
    for _ in range(10):
        step()
        x = x - 0.1 * 2 * x
        average = 0.9 * average + 0.1 * x
    np.testing.assert_allclose(w.get_value(), x, rtol=1e-14)
    np.testing.assert_allclose(wrapped.slots["average"][0].get_value(), average)
    assert wrapped.slots["average"][0].name == "polyak.average[w]"


def test_lookahead():
    w, updates = quadratic_sgd(0.3)
    wrapped = po.lookahead(updates, sync_period=3, slow_step_size=0.5)
    step = compile_step(wrapped)
    fast = slow = np.array([3.0, -2.0])
    for t in range(1, 11):
        step()
        fast = fast - 0.3 * 2 * fast
        if t % 3 == 0:
            slow = slow + 0.5 * (fast - slow)
            fast = slow
        np.testing.assert_allclose(w.get_value(), fast, rtol=1e-14)
    np.testing.assert_allclose(wrapped.slots["slow"][0].get_value(), slow)


def test_skip_nonfinite_skips_everything_and_counts():
    scale = pytensor.shared(1.0, name="scale")
    w = pytensor.shared(np.array([1.0, 2.0]), name="w")
    cost = scale * (w**2).sum()
    (gradient,) = pytensor.grad(cost, [w])
    inner = po.adam([w], gradients=[gradient], step_size=0.1)
    wrapped = po.skip_nonfinite(inner, [cost, gradient])
    step = compile_step(wrapped)
    step()
    state, point = wrapped.state_dict(), w.get_value()
    scale.set_value(np.nan)
    step()
    np.testing.assert_array_equal(w.get_value(), point)
    after = wrapped.state_dict()
    for name, value in state.items():
        if name != "skip_nonfinite.skipped":
            np.testing.assert_array_equal(after[name], value, err_msg=name)
    assert after["skip_nonfinite.skipped"] == 1
    scale.set_value(1.0)
    step()
    assert not np.array_equal(w.get_value(), point)
    assert int(wrapped.slots["skipped"].get_value()) == 1


def test_skip_nonfinite_keeps_a_random_generator():
    # cmaes draws its population from a shared generator: a skipped
    # generation draws nothing, so the run goes on as if it never happened
    def run(generations, skipped_at=None):
        scale = pytensor.shared(1.0, name="scale")
        w = pytensor.shared(np.array([1.0, 2.0]), name="w")
        cost = scale * ((w - 0.5) ** 2).sum()
        updates = po.skip_nonfinite(po.cmaes([w], cost, sigma=0.3, seed=7), [cost])
        step = compile_step(updates)
        for generation in range(generations):
            scale.set_value(np.nan if generation == skipped_at else 1.0)
            step()
        return w.get_value(), updates.state_dict()

    point, state = run(5, skipped_at=2)
    reference, reference_state = run(4)
    assert state.pop("skip_nonfinite.skipped") == 1
    assert reference_state.pop("skip_nonfinite.skipped") == 0
    np.testing.assert_array_equal(point, reference)
    assert state.keys() == reference_state.keys()
    for name, value in reference_state.items():
        np.testing.assert_array_equal(state[name], value, err_msg=name)
    assert not np.array_equal(point, [1.0, 2.0])


# ---- king ------------------------------------------------------------------------
def king_reference(costs, initial, patience, decay, rtol):
    best, wait, factor, out = np.inf, 0, 1.0, []
    for cost in costs:
        if best == np.inf or cost < best - rtol * abs(best):
            best, wait = cost, 0
        else:
            wait += 1
        if wait >= patience:
            factor, wait = factor * decay, 0
        out.append(initial * factor)
    return out


@pytest.mark.parametrize("offset", [0.0, -100.0], ids=["positive", "negative"])
def test_king_schedule(offset):
    costs = offset + np.array(
        [5, 4, 4, 4.0001, 3, 3, 3, 3, 3, 2, 2.00001, 2, 2, 1, 1, 1, 1, 1], dtype=float
    )
    loss = pytensor.shared(0.0, name="loss")
    w = pytensor.shared(np.zeros(1), name="w")
    schedule = po.schedules.king(0.5, patience=2, decay=0.1, rtol=1e-3)
    updates = po.sgd([w], loss, gradients=[pt.ones(1)], step_size=schedule)
    assert {"sgd.king_best", "sgd.king_wait", "sgd.king_factor"} <= set(
        updates.state_dict()
    )
    step = compile_step(updates)
    steps = []
    for cost in costs:
        loss.set_value(cost)
        w.set_value(np.zeros(1))
        step()
        steps.append(-w.get_value()[0])
    np.testing.assert_allclose(
        steps, king_reference(costs, 0.5, 2, 0.1, 1e-3), rtol=1e-12
    )


def test_king_needs_cost_and_valid_arguments():
    w = pytensor.shared(np.zeros(1), name="w")
    with pytest.raises(ValueError, match="needs cost"):
        po.sgd([w], gradients=[w], step_size=po.schedules.king(0.1, 3, 0.5))
    with pytest.raises(ValueError, match="patience"):
        po.schedules.king(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="decay"):
        po.schedules.king(0.1, 3, 1.5)


# ---- composition -------------------------------------------------------------------
def test_two_rules_on_disjoint_params_in_one_dict():
    a = pytensor.shared(np.array([1.0, 2.0]), name="a")
    b = pytensor.shared(np.array([3.0]), name="b")
    cost = (a**2).sum() + (b**2).sum()
    updates = po.adam([a], cost, step_size=0.1)
    updates = po.sgd([b], cost, updates=updates, step_size=0.1, momentum=0.5)
    assert set(updates.state_dict()) == {
        "adam.exp_avg[a]",
        "adam.exp_avg_sq[a]",
        "adam.counter",
        "sgd.momentum_buffer[b]",
    }
    step = compile_step(updates)
    step()
    # adam's first step is step_size * sign(g); sgd's is step_size * g
    np.testing.assert_allclose(a.get_value(), [0.9, 1.9], rtol=1e-6)
    np.testing.assert_allclose(b.get_value(), [3.0 - 0.6])
    with pytest.raises(KeyError):
        po.sgd([a], cost, updates=updates, step_size=0.1)


def test_same_rule_twice_in_a_chain_gets_distinct_state_names():
    a = pytensor.shared(np.ones(2), name="w")
    b = pytensor.shared(np.ones(2), name="w")
    cost = (a**2).sum() + (b**2).sum()
    updates = po.sgd([a], cost, step_size=0.1, step_size_decay=0.1)
    updates = po.sgd([b], cost, updates=updates, step_size=0.1, step_size_decay=0.1)
    assert set(updates.state_dict()) == {"sgd.counter", "sgd#2.counter"}


def test_rule_after_a_transform():
    w = pytensor.shared(np.array([30.0, -40.0]), name="w")
    (g,) = pytensor.grad((w**2).sum(), [w])
    updates = po.sgd([w], gradients=po.clip_by_global_norm([g], 1.0), step_size=1.0)
    compile_step(updates)()
    # the gradient (60, -80) has norm 100: clipped to norm 1
    np.testing.assert_allclose(w.get_value(), [30 - 0.6, -40 + 0.8], rtol=1e-6)
