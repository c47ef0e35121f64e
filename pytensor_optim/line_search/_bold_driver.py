"""mize's bold driver: backtrack to any decrease, start the next search higher."""

import numbers

import numpy as np
import pytensor.tensor as pt

from .._interpolate import python_max
from .._scan import check_mode
from .._validate import check_max_evals, check_range
from ._core import LineSearch, _check_fraction

# mize's smallest step, sqrt(.Machine$double.eps) = 2^-26, in every dtype (it
# is exact in float32 too)
MIN_STEP = float(np.sqrt(np.finfo(np.float64).eps))
_STEP_UP_MODES = ("*", "+")


class _BoldDriver(LineSearch):
    name = "bold_driver"
    # a NaN or infinite trial is rejected like a higher one
    stop_on_non_finite = False

    def __init__(self, step_up, step_down, step_up_mode, max_evals, mode):
        self.mode = check_mode(mode)
        if isinstance(step_up, bool | np.bool_) or not isinstance(
            step_up, numbers.Real
        ):
            raise TypeError(f"step_up must be a number, got {step_up!r}")
        check_range("step_up", float(step_up), low=0.0, low_open=True)
        self.step_up = float(step_up)
        self.step_down = _check_fraction("step_down", step_down)
        if not isinstance(step_up_mode, str) or step_up_mode not in _STEP_UP_MODES:
            raise ValueError(
                f"step_up_mode must be '*' (multiply) or '+' (add), "
                f"got {step_up_mode!r}"
            )
        self.step_up_mode = step_up_mode
        self.max_evals = check_max_evals(max_evals, "max_evals")

    def _options(self):
        return (
            ("step_up", self.step_up),
            ("step_down", self.step_down),
            ("step_up_mode", self.step_up_mode),
            ("max_evals", self.max_evals),
            *self._mode_option(),
        )

    def init(self, line):
        no = pt.constant(np.bool_(False))
        return {
            "trial": line.initial_step,
            "accepted": no,
            "at_min_step": no,
            "step": line.scalar(0),
            "cost": line.cost,
            "gradients": line.zeros(),
        }

    def step(self, line, state, point, evals):
        # equality is accepted; NaN compares false
        accepted = pt.and_(point.finite, pt.le(point.cost, line.cost))
        min_step = line.scalar(MIN_STEP)
        return {
            "trial": python_max(line.scalar(self.step_down) * point.step, min_step),
            "accepted": accepted,
            "at_min_step": pt.le(point.step, min_step),
            "step": point.step,
            "cost": point.cost,
            "gradients": point.gradients,
        }

    def done(self, line, state):
        return pt.or_(state["accepted"], state["at_min_step"])

    def result(self, line, state):
        accepted = state["accepted"]
        return state["step"], state["cost"], state["gradients"], accepted, accepted

    def next_initial_step(self, accepted_step):
        r"""The first trial of the next search, after one that accepted a step.

        :math:`\alpha_{k+1,0} = u \alpha_k` with ``step_up_mode="*"``,
        :math:`\alpha_k + u` with ``"+"`` (:math:`u` = ``step_up``).

        Parameters
        ----------
        accepted_step : scalar tensor or number
            :math:`\alpha_k`, the step the last search accepted. After a
            failed search (step 0) the caller chooses the next start.

        Returns
        -------
        scalar tensor of ``accepted_step``'s dtype
        """
        step = pt.as_tensor_variable(accepted_step)
        if not step.dtype.startswith("float"):
            step = pt.cast(step, "float64")
        step_up = pt.cast(self.step_up, step.dtype)
        return step * step_up if self.step_up_mode == "*" else step + step_up


def bold_driver(step_up=1.1, step_down=0.5, step_up_mode="*", max_evals=20, mode=None):
    r"""mize's bold driver: any decrease is accepted, the next search starts higher.

    The trials are :math:`\alpha_0, \rho\alpha_0, \rho^2\alpha_0, \dots`
    (:math:`\rho` = ``step_down``), never below :math:`\alpha_{min} =
    \sqrt{\epsilon_{mach}} = 2^{-26}`, and the first with

    .. math:: \phi(\alpha) \le \phi(0)

    is accepted (equality included: no sufficient-decrease margin). The rule
    starts the next search from :math:`u \alpha` (``step_up_mode="*"``) or
    :math:`\alpha + u` (``"+"``), :math:`u` = ``step_up`` (see
    ``next_initial_step``): the step grows while the cost decreases and
    shrinks as soon as it does not, the "bold driver" of Vogl et al. [2]_
    and Battiti [1]_ used as a line search.

    Parameters
    ----------
    step_up : float, default 1.1
        :math:`u > 0`, mize's ``step_up``.
    step_down : float, default 0.5
        :math:`0 < \rho < 1`, mize's ``step_down``.
    step_up_mode : {"*", "+"}, default "*"
        How the next search's first trial grows from the accepted step:
        multiplied by ``step_up`` or ``step_up`` added (mize's
        ``step_up_fun``).
    max_evals : int, default 20
        The most evaluations, the first trial included.
    mode : str, Mode or None
        The compilation mode of the search loop; see :class:`LineSearch`.

    Returns
    -------
    LineSearch
        With a method ``next_initial_step(accepted_step)``, the symbolic first
        trial of the next search, which a rule's step initialisation uses.

    Notes
    -----
    A NaN or infinite trial is rejected like a higher one. The search fails
    (the parameters do not move) when the trial at :math:`\alpha_{min}`, or
    the last trial of the budget, is rejected, and, like every built-in
    search, without evaluating anything when :math:`\phi'(0) \ge 0`.

    Differences from mize:

    * the first search starts from the rule's initial step, where mize
      starts from 1;
    * a search that finds no decrease fails; mize takes its last trial
      (at best :math:`\alpha_{min}`) even when the cost went up;
    * mize gives up on an uphill direction by setting the step to
      :math:`\alpha_{min}`, without evaluating; here the search fails;
    * ``max_evals`` counts every evaluation, the first trial included;
      mize's ``ls_max_fn`` (20) counts the reductions after it.

    References
    ----------
    .. [1] Battiti, R. (1989). Accelerated backpropagation learning: two
       optimization methods. Complex Systems 3, 331--342.
    .. [2] Vogl, T. P., Mangis, J. K., Rigler, A. K., Zink, W. T.,
       Alkon, D. L. (1988). Accelerating the convergence of the
       back-propagation method. Biological Cybernetics 59, 257--263.
    .. [3] Melville, J. mize: unconstrained numerical optimization
       algorithms (R package), line search ``"bold driver"``.

    Examples
    --------
    >>> from pytensor_optim.line_search import bold_driver
    >>> bold_driver(step_up=1.2, step_up_mode="+")
    bold_driver(step_up=1.2, step_down=0.5, step_up_mode='+', max_evals=20)
    """
    return _BoldDriver(step_up, step_down, step_up_mode, max_evals, mode)
