"""CMA-ES: purecma's update equations, evaluation counts against ``cma``."""

import json
from pathlib import Path

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
import scipy.linalg

import pytensor_optim as po

from .conftest import compile_step

DATA = json.loads(
    (Path(__file__).parent / "reference" / "data" / "cma_runs.json").read_text()
)
N = DATA["n"]


def sphere(x, xp):
    return (x**2).sum()


def ellipsoid(x, xp):
    return (1e6 ** (np.arange(N) / (N - 1)) * x**2).sum()


def rosenbrock(x, xp):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


PROBLEMS = {"sphere": sphere, "ellipsoid": ellipsoid, "rosenbrock": rosenbrock}


def evaluations_to_target(name, seed):
    x = pytensor.shared(np.full(N, DATA["x0"][name]), name="x")
    stop = pytensor.shared(0)
    updates = po.cmaes(
        [x],
        PROBLEMS[name](x, pt),
        stop=stop,
        sigma=DATA["sigma0"],
        ftarget=DATA["ftarget"],
        seed=seed,
        max_evals=100_000,
    )
    step = compile_step(updates)
    while not stop.get_value():
        step()
    status = po.Status(int(updates.status.get_value()))
    value = PROBLEMS[name](x.get_value(), np)  # NumPy cost at the result
    return status, value, int(updates.evaluations.get_value())


@pytest.mark.parametrize(
    ("name", "seeds"),
    [
        ("sphere", range(5)),
        pytest.param("ellipsoid", range(5), marks=pytest.mark.slow),
        pytest.param("rosenbrock", range(7), marks=pytest.mark.slow),
    ],
)
def test_reaches_ftarget_with_cma_like_evaluation_counts(name, seeds):
    counts = []
    for seed in seeds:
        status, value, evals = evaluations_to_target(name, seed)
        if name == "rosenbrock" and status != po.Status.TARGET_REACHED:
            continue  # a run may end in the local minimum, as purecma's may
        assert status == po.Status.TARGET_REACHED, (seed, status)
        assert value <= DATA["ftarget"]  # the parameters hold the best point
        counts.append(evals)
    assert len(counts) >= len(seeds) - 1
    # the same algorithm (purecma): within 1.5x either way
    reference = DATA["purecma"][name]["median"]
    assert np.median(counts) <= 1.5 * reference, (counts, reference)
    assert np.median(counts) >= reference / 1.5, (counts, reference)
    # the full cma package: at most 1.5x its median, except on the ellipsoid,
    # where its active covariance update (negative weights, not implemented
    # here) gives it 3930 evaluations to our 5920 (1.51x)
    if name != "ellipsoid":
        assert np.median(counts) <= 1.5 * DATA["cma"][name]["median"], counts


# ---- purecma's update, transcribed ------------------------------------------
def purecma_generation(state, z, cost, lam):
    """One ask/tell of Hansen's purecma (non-negative weights) for samples ``z``.

    ``state`` holds mean, sigma, C, eigenvalues, B, ps, pc, updated (evaluations
    at the last eigendecomposition) and counteval.
    """
    mean, sigma, C = state["mean"], state["sigma"], state["C"]
    eigenvalues, B = state["eigenvalues"], state["B"]
    ps, pc, updated, counteval = (
        state[key] for key in ("ps", "pc", "updated", "counteval")
    )
    n = len(mean)
    mu = lam // 2
    weights = np.log(lam / 2 + 0.5) - np.log(np.arange(1, mu + 1))
    weights /= weights.sum()
    mueff = 1 / (weights**2).sum()
    cc = (4 + mueff / n) / (n + 4 + 2 * mueff / n)
    cs = (mueff + 2) / (n + mueff + 5)
    c1 = 2 / ((n + 1.3) ** 2 + mueff)
    cmu = min(1 - c1, 2 * (mueff - 2 + 1 / mueff) / ((n + 2) ** 2 + mueff))
    damps = 2 * mueff / lam + 0.3 + cs
    lazy_gap = 0.5 * n * lam / (c1 + cmu) / n**2
    if counteval > updated + lazy_gap:
        # eigenvector signs are arbitrary and flip under perturbations of C
        # at the rounding level: decompose the very C the graph holds, with
        # SciPy's LAPACK driver as PyTensor's eigh
        eigenvalues, B = scipy.linalg.eigh((C + C.T) / 2)
        updated = counteval
    arx = [mean + B @ (sigma * np.sqrt(eigenvalues) * zk) for zk in z]
    fit = [cost(x) for x in arx]
    counteval += lam
    arx = [arx[k] for k in np.argsort(fit)]
    xold = mean
    mean = sum(w * x for w, x in zip(weights, arx, strict=False))
    y = mean - xold
    invsqrt = B @ np.diag(eigenvalues**-0.5) @ B.T
    ps = (1 - cs) * ps + np.sqrt(cs * (2 - cs) * mueff) / sigma * (invsqrt @ y)
    hsig = (ps @ ps) / n / (1 - (1 - cs) ** (2 * counteval / lam)) < 2 + 4 / (n + 1)
    pc = (1 - cc) * pc + np.sqrt(cc * (2 - cc) * mueff) / sigma * hsig * y
    c1a = c1 * (1 - (1 - hsig**2) * cc * (2 - cc))
    C = C * (1 - c1a - cmu * weights.sum()) + c1 * np.outer(pc, pc)
    for w, x in zip(weights, arx, strict=False):
        C = C + w * cmu / sigma**2 * np.outer(x - xold, x - xold)
    sigma = sigma * np.exp(min(1, cs / damps * ((ps @ ps) / n - 1) / 2))
    return {"mean": mean, "sigma": sigma, "C": C, "path_sigma": ps, "path_c": pc}


def test_generations_match_purecma_transcription():
    rotation = np.linalg.qr(np.random.default_rng(4).normal(size=(3, 3)))[0]
    hessian = rotation @ np.diag([1.0, 10.0, 100.0]) @ rotation.T

    def cost(v):
        return 0.5 * v @ hessian @ v

    sigma, lam, seed = 0.3, 7, 11
    x = pytensor.shared(np.array([1.0, -0.5, 2.0]), name="x")
    updates = po.cmaes(
        [x], 0.5 * pt.dot(x, pt.dot(hessian, x)), sigma=sigma, popsize=lam, seed=seed
    )
    step = compile_step(updates)
    decompositions = set()
    for _ in range(8):
        state = updates.state_dict()
        # pytensor's normal(0, 1, size) draws from the generator's stream
        rng = np.random.Generator(np.random.PCG64())
        rng.bit_generator.state = state["cmaes.rng"]
        z = rng.normal(0.0, 1.0, size=(lam, 3))
        expected = purecma_generation(
            {
                "mean": x.get_value(),
                "sigma": float(state["cmaes.sigma"]),
                "C": state["cmaes.C"],
                "eigenvalues": state["cmaes.D"] ** 2,
                "B": state["cmaes.B"],
                "ps": state["cmaes.path_sigma"],
                "pc": state["cmaes.path_c"],
                "updated": int(state["cmaes.eigen_evals"]),
                "counteval": int(state["cmaes.counter"]) * lam,
            },
            z,
            cost,
            lam,
        )
        step()
        after = updates.state_dict()
        decompositions.add(int(after["cmaes.eigen_evals"]))
        np.testing.assert_allclose(x.get_value(), expected["mean"], rtol=1e-10)
        for key in ("sigma", "C", "path_sigma", "path_c"):
            np.testing.assert_allclose(
                after[f"cmaes.{key}"], expected[key], rtol=1e-10, atol=1e-14
            )
    # the lazy eigendecomposition ran (every 7.8 evaluations here) and was
    # skipped in between
    assert len(decompositions) >= 3


def test_same_seed_same_run_other_seed_other_run():
    def run(seed):
        x = pytensor.shared(np.ones(4), name="x")
        step = compile_step(po.cmaes([x], (x**2).sum(), seed=seed))
        for _ in range(5):
            step()
        return x.get_value()

    np.testing.assert_array_equal(run(3), run(3))
    assert not np.allclose(run(3), run(4))


def test_minimize_without_gradients():
    def f(x):
        return float(((x - 2.0) ** 2).sum())

    x = po.minimize(np.zeros(3), f, None, po.cmaes, seed=0, ftarget=1e-12)
    np.testing.assert_allclose(x, 2.0, atol=1e-5)
    x = po.minimize(np.zeros(3), f, None, "cmaes", seed=0, max_iter=20)
    assert f(x) < f(np.zeros(3))


def test_float32_stays_float32():
    x = pytensor.shared(np.full(5, 0.5, dtype="float32"), name="x")
    stop = pytensor.shared(0)
    updates = po.cmaes([x], (x**2).sum(), stop=stop, seed=0, ftarget=1e-6)
    for variable, expression in updates.items():
        if hasattr(variable.type, "dtype"):
            assert expression.type.dtype == variable.type.dtype, variable
    step = compile_step(updates)
    for _ in range(200):
        step()
        if stop.get_value():
            break
    assert x.get_value().dtype == np.float32
    assert updates.state_dict()["cmaes.C"].dtype == np.float32
    assert po.Status(int(updates.status.get_value())) == po.Status.TARGET_REACHED


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"sigma": 0.0}, ValueError, "sigma"),
        ({"sigma": -1.0}, ValueError, "sigma"),
        ({"sigma": pytensor.shared(0.5)}, TypeError, "sigma"),
        ({"popsize": 1}, ValueError, "popsize"),
        ({"popsize": 4.5}, TypeError, "popsize"),
        ({"seed": -1}, ValueError, "seed"),
        ({"ftarget": 1.0}, ValueError, "ftarget"),  # without stop
        ({"stop": pytensor.shared(0), "gtol": 1e-3}, ValueError, "gtol"),
    ],
)
def test_bad_options_name_them(kwargs, error, name):
    x = pytensor.shared(np.ones(2), name="x")
    with pytest.raises(error, match=name):
        po.cmaes([x], (x**2).sum(), **kwargs)


def test_needs_cost_and_never_differentiates():
    x = pytensor.shared(np.ones(2), name="x")
    with pytest.raises(ValueError, match="cmaes"):
        po.cmaes([x], gradients=[x])

    class NoGradient(pytensor.graph.Op):
        def make_node(self, v):
            return pytensor.graph.Apply(self, [v], [pt.dscalar()])

        def perform(self, node, inputs, outputs):
            outputs[0][0] = np.asarray(float((inputs[0] ** 2).sum()))

    # a cost without a gradient, evaluated by the scan over the population
    updates = po.cmaes([x], NoGradient()(x), seed=0)
    step = compile_step(updates)
    step()
    assert np.isfinite(x.get_value()).all()
