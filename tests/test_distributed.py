"""Data-parallel training over MPI (``pytensor_optim.distributed``).

The MPI tests start two real ranks with ``mpirun`` (one launch for the whole
module, running ``tests/mpi/data_parallel_run.py``) and check that the ranks'
parameters are bit-for-bit identical and equal to one process trained on the
whole batch. They are skipped when ``mpirun`` or mpi4py is missing
(``pip install -e ".[mpi]"`` and OpenMPI provide them).
"""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from pytensor_optim import distributed

from .mpi import data_parallel_run as run

RANKS = 2
HAS_MPI4PY = importlib.util.find_spec("mpi4py") is not None
MPIRUN = shutil.which("mpirun") or shutil.which("mpiexec")
needs_mpirun = pytest.mark.skipif(
    not (HAS_MPI4PY and MPIRUN),
    reason="needs mpi4py and an mpirun (OpenMPI: apt-get install openmpi-bin)",
)

# Open MPI refuses to run as root (containers, CI) and to start more ranks
# than cores without these; other MPI implementations ignore them.
OPEN_MPI_SETTINGS = {
    "OMPI_ALLOW_RUN_AS_ROOT": "1",
    "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
    "OMPI_MCA_rmaps_base_oversubscribe": "1",
    "PRTE_MCA_rmaps_default_mapping_policy": ":oversubscribe",
    # shared-memory transfers without ptrace rights (containers)
    "OMPI_MCA_btl_vader_single_copy_mechanism": "none",
    # waiting ranks give their core away (more ranks than free cores)
    "OMPI_MCA_mpi_yield_when_idle": "1",
}


def launch(script, *arguments, ranks=RANKS, timeout=300):
    """Run ``script`` on ``ranks`` MPI ranks; the completed process."""
    root = Path(__file__).resolve().parents[1]
    # os.environ, not the C environment: an MPI initialised in this process
    # (the size-1 tests) sets variables that would confuse a nested mpirun
    environment = {**os.environ, **OPEN_MPI_SETTINGS}
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(root), environment.get("PYTHONPATH")])
    )
    command = [MPIRUN, "-n", str(ranks), sys.executable, "-m", "mpi4py", script]
    return subprocess.run(
        [*command, *map(str, arguments)],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def mpi():
    """mpi4py's ``MPI`` in this process, once MPI was seen to start here.

    An MPI that cannot start aborts its process: try it in another one.
    """
    if not HAS_MPI4PY:
        pytest.skip("mpi4py is not installed (pip install -e '.[mpi]')")
    probe = subprocess.run(
        [sys.executable, "-c", "from mpi4py import MPI; MPI.COMM_WORLD.Get_size()"],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if probe.returncode != 0:
        reason = (probe.stderr.strip().splitlines() or ["no message"])[-1]
        pytest.skip(f"MPI does not start in a single process here: {reason}")
    from mpi4py import MPI

    return MPI


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    """The results of every rank of one ``mpirun`` of the run script."""
    output = tmp_path_factory.mktemp("mpi")
    completed = launch(Path(run.__file__), output)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    results = [dict(np.load(output / f"rank{r}.npz")) for r in range(RANKS)]
    assert [int(result["size"]) for result in results] == [RANKS] * RANKS
    return results


@pytest.fixture(scope="module")
def single_process():
    """Each configuration trained in this process on the whole batch."""
    results = {}
    for name, (_, _, dtype, _) in run.RUNS.items():
        w, b, costs = run.train(name, *run.data(dtype))
        results[name] = {"w": w, "b": b, "costs": costs}
    return results


# ---- two ranks ---------------------------------------------------------------
@needs_mpirun
@pytest.mark.parametrize("name", run.RUNS)
def test_ranks_stay_identical(ranks, name):
    first, second = ranks
    for key in ("w", "b", "costs"):
        np.testing.assert_array_equal(first[f"{name}/{key}"], second[f"{name}/{key}"])


@needs_mpirun
@pytest.mark.parametrize("name", run.RUNS)
def test_ranks_equal_one_process_on_the_whole_batch(ranks, single_process, name):
    # the mean of equal shards' mean gradients is the whole batch's mean
    # gradient, up to rounding
    dtype = run.RUNS[name][2]
    rtol = 1e-10 if dtype == "float64" else 1e-5
    expected = single_process[name]
    for key in ("w", "b", "costs"):
        value = ranks[0][f"{name}/{key}"]
        assert value.dtype == dtype
        np.testing.assert_allclose(value, expected[key], rtol=rtol, atol=rtol)
    # the run moved: a test of a run that did nothing could not fail
    assert expected["costs"][-1] < 0.9 * expected["costs"][0]


@needs_mpirun
def test_broadcast_gives_every_rank_the_roots_parameters_and_state(ranks):
    first, second = ranks
    names = ["w", "adam.exp_avg[w]", "adam.exp_avg_sq[w]", "adam.counter"]
    assert list(first["broadcast"]) == names
    assert not np.allclose(first["before/w"], second["before/w"])
    assert not np.allclose(
        first["before/adam.exp_avg[w]"], second["before/adam.exp_avg[w]"]
    )
    for rank in ranks:
        for name in names:
            np.testing.assert_array_equal(
                rank[f"after/{name}"], first[f"before/{name}"]
            )
    # a random generator (pickled), from root 1: the same draws afterwards
    np.testing.assert_array_equal(first["generator-draw"], second["generator-draw"])
    expected = np.random.default_rng(101).normal(size=3)
    np.testing.assert_array_equal(first["generator-draw"], expected)


@needs_mpirun
def test_errors_are_raised_on_every_rank(ranks):
    for rank in ranks:
        assert "must list the same variables" in str(rank["error/order"])
        assert "7 rows, not a multiple of the 2 ranks" in str(rank["error/shard"])
    assert "this rank has" in str(ranks[1]["error/order"])


# ---- one rank, in this process -----------------------------------------------
@pytest.mark.parametrize("mode", ["CVM", "FAST_COMPILE"])
@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
def test_one_rank_returns_the_values(mpi, mode, dtype):
    rng = np.random.default_rng(0)
    values = [rng.normal(size=shape).astype(dtype) for shape in [(3, 2), (), (0,)]]
    inputs = [pytensor.shared(value) for value in values]
    averaged = distributed.allreduce_mean(inputs)
    assert [a.type for a in averaged] == [i.type for i in inputs]
    results = pytensor.function([], averaged, mode=mode)()
    for result, value in zip(results, values, strict=True):
        assert result.dtype == dtype
        np.testing.assert_array_equal(result, value)


def test_one_rank_trains_as_without_averaging(mpi):
    expected = run.train("adam-float32", *run.data("float32"))
    averaged = run.train("adam-float32", *run.data("float32"), average=True)
    for value, reference in zip(averaged, expected, strict=True):
        assert value.dtype == np.float32
        np.testing.assert_array_equal(value, reference)


def test_one_rank_helpers(mpi):
    assert (distributed.rank(), distributed.size()) == (0, 1)
    assert distributed.size(mpi.COMM_SELF) == 1
    data = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(distributed.shard(data), data)
    w = pytensor.shared(np.ones(2), name="w")
    assert distributed.broadcast_parameters(w) == (w,)
    np.testing.assert_array_equal(w.get_value(), np.ones(2))


def test_numba_runs_the_op_in_object_mode(mpi):
    pytest.importorskip("numba")
    x = pytensor.shared(np.arange(3.0))
    with pytest.warns(UserWarning, match="object mode"):
        step = pytensor.function([], distributed.allreduce_mean([x]), mode="NUMBA")
    np.testing.assert_array_equal(step()[0], np.arange(3.0))


def test_averaged_value_is_not_constant_folded(mpi):
    # a graph of constants only: folding it at compile time would skip the
    # reduction on every call
    (mean,) = distributed.allreduce_mean([pt.constant(np.ones(2))])
    step = pytensor.function([], mean, mode="CVM")
    nodes = step.maker.fgraph.toposort()
    assert any(isinstance(node.op, distributed.AllreduceMean) for node in nodes)


# ---- errors ------------------------------------------------------------------
def test_missing_mpi4py_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(ImportError, match=r"pip install pytensor-optim\[mpi\]"):
        distributed.allreduce_mean([pt.vector("g")])
    with pytest.raises(ImportError, match="mpi4py"):
        distributed.rank()


@pytest.mark.parametrize(
    ("gradients", "error", "match"),
    [
        (pt.vector("g"), TypeError, "gradients must be a list or tuple"),
        ([], ValueError, "at least one tensor"),
        ([pt.vector("g"), pt.ivector("i")], TypeError, r"gradients\[1\].*float"),
    ],
)
def test_allreduce_mean_rejects_bad_gradients(gradients, error, match):
    with pytest.raises(error, match=match):
        distributed.allreduce_mean(gradients)


@pytest.mark.parametrize(
    ("shared_variables", "error", "match"),
    [
        (3.0, TypeError, "shared_variables must be a shared variable"),
        ([], ValueError, "shared_variables is empty"),
        ([pt.vector("v")], TypeError, r"shared_variables\[0\] must be a shared"),
    ],
)
def test_broadcast_rejects_bad_variables(shared_variables, error, match):
    with pytest.raises(error, match=match):
        distributed.broadcast_parameters(shared_variables)


@pytest.mark.parametrize(
    ("root", "error", "match"),
    [(1, ValueError, r"root must be a rank in \[0, 1\)"), ("0", TypeError, "root")],
)
def test_broadcast_rejects_bad_root(mpi, root, error, match):
    w = pytensor.shared(np.ones(2), name="w")
    with pytest.raises(error, match=match):
        distributed.broadcast_parameters([w], root=root)


def test_bad_communicator(mpi):
    for comm in ("world", mpi.COMM_NULL):
        with pytest.raises(TypeError, match="comm must be an mpi4py intracomm"):
            distributed.allreduce_mean([pt.vector("g")], comm=comm)
        with pytest.raises(TypeError, match="comm must be"):
            distributed.size(comm)


def test_shard_needs_a_first_axis(mpi):
    with pytest.raises(ValueError, match="data must have a first axis"):
        distributed.shard(np.float64(1.0))


def test_no_derivative_through_the_average(mpi):
    w = pytensor.shared(np.ones(2), name="w")
    (mean,) = distributed.allreduce_mean([w**2])
    with pytest.raises(NotImplementedError, match="allreduce_mean has no gradient"):
        pytensor.grad(mean.sum(), w)
