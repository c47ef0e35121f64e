r"""Drop-in replacement for ``pymc.variational.updates`` (Lasagne's updates).

Replace ``from pymc.variational import updates`` (or ``import
lasagne.updates``) by ``from pytensor_optim.compat import pymc as updates``:
the 13 functions have pymc's names, signatures and defaults, accept a loss or
a list of gradients, support partial application, and build the same
expressions, so a function compiled in the same PyTensor mode gives the same
numbers bit for bit. What differs, on purpose:

- **float32 safety.** Every constant and hyperparameter is cast to the dtype
  of the parameter it updates, so a float32 parameter gets a float32 update
  whatever ``floatX`` is (pymc's Python-float hyperparameters make the update
  of a float32 parameter float64 under ``floatX=float64``, which
  :func:`pytensor.function` rejects).
- **Named state.** State is created by the library's core and named
  ``"{function}.{slot}[{parameter name or index}]"`` (``"adam.m[w]"``), and
  pymc's float step counter ``t`` is the int64 iteration counter
  ``"{function}.counter"``. The functions return an
  :class:`~pytensor_optim.Updates`, a ``dict`` subclass that works wherever
  pymc's ``OrderedDict`` did and also provides ``.slots``, ``.counter`` and
  ``state_dict()`` / ``load_state_dict()`` / ``reset()``.
- **An opt-in variant**: ``adagrad_window(..., exclude_current=True)``.

Hyperparameters are numbers or symbolic scalars, as in pymc (a schedule of
:mod:`pytensor_optim.schedules` is also accepted); they are not range-checked,
but must be finite real scalars. Errors on the parameters and gradients are
those of the native rules (:doc:`/protocol`). See :doc:`/migrating` for the
native equivalents, which follow PyTorch's conventions.

Examples
--------
>>> import numpy as np, pytensor
>>> from pytensor_optim.compat import pymc as updates
>>> w = pytensor.shared(np.array([1.0, -2.0]), name="w")
>>> loss = (w**2).sum()
>>> step = pytensor.function([], loss, updates=updates.sgd(loss, [w], 0.25))
>>> float(step()), w.get_value()
(5.0, array([ 0.5, -1. ]))
"""

import operator
from functools import partial

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.compile.sharedvalue import SharedVariable

from .._docs import insert_docs
from .._protocol import Problem, split_updates
from .._validate import check_flag, concrete, resolve

__all__ = [
    "adadelta",
    "adagrad",
    "adagrad_window",
    "adam",
    "adamax",
    "apply_momentum",
    "apply_nesterov_momentum",
    "momentum",
    "nesterov_momentum",
    "norm_constraint",
    "rmsprop",
    "sgd",
    "total_norm_constraint",
]

_BOTH_NEEDED = "Please provide both `loss_or_grads` and `params` to get updates"

_PARTS = {
    "{inputs}": """\
loss_or_grads : scalar TensorVariable or list of TensorVariable, optional
    A scalar loss, or a list of gradient expressions aligned with ``params``.
params : list of shared variables, optional
    The variables to update. When both ``loss_or_grads`` and ``params`` are
    omitted, the function returns a :func:`functools.partial` of itself with
    the given keyword arguments; omitting only one raises ``ValueError``.""",
    "{returns}": """\
Updates
    A dict ``{shared variable: new value}`` for ``pytensor.function``, with
    ``.slots``, ``.counter`` and ``state_dict()`` (see
    :class:`~pytensor_optim.Updates`).""",
    "{float32}": """\
Every constant and hyperparameter is cast to the parameter's dtype, so
float32 parameters get float32 updates whatever ``floatX`` is.""",
}


_insert_docs = insert_docs(parts=_PARTS)


def _problem(algo, loss_or_grads, params):
    """The normalised arguments, in pymc's convention: a list is the gradients."""
    if loss_or_grads is None or params is None:
        raise ValueError(_BOTH_NEEDED)
    if isinstance(loss_or_grads, list | tuple):
        cost, gradients = None, list(loss_or_grads)
    else:
        cost, gradients = loss_or_grads, None
    return Problem(algo, params, cost, gradients, None, None, {})


def _hyperparameters(problem, **values):
    """Resolved hyperparameters, not range-checked (pymc checks none)."""
    return problem.hyperparameters(**{name: (v, {}) for name, v in values.items()})


def _step_number(problem, dtype):
    """pymc's ``t``, the number of the current step (from 1), in ``dtype``."""
    return pt.cast(problem.counter + 1, dtype)


def _window_length(n_win):
    """``n_win`` as a positive Python int (it sets the shape of the window)."""
    try:
        n_win = operator.index(n_win)
    except TypeError:
        raise TypeError(f"n_win must be an integer, got {n_win!r}") from None
    if n_win < 1:
        raise ValueError(f"n_win must be at least 1, got {n_win}")
    return n_win


def _window_slot(problem, n_win):
    """The slot ``accu`` of ``adagrad_window``: ``n_win`` squared gradients each.

    Shaped ``(*param.shape, n_win)`` as pymc's window (the window axis last
    keeps pymc's summation order, hence its numbers).
    """
    return problem.slot("accu", trailing=(n_win,))


def _scalar(name, value, dtype):
    """A norm constraint's ``max_norm`` or ``epsilon`` as a scalar of ``dtype``.

    Numbers become constants (``inf`` included: ``max_norm=np.inf`` turns the
    constraint off, as in pymc); symbolic scalars are cast.
    """
    number = concrete(value)
    if number is not None:
        return pt.constant(np.asarray(number, dtype=dtype))
    return resolve(value, name, dtype)


def _momentum_step(param, proposal, velocity, momentum):
    """pymc's ``apply_momentum`` for one parameter: new value and velocity."""
    x = momentum * velocity + proposal
    return x, [x - param]


def _nesterov_step(param, proposal, velocity, momentum):
    """pymc's ``apply_nesterov_momentum`` for one parameter."""
    x = momentum * velocity + proposal - param
    return momentum * x + proposal, [x]


def _apply(algo, step, updates, params, momentum):
    """Add a velocity to the proposed values ``updates[param]`` (``apply_*``).

    The proposals are normalised by ``Problem`` as gradients would be (one
    per parameter, shaped like it, in its dtype); the other items of
    ``updates``, and their state, are kept.
    """
    if params is None:
        params = list(dict(updates.items() if hasattr(updates, "items") else updates))
    proposals, rest = split_updates(updates, list(params))
    problem = Problem(algo, params, None, proposals, None, rest, {})
    hyper = _hyperparameters(problem, momentum=momentum)

    def update(param, proposal, velocity):
        return step(param, proposal, velocity, hyper.cast(param.dtype).momentum)

    return problem.finish(*problem.map(update, problem.slot("velocity")))


def get_or_compute_grads(loss_or_grads, params):
    """The gradients of ``loss_or_grads`` with respect to ``params``.

    pymc's (and Lasagne's) helper, public there though not in ``__all__``,
    and here alike.

    Parameters
    ----------
    loss_or_grads : scalar TensorVariable or list of TensorVariable
        A scalar loss, or a list of gradient expressions aligned with
        ``params``.
    params : list of shared variables
        The variables the gradients are taken for.

    Returns
    -------
    list of TensorVariable
        ``loss_or_grads`` itself when it is a list (of the length of
        ``params``), else ``pytensor.grad(loss_or_grads, params)``.

    Raises
    ------
    ValueError
        When a parameter is not a shared variable (it could never be
        updated), or a list of gradients does not match ``params`` in length.

    Examples
    --------
    >>> import numpy as np, pytensor
    >>> from pytensor_optim.compat.pymc import get_or_compute_grads
    >>> w = pytensor.shared(np.array([1.0, -2.0]), name="w")
    >>> [g.eval() for g in get_or_compute_grads((w**2).sum(), [w])]
    [array([ 2., -4.])]
    """
    if not all(isinstance(param, SharedVariable) for param in params):
        raise ValueError(
            "params must contain shared variables only. If it contains arbitrary "
            "parameter expressions, then lasagne.utils.collect_shared_vars() may "
            "help you."
        )
    if isinstance(loss_or_grads, list):
        if len(loss_or_grads) != len(params):
            raise ValueError(
                f"Got {len(loss_or_grads)} gradient expressions for "
                f"{len(params)} parameters"
            )
        return loss_or_grads
    return pytensor.grad(loss_or_grads, params)


@_insert_docs
def sgd(loss_or_grads=None, params=None, learning_rate=1e-3):
    r"""Stochastic gradient descent.

    Parameters
    ----------
    {inputs}
    learning_rate : float or symbolic scalar, default 1e-3
        The step size :math:`\eta`.

    Returns
    -------
    {returns}

    Notes
    -----
    .. math::

        \theta \leftarrow \theta - \eta\, g

    As pymc, with no state.
    {float32}

    Examples
    --------
    >>> import numpy as np, pytensor
    >>> from pytensor_optim.compat.pymc import sgd
    >>> w = pytensor.shared(np.array([1.0, -2.0]), name="w")
    >>> updates = sgd((w**2).sum(), [w], learning_rate=0.1)
    >>> list(updates) == [w], updates.slots
    (True, {})
    >>> optimizer = sgd(learning_rate=0.1)  # partial application
    >>> optimizer.func is sgd, optimizer.keywords
    (True, {'learning_rate': 0.1})
    """
    if loss_or_grads is None and params is None:
        return partial(sgd, learning_rate=learning_rate)
    problem = _problem("sgd", loss_or_grads, params)
    hyper = _hyperparameters(problem, learning_rate=learning_rate)

    def update(param, gradient):
        return param - hyper.cast(param.dtype).learning_rate * gradient, []

    return problem.finish(*problem.map(update))


@_insert_docs
def apply_momentum(updates, params=None, momentum=0.9):
    r"""Add momentum to the updates of other rules.

    Parameters
    ----------
    updates : mapping
        ``{parameter: proposed new value}``, for instance from :func:`sgd`.
    params : iterable of shared variables, optional
        The parameters to add momentum to; default all keys of ``updates``
        (pass them when ``updates`` also holds state, such as a counter).
    momentum : float or symbolic scalar, default 0.9
        :math:`\mu`.

    Returns
    -------
    {returns}
        The items of ``updates`` with the parameters' updates replaced.

    Notes
    -----
    With :math:`\theta'` the proposed value ``updates[param]``,

    .. math::

        v \leftarrow \mu v + \theta' - \theta, \qquad \theta \leftarrow \theta + v

    computed as pymc does (:math:`x = \mu v + \theta'`, then :math:`v = x -
    \theta` and :math:`\theta = x`). The velocities are ``slots["velocity"]``,
    named ``"apply_momentum.velocity[<name>]"``; pymc's are unnamed.
    {float32}
    The other items of ``updates`` (and, for an
    :class:`~pytensor_optim.Updates`, its state) come first in the result.

    Examples
    --------
    >>> import numpy as np, pytensor
    >>> from pytensor_optim.compat.pymc import apply_momentum, sgd
    >>> w = pytensor.shared(np.array([1.0, -2.0]), name="w")
    >>> updates = apply_momentum(sgd((w**2).sum(), [w], 0.1), momentum=0.5)
    >>> sorted(updates.state_dict())
    ['apply_momentum.velocity[w]']
    """
    return _apply("apply_momentum", _momentum_step, updates, params, momentum)


@_insert_docs
def momentum(loss_or_grads=None, params=None, learning_rate=1e-3, momentum=0.9):
    r"""Stochastic gradient descent with momentum.

    Parameters
    ----------
    {inputs}
    learning_rate : float or symbolic scalar, default 1e-3
        The step size :math:`\eta`.
    momentum : float or symbolic scalar, default 0.9
        :math:`\mu`.

    Returns
    -------
    {returns}

    Notes
    -----
    .. math::

        v \leftarrow \mu v - \eta g, \qquad \theta \leftarrow \theta + v

    computed as pymc does: :func:`apply_momentum` on :func:`sgd`'s updates.
    The velocities are ``slots["velocity"]``, named
    ``"momentum.velocity[<name>]"``.
    {float32}

    Examples
    --------
    >>> import numpy as np, pytensor
    >>> from pytensor_optim.compat.pymc import momentum
    >>> w = pytensor.shared(np.array([1.0, -2.0]), name="w")
    >>> sorted(momentum((w**2).sum(), [w], 0.1).state_dict())
    ['momentum.velocity[w]']
    """
    if loss_or_grads is None and params is None:
        # ``momentum`` is the argument here: wrap the module's function
        function = globals()["momentum"]
        return partial(function, learning_rate=learning_rate, momentum=momentum)
    updates = sgd(loss_or_grads, params, learning_rate)
    return _apply("momentum", _momentum_step, updates, None, momentum)


@_insert_docs
def apply_nesterov_momentum(updates, params=None, momentum=0.9):
    r"""Add Nesterov momentum to the updates of other rules.

    Parameters
    ----------
    updates : mapping
        ``{parameter: proposed new value}``, for instance from :func:`sgd`.
    params : iterable of shared variables, optional
        The parameters to add momentum to; default all keys of ``updates``.
    momentum : float or symbolic scalar, default 0.9
        :math:`\mu`.

    Returns
    -------
    {returns}
        The items of ``updates`` with the parameters' updates replaced.

    Notes
    -----
    With :math:`\theta'` the proposed value ``updates[param]``,

    .. math::

        v \leftarrow \mu v + \theta' - \theta, \qquad
        \theta \leftarrow \theta' + \mu v

    (the pylearn2 formulation, with the gradient taken at the current
    parameters), computed as pymc does. The velocities are
    ``slots["velocity"]``, named ``"apply_nesterov_momentum.velocity[<name>]"``.
    {float32}

    Examples
    --------
    >>> import numpy as np, pytensor
    >>> from pytensor_optim.compat.pymc import apply_nesterov_momentum, sgd
    >>> w = pytensor.shared(np.array([1.0, -2.0]), name="w")
    >>> updates = apply_nesterov_momentum(sgd((w**2).sum(), [w], 0.1))
    >>> sorted(updates.state_dict())
    ['apply_nesterov_momentum.velocity[w]']
    """
    return _apply("apply_nesterov_momentum", _nesterov_step, updates, params, momentum)


@_insert_docs
def nesterov_momentum(
    loss_or_grads=None, params=None, learning_rate=1e-3, momentum=0.9
):
    r"""Stochastic gradient descent with Nesterov momentum.

    Parameters
    ----------
    {inputs}
    learning_rate : float or symbolic scalar, default 1e-3
        The step size :math:`\eta`.
    momentum : float or symbolic scalar, default 0.9
        :math:`\mu`.

    Returns
    -------
    {returns}

    Notes
    -----
    .. math::

        v \leftarrow \mu v - \eta g, \qquad \theta \leftarrow \theta + \mu v - \eta g

    computed as pymc does: :func:`apply_nesterov_momentum` on :func:`sgd`'s
    updates. The velocities are ``slots["velocity"]``, named
    ``"nesterov_momentum.velocity[<name>]"``.
    {float32}

    Examples
    --------
    >>> import numpy as np, pytensor
    >>> from pytensor_optim.compat.pymc import nesterov_momentum
    >>> w = pytensor.shared(np.array([1.0, -2.0]), name="w")
    >>> sorted(nesterov_momentum((w**2).sum(), [w], 0.1).state_dict())
    ['nesterov_momentum.velocity[w]']
    """
    if loss_or_grads is None and params is None:
        return partial(
            nesterov_momentum, learning_rate=learning_rate, momentum=momentum
        )
    updates = sgd(loss_or_grads, params, learning_rate)
    return _apply("nesterov_momentum", _nesterov_step, updates, None, momentum)


@_insert_docs
def adagrad(loss_or_grads=None, params=None, learning_rate=1.0, epsilon=1e-6):
    r"""AdaGrad (Duchi, Hazan & Singer 2011), with pymc's epsilon placement.

    Parameters
    ----------
    {inputs}
    learning_rate : float or symbolic scalar, default 1.0
        The step size :math:`\eta`.
    epsilon : float or symbolic scalar, default 1e-6
        :math:`\epsilon`, added inside the square root.

    Returns
    -------
    {returns}

    Notes
    -----
    .. math::

        G \leftarrow G + g^2, \qquad
        \theta \leftarrow \theta - \frac{\eta\, g}{\sqrt{G + \epsilon}}

    The sums of squares are ``slots["accu"]``, named
    ``"adagrad.accu[<name>]"``.
    {float32}
    The native :func:`pytensor_optim.adagrad` follows PyTorch:
    :math:`\epsilon` (default 1e-10) outside the square root.

    References
    ----------
    .. [1] Duchi, Hazan, Singer (2011). Adaptive subgradient methods for online
       learning and stochastic optimization. JMLR 12.

    Examples
    --------
    >>> import numpy as np, pytensor
    >>> from pytensor_optim.compat.pymc import adagrad
    >>> w = pytensor.shared(np.array([1.0, -2.0]), name="w")
    >>> sorted(adagrad((w**2).sum(), [w]).state_dict())
    ['adagrad.accu[w]']
    """
    if loss_or_grads is None and params is None:
        return partial(adagrad, learning_rate=learning_rate, epsilon=epsilon)
    problem = _problem("adagrad", loss_or_grads, params)
    hyper = _hyperparameters(problem, learning_rate=learning_rate, epsilon=epsilon)

    def update(param, gradient, accu):
        h = hyper.cast(param.dtype)
        accu_new = accu + gradient**2
        step = h.learning_rate * gradient / pt.sqrt(accu_new + h.epsilon)
        return param - step, [accu_new]

    return problem.finish(*problem.map(update, problem.slot("accu")))


@_insert_docs
def adagrad_window(
    loss_or_grads=None,
    params=None,
    learning_rate=0.001,
    epsilon=0.1,
    n_win=10,
    *,
    exclude_current=False,
):
    r"""AdaGrad over a window of the last ``n_win`` squared gradients.

    Parameters
    ----------
    {inputs}
    learning_rate : float or symbolic scalar, default 0.001
        The step size :math:`\eta`.
    epsilon : float or symbolic scalar, default 0.1
        :math:`\epsilon`, added inside the square root.
    n_win : int, default 10
        The window length :math:`n`.
    exclude_current : bool, default False
        False: pymc's rule, whose window includes the current gradient.
        True: the window holds only the previous gradients (see Notes).

    Returns
    -------
    {returns}

    Notes
    -----
    At step :math:`t = 1, 2, \dots` with gradient :math:`g_t`, pymc's rule
    (the default) is

    .. math::

        \theta_t = \theta_{t-1} - \frac{\eta\, g_t}
            {\sqrt{\sum_{k=\max(1,\, t-n+1)}^{t} g_k^2 + \epsilon}}

    so the current gradient enters its own normaliser: each component's step
    is smaller than :math:`\eta` in magnitude (at most
    :math:`\eta / \sqrt{1 + \epsilon / g_t^2}`), whatever the gradient's scale.
    With ``exclude_current=True`` the normaliser holds the previous
    :math:`n` squared gradients only, not the current one:

    .. math::

        \theta_t = \theta_{t-1} - \frac{\eta\, g_t}
            {\sqrt{\sum_{k=\max(1,\, t-n)}^{t-1} g_k^2 + \epsilon}}

    (the first step divides by :math:`\sqrt{\epsilon}`), so the normaliser is
    independent of :math:`g_t`; :math:`g_t^2` enters the window after the
    step. Both keep the window in ``slots["accu"]``, shaped
    ``(*param.shape, n_win)`` and named ``"adagrad_window.accu[<name>]"``;
    the slot written at step :math:`t` is ``(t - 1) % n_win``, taken from the
    int64 counter ``"adagrad_window.counter"`` (pymc keeps a float index per
    parameter).
    {float32}
    The opt-in ``exclude_current`` is not in pymc.

    Examples
    --------
    >>> import numpy as np, pytensor
    >>> from pytensor_optim.compat.pymc import adagrad_window
    >>> w = pytensor.shared(np.array([1.0, -2.0]), name="w")
    >>> updates = adagrad_window((w**2).sum(), [w], n_win=5)
    >>> {name: value.shape for name, value in updates.state_dict().items()}
    {'adagrad_window.counter': (), 'adagrad_window.accu[w]': (2, 5)}
    """
    if loss_or_grads is None and params is None:
        return partial(
            adagrad_window,
            learning_rate=learning_rate,
            epsilon=epsilon,
            n_win=n_win,
            exclude_current=exclude_current,
        )
    problem = _problem("adagrad_window", loss_or_grads, params)
    n_win = _window_length(n_win)
    check_flag("exclude_current", exclude_current)
    hyper = _hyperparameters(problem, learning_rate=learning_rate, epsilon=epsilon)
    position = problem.counter % n_win

    def update(param, gradient, accu):
        h = hyper.cast(param.dtype)
        accu_new = pt.set_subtensor(accu[..., position], gradient**2)
        accu_sum = (accu if exclude_current else accu_new).sum(axis=-1)
        step = h.learning_rate * gradient / pt.sqrt(accu_sum + h.epsilon)
        return param - step, [accu_new]

    return problem.finish(*problem.map(update, _window_slot(problem, n_win)))


@_insert_docs
def rmsprop(loss_or_grads=None, params=None, learning_rate=1.0, rho=0.9, epsilon=1e-6):
    r"""RMSProp (Tieleman & Hinton 2012), with pymc's epsilon placement.

    Parameters
    ----------
    {inputs}
    learning_rate : float or symbolic scalar, default 1.0
        The step size :math:`\eta`.
    rho : float or symbolic scalar, default 0.9
        Decay :math:`\rho` of the mean square.
    epsilon : float or symbolic scalar, default 1e-6
        :math:`\epsilon`, added inside the square root.

    Returns
    -------
    {returns}

    Notes
    -----
    .. math::

        r \leftarrow \rho r + (1 - \rho) g^2, \qquad
        \theta \leftarrow \theta - \frac{\eta\, g}{\sqrt{r + \epsilon}}

    The mean squares are ``slots["accu"]``, named ``"rmsprop.accu[<name>]"``.
    {float32}
    The native :func:`pytensor_optim.rmsprop` follows PyTorch (``alpha=0.99``,
    :math:`\epsilon` outside the square root, ``step_size=1e-2``).

    References
    ----------
    .. [1] Tieleman, Hinton (2012). Lecture 6.5 - RMSprop. COURSERA.

    Examples
    --------
    >>> import numpy as np, pytensor
    >>> from pytensor_optim.compat.pymc import rmsprop
    >>> w = pytensor.shared(np.array([1.0, -2.0]), name="w")
    >>> sorted(rmsprop((w**2).sum(), [w], learning_rate=0.01).state_dict())
    ['rmsprop.accu[w]']
    """
    if loss_or_grads is None and params is None:
        return partial(rmsprop, learning_rate=learning_rate, rho=rho, epsilon=epsilon)
    problem = _problem("rmsprop", loss_or_grads, params)
    hyper = _hyperparameters(
        problem, learning_rate=learning_rate, rho=rho, epsilon=epsilon
    )

    def update(param, gradient, accu):
        h = hyper.cast(param.dtype)
        accu_new = h.rho * accu + (1 - h.rho) * gradient**2
        step = h.learning_rate * gradient / pt.sqrt(accu_new + h.epsilon)
        return param - step, [accu_new]

    return problem.finish(*problem.map(update, problem.slot("accu")))


@_insert_docs
def adadelta(
    loss_or_grads=None, params=None, learning_rate=1.0, rho=0.95, epsilon=1e-6
):
    r"""AdaDelta (Zeiler 2012).

    Parameters
    ----------
    {inputs}
    learning_rate : float or symbolic scalar, default 1.0
        The step size :math:`\eta` (the paper has none: 1).
    rho : float or symbolic scalar, default 0.95
        Decay :math:`\rho` of both running averages.
    epsilon : float or symbolic scalar, default 1e-6
        :math:`\epsilon`, added inside both square roots.

    Returns
    -------
    {returns}

    Notes
    -----
    .. math::

        r &\leftarrow \rho r + (1 - \rho) g^2 \\
        \Delta &= g \sqrt{s + \epsilon} / \sqrt{r + \epsilon} \\
        \theta &\leftarrow \theta - \eta \Delta, \qquad
        s \leftarrow \rho s + (1 - \rho) \Delta^2

    The averages are ``slots["accu"]`` and ``slots["delta_accu"]``, named
    ``"adadelta.accu[<name>]"`` and ``"adadelta.delta_accu[<name>]"``.
    {float32}
    The native :func:`pytensor_optim.adadelta` is the same rule with PyTorch's
    default ``rho=0.9``.

    References
    ----------
    .. [1] Zeiler (2012). ADADELTA: an adaptive learning rate method.
       arXiv:1212.5701.

    Examples
    --------
    >>> import numpy as np, pytensor
    >>> from pytensor_optim.compat.pymc import adadelta
    >>> w = pytensor.shared(np.array([1.0, -2.0]), name="w")
    >>> sorted(adadelta((w**2).sum(), [w]).slots)
    ['accu', 'delta_accu']
    """
    if loss_or_grads is None and params is None:
        return partial(adadelta, learning_rate=learning_rate, rho=rho, epsilon=epsilon)
    problem = _problem("adadelta", loss_or_grads, params)
    hyper = _hyperparameters(
        problem, learning_rate=learning_rate, rho=rho, epsilon=epsilon
    )

    def update(param, gradient, accu, delta_accu):
        h = hyper.cast(param.dtype)
        accu_new = h.rho * accu + (1 - h.rho) * gradient**2
        # the step uses the previous delta_accu
        step = (
            gradient * pt.sqrt(delta_accu + h.epsilon) / pt.sqrt(accu_new + h.epsilon)
        )
        delta_accu_new = h.rho * delta_accu + (1 - h.rho) * step**2
        return param - h.learning_rate * step, [accu_new, delta_accu_new]

    slots = problem.slot("accu"), problem.slot("delta_accu")
    return problem.finish(*problem.map(update, *slots))


@_insert_docs
def adam(
    loss_or_grads=None,
    params=None,
    learning_rate=0.001,
    beta1=0.9,
    beta2=0.999,
    epsilon=1e-8,
):
    r"""Adam (Kingma & Ba 2015), with the bias correction in the step size.

    Parameters
    ----------
    {inputs}
    learning_rate : float or symbolic scalar, default 0.001
        The step size :math:`\eta`.
    beta1, beta2 : float or symbolic scalar, default 0.9, 0.999
        Decay rates :math:`\beta_1, \beta_2` of the moment estimates.
    epsilon : float or symbolic scalar, default 1e-8
        :math:`\epsilon`, added to the uncorrected :math:`\sqrt{v}`.

    Returns
    -------
    {returns}

    Notes
    -----
    At step :math:`t = 1, 2, \dots`,

    .. math::

        a_t &= \eta \sqrt{1 - \beta_2^t} / (1 - \beta_1^t) \\
        m &\leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
        v \leftarrow \beta_2 v + (1 - \beta_2) g^2 \\
        \theta &\leftarrow \theta - a_t\, m / (\sqrt{v} + \epsilon)

    the form of the paper's section 2 (also Lua ``optim.adam``'s). The
    moments are ``slots["m"]`` and ``slots["v"]``, named ``"adam.m[<name>]"``
    and ``"adam.v[<name>]"``; pymc's float step counter ``t`` is the int64
    counter ``"adam.counter"`` (the number of steps taken), and :math:`a_t`
    is computed in each parameter's dtype.
    {float32}
    The native :func:`pytensor_optim.adam` follows PyTorch: :math:`\epsilon` is
    added to the bias-corrected :math:`\sqrt{\hat v}`; in the form above, that
    is an :math:`\epsilon \sqrt{1 - \beta_2^t}` that grows with :math:`t`.

    References
    ----------
    .. [1] Kingma, Ba (2015). Adam: a method for stochastic optimization. ICLR.

    Examples
    --------
    >>> import numpy as np, pytensor
    >>> from pytensor_optim.compat.pymc import adam
    >>> w = pytensor.shared(np.array([1.0, -2.0]), name="w")
    >>> sorted(adam((w**2).sum(), [w], learning_rate=0.1).state_dict())
    ['adam.counter', 'adam.m[w]', 'adam.v[w]']
    """
    if loss_or_grads is None and params is None:
        return partial(
            adam,
            learning_rate=learning_rate,
            beta1=beta1,
            beta2=beta2,
            epsilon=epsilon,
        )
    problem = _problem("adam", loss_or_grads, params)
    hyper = _hyperparameters(
        problem,
        learning_rate=learning_rate,
        beta1=beta1,
        beta2=beta2,
        epsilon=epsilon,
    )

    def update(param, gradient, m_prev, v_prev):
        h = hyper.cast(param.dtype)
        t = _step_number(problem, param.dtype)
        a_t = h.learning_rate * pt.sqrt(1 - h.beta2**t) / (1 - h.beta1**t)
        m_t = h.beta1 * m_prev + (1 - h.beta1) * gradient
        v_t = h.beta2 * v_prev + (1 - h.beta2) * gradient**2
        step = a_t * m_t / (pt.sqrt(v_t) + h.epsilon)
        return param - step, [m_t, v_t]

    return problem.finish(*problem.map(update, problem.slot("m"), problem.slot("v")))


@_insert_docs
def adamax(
    loss_or_grads=None,
    params=None,
    learning_rate=0.002,
    beta1=0.9,
    beta2=0.999,
    epsilon=1e-8,
):
    r"""AdaMax (Kingma & Ba 2015), Adam with the infinity norm.

    Parameters
    ----------
    {inputs}
    learning_rate : float or symbolic scalar, default 0.002
        The step size :math:`\eta`.
    beta1, beta2 : float or symbolic scalar, default 0.9, 0.999
        Decay rates of the first moment and of the infinity norm.
    epsilon : float or symbolic scalar, default 1e-8
        :math:`\epsilon`, added to :math:`u`.

    Returns
    -------
    {returns}

    Notes
    -----
    At step :math:`t = 1, 2, \dots`,

    .. math::

        m &\leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
        u \leftarrow \max(\beta_2 u, |g|) \\
        \theta &\leftarrow \theta - \frac{\eta}{1 - \beta_1^t}
            \frac{m}{u + \epsilon}

    The state is ``slots["m"]`` and ``slots["u"]``, named
    ``"adamax.m[<name>]"`` and ``"adamax.u[<name>]"``, and the int64
    counter ``"adamax.counter"`` (pymc's float ``t``).
    {float32}
    The native :func:`pytensor_optim.adamax` follows PyTorch: :math:`\epsilon`
    is added to :math:`|g|` inside the maximum, ``u = max(beta2 u, |g| + eps)``.

    References
    ----------
    .. [1] Kingma, Ba (2015). Adam: a method for stochastic optimization. ICLR.

    Examples
    --------
    >>> import numpy as np, pytensor
    >>> from pytensor_optim.compat.pymc import adamax
    >>> w = pytensor.shared(np.array([1.0, -2.0]), name="w")
    >>> sorted(adamax((w**2).sum(), [w]).state_dict())
    ['adamax.counter', 'adamax.m[w]', 'adamax.u[w]']
    """
    if loss_or_grads is None and params is None:
        return partial(
            adamax,
            learning_rate=learning_rate,
            beta1=beta1,
            beta2=beta2,
            epsilon=epsilon,
        )
    problem = _problem("adamax", loss_or_grads, params)
    hyper = _hyperparameters(
        problem,
        learning_rate=learning_rate,
        beta1=beta1,
        beta2=beta2,
        epsilon=epsilon,
    )

    def update(param, gradient, m_prev, u_prev):
        h = hyper.cast(param.dtype)
        a_t = h.learning_rate / (1 - h.beta1 ** _step_number(problem, param.dtype))
        m_t = h.beta1 * m_prev + (1 - h.beta1) * gradient
        u_t = pt.maximum(h.beta2 * u_prev, pt.abs(gradient))
        step = a_t * m_t / (u_t + h.epsilon)
        return param - step, [m_t, u_t]

    return problem.finish(*problem.map(update, problem.slot("m"), problem.slot("u")))


def norm_constraint(tensor_var, max_norm, norm_axes=None, epsilon=1e-7):
    r"""Rescale a tensor so that its norms along ``norm_axes`` are at most ``max_norm``.

    For max-norm constraints on weights, or for gradient clipping.

    Parameters
    ----------
    tensor_var : TensorVariable
        An update, a gradient or any other tensor.
    max_norm : float or symbolic scalar
        The largest norm allowed (``np.inf``: no constraint).
    norm_axes : sequence of int, optional
        The axes of the norms. Default: ``(0,)`` for a matrix (a dense
        layer's weights), all axes but the first for 3 to 5 dimensions
        (convolution kernels); other dimensionalities must give them
        (``ValueError``).
    epsilon : float or symbolic scalar, default 1e-7
        :math:`\epsilon`, added to the norms in the division.

    Returns
    -------
    TensorVariable
        ``tensor_var`` rescaled, in its dtype.

    Notes
    -----
    With :math:`n` the norms along ``norm_axes`` (kept as dimensions) and
    :math:`c` = ``max_norm``,

    .. math::

        x \leftarrow x \cdot \frac{\min(n, c)}{\epsilon + n}

    As pymc, except that ``max_norm`` and ``epsilon`` are cast to the
    tensor's dtype (pymc casts them to ``floatX``, which makes the result of
    a float32 tensor float64 under ``floatX=float64``).

    Examples
    --------
    >>> import numpy as np, pytensor.tensor as pt
    >>> from pytensor_optim.compat.pymc import norm_constraint
    >>> x = pt.constant(np.array([[3.0, 0.1], [4.0, 0.1]]))
    >>> np.round(norm_constraint(x, 1.0).eval(), 6)
    array([[0.6, 0.1],
           [0.8, 0.1]])
    """
    tensor_var = pt.as_tensor_variable(tensor_var)
    ndim = tensor_var.ndim
    if norm_axes is not None:
        sum_over = tuple(norm_axes)
    elif ndim == 2:  # dense layer weights
        sum_over = (0,)
    elif ndim in (3, 4, 5):  # convolution kernels
        sum_over = tuple(range(1, ndim))
    else:
        raise ValueError(
            f"Unsupported tensor dimensionality {ndim}. Must specify `norm_axes`"
        )
    dtype = _float_dtype(tensor_var)
    norms = pt.sqrt(pt.sum(pt.sqr(tensor_var), axis=sum_over, keepdims=True))
    target_norms = pt.clip(norms, 0, _scalar("max_norm", max_norm, dtype))
    return tensor_var * (target_norms / (_scalar("epsilon", epsilon, dtype) + norms))


def total_norm_constraint(tensor_vars, max_norm, epsilon=1e-7, return_norm=False):
    r"""Rescale tensors so that their combined norm is at most ``max_norm``.

    Clipping the global norm of the gradients, as used for recurrent networks
    (Sutskever, Vinyals & Le 2014).

    Parameters
    ----------
    tensor_vars : list of TensorVariable
        The tensors, usually the gradients.
    max_norm : float or symbolic scalar
        The largest combined norm allowed (``np.inf``: no constraint).
    epsilon : float or symbolic scalar, default 1e-7
        :math:`\epsilon`, added to the norm in the division.
    return_norm : bool, default False
        Also return the combined norm before rescaling.

    Returns
    -------
    list of TensorVariable
        The tensors rescaled, each in its dtype.
    TensorVariable
        The combined norm, when ``return_norm`` is true.

    Notes
    -----
    With :math:`c` = ``max_norm``,

    .. math::

        n = \Bigl(\sum_i \|x_i\|^2\Bigr)^{1/2}, \qquad
        x_i \leftarrow x_i \cdot \frac{\min(n, c)}{\epsilon + n}

    As pymc, except that ``max_norm`` and ``epsilon`` are cast to the norm's
    dtype and the factor to each tensor's dtype, so float32 tensors stay
    float32 (pymc casts the constants to ``floatX``).

    References
    ----------
    .. [1] Sutskever, Vinyals, Le (2014). Sequence to sequence learning with
       neural networks. NIPS.

    Examples
    --------
    >>> import numpy as np, pytensor.tensor as pt
    >>> from pytensor_optim.compat.pymc import total_norm_constraint
    >>> grads = [pt.constant(np.array([3.0])), pt.constant(np.array([4.0]))]
    >>> scaled, norm = total_norm_constraint(grads, 1.0, return_norm=True)
    >>> float(norm.eval()), [np.round(g.eval(), 6) for g in scaled]
    (5.0, [array([0.6]), array([0.8])])
    """
    tensor_vars = [pt.as_tensor_variable(tensor) for tensor in tensor_vars]
    norm = pt.sqrt(sum(pt.sum(tensor**2) for tensor in tensor_vars))
    dtype = _float_dtype(norm)
    target_norm = pt.clip(norm, 0, _scalar("max_norm", max_norm, dtype))
    multiplier = target_norm / (_scalar("epsilon", epsilon, dtype) + norm)
    scaled = [
        tensor * pt.cast(multiplier, _float_dtype(tensor)) for tensor in tensor_vars
    ]
    if return_norm:
        return scaled, norm
    return scaled


def _float_dtype(variable):
    """The dtype of the norm constraints' constants: the tensor's, or floatX."""
    if variable.dtype.startswith("float"):
        return variable.dtype
    return pytensor.config.floatX
