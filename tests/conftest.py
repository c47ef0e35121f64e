import os

import numpy as np
import pytensor
import pytest

# The NumPy interface's disk cache (interface/_disk.py) would let one test
# session load what another compiled; tests that count compilations expect
# none. tests/test_numpy_reuse.py tests the cache in a folder of its own.
os.environ["PYTENSOR_OPTIM_CACHE"] = "off"

# Python implementations compile in milliseconds; tests that care about the
# C or Numba backends pass their own mode.
TEST_MODE = "FAST_COMPILE"

# reference-data scripts need torch (or pymc); they are run by hand. The
# PyMC models import pymc, which tests/test_pymc.py imports only where it is
# installed.
collect_ignore_glob = ["reference/make_*.py", "pymc_models.py"]


def compile_step(updates, outputs=(), mode=TEST_MODE):
    """One call = one iteration of the rule."""
    return pytensor.function([], list(outputs), updates=updates, mode=mode)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def float64_variables(function):
    """The float64 variables of a compiled function, inner graphs included."""
    found, graphs = [], [function.maker.fgraph]
    while graphs:
        graph = graphs.pop()
        found += [
            v for v in graph.variables if getattr(v.type, "dtype", "") == "float64"
        ]
        graphs += [
            node.op.fgraph for node in graph.apply_nodes if hasattr(node.op, "fgraph")
        ]
    return found
