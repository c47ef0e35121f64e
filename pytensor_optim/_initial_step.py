r"""The first trial step of each line search: mize's step initialisation.

A rule with a line search starts every search from a trial step
:math:`\alpha_0`. On the first iteration it is a guess from the gradient
(``step0``); later it is predicted from the previous search
(``step_next_init``): the previous accepted step :math:`\alpha_{k-1}`, the
previous starting cost :math:`f_{k-1}` and slope :math:`\phi'_{k-1}(0)`.
Those three values are the state of an :class:`InitialStep`.
"""

import numbers

import numpy as np
import pytensor.tensor as pt

from ._interpolate import python_max, python_min
from ._vec import dot, max_abs, sum_abs

__all__ = ["InitialStep"]

STEP0 = ("rasmussen", "scipy", "schmidt", "hz")
STEP_NEXT_INIT = ("quadratic", "slope_ratio")


def _positive_number(value):
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool | np.bool_)
        and np.isfinite(value)
        and value > 0
    )


def _check_choice(name, value, choices):
    if isinstance(value, str):
        if value not in choices:
            raise ValueError(
                f"{name}={value!r} is not a choice; use a positive number or one "
                f"of {list(choices)}"
            )
        return value
    if not _positive_number(value):
        raise ValueError(
            f"{name} must be a positive number or one of {list(choices)}, got {value!r}"
        )
    return float(value)


def check_step0(step0):
    """``step0`` itself, or ``ValueError`` naming it and the choices."""
    return _check_choice("step0", step0, STEP0)


def first_guess(step0, params, cost, gradients, slope, dtype):
    r"""mize's first trial step ``step0`` at a point with no previous search.

    ``"rasmussen"``: :math:`1 / (1 - \phi'(0))`; ``"scipy"``:
    :math:`-\|g\|_2 / \phi'(0)` (:math:`1 / \|g\|_2` along :math:`-g`:
    L-BFGS-B's first step); ``"schmidt"``: :math:`1 / \|g\|_1`; ``"hz"``:
    CG_DESCENT's :math:`\psi_0 \|x\|_\infty / \|g\|_\infty`
    (:math:`\psi_0 |f| / \|g\|_\infty^2` at :math:`x = 0`); a number: itself.
    The result is a ``dtype`` scalar.
    """
    if not isinstance(step0, str):
        return pt.cast(step0, dtype)
    if step0 == "rasmussen":
        guess = 1 / (1 - slope)
    elif step0 == "scipy":
        guess = -pt.sqrt(dot(gradients, gradients, dtype)) / slope
    elif step0 == "schmidt":
        guess = 1 / sum_abs(gradients, dtype)
    else:  # "hz": CG_DESCENT's psi0 guess, as mize computes it
        psi0 = pt.cast(0.01, dtype)
        x_max = max_abs(params, dtype)
        g_max = max_abs(gradients, dtype)
        guess = pt.switch(
            pt.neq(x_max, 0),
            psi0 * x_max / g_max,
            pt.switch(pt.neq(cost, 0), psi0 * pt.abs(cost) / g_max**2, 1),
        )
    return pt.cast(guess, dtype)


class InitialStep:
    r"""The first trial step of every search of a rule, and the state it needs.

    Parameters
    ----------
    problem : Problem
        The rule's problem: the state lives there.
    search : LineSearch or callable
        The rule's search. One with a ``next_initial_step(accepted_step)``
        method (:func:`~pytensor_optim.line_search.bold_driver`) predicts the
        next first trial itself, instead of ``step_next_init``.
    step0, step_next_init, try_newton_step, max_step_ratio
        See the ``{initial_step_parameters}`` of the rules.
    """

    def __init__(
        self,
        problem,
        search,
        step0=None,
        step_next_init="quadratic",
        try_newton_step=False,
        max_step_ratio=None,
    ):
        self.problem = problem
        self.search = search
        # None: SciPy's BFGS and CG first step, uncapped (a move of 1.01
        # along -g whatever the scale of the cost)
        self.capped = step0 is not None
        self.step0 = check_step0("scipy" if step0 is None else step0)
        self.step_next_init = _check_choice(
            "step_next_init", step_next_init, STEP_NEXT_INIT
        )
        if not isinstance(try_newton_step, bool | np.bool_):
            raise TypeError(
                f"try_newton_step must be True or False, got {try_newton_step!r}"
            )
        self.try_newton_step = bool(try_newton_step)
        if max_step_ratio is not None and not _positive_number(max_step_ratio):
            raise ValueError(
                f"max_step_ratio must be None or a positive number, "
                f"got {max_step_ratio!r}"
            )
        self.max_step_ratio = max_step_ratio
        self.dtype = str(np.result_type(*(p.dtype for p in problem.params)))
        self.last_step = problem.scalar("last_step", 0.0, self.dtype)
        self.last_cost = problem.scalar("last_cost", 0.0, self.dtype)
        self.last_slope = problem.scalar("last_slope", 0.0, self.dtype)
        self._start = None

    def _scalar(self, value):
        return pt.cast(value, self.dtype)

    def _newton(self, step):
        """``min(1, 1.01 step)`` with ``try_newton_step``: a unit step if near."""
        if not self.try_newton_step:
            return step
        return python_min(step * self._scalar(1.01), self._scalar(1))

    def guess(self, cost, gradients, slope):
        """The first trial without a previous search (``step0``)."""
        guess = first_guess(
            self.step0, self.problem.params, cost, gradients, slope, self.dtype
        )
        if not self.capped:  # SciPy's BFGS and CG: 1.01 / |g|, not capped at 1
            guess = guess * self._scalar(1.01)
        elif isinstance(self.step0, str):
            guess = self._newton(guess)
        return guess

    def trial(self, cost, gradients, direction):
        r"""The first trial step of this iteration's search.

        Parameters
        ----------
        cost : scalar tensor
            :math:`f(x_k)`.
        gradients, direction : sequences of tensors
            :math:`\nabla f(x_k)` and :math:`d_k`, aligned with the parameters.

        Returns
        -------
        scalar tensor in the parameters' dtype
        """
        eps = self._scalar(np.finfo(self.dtype).eps)
        cost = self._scalar(cost)
        slope = dot(gradients, direction, self.dtype)
        self._start = (cost, slope)
        guess = self.guess(cost, gradients, slope)
        previous = self.last_step
        if hasattr(self.search, "next_initial_step"):
            predicted = self._scalar(self.search.next_initial_step(previous))
        elif not isinstance(self.step_next_init, str):
            predicted = self._scalar(self.step_next_init)
        elif self.step_next_init == "quadratic":
            # the minimiser of the quadratic through f_{k-1}, f_k and phi'(0),
            # assuming the cost falls by as much as last time
            predicted = self._newton(2 * (cost - self.last_cost) / slope)
            predicted = python_max(predicted, eps)
        else:  # "slope_ratio": alpha_{k-1} phi'_{k-1}(0) / phi'_k(0)
            predicted = python_max(previous * self.last_slope / (slope + eps), eps)
        if self.max_step_ratio is not None:
            cap = previous * self._scalar(self.max_step_ratio)
            predicted = pt.switch(pt.gt(predicted, cap), cap, predicted)
        # no previous search (or it failed, or the prediction is unusable)
        usable = pt.and_(
            pt.and_(pt.gt(self.problem.counter, 0), pt.gt(previous, 0)),
            pt.and_(pt.gt(predicted, 0), pt.isfinite(predicted)),
        )
        return pt.switch(usable, predicted, guess)

    def updates(self, accepted_step):
        """The state updates after the search: ``(shared, new value)`` pairs."""
        if self._start is None:
            raise RuntimeError("InitialStep.updates() needs trial() first")
        cost, slope = self._start
        return [
            (self.last_step, self._scalar(accepted_step)),
            (self.last_cost, cost),
            (self.last_slope, slope),
        ]
