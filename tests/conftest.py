import numpy as np
import pytensor
import pytest

# Python implementations compile in milliseconds; tests that care about the
# C or Numba backends pass their own mode.
TEST_MODE = "FAST_COMPILE"


def compile_step(updates, outputs=(), mode=TEST_MODE):
    """One call = one iteration of the rule."""
    return pytensor.function([], list(outputs), updates=updates, mode=mode)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
