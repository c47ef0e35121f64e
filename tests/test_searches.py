"""Generic checks of every line search in ``tests/searches.py``."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

import pytensor_optim as po
from pytensor_optim.line_search import get_line_search

from .conftest import compile_step, float64_variables
from .searches import IDS, SEARCHES
from .test_line_search import Searcher, family_numpy

searches = pytest.mark.parametrize("search", SEARCHES, ids=IDS)
FAST = "FAST_COMPILE"


@searches
def test_ascent_or_a_flat_line_fails_without_evaluating(search):
    if not search.refuses_ascent:
        pytest.skip(f"{search.name} takes the step it is given")
    searcher = Searcher(search.make(mode=FAST))
    coefficients, x = [1.0, 0.0, 0.0, 2.0, 0.0], np.zeros(2)
    cost, gradient = family_numpy(coefficients, x)
    for direction in (gradient, np.zeros(2)):  # uphill, and phi'(0) = 0
        ours = searcher(coefficients, x, direction, 1.0)
        assert ours["evals"] == 0
        assert not ours["success"] and not ours["converged"]
        assert not ours["non_finite"]
        assert ours["step"] == 0
        assert ours["cost"] == pytest.approx(cost, rel=1e-12)


@pytest.mark.parametrize(
    "make, options, error, name",
    [
        pytest.param(search.make, options, error, name, id=f"{search.name}-{name}")
        for search in SEARCHES
        for options, error, name in search.bad_options
    ],
)
def test_bad_options_raise_naming_them(make, options, error, name):
    with pytest.raises(error, match=name):
        make(**options)


@searches
def test_its_name_gives_it_with_its_defaults(search):
    assert repr(get_line_search(search.name)) == repr(search.make())


@searches
def test_float32_stays_float32_in_a_rule(search):
    # steepest descent on a float32 cost: no float64 anywhere in the
    # compiled function (the search's loop included), and a lower cost
    x = pytensor.shared(np.array([0.5, 2.0], dtype="float32"), name="x")
    one, weight = np.float32(1.0), np.float32(0.01)
    cost = ((x - one) ** 2).sum() - weight * pt.log(x).sum()
    kwargs = {} if search.name == "constant" else {"mode": FAST}
    updates = po.gradient_descent(
        [x], cost, step_size=0.1, line_search=search.make(**kwargs)
    )
    step = compile_step(updates, [cost])
    assert not float64_variables(step)
    first = step()[0]
    for _ in range(3):
        last = step()[0]
    assert x.get_value().dtype == np.float32 and last.dtype == np.float32
    assert last < first
