"""CMA-ES: purecma's update equations, evaluation counts against ``cma``."""

import functools
import json
from pathlib import Path

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
import scipy.linalg

import pytensor_optim as po
from pytensor_optim.evolution import strategy_parameters

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


@functools.cache
def compiled_run(name, active):
    """One compiled generation per problem and update (seeds set per run)."""
    x = pytensor.shared(np.full(N, DATA["x0"][name]), name="x")
    stop = pytensor.shared(0)
    updates = po.cmaes(
        [x],
        PROBLEMS[name](x, pt),
        stop=stop,
        sigma=DATA["sigma0"],
        ftarget=DATA["ftarget"],
        seed=0,
        active=active,
        max_evals=100_000,
    )
    return x, stop, updates, compile_step(updates)


def evaluations_to_target(name, seed, active=False):
    x, stop, updates, step = compiled_run(name, active)
    # the state of po.cmaes(..., seed=seed) before its first call
    updates.reset()
    state = updates.state_dict()
    state["cmaes.rng"] = np.random.default_rng(seed).bit_generator.state
    updates.load_state_dict(state)
    x.set_value(np.full(N, DATA["x0"][name]))
    stop.set_value(0)
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
@pytest.mark.parametrize(
    ("active", "reference"),
    [(False, "purecma"), (True, "cma")],
    ids=["purecma", "active-vs-cma"],
)
def test_reaches_ftarget_with_cma_like_evaluation_counts(
    name, seeds, active, reference
):
    counts = []
    for seed in seeds:
        status, value, evals = evaluations_to_target(name, seed, active)
        if name == "rosenbrock" and status != po.Status.TARGET_REACHED:
            continue  # a run may end in the local minimum, as the package's may
        assert status == po.Status.TARGET_REACHED, (seed, status)
        assert value <= DATA["ftarget"]  # the parameters hold the best point
        counts.append(evals)
    assert len(counts) >= len(seeds) - 1
    # the same algorithm, within 1.5x either way: purecma without the active
    # update, the full cma package (whose default is the active update) with it
    median = DATA[reference][name]["median"]
    assert np.median(counts) <= 1.5 * median, (counts, median)
    assert np.median(counts) >= median / 1.5, (counts, median)


# ---- purecma's update, transcribed ------------------------------------------
# the state of a transcribed generation, in the order the functions unpack it
STATE_KEYS = (
    "mean", "sigma", "C", "eigenvalues", "B", "ps", "pc", "updated", "counteval",
)  # fmt: skip


def eigh_with_signs(matrix):
    """``scipy.linalg.eigh``, each eigenvector's largest component positive.

    An eigenvector's sign is arbitrary; cmaes documents this choice.
    """
    eigenvalues, vectors = scipy.linalg.eigh(matrix)
    rows = np.abs(vectors).argmax(axis=0)
    return eigenvalues, vectors * np.sign(vectors[rows, np.arange(len(rows))])


def purecma_generation(state, z, cost, lam):
    """One ask/tell of Hansen's purecma (non-negative weights) for samples ``z``.

    ``state`` holds mean, sigma, C, eigenvalues, B, ps, pc, updated (evaluations
    at the last eigendecomposition) and counteval.
    """
    mean, sigma, C, eigenvalues, B, ps, pc, updated, counteval = (
        state[key] for key in STATE_KEYS
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
        # decompose the very C the graph holds, with SciPy's LAPACK driver as
        # PyTensor's eigh, and cmaes's sign convention
        eigenvalues, B = eigh_with_signs((C + C.T) / 2)
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


# ---- the tutorial's update with negative weights, transcribed --------------
def tutorial_generation(state, z, cost, lam):
    """One generation of the active CMA-ES of Hansen's tutorial for samples ``z``.

    N. Hansen, "The CMA Evolution Strategy: A Tutorial", arXiv:1604.00772:
    the algorithm summary (Appendix A) with the default parameters of its
    Table 1; the weights of the lambda - mu worst are negative. ``state`` as
    for ``purecma_generation``; the eigendecomposition is purecma's lazy one
    and the change of ln(sigma) is capped at 1 (as purecma and cma cap it).
    """
    mean, sigma, C, eigenvalues, B, ps, pc, updated, counteval = (
        state[key] for key in STATE_KEYS
    )
    n = len(mean)
    mu = lam // 2
    # Table 1: selection and recombination
    wraw = np.log((lam + 1) / 2) - np.log(np.arange(1, lam + 1))
    mueff = wraw[:mu].sum() ** 2 / (wraw[:mu] ** 2).sum()
    mueff_minus = wraw[mu:].sum() ** 2 / (wraw[mu:] ** 2).sum()
    c1 = 2 / ((n + 1.3) ** 2 + mueff)
    cmu = min(1 - c1, 2 * (mueff - 2 + 1 / mueff) / ((n + 2) ** 2 + mueff))
    alpha_mu = 1 + c1 / cmu
    alpha_mueff = 1 + 2 * mueff_minus / (mueff + 2)
    alpha_posdef = (1 - c1 - cmu) / (n * cmu)
    positive_sum = wraw[wraw > 0].sum()
    negative_sum = -wraw[wraw < 0].sum()
    weights = np.where(
        wraw >= 0,
        wraw / positive_sum,
        min(alpha_mu, alpha_mueff, alpha_posdef) * wraw / negative_sum,
    )
    # Table 1: step-size control and covariance matrix adaptation
    cs = (mueff + 2) / (n + mueff + 5)
    ds = 1 + 2 * max(0, np.sqrt((mueff - 1) / (n + 1)) - 1) + cs
    cc = (4 + mueff / n) / (n + 4 + 2 * mueff / n)
    chi_n = np.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n**2))

    lazy_gap = 0.5 * lam / ((c1 + cmu) * n)
    if counteval > updated + lazy_gap:
        eigenvalues, B = eigh_with_signs((C + C.T) / 2)
    D = np.sqrt(eigenvalues)
    invsqrt = B @ np.diag(1 / D) @ B.T
    # sample, evaluate, sort
    y = np.array([B @ (D * zk) for zk in z])
    x = mean + sigma * y
    y = y[np.argsort([cost(xk) for xk in x])]
    generation = counteval // lam  # g, before this generation
    # selection and recombination
    y_w = weights[:mu] @ y[:mu]
    mean = mean + sigma * y_w  # c_m = 1
    # step-size control
    ps = (1 - cs) * ps + np.sqrt(cs * (2 - cs) * mueff) * (invsqrt @ y_w)
    sigma = sigma * np.exp(min(1, cs / ds * (np.linalg.norm(ps) / chi_n - 1)))
    # covariance matrix adaptation
    hsig = (
        np.linalg.norm(ps) / np.sqrt(1 - (1 - cs) ** (2 * (generation + 1)))
        < (1.4 + 2 / (n + 1)) * chi_n
    )
    pc = (1 - cc) * pc + hsig * np.sqrt(cc * (2 - cc) * mueff) * y_w
    weights_circ = np.array(
        [
            w if w >= 0 else w * n / np.linalg.norm(invsqrt @ yk) ** 2
            for w, yk in zip(weights, y, strict=True)
        ]
    )
    delta_hsig = (1 - hsig) * cc * (2 - cc)
    C = (
        (1 + c1 * delta_hsig - c1 - cmu * weights.sum()) * C
        + c1 * np.outer(pc, pc)
        + cmu * sum(w * np.outer(yk, yk) for w, yk in zip(weights_circ, y, strict=True))
    )
    return {"mean": mean, "sigma": sigma, "C": C, "path_sigma": ps, "path_c": pc}


def check_generations(transcription, lam, active, generations=8):
    """Run ``cmaes`` and ``transcription`` side by side from the same state.

    Each generation starts the transcription from the graph's state and its
    samples; returns the evaluation counts at the eigendecompositions.
    """
    rotation = np.linalg.qr(np.random.default_rng(4).normal(size=(3, 3)))[0]
    hessian = rotation @ np.diag([1.0, 10.0, 100.0]) @ rotation.T

    def cost(v):
        return 0.5 * v @ hessian @ v

    sigma, seed = 0.3, 11
    x = pytensor.shared(np.array([1.0, -0.5, 2.0]), name="x")
    updates = po.cmaes(
        [x],
        0.5 * pt.dot(x, pt.dot(hessian, x)),
        sigma=sigma,
        popsize=lam,
        seed=seed,
        active=active,
    )
    step = compile_step(updates)
    decompositions = set()
    for _ in range(generations):
        state = updates.state_dict()
        # pytensor's normal(0, 1, size) draws from the generator's stream
        rng = np.random.Generator(np.random.PCG64())
        rng.bit_generator.state = state["cmaes.rng"]
        z = rng.normal(0.0, 1.0, size=(lam, 3))
        expected = transcription(
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
        # a coordinate of the mean may pass through 0: absolutely to the
        # rounding of the steps that move it (sigma), relatively otherwise
        np.testing.assert_allclose(
            x.get_value(), expected["mean"], rtol=1e-10, atol=1e-12 * expected["sigma"]
        )
        for key in ("sigma", "C", "path_sigma", "path_c"):
            np.testing.assert_allclose(
                after[f"cmaes.{key}"], expected[key], rtol=1e-10, atol=1e-14
            )
    return decompositions


def test_generations_match_purecma_transcription():
    decompositions = check_generations(purecma_generation, lam=7, active=False)
    # the lazy eigendecomposition ran (every 7.8 evaluations here) and was
    # skipped in between
    assert len(decompositions) >= 3


@pytest.mark.parametrize(
    "lam",
    # in 3-D the sum of the negative weights is limited by alpha_mueff^- (7),
    # alpha_mu^- (10: no decay of C), alpha_posdef^- (20)
    [7, 10, 20],
)
def test_active_generations_match_tutorial_transcription(lam):
    decompositions = check_generations(tutorial_generation, lam=lam, active=True)
    assert len(decompositions) >= 2


@pytest.mark.parametrize(("n", "lam"), [(3, 7), (3, 10), (3, 20), (10, 10), (2, 50)])
def test_active_weights_as_cma_recombination_weights(n, lam):
    # the negative weights as the cma package scales them for the same c1, cmu
    weights_module = pytest.importorskip("cma.recombination_weights")
    par = strategy_parameters(n, lam, active=True)
    reference = weights_module.RecombinationWeights(lam)
    reference.finalize_negative_weights(n, par["c1"], par["cmu"])
    np.testing.assert_allclose(
        np.concatenate([par["weights"], par["negative_weights"]]),
        reference.asarray,
        rtol=1e-12,
        atol=1e-15,
    )
    assert par["negative_weights"][-1] < 0


@pytest.mark.parametrize("lam", [2, 3])
def test_active_without_rank_mu_update(lam):
    # mu_eff = 1 makes c_mu = 0: no negative weights, the run goes on
    par = strategy_parameters(4, lam, active=True)
    assert par["cmu"] == 0
    np.testing.assert_array_equal(par["negative_weights"], 0.0)
    x = pytensor.shared(np.ones(4), name="x")
    step = compile_step(po.cmaes([x], (x**2).sum(), popsize=lam, seed=0, active=True))
    for _ in range(20):
        step()
    assert np.isfinite(x.get_value()).all()


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


@pytest.mark.parametrize("active", [False, True])
def test_float32_stays_float32(active):
    x = pytensor.shared(np.full(5, 0.5, dtype="float32"), name="x")
    stop = pytensor.shared(0)
    updates = po.cmaes(
        [x], (x**2).sum(), stop=stop, seed=0, ftarget=1e-6, active=active
    )
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
        ({"active": 1}, TypeError, "active"),
        ({"active": "yes"}, TypeError, "active"),
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


def test_c_and_numba_backends_run_alike_and_resume_each_other():
    """LAPACK builds return some eigenvectors with opposite signs (NumPy's,
    which the C backend calls, and Numba's did from the third generation
    here): with cmaes's sign convention the runs agree, and a checkpoint of
    one backend continues on the other as it would have on its own."""
    pytest.importorskip("numba")
    n = 4
    x = pytensor.shared(np.linspace(1.0, 2.0, n), name="x")
    cost = (np.arange(1.0, n + 1) * x**2).sum() + x[0] * x[1]
    updates = po.cmaes([x], cost, sigma=0.5, seed=3)
    steps = {
        mode: pytensor.function([], [], updates=updates, mode=mode)
        for mode in ("CVM", "NUMBA")
    }
    start_point, start_state = x.get_value().copy(), updates.state_dict()

    def run(modes):
        x.set_value(start_point)
        updates.load_state_dict(start_state)
        trajectory = []
        for mode in modes:
            steps[mode]()
            trajectory.append((x.get_value().copy(), updates.state_dict()["cmaes.B"]))
        return trajectory

    generations = 12
    reference = run(["CVM"] * generations)
    basis = reference[-1][1]
    assert not np.allclose(basis, np.eye(n))  # decomposed, and rotated
    # the largest component of each eigenvector is positive
    assert (basis[np.abs(basis).argmax(axis=0), np.arange(n)] > 0).all()
    for modes in (["NUMBA"] * generations, ["CVM"] * 5 + ["NUMBA"] * 7):
        for (point, basis), (expected_point, expected_basis) in zip(
            run(modes), reference, strict=True
        ):
            np.testing.assert_allclose(point, expected_point, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(basis, expected_basis, rtol=1e-9, atol=1e-12)
