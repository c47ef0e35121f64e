"""Unconstrained test problems with known minima.

``ZOO`` holds the problems that most tests run: seven of Moré, Garbow &
Hillstrom (1981), "Testing unconstrained optimization software", ACM TOMS
7(1), 17-41 (MGH below), and an ill-conditioned quadratic. ``MGH`` holds all
35 problems of that paper, in its order, with its standard starting points
and the minima it publishes (the problems ``ZOO`` shares with it are the same
objects). Each cost is written once, with array operations that both NumPy
and ``pytensor.tensor`` provide (pass the module as ``xp``), so a test can
build the PyTensor graph and check it against NumPy, SciPy or the published
minimum. Comments use the paper's notation, which counts from 1 (x_1, f_1);
the code counts from 0.
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["MGH", "ZOO", "Published", "TestProblem"]


class Published(float):
    """A value as a paper prints it, to its last digit.

    ``unit`` is one unit in the last printed digit. MGH truncate their values
    ("8.21487...10^-3"), so the exact value lies within one unit of the print.

    >>> value = Published("8.21487e-3")
    >>> value == 8.21487e-3, value.unit
    (True, 1e-08)
    """

    unit: float

    def __new__(cls, text):
        value = super().__new__(cls, text)
        mantissa, _, exponent = text.lower().partition("e")
        decimals = len(mantissa.partition(".")[2])
        value.unit = 10.0 ** (int(exponent or 0) - decimals)
        value.text = text
        return value

    def __reduce__(self):
        return type(self), (self.text,)


def _unit(value):
    """How far the exact value may lie from ``value`` (0 for exact values)."""
    return getattr(value, "unit", 0.0)


@dataclass(frozen=True)
class TestProblem:
    """A cost ``cost(x, xp)``, its start ``x0`` and what is known of its minima.

    ``minimiser`` is a point where the cost is ``minimum``, or ``None`` where
    none is known. ``minimum`` and ``local_minimum`` are exact floats or
    :class:`Published` values (their last printed digit bounds how far the
    exact value may lie).
    """

    __test__ = False  # not a pytest class

    name: str
    cost: object  # cost(x, xp) -> scalar
    x0: np.ndarray
    minimiser: np.ndarray | None
    minimum: float = 0.0
    # a local minimum that solvers reach from x0 too (counts as solved)
    local_minimum: float | None = None

    def solved(self, value, atol=1e-6):
        """Whether ``value`` is the global or the documented local minimum.

        Within ``atol`` (relative above 1), or within the last printed digit
        of a published minimum where that is wider.
        """
        return any(
            abs(value - target) <= max(atol * max(1.0, abs(target)), _unit(target))
            for target in (self.minimum, self.local_minimum)
            if target is not None
        )


def rosenbrock(x, xp):
    return 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2


def extended_rosenbrock(x, xp):
    odd, even = x[0::2], x[1::2]
    return (100 * (even - odd**2) ** 2 + (1 - odd) ** 2).sum()


def freudenstein_roth(x, xp):
    first = -13 + x[0] + ((5 - x[1]) * x[1] - 2) * x[1]
    second = -29 + x[0] + ((x[1] + 1) * x[1] - 14) * x[1]
    return first**2 + second**2


def beale(x, xp):
    return (
        (1.5 - x[0] * (1 - x[1])) ** 2
        + (2.25 - x[0] * (1 - x[1] ** 2)) ** 2
        + (2.625 - x[0] * (1 - x[1] ** 3)) ** 2
    )


def powell_singular(x, xp):
    return (
        (x[0] + 10 * x[1]) ** 2
        + 5 * (x[2] - x[3]) ** 2
        + (x[1] - 2 * x[2]) ** 4
        + 10 * (x[0] - x[3]) ** 4
    )


def wood(x, xp):
    return (
        100 * (x[0] ** 2 - x[1]) ** 2
        + (x[0] - 1) ** 2
        + (x[2] - 1) ** 2
        + 90 * (x[2] ** 2 - x[3]) ** 2
        + 10.1 * ((x[1] - 1) ** 2 + (x[3] - 1) ** 2)
        + 19.8 * (x[1] - 1) * (x[3] - 1)
    )


def brown_badly_scaled(x, xp):
    return (x[0] - 1e6) ** 2 + (x[1] - 2e-6) ** 2 + (x[0] * x[1] - 2) ** 2


def ill_conditioned_quadratic(x, xp):
    # curvatures 1 ... 1e4
    return 0.5 * (np.logspace(0, 4, 10) * x**2).sum()


ZOO = {
    problem.name: problem
    for problem in [
        TestProblem("rosenbrock", rosenbrock, np.array([-1.2, 1.0]), np.ones(2)),
        TestProblem(
            "extended_rosenbrock_100",
            extended_rosenbrock,
            np.tile([-1.2, 1.0], 50),
            np.ones(100),
        ),
        TestProblem(
            "freudenstein_roth",
            freudenstein_roth,
            np.array([0.5, -2.0]),
            np.array([5.0, 4.0]),
            local_minimum=48.98425367924,
        ),
        TestProblem("beale", beale, np.array([1.0, 1.0]), np.array([3.0, 0.5])),
        TestProblem(
            "powell_singular",
            powell_singular,
            np.array([3.0, -1.0, 0.0, 1.0]),
            np.zeros(4),
        ),
        TestProblem("wood", wood, np.array([-3.0, -1.0, -3.0, -1.0]), np.ones(4)),
        TestProblem(
            "brown_badly_scaled",
            brown_badly_scaled,
            np.array([1.0, 1.0]),
            np.array([1e6, 2e-6]),
        ),
        TestProblem(
            "ill_conditioned_quadratic",
            ill_conditioned_quadratic,
            np.ones(10),
            np.zeros(10),
        ),
    ]
}


# ---- Moré, Garbow & Hillstrom (1981): the other 28 problems --------------------
# Each cost is the sum of the squares of the paper's residuals f_i; where the
# number m of residuals is free, a keyword sets it, by default to the m of the
# published minimum. Variable-dimension costs take n from x.


def _positions(x, xp):
    """1, 2, ..., n, of the type of ``x``."""
    return xp.cumsum(xp.ones_like(x))


def _previous(v, xp, k=1):
    """v_{i-k} at i, 0 before the first element."""
    return xp.concatenate([xp.zeros(k), v])[: v.shape[0]]


def _next(v, xp):
    """v_{i+1} at i, 0 after the last element."""
    return xp.concatenate([v[1:], xp.zeros(1)])


def _table(text):
    """The numbers of a table of the paper, row by row."""
    return np.array(text.split(), dtype=float)


def powell_badly_scaled(x, xp):  # 3
    return (1e4 * x[0] * x[1] - 1) ** 2 + (xp.exp(-x[0]) + xp.exp(-x[1]) - 1.0001) ** 2


def jennrich_sampson(x, xp, m=10):  # 6
    i = np.arange(1.0, m + 1)
    return ((2 + 2 * i - (xp.exp(i * x[0]) + xp.exp(i * x[1]))) ** 2).sum()


def helical_valley(x, xp):  # 7
    # the paper's theta: the angle of (x_1, x_2) over 2 pi, in (-1/4, 3/4)
    theta = xp.arctan(x[1] / x[0]) / (2 * np.pi) + xp.where(x[0] < 0, 0.5, 0.0)
    radius = xp.sqrt(x[0] ** 2 + x[1] ** 2)
    return 100 * (x[2] - 10 * theta) ** 2 + 100 * (radius - 1) ** 2 + x[2] ** 2


BARD_Y = _table(
    """
    0.14 0.18 0.22 0.25 0.29 0.32 0.35 0.39
    0.37 0.58 0.73 0.96 1.34 2.10 4.39
    """
)


def bard(x, xp):  # 8
    u = np.arange(1.0, 16.0)
    v = 16 - u
    w = np.minimum(u, v)
    return ((BARD_Y - (x[0] + u / (v * x[1] + w * x[2]))) ** 2).sum()


GAUSSIAN_Y = _table(
    """
    0.0009 0.0044 0.0175 0.0540 0.1295 0.2420 0.3521 0.3989
    0.3521 0.2420 0.1295 0.0540 0.0175 0.0044 0.0009
    """
)


def gaussian(x, xp):  # 9
    t = (8 - np.arange(1.0, 16.0)) / 2
    return ((x[0] * xp.exp(-x[1] * (t - x[2]) ** 2 / 2) - GAUSSIAN_Y) ** 2).sum()


MEYER_Y = _table(
    """
    34780 28610 23650 19630 16370 13720 11540 9744
    8261 7030 6005 5147 4427 3820 3307 2872
    """
)


def meyer(x, xp):  # 10
    t = 45 + 5 * np.arange(1.0, 17.0)
    return ((x[0] * xp.exp(x[1] / (t + x[2])) - MEYER_Y) ** 2).sum()


def gulf_research_development(x, xp, m=99):  # 11
    # the paper's "|y_i m i x_2|" reads |y_i - x_2|: f = 0 at (50, 25, 1.5)
    t = np.arange(1.0, m + 1) / 100
    y = 25 + (-50 * np.log(t)) ** (2 / 3)
    return ((xp.exp(-(xp.abs(y - x[1]) ** x[2]) / x[0]) - t) ** 2).sum()


def box_3d(x, xp, m=10):  # 12
    t = np.arange(1.0, m + 1) / 10
    residuals = (
        xp.exp(-t * x[0]) - xp.exp(-t * x[1]) - x[2] * (np.exp(-t) - np.exp(-10 * t))
    )
    return (residuals**2).sum()


KOWALIK_OSBORNE_Y = _table(
    """
    0.1957 0.1947 0.1735 0.1600 0.0844 0.0627 0.0456 0.0342 0.0323
    0.0235 0.0246
    """
)
KOWALIK_OSBORNE_U = _table(
    """
    4.0 2.0 1.0 0.5 0.25 0.167 0.125 0.1 0.0833 0.0714 0.0625
    """
)


def kowalik_osborne(x, xp):  # 15
    u = KOWALIK_OSBORNE_U
    model = x[0] * (u**2 + u * x[1]) / (u**2 + u * x[2] + x[3])
    return ((KOWALIK_OSBORNE_Y - model) ** 2).sum()


def brown_dennis(x, xp, m=20):  # 16
    t = np.arange(1.0, m + 1) / 5
    residuals = (x[0] + t * x[1] - np.exp(t)) ** 2 + (
        x[2] + x[3] * np.sin(t) - np.cos(t)
    ) ** 2
    return (residuals**2).sum()


OSBORNE_1_Y = _table(
    """
    0.844 0.908 0.932 0.936 0.925 0.908 0.881 0.850 0.818 0.784
    0.751 0.718 0.685 0.658 0.628 0.603 0.580 0.558 0.538 0.522
    0.506 0.490 0.478 0.467 0.457 0.448 0.438 0.431 0.424 0.420
    0.414 0.411 0.406
    """
)


def osborne_1(x, xp):  # 17
    t = 10 * np.arange(33.0)
    model = x[0] + x[1] * xp.exp(-t * x[3]) + x[2] * xp.exp(-t * x[4])
    return ((OSBORNE_1_Y - model) ** 2).sum()


def biggs_exp6(x, xp, m=13):  # 18
    t = np.arange(1.0, m + 1) / 10
    y = np.exp(-t) - 5 * np.exp(-10 * t) + 3 * np.exp(-4 * t)
    model = (
        x[2] * xp.exp(-t * x[0]) - x[3] * xp.exp(-t * x[1]) + x[5] * xp.exp(-t * x[4])
    )
    return ((model - y) ** 2).sum()


OSBORNE_2_Y = _table(
    """
    1.366 1.191 1.112 1.013 0.991 0.885 0.831 0.847 0.786 0.725
    0.746 0.679 0.608 0.655 0.616 0.606 0.602 0.626 0.651 0.724
    0.649 0.649 0.694 0.644 0.624 0.661 0.612 0.558 0.533 0.495
    0.500 0.423 0.395 0.375 0.372 0.391 0.396 0.405 0.428 0.429
    0.523 0.562 0.607 0.653 0.672 0.708 0.633 0.668 0.645 0.632
    0.591 0.559 0.597 0.625 0.739 0.710 0.729 0.720 0.636 0.581
    0.428 0.292 0.162 0.098 0.054
    """
)


def osborne_2(x, xp):  # 19
    t = np.arange(65.0) / 10
    model = (
        x[0] * xp.exp(-t * x[4])
        + x[1] * xp.exp(-((t - x[8]) ** 2) * x[5])
        + x[2] * xp.exp(-((t - x[9]) ** 2) * x[6])
        + x[3] * xp.exp(-((t - x[10]) ** 2) * x[7])
    )
    return ((OSBORNE_2_Y - model) ** 2).sum()


def watson(x, xp):  # 20
    t = np.arange(1.0, 30.0) / 29
    power = _positions(x, xp) - 1  # j - 1 for j = 1 ... n
    powers = t[:, None] ** power[None, :]  # t_i^(j-1)
    # sum_{j>=2} (j-1) x_j t_i^(j-2), and sum_j x_j t_i^(j-1)
    derivative = (powers[:, :-1] * (power[1:] * x[1:])).sum(axis=1)
    value = (powers * x).sum(axis=1)
    return (
        ((derivative - value**2 - 1) ** 2).sum()
        + x[0] ** 2
        + (x[1] - x[0] ** 2 - 1) ** 2
    )


def extended_powell_singular(x, xp):  # 22
    # Powell's singular function on each group of four
    return powell_singular(x.reshape((-1, 4)).T, xp).sum()


def penalty_1(x, xp):  # 23
    return 1e-5 * ((x - 1) ** 2).sum() + ((x**2).sum() - 0.25) ** 2


def penalty_2(x, xp):  # 24
    position = _positions(x, xp)
    y = xp.exp(position / 10) + xp.exp((position - 1) / 10)
    e = xp.exp(x / 10)
    n = x.shape[0]
    return (
        (x[0] - 0.2) ** 2
        + 1e-5 * ((e[1:] + e[:-1] - y[1:]) ** 2).sum()
        + 1e-5 * ((e[1:] - np.exp(-0.1)) ** 2).sum()
        + (((n - position + 1) * x**2).sum() - 1) ** 2
    )


def variably_dimensioned(x, xp):  # 25
    weighted = (_positions(x, xp) * (x - 1)).sum()
    return ((x - 1) ** 2).sum() + weighted**2 + weighted**4


def trigonometric(x, xp):  # 26
    position = _positions(x, xp)
    residuals = x.shape[0] - xp.cos(x).sum() + position * (1 - xp.cos(x)) - xp.sin(x)
    return (residuals**2).sum()


def brown_almost_linear(x, xp):  # 27
    n = x.shape[0]
    return ((x[:-1] + x.sum() - (n + 1)) ** 2).sum() + (x.prod() - 1) ** 2


def discrete_boundary_value(x, xp):  # 28
    position = _positions(x, xp)
    h = 1 / (x.shape[0] + 1)
    residuals = (
        2 * x - _previous(x, xp) - _next(x, xp) + h**2 * (x + position * h + 1) ** 3 / 2
    )
    return (residuals**2).sum()


def discrete_integral_equation(x, xp):  # 29
    position = _positions(x, xp)
    h = 1 / (x.shape[0] + 1)
    t = position * h
    cube = (x + t + 1) ** 3
    # sum_{j<=i} t_j cube_j and sum_{j>i} (1 - t_j) cube_j
    below = xp.cumsum(t * cube)
    above = ((1 - t) * cube).sum() - xp.cumsum((1 - t) * cube)
    residuals = x + h * ((1 - t) * below + t * above) / 2
    return (residuals**2).sum()


def broyden_tridiagonal(x, xp):  # 30
    residuals = (3 - 2 * x) * x - _previous(x, xp) - 2 * _next(x, xp) + 1
    return (residuals**2).sum()


def broyden_banded(x, xp):  # 31
    # J_i: the 5 indices below i and the one above (m_l = 5, m_u = 1)
    term = x * (1 + x)
    band = _next(term, xp) + sum(_previous(term, xp, k) for k in range(1, 6))
    return ((x * (2 + 5 * x**2) + 1 - band) ** 2).sum()


def linear_full_rank(x, xp, m=20):  # 32
    scaled_sum = 2 * x.sum() / m + 1
    n = x.shape[0]
    return ((x - scaled_sum) ** 2).sum() + (m - n) * scaled_sum**2


def linear_rank_1(x, xp, m=20):  # 33
    weighted = (_positions(x, xp) * x).sum()
    return ((np.arange(1.0, m + 1) * weighted - 1) ** 2).sum()


def linear_rank_1_zero(x, xp, m=20):  # 34
    # f_1 = f_m = -1: the first and last columns and rows are zero
    weighted = (_positions(x, xp)[1:-1] * x[1:-1]).sum()
    return 2 + (((np.arange(2.0, m) - 1) * weighted - 1) ** 2).sum()


def chebyquad(x, xp, m=10):  # 35
    # the paper's T_i: Chebyshev polynomials shifted to [0, 1]; m = n published
    shifted = 2 * x - 1
    before, current = xp.ones_like(x), shifted
    cost = 0.0
    for i in range(1, m + 1):
        # the integral of T_i over [0, 1]: 0 for odd i, -1 / (i^2 - 1) for even
        integral = 0.0 if i % 2 else -1 / (i**2 - 1)
        cost = cost + (current.mean() - integral) ** 2
        before, current = current, 2 * shifted * current - before
    return cost


def _boundary_start(n):
    """x0 of problems 28 and 29: t_j (t_j - 1), t_j = j / (n + 1)."""
    t = np.arange(1.0, n + 1) / (n + 1)
    return t * (t - 1)


# the minima as the paper prints them, truncated (Published) where not exact
MGH = {
    problem.name: problem
    for problem in [
        ZOO["rosenbrock"],  # 1
        ZOO["freudenstein_roth"],  # 2
        TestProblem(
            "powell_badly_scaled",  # 3
            powell_badly_scaled,
            np.array([0.0, 1.0]),
            # the root of both residuals (MGH print (1.098...e-5, 9.106...))
            np.array([1.098159329699817e-5, 9.106146739866524]),
        ),
        ZOO["brown_badly_scaled"],  # 4
        ZOO["beale"],  # 5
        TestProblem(
            "jennrich_sampson",  # 6, m = 10
            jennrich_sampson,
            np.array([0.3, 0.4]),
            np.array([0.2578, 0.2578]),
            minimum=Published("124.362"),
        ),
        TestProblem(
            "helical_valley",  # 7
            helical_valley,
            np.array([-1.0, 0.0, 0.0]),
            np.array([1.0, 0.0, 0.0]),
        ),
        TestProblem(
            "bard",  # 8
            bard,
            np.ones(3),
            None,
            minimum=Published("8.21487e-3"),
            # at (0.8406..., -inf, -inf)
            local_minimum=Published("17.4286"),
        ),
        TestProblem(
            "gaussian",  # 9
            gaussian,
            np.array([0.4, 1.0, 0.0]),
            None,
            minimum=Published("1.12793e-8"),
        ),
        TestProblem(
            "meyer",  # 10
            meyer,
            np.array([0.02, 4000.0, 250.0]),
            None,
            minimum=Published("87.9458"),
        ),
        TestProblem(
            "gulf_research_development",  # 11, m = 99
            gulf_research_development,
            np.array([5.0, 2.5, 0.15]),
            np.array([50.0, 25.0, 1.5]),
        ),
        TestProblem(
            "box_3d",  # 12, m = 10; also 0 at (10, 1, -1) and (a, a, 0)
            box_3d,
            np.array([0.0, 10.0, 20.0]),
            np.array([1.0, 10.0, 1.0]),
        ),
        ZOO["powell_singular"],  # 13
        ZOO["wood"],  # 14
        TestProblem(
            "kowalik_osborne",  # 15
            kowalik_osborne,
            np.array([0.25, 0.39, 0.415, 0.39]),
            None,
            minimum=Published("3.07505e-4"),
            # at (+inf, -14.07..., -inf, -inf)
            local_minimum=Published("1.02734e-3"),
        ),
        TestProblem(
            "brown_dennis",  # 16, m = 20
            brown_dennis,
            np.array([25.0, 5.0, -5.0, -1.0]),
            None,
            minimum=Published("85822.2"),
        ),
        TestProblem(
            "osborne_1",  # 17
            osborne_1,
            np.array([0.5, 1.5, -1.0, 0.01, 0.02]),
            None,
            minimum=Published("5.46489e-5"),
        ),
        TestProblem(
            "biggs_exp6",  # 18, m = 13
            biggs_exp6,
            np.array([1.0, 2.0, 1.0, 1.0, 1.0, 1.0]),
            # f = 0 where the model is the data; the paper's 5.65565e-3 (for
            # m = 13) is the local minimum solvers reach from x0
            np.array([1.0, 10.0, 1.0, 5.0, 4.0, 3.0]),
            local_minimum=Published("5.65565e-3"),
        ),
        TestProblem(
            "osborne_2",  # 19
            osborne_2,
            np.array([1.3, 0.65, 0.65, 0.7, 0.6, 3.0, 5.0, 7.0, 2.0, 4.5, 5.5]),
            None,
            minimum=Published("4.01377e-2"),
        ),
        TestProblem(
            "watson_6",  # 20; MGH also give 1.39976e-6 (n = 9), 4.72238e-10 (12)
            watson,
            np.zeros(6),
            None,
            minimum=Published("2.28767e-3"),
        ),
        TestProblem(
            "extended_rosenbrock_10",  # 21
            extended_rosenbrock,
            np.tile([-1.2, 1.0], 5),
            np.ones(10),
        ),
        TestProblem(
            "extended_powell_singular_12",  # 22
            extended_powell_singular,
            np.tile([3.0, -1.0, 0.0, 1.0], 3),
            np.zeros(12),
        ),
        TestProblem(
            "penalty_1_10",  # 23; 2.24997e-5 for n = 4
            penalty_1,
            np.arange(1.0, 11.0),
            None,
            minimum=Published("7.08765e-5"),
        ),
        TestProblem(
            "penalty_2_10",  # 24; 9.37629e-6 for n = 4
            penalty_2,
            np.full(10, 0.5),
            None,
            minimum=Published("2.93660e-4"),
        ),
        TestProblem(
            "variably_dimensioned_10",  # 25
            variably_dimensioned,
            1 - np.arange(1.0, 11.0) / 10,
            np.ones(10),
        ),
        TestProblem(
            "trigonometric_10",  # 26
            trigonometric,
            np.full(10, 0.1),
            # every residual vanishes at 0 (the paper gives only f = 0)
            np.zeros(10),
        ),
        TestProblem(
            "brown_almost_linear_10",  # 27
            brown_almost_linear,
            np.full(10, 0.5),
            # (a, ..., a, a^(1 - n)) with n a^n - (n + 1) a^(n - 1) + 1 = 0: a = 1
            np.ones(10),
            # at (0, ..., 0, n + 1)
            local_minimum=1.0,
        ),
        TestProblem(
            "discrete_boundary_value_10",  # 28
            discrete_boundary_value,
            _boundary_start(10),
            None,
        ),
        TestProblem(
            "discrete_integral_equation_10",  # 29
            discrete_integral_equation,
            _boundary_start(10),
            None,
        ),
        TestProblem(
            "broyden_tridiagonal_10",  # 30
            broyden_tridiagonal,
            -np.ones(10),
            None,
        ),
        TestProblem(
            "broyden_banded_10",  # 31
            broyden_banded,
            -np.ones(10),
            None,
        ),
        TestProblem(
            "linear_full_rank_10",  # 32, m = 20: f = m - n
            linear_full_rank,
            np.ones(10),
            -np.ones(10),
            minimum=10.0,
        ),
        TestProblem(
            "linear_rank_1_10",  # 33, m = 20: f = m (m - 1) / (2 (2 m + 1))
            linear_rank_1,
            np.ones(10),
            # the minimisers: sum_j j x_j = 3 / (2 m + 1); here all x_j equal
            np.full(10, 3 / 41 / 55),
            minimum=20 * 19 / (2 * 41),
        ),
        TestProblem(
            "linear_rank_1_zero_10",  # 34, m = 20: (m^2 + 3 m - 6) / (2 (2 m - 3))
            linear_rank_1_zero,
            np.ones(10),
            # the minimisers: sum_{j=2}^{n-1} j x_j = 3 / (2 m - 3); all x_j equal
            np.full(10, 3 / 37 / 44),
            minimum=(20**2 + 3 * 20 - 6) / (2 * 37),
        ),
        TestProblem(
            "chebyquad_10",  # 35, m = n; 3.51687e-3 for n = 8, 0 for n <= 7 and 9
            chebyquad,
            np.arange(1.0, 11.0) / 11,
            None,
            minimum=Published("6.50395e-3"),
        ),
    ]
}
