"""A zoo of unconstrained test problems with known minima.

Most are from Moré, Garbow & Hillstrom (1981), "Testing unconstrained
optimization software", ACM TOMS 7(1), with their standard starting points.
Each cost is written once, with array operations that both NumPy and
``pytensor.tensor`` provide (pass the module as ``xp``), so a test can build
the PyTensor graph and check it against NumPy, SciPy or the published minimum.
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["ZOO", "TestProblem"]


@dataclass(frozen=True)
class TestProblem:
    __test__ = False  # not a pytest class

    name: str
    cost: object  # cost(x, xp) -> scalar
    x0: np.ndarray
    minimiser: np.ndarray
    minimum: float = 0.0
    # a local minimum that solvers reach from x0 too (counts as solved)
    local_minimum: float | None = None

    def solved(self, value, atol=1e-6):
        """Whether ``value`` is the global or the documented local minimum."""
        return any(
            abs(value - target) <= atol * max(1.0, abs(target))
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
