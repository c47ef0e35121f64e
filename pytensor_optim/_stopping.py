"""Status codes shared by every rule and by the NumPy interface."""

from enum import IntEnum

__all__ = ["Status"]


class Status(IntEnum):
    """Why a run ended (or that it has not).

    Rules given a ``stop`` variable write one of these codes into
    ``updates.status``; the NumPy interface reports it as ``status``.
    ``Status(code).message`` is a sentence for humans.

    Examples
    --------
    >>> Status.CONVERGED_GTOL.message
    'the largest gradient component is at most gtol'
    >>> Status(4).name
    'MAX_ITER'
    """

    RUNNING = 0
    CONVERGED_GTOL = 1
    CONVERGED_FTOL = 2
    CONVERGED_XTOL = 3
    MAX_ITER = 4
    MAX_EVALS = 5
    LINE_SEARCH_FAILED = 6
    NON_FINITE = 7
    TARGET_REACHED = 8
    CALLBACK = 9
    CONVERGED_SLOPE = 10

    @property
    def message(self) -> str:
        return _MESSAGES[self]

    @property
    def success(self) -> bool:
        """True for the codes that mean a solution was found."""
        return self in _SUCCESS

    @property
    def moves_parameters(self) -> bool:
        """False for the codes decided at the evaluated point, before a step.

        A call that ends with one of these left the parameters where they were:
        the point it evaluated is the answer (or the last finite one).
        """
        return self not in BEFORE_STEP


_MESSAGES = {
    Status.RUNNING: "running",
    Status.CONVERGED_GTOL: "the largest gradient component is at most gtol",
    Status.CONVERGED_FTOL: "the relative change of the cost is at most ftol",
    Status.CONVERGED_XTOL: "the largest component of the last step is at most xtol",
    Status.MAX_ITER: "the iteration limit max_iter was reached",
    Status.MAX_EVALS: "the evaluation limit max_evals was reached",
    Status.LINE_SEARCH_FAILED: "the line search failed to find an acceptable step",
    Status.NON_FINITE: "the cost, a gradient or a step was not finite",
    Status.TARGET_REACHED: "the target cost was reached",
    Status.CALLBACK: "stopped by the callback",
    Status.CONVERGED_SLOPE: (
        "the slope along the search direction is above -tolerance_change"
    ),
}

_SUCCESS = frozenset(
    {
        Status.CONVERGED_GTOL,
        Status.CONVERGED_FTOL,
        Status.CONVERGED_XTOL,
        Status.TARGET_REACHED,
        Status.CONVERGED_SLOPE,
    }
)

# Criteria judged at the point a call evaluates: when one holds, the call
# applies no step, so the parameters stay at that point.
BEFORE_STEP = frozenset(
    {
        Status.NON_FINITE,
        Status.CONVERGED_GTOL,
        Status.CONVERGED_FTOL,
        Status.CONVERGED_SLOPE,
    }
)
