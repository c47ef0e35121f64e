"""Docstring parts shared by every rule, written once and inserted."""

__all__ = ["insert_docs"]

_PARTS = {
    "{protocol_parameters}": """\
params : list or tuple of TensorVariable
    The variables to optimise, normally shared variables whose values are the
    starting point. A single variable is accepted as ``[var]``.
cost : scalar TensorVariable, optional
    The (exact or noisy) cost. Used for the default gradients and by the
    stopping criteria that need it (``ftol``, non-finite check).
gradients : list of TensorVariable, optional
    Gradients aligned with ``params``; default ``pytensor.grad(cost, params)``.
    They are cast to each parameter's dtype.
stop : shared integer scalar, optional
    When given, ``updates[stop]`` is 1 after the call in which the rule
    finished (see ``updates.status`` for why), else 0; while it is 1, calls
    change nothing. Enables the stopping keywords below.
updates : mapping or list of pairs, optional
    Updates to extend; its items come first in the result. It is not mutated.
    A key that the rule would also update raises ``KeyError``.""",
    "{stopping_parameters}": """\
max_iter, max_evals : int, optional
    Stop once the iteration counter, or the number of cost/gradient
    evaluations, reaches the value (the step of that call is applied).
gtol, ftol : float, optional
    Stop, without taking a step, when at the evaluated point
    ``max|g| <= gtol``, or ``|f_prev - f| <= ftol * max(|f_prev|, |f|, 1)``.
xtol : float, optional
    Stop after a step whose largest component is at most ``xtol``.""",
    "{initial_step_parameters}": """\
step0 : float, str or None, default None
    The first trial step of the first search (mize's ``step0``). ``None``:
    :math:`-1.01\\,\\|g\\|_2/\\phi'(0)` (:math:`1.01/\\|g\\|_2` along
    :math:`-g`), a first move of length 1.01 whatever the scale of the cost,
    as SciPy's BFGS and CG start (without their cap at a step of 1), and not
    capped by ``try_newton_step``: the default, so that costs scaled by
    :math:`10^{-50}` or :math:`10^{50}` are solved in as few iterations as
    unscaled ones (SciPy's ``test_initial_step_scaling``). Else a positive
    number, or mize's guess from the gradient :math:`g` and the slope
    :math:`\\phi'(0) = g^\\top d`: ``"rasmussen"`` :math:`1/(1 - \\phi'(0))`
    (mize's default),
    ``"scipy"`` :math:`-\\|g\\|_2/\\phi'(0)`, ``"schmidt"`` :math:`1/\\|g\\|_1`,
    ``"hz"`` :math:`0.01\\,\\|x\\|_\\infty/\\|g\\|_\\infty` (CG_DESCENT's guess;
    :math:`0.01|f|/\\|g\\|_\\infty^2` when :math:`x = 0`, 1 when also
    :math:`f = 0`).
step_next_init : float or str, default "quadratic"
    The first trial step of the later searches: a positive number, or
    ``"quadratic"`` :math:`2 (f_k - f_{k-1}) / \\phi_k'(0)` (the minimiser of
    the quadratic when the cost falls by as much as last time), or
    ``"slope_ratio"`` :math:`\\alpha_{k-1} \\phi_{k-1}'(0) / \\phi_k'(0)`, at
    least machine epsilon. A prediction that is not positive and finite (or
    after a failed search) falls back to ``step0``. Unlike mize, a numeric
    value is not used on the first iteration, where ``step0`` is.
try_newton_step : bool
    Replace a guess :math:`\\alpha` of ``step0`` or ``"quadratic"`` by
    :math:`\\min(1, 1.01\\alpha)`: the unit (Newton) step when the guess is
    close to or beyond it, for the quasi-Newton rules.""",
    "{max_evals_per_iter}": """\
max_evals_per_iter : int, optional
    The most evaluations of one search; default: the search's own
    ``max_evals``.""",
    "{returns}": """\
Updates
    A dict ``{shared variable: new value}`` for ``pytensor.function``, with
    ``.params``, ``.slots``, ``.counter``, ``.status`` and checkpointing
    methods (see :class:`~pytensor_optim.Updates`).""",
}


def insert_docs(function=None, *, parts=None):
    """Replace the ``{part}`` markers of ``function.__doc__`` by the shared parts.

    The parts are indented to the marker's indentation. ``@insert_docs`` uses
    the rules' parts; ``@insert_docs(parts={...})`` adds others (or overrides
    them), for a module with its own calling convention.
    """
    if function is None:
        return lambda function: insert_docs(function, parts=parts)
    doc = function.__doc__
    for marker, text in {**_PARTS, **(parts or {})}.items():
        while marker in doc:
            start = doc.index(marker)
            indent = doc[doc.rfind("\n", 0, start) + 1 : start]
            body = text.replace("\n", "\n" + indent)
            doc = doc[:start] + body + doc[start + len(marker) :]
    function.__doc__ = doc
    return function
