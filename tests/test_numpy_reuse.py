"""The NumPy interface compiles a rule's iteration once and reuses it.

A second run with the same rule, options and structure of ``x0`` compiles
nothing and gives, bit for bit, the iterates of a freshly compiled one, for
``x0`` of other sizes too; a different option, dtype or number of dimensions
compiles anew; and the compiled iterations live per process (a subprocess
test).
"""

import functools
import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytensor
import pytest

import pytensor_optim as po
from pytensor_optim.interface import _disk
from pytensor_optim.interface._numpy import _ITERATIONS

from .registry import RULES

CENTRE_A = np.array([1.0, -2.0, 0.5])
CENTRE_B = np.array([-0.3, 0.7, 2.0])
CURVATURE = np.array([1.0, 2.0, 4.0])


def _value(centre, curvature, x):
    return float(0.5 * (curvature * (x - centre) ** 2).sum())


def _gradient(centre, curvature, x):
    return curvature * (x - centre)


def quadratic(centre, curvature=CURVATURE):
    """``f`` and ``df`` of a quadratic centred at ``centre`` (picklable)."""
    return (
        functools.partial(_value, centre, curvature),
        functools.partial(_gradient, centre, curvature),
    )


def trajectory(rule, x0, centre, dtype="float64", curvature=CURVATURE):
    """Every iterate, evaluation count and status of a run."""
    f, df = quadratic(centre, curvature)
    df = None if rule.derivative_free else df
    iterator = po.minimize_iterator(
        x0.astype(dtype), f, df, rule.function, max_iter=40, **rule.kwargs
    )
    steps = [
        (it.x_last.copy(), it.n_evals, it.n_grad_evals, it.status) for it in iterator
    ]
    return steps, iterator.result()


def assert_same_runs(first, second):
    (steps_a, result_a), (steps_b, result_b) = first, second
    assert len(steps_a) == len(steps_b)
    for a, b in zip(steps_a, steps_b, strict=True):
        np.testing.assert_array_equal(a[0], b[0], strict=True)
        assert a[1:] == b[1:]
    np.testing.assert_array_equal(result_a.x, result_b.x, strict=True)
    assert (result_a.fun, result_a.nfev, result_a.status) == (
        result_b.fun,
        result_b.nfev,
        result_b.status,
    )


# one rule per family in the default run, every rule with -m slow
QUICK = {"sgd-momentum", "adam-amsgrad", "lbfgs-strong-wolfe", "bfgs", "cg", "cmaes"}


@pytest.mark.parametrize(
    "rule",
    [
        pytest.param(
            rule, id=rule.id, marks=() if rule.id in QUICK else pytest.mark.slow
        )
        for rule in RULES
        if "mode" not in rule.kwargs  # the interface compiles with its own mode
    ],
)
def test_a_reused_iteration_gives_a_fresh_ones_iterates(rule):
    # the registry's options are made for the conformance quadratic (Hessian
    # I); sgd_qn's, for one, diverge on CURVATURE in 40 steps
    identity = np.ones(3)
    _ITERATIONS.clear()
    compiled = _ITERATIONS.compilations
    trajectory(rule, np.zeros(3), CENTRE_A, curvature=identity)
    start = np.array([0.5, 0.5, -1.0])
    reused = trajectory(rule, start, CENTRE_B, curvature=identity)
    assert _ITERATIONS.compilations == compiled + 1
    _ITERATIONS.clear()
    fresh = trajectory(rule, start, CENTRE_B, curvature=identity)
    assert _ITERATIONS.compilations == compiled + 2
    assert_same_runs(reused, fresh)
    # the reused run minimised the new f, from the new start
    f, _ = quadratic(CENTRE_B, identity)
    assert reused[0][0][1] > 0 and reused[1].fun < f(start) / 2


# rules whose graph depends on the size of the parameters (cmaes: the
# population, the weights and the step-size constants follow n)
SIZED = {"cmaes"}


@pytest.mark.parametrize(
    "rule",
    [
        pytest.param(
            rule, id=rule.id, marks=() if rule.id in QUICK else pytest.mark.slow
        )
        for rule in RULES
        if "mode" not in rule.kwargs
    ],
)
def test_a_new_size_is_served_by_the_same_iteration(rule):
    """x0 of 5 after x0 of 3: no compilation (except where the rule's graph
    depends on the size), the iterates of a fresh compilation bit for bit,
    and back to 3 the first run's."""
    _ITERATIONS.clear()
    compiled = _ITERATIONS.compilations
    first = trajectory(rule, np.zeros(3), CENTRE_A)
    # the registry's options are made for Hessian I (with curvatures up to
    # 8, sgd's step of 0.3 diverges)
    centre, curvature = np.array([1.0, -2.0, 0.5, 3.0, -1.0]), np.ones(5)
    start = np.full(5, 0.5)
    reused = trajectory(rule, start, centre, curvature=curvature)
    assert _ITERATIONS.compilations == compiled + (2 if rule.id in SIZED else 1)
    assert_same_runs(trajectory(rule, np.zeros(3), CENTRE_A), first)
    _ITERATIONS.clear()
    fresh = trajectory(rule, start, centre, curvature=curvature)
    assert_same_runs(reused, fresh)
    f, _ = quadratic(centre, curvature)
    assert reused[1].fun < f(start) / 2


def test_a_graph_that_depends_on_the_size_compiles_anew():
    """A rule that bakes the size into its graph is not reused for another."""

    def sized_sgd(params, cost=None, gradients=None, stop=None, updates=None, **kw):
        size = sum(param.get_value().size for param in params)
        return po.sgd(
            params, cost, gradients, stop, updates, step_size=1.0 / size, **kw
        )

    before = _ITERATIONS.compilations
    po.minimize(np.ones(2), lambda x: float(x @ x), lambda x: 2 * x, sized_sgd)
    assert _ITERATIONS.compilations == before + 1
    it = po.minimize_iterator(
        np.ones(4), lambda x: float(x @ x), lambda x: 2 * x, sized_sgd, max_iter=1
    )
    next(it)
    assert _ITERATIONS.compilations == before + 2
    # the step the rule was built for: 1 - 2 / 4
    np.testing.assert_array_equal(it.x_last, np.full(4, 0.5))


def count_compilations(run):
    before = _ITERATIONS.compilations
    run()
    return _ITERATIONS.compilations - before


def test_what_compiles_anew():
    f, df = quadratic(CENTRE_A)
    g, dg = quadratic(CENTRE_B)

    def run(x0, f=f, df=df, algo="sgd", **kwargs):
        options = {"step_size": 0.1, "momentum": 0.5} if algo == "sgd" else {}
        options.update(kwargs)
        return count_compilations(lambda: po.minimize(x0, f, df, algo, **options))

    x0 = np.zeros(3)
    run(x0)
    # the same structure, other values, another f: nothing
    assert run(x0 + 1, g, dg) == 0
    assert run(x0 + 2) == 0
    # another size: nothing (the rule's graph is the same for every size)
    assert run(np.zeros(4), lambda x: float(x @ x), lambda x: 2 * x) == 0
    # an option, a dtype, a number of dimensions, a container, df's kind: anew
    assert run(x0, momentum=0.6) == 1
    assert run(x0.astype(np.float32)) == 1
    assert run(np.zeros((2, 2)), lambda x: float((x * x).sum()), lambda x: 2 * x) == 1
    assert run([x0], lambda x: f(x[0]), lambda x: [df(x[0])]) == 1
    assert run(x0, df="2-point") == 1
    # a line search is compared by its options; a schedule by identity
    search = po.line_search.more_thuente
    assert run(x0 + 3, algo="lbfgs", line_search=search(c1=1e-3)) == 1
    assert run(x0 + 4, algo="lbfgs", line_search=search(c1=1e-3)) == 0
    schedule = po.schedules.exponential(0.1, 0.9)
    assert run(x0, step_size=schedule) == 1
    assert run(x0, step_size=schedule) == 0
    assert run(x0, step_size=po.schedules.exponential(0.1, 0.9)) == 1


def test_live_iterators_do_not_share_an_iteration():
    """Two runs interleaved: each keeps its own state (the second compiles
    its own iteration), and both match runs made one after the other."""
    f, df = quadratic(CENTRE_A)
    g, dg = quadratic(CENTRE_B)
    first = po.minimize_iterator(np.zeros(3), f, df, "lbfgs", max_iter=30)
    second = po.minimize_iterator(np.ones(3), g, dg, "lbfgs", max_iter=30)
    assert first._iteration is not second._iteration
    for _ in range(3):  # alternately
        next(first)
        next(second)
    for _ in first:
        pass
    for _ in second:
        pass
    alone_f = po.minimize(np.zeros(3), f, df, "lbfgs", max_iter=30)
    alone_g = po.minimize(np.ones(3), g, dg, "lbfgs", max_iter=30)
    np.testing.assert_array_equal(first.x, alone_f)
    np.testing.assert_array_equal(second.x, alone_g)


def test_a_loop_of_runs_compiles_once():
    """``it = minimize_iterator(...)`` in a loop: the previous run, ended but
    still referenced while the next is built, hands its iteration over and
    keeps its own results."""
    f, df = quadratic(CENTRE_A)
    _ITERATIONS.clear()
    before = _ITERATIONS.compilations
    runs = []
    for start in (np.zeros(3), np.ones(3), -np.ones(3)):
        it = po.minimize_iterator(start, f, df, "cg", max_iter=30)
        for _ in it:
            pass
        runs.append(it)
    assert _ITERATIONS.compilations == before + 1
    first = runs[0]
    alone = po.minimize_iterator(np.zeros(3), f, df, "cg", max_iter=30)
    for _ in alone:
        pass
    np.testing.assert_array_equal(first.x_last, alone.x_last)
    copy = pickle.loads(pickle.dumps(first))
    np.testing.assert_array_equal(copy.x_last, alone.x_last)
    assert copy.status == alone.status and copy.n_evals == alone.n_evals


def test_pickled_iterator_resumes_on_a_reused_iteration():
    f, df = quadratic(CENTRE_A)
    iterator = po.minimize_iterator(np.zeros(3), f, df, "cg", max_iter=30)
    next(iterator)
    copy = pickle.loads(pickle.dumps(iterator))
    for _ in iterator:
        pass
    for _ in copy:
        pass
    np.testing.assert_array_equal(copy.x, iterator.x)
    assert copy.n_evals == iterator.n_evals


def test_seedless_random_rules_are_not_reused():
    f, _ = quadratic(CENTRE_A)
    assert (
        count_compilations(
            lambda: po.minimize(np.zeros(3), f, None, "cmaes", max_iter=3)
        )
        == 1
    )
    assert (
        count_compilations(
            lambda: po.minimize(np.zeros(3), f, None, "cmaes", max_iter=3)
        )
        == 1
    )


def test_the_iterations_live_per_process():
    """A new process compiles anew (and finds the same answer)."""
    code = (
        "import numpy as np, pytensor_optim as po; "
        "from pytensor_optim.interface._numpy import _ITERATIONS as I; "
        "f = lambda x: float(((x - 1) ** 2).sum()); df = lambda x: 2 * (x - 1); "
        "x = po.minimize(np.zeros(2), f, df, 'sgd', step_size=0.25); "
        "y = po.minimize(np.ones(2) * 3, f, df, 'sgd', step_size=0.25); "
        "print(I.compilations, x.tolist(), y.tolist())"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split(maxsplit=1)
        for _ in range(2)
    ]
    assert [count for count, _ in runs] == ["1", "1"]
    assert runs[0][1] == runs[1][1]


def test_a_compilation_is_announced_once(caplog):
    """A first use says it compiles (the wait is not a hang); a reuse does
    not."""
    f, df = quadratic(CENTRE_A)
    _ITERATIONS.clear()
    with caplog.at_level("INFO", logger="pytensor_optim"):
        po.minimize(np.zeros(3), f, df, "sgd", step_size=0.2)
        po.minimize(np.ones(3), f, df, "sgd", step_size=0.2)
    messages = [record.getMessage() for record in caplog.records]
    assert sum(message.startswith("compiling sgd") for message in messages) == 1
    assert any(message.startswith("compiled sgd in") for message in messages)


# ---- the disk cache: later processes load what an earlier one compiled ----

RUN_IN_A_PROCESS = """
import json, sys
import numpy as np
import pytensor_optim as po
from pytensor_optim.interface._numpy import _ITERATIONS
from scipy.optimize import rosen, rosen_der

rule, sizes, options = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
runs = []
for size in sizes:
    it = po.minimize_iterator(np.linspace(-1.2, 1.0, size), rosen, rosen_der,
                              rule, **options)
    runs.append(([i.x_last.tolist() for i in it], it.n_evals, it.status.name))
print(json.dumps([_ITERATIONS.compilations, _ITERATIONS.loaded, runs]))
"""


def run_in_a_process(cache, rule, sizes=(3,), **options):
    """(compilations, loads, runs) of runs of x0 of ``sizes`` in a fresh
    process whose disk cache is ``cache``; a run is (iterates, evaluations,
    status)."""
    env = dict(os.environ, PYTENSOR_OPTIM_CACHE=str(cache))
    arguments = [rule, json.dumps(list(sizes)), json.dumps(options)]
    result = subprocess.run(
        [sys.executable, "-c", RUN_IN_A_PROCESS, *arguments],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.parametrize("rule", ["lbfgs", pytest.param("cg", marks=pytest.mark.slow)])
def test_a_later_process_loads_what_an_earlier_one_compiled(tmp_path, rule):
    compiled, loaded, first = run_in_a_process(tmp_path, rule, sizes=(3, 5))
    assert (compiled, loaded) == (1, 0)
    assert len(list(tmp_path.glob("*.pkl"))) == 1
    assert all(status == "CONVERGED_GTOL" for *_, status in first)
    # a size it served in the first process: loaded, nothing to build
    compiled, loaded, second = run_in_a_process(tmp_path, rule, sizes=(5, 3))
    assert (compiled, loaded) == (0, 1)
    assert second == first[::-1]  # bit for bit (JSON keeps every bit)
    # another option is another function
    compiled, loaded, _ = run_in_a_process(tmp_path, rule, max_iter=5)
    assert (compiled, loaded) == (1, 0)


@pytest.mark.slow  # cmaes's eigh: compiled in each of two processes
def test_what_cannot_be_pickled_is_compiled_again(tmp_path):
    """cmaes's eigendecomposition does not pickle: each process compiles it
    (once per size: its graph depends on n), with the same runs."""
    options = {"seed": 0, "max_iter": 3}
    compiled, loaded, first = run_in_a_process(tmp_path, "cmaes", (3, 5), **options)
    assert (compiled, loaded) == (2, 0)
    compiled, loaded, second = run_in_a_process(tmp_path, "cmaes", (5, 3), **options)
    assert (compiled, loaded) == (2, 0)
    assert second == first[::-1]
    assert not list(tmp_path.rglob("*.tmp"))  # no partial file left


def test_what_the_disk_cache_keys_on(monkeypatch, tmp_path):
    monkeypatch.setenv("PYTENSOR_OPTIM_CACHE", str(tmp_path))
    structure = ("callable", None, (1,), ("float64",), (), ((2,),))
    name = _disk.key(po.lbfgs, structure)
    assert name == _disk.key(po.lbfgs, structure)
    assert name != _disk.key(po.bfgs, structure)
    assert name != _disk.key(po.lbfgs, (*structure[:-1], ((3,),)))
    # an edited package, another PyTensor: another name
    monkeypatch.setattr(_disk, "package_hash", lambda: "edited")
    assert name != _disk.key(po.lbfgs, structure)
    monkeypatch.undo()
    monkeypatch.setenv("PYTENSOR_OPTIM_CACHE", str(tmp_path))
    monkeypatch.setattr(pytensor, "__version__", "0.0.0")
    assert name != _disk.key(po.lbfgs, structure)
    # rules from outside the package, or the cache switched off: not kept
    assert _disk.key(lambda params, **kw: None, structure) is None
    monkeypatch.setenv("PYTENSOR_OPTIM_CACHE", "off")
    assert _disk.key(po.lbfgs, structure) is None


def test_an_unreadable_file_is_removed(monkeypatch, tmp_path):
    monkeypatch.setenv("PYTENSOR_OPTIM_CACHE", str(tmp_path))
    (tmp_path / "broken.pkl").write_bytes(b"not a pickle")
    assert _disk.load("broken.pkl") is None
    assert not (tmp_path / "broken.pkl").exists()
    assert _disk.load("absent.pkl") is None


def test_the_disk_cache_keeps_the_most_recently_used(monkeypatch, tmp_path):
    monkeypatch.setenv("PYTENSOR_OPTIM_CACHE", str(tmp_path))
    monkeypatch.setattr(_disk, "LIMIT", 3)
    for index in range(5):
        _disk.save(f"{index}.pkl", {"iteration": index})
        os.utime(tmp_path / f"{index}.pkl", (index, index))
    _disk.save_start("4.pkl", ((2,),), "start")
    assert sorted(path.name for path in tmp_path.glob("*.pkl")) == [
        "2.pkl",
        "3.pkl",
        "4.pkl",
    ]
    assert (tmp_path / "4.pkl.starts").is_dir()
