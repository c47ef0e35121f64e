"""``minimize`` and ``minimize_iterator``: the rules on NumPy callables."""

import numpy as np
import pytensor
from scipy.optimize import OptimizeResult

from .._stopping import Status
from ._ops import Tracker, callable_cost
from ._structure import Structure

__all__ = ["minimize", "minimize_iterator"]

# Python Ops run at C-VM speed, not in Numba's object mode (~10x slower).
_MODE = "CVM"
_DEFAULTS = {"max_iter": 1000, "gtol": 1e-5}


def _algorithm(opt_algo):
    from .. import ALGORITHMS

    if isinstance(opt_algo, str):
        try:
            return ALGORITHMS[opt_algo]
        except KeyError:
            raise ValueError(
                f"opt_algo={opt_algo!r} is not a known algorithm; known: "
                f"{sorted(ALGORITHMS)}"
            ) from None
    if not callable(opt_algo):
        raise TypeError(
            f"opt_algo must be an update rule (a function) or its name, got "
            f"{type(opt_algo).__name__}"
        )
    return opt_algo


def _check_callables(f, df, algo):
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    if df is None:
        if not getattr(algo, "derivative_free", False):
            name = getattr(algo, "__name__", repr(algo))
            raise ValueError(
                f"{name} needs gradients: pass df (a callable), df=True (f returns "
                "(value, gradient)) or df='2-point' (finite differences)"
            )
    elif isinstance(df, str):
        if df != "2-point":
            raise ValueError(
                f"df must be a callable, True, None or '2-point', got {df!r}"
            )
    elif df is not True and not callable(df):
        raise TypeError(
            f"df must be a callable, True, None or '2-point', got {type(df).__name__}"
        )


class minimize_iterator:  # the seed's lower-case name
    """Minimise ``f`` one iteration per ``next()``, without taking control.

    Parameters
    ----------
    x0 : ndarray or list/tuple of ndarrays
        The starting point; float32 and float64 arrays of any shapes.
    f : callable
        ``f(x) -> float``, with ``x`` in the structure of ``x0`` (read-only
        arrays). With ``df=True`` it returns ``(value, gradient)``.
    df : callable, True, "2-point" or None
        ``df(x)`` returns the gradient in the structure of ``x0``. ``True``:
        ``f`` returns both; ``"2-point"``: forward differences of ``f``;
        ``None``: only for derivative-free rules.
    opt_algo : callable or str
        An update rule of the protocol (``pytensor_optim.sgd``, your own) or
        its name in :data:`pytensor_optim.ALGORITHMS`.
    callback : callable, optional
        ``callback(iterator)`` after each iteration; returning ``True`` or
        raising ``StopIteration`` ends the run with ``Status.CALLBACK``.
    **kwargs
        Passed to ``opt_algo``. ``max_iter=1000`` and ``gtol=1e-5`` are the
        defaults of this interface (each applies unless given; pass ``None``
        to switch one off; derivative-free rules get no ``gtol``).

    Attributes
    ----------
    x : same type as x0
        The best point seen (lowest evaluated cost).
    fx : float
        ``f`` at ``x``.
    f, df, opt_algo
        As given (``opt_algo`` resolved to the function).
    n_iter : int
        Steps taken.
    n_evals, n_grad_evals : int
        Calls of ``f`` (finite-difference calls included) and gradient
        evaluations.
    status : Status
        Why the run ended, or ``Status.RUNNING``.
    message : str
        ``status.message``.
    updates : Updates
        The rule's updates (for its ``state_dict``).

    Notes
    -----
    ``f`` and ``df`` are wrapped as PyTensor Ops and the rule's updates are
    compiled once, with the C VM, into a function that performs one
    iteration and returns ``f`` at the point it evaluated. Exceptions raised
    by ``f`` or ``df`` propagate unchanged; the iterate is then left as it was
    before the failed call.

    The iterator pickles (if ``f``, ``df``, ``opt_algo`` and ``callback`` do)
    and an unpickled copy continues with identical iterates.

    Examples
    --------
    >>> import numpy as np
    >>> from pytensor_optim import minimize_iterator, sgd
    >>> it = minimize_iterator(np.array([3.0]), lambda x: float(x @ x),
    ...                        lambda x: 2 * x, sgd, step_size=0.5)
    >>> for _ in it:
    ...     pass
    >>> it.status.name, it.x, it.n_iter
    ('CONVERGED_GTOL', array([0.]), 1)
    """

    def __init__(self, x0, f, df, opt_algo, *, callback=None, **kwargs):
        algo = _algorithm(opt_algo)
        _check_callables(f, df, algo)
        if callback is not None and not callable(callback):
            raise TypeError(f"callback must be callable, got {type(callback).__name__}")
        self._structure = Structure(x0)
        self._arguments = (self._structure.pack(self._structure.arrays), f, df, algo)
        self._callback = callback
        self._kwargs = dict(kwargs)
        self.f, self.df, self.opt_algo = f, df, algo

        self._tracker = Tracker()
        names = ["x"] if len(self._structure.shapes) == 1 else None
        self._params = [
            pytensor.shared(array.copy(), name=names[0] if names else f"x{index}")
            for index, array in enumerate(self._structure.arrays)
        ]
        self._stop = pytensor.shared(np.int64(0), name="stop")
        cost, gradients = callable_cost(
            self._structure, self._tracker, self._params, f, df
        )
        defaults = dict(_DEFAULTS)
        if getattr(algo, "derivative_free", False):
            del defaults["gtol"]  # no gradient to stop on
        options = {**defaults, **kwargs}
        options = {key: value for key, value in options.items() if value is not None}
        self.updates = algo(
            self._params, cost=cost, gradients=gradients, stop=self._stop, **options
        )
        if getattr(self.updates, "status", None) is None:
            raise TypeError(
                f"opt_algo returned {type(self.updates).__name__} without a status; "
                "it must follow the protocol (return the Updates of finish())"
            )
        self._step = pytensor.function(
            [], cost, updates=self.updates, mode=_MODE, accept_inplace=True
        )
        self.n_iter = 0
        self.status = Status.RUNNING

    # ---- iteration -------------------------------------------------------
    def __iter__(self):
        return self

    def __next__(self):
        if self.status != Status.RUNNING:
            raise StopIteration
        try:
            self._step()
        except BaseException as error:
            self._tracker.restore_error(error)
            raise
        status = Status(int(self.updates.status.get_value()))
        if status.moves_parameters:
            self.n_iter += 1
        self.status = status
        if self._callback is not None:
            try:
                wants_stop = self._callback(self)
            except StopIteration:
                wants_stop = True
            if wants_stop is True and self.status == Status.RUNNING:
                self.status = Status.CALLBACK
        return self

    # ---- results ---------------------------------------------------------
    @property
    def x(self):
        """The best point seen (the current iterate before any evaluation)."""
        if self._tracker.best_x is None:
            return self.x_last
        return self._structure.pack([array.copy() for array in self._tracker.best_x])

    @property
    def x_last(self):
        """The current iterate (same type as x0)."""
        return self._structure.pack([p.get_value() for p in self._params])

    @property
    def fx(self):
        return self._tracker.best_value if self._tracker.best_x is not None else np.nan

    @property
    def n_evals(self):
        return self._tracker.n_evals

    @property
    def n_grad_evals(self):
        return self._tracker.n_grad_evals

    @property
    def message(self):
        return self.status.message

    def result(self) -> OptimizeResult:
        """The run so far as a :class:`scipy.optimize.OptimizeResult`.

        ``x``/``fun`` are the best point seen and its cost (``point="best"``),
        or the last iterate when no cost was evaluated yet (``point="last"``);
        ``x_last`` is always the last iterate.
        """
        best = self._tracker.best_x is not None
        return OptimizeResult(
            x=self.x,
            fun=self.fx,
            point="best" if best else "last",
            x_last=self.x_last,
            nit=self.n_iter,
            nfev=self.n_evals,
            njev=self.n_grad_evals,
            status=int(self.status),
            message=self.message,
            success=self.status.success,
        )

    # ---- pickling --------------------------------------------------------
    def __getstate__(self):
        return {
            "arguments": self._arguments,
            "callback": self._callback,
            "kwargs": self._kwargs,
            "params": [p.get_value() for p in self._params],
            "stop": self._stop.get_value(),
            "state": self.updates.state_dict(),
            "tracker": self._tracker.state(),
            "n_iter": self.n_iter,
            "status": int(self.status),
        }

    def __setstate__(self, state):
        self.__init__(
            *state["arguments"], callback=state["callback"], **state["kwargs"]
        )
        for param, value in zip(self._params, state["params"], strict=True):
            param.set_value(value)
        self._stop.set_value(state["stop"])
        self.updates.load_state_dict(state["state"])
        self._tracker.load(state["tracker"])
        self.n_iter = state["n_iter"]
        self.status = Status(state["status"])


def minimize(x0, f, df, opt_algo, **kwargs):
    """Return a point of the same type as ``x0`` that minimises ``f``.

    Runs :class:`minimize_iterator` to its end (same arguments) and returns
    its ``x``: the best point seen, in the structure and dtypes of ``x0``.
    For the whole report use ``minimize_iterator(...).result()`` after
    iterating.

    Examples
    --------
    >>> import numpy as np
    >>> from pytensor_optim import minimize
    >>> x = minimize(np.array([3.0, -1.0], dtype=np.float32),
    ...              lambda x: float(x @ x), lambda x: 2 * x, "sgd", step_size=0.1)
    >>> x.dtype, bool(abs(x).max() <= 1e-5)
    (dtype('float32'), True)
    """
    iterator = minimize_iterator(x0, f, df, opt_algo, **kwargs)
    for _ in iterator:
        pass
    return iterator.x
