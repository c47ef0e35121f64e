"""``minimize`` and ``minimize_iterator``: the rules on NumPy callables."""

import copy
import logging
import threading
import time
import weakref
from collections import OrderedDict

import numpy as np
import pytensor
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import equal_computations
from pytensor.graph.traversal import graph_inputs

from .._algorithms import ALGORITHMS, derivative_free
from .._flat import static_sizes
from .._keys import options_key
from .._stopping import Status
from . import _disk
from ._ops import Binding, SecondOrder, Tracker, callable_cost, callable_ops
from ._structure import Structure

__all__ = ["minimize", "minimize_iterator"]

_LOG = logging.getLogger("pytensor_optim")

# Python Ops run at C-VM speed, not in Numba's object mode (~10x slower).
_MODE = "CVM"
_DEFAULTS = {"max_iter": 1000, "gtol": 1e-5}


def _algorithm(opt_algo):
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
        if not derivative_free(algo):
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
    hessp : callable, optional
        ``hessp(x, p)`` returns the Hessian of ``f`` at ``x`` times ``p``
        (both in the structure of ``x0``), for the rules that take
        Hessian-vector products (``truncated_newton``, ``hessian_free`` with
        ``gauss_newton=False``); without it they use forward differences of
        the gradient. Needs ``df``.
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
    n_hess_evals : int
        Calls of ``hessp``.
    status : Status
        Why the run ended, or ``Status.RUNNING``.
    message : str
        ``status.message``.
    updates : Updates
        The rule's updates (for its ``state_dict``).

    Notes
    -----
    ``f`` and ``df`` are wrapped as PyTensor Ops and the rule's updates are
    compiled, with the C VM, into a function that performs one iteration
    and returns ``f`` at the point it evaluated. Exceptions raised by ``f``
    or ``df`` propagate unchanged; the iterate is then left as it was before
    the failed call.

    The compiled iteration is kept for the rest of the process and reused by
    later runs of the same rule with the same options and the same
    structure of ``x0`` (container, dtypes and numbers of dimensions; the
    sizes may differ, unless the rule's graph depends on them as
    ``cmaes``'s does), whatever ``x0``'s values, ``f``, ``df`` (of the same
    kind: a callable, ``True``, ``"2-point"`` or ``None``) and
    ``callback``: such a run starts at once,
    from the rule's initial state, with the iterates of a freshly compiled
    one. Options are compared by value (numbers, strings, arrays, the
    line searches of :mod:`pytensor_optim.line_search`) or else by identity
    (a schedule, a shared variable). A compiled iteration serves one live
    iterator at a time: a run that has ended hands it to the next (its
    ``x``, ``x_last``, ``result()`` and counts stay its own; its ``updates``
    then serve the new run, so read them first), while a second run alive
    at the same time compiles its own. Rules that draw random numbers
    without a ``seed`` are compiled anew for each run (a new seed each
    time). The package's rules are also kept on disk for later processes
    (see :doc:`/numpy_interface`; ``PYTENSOR_OPTIM_CACHE=off`` switches
    that off).

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

    def __init__(self, x0, f, df, opt_algo, *, callback=None, hessp=None, **kwargs):
        algo = _algorithm(opt_algo)
        _check_callables(f, df, algo)
        if callback is not None and not callable(callback):
            raise TypeError(f"callback must be callable, got {type(callback).__name__}")
        self._structure = Structure(x0)
        self._arguments = (self._structure.pack(self._structure.arrays), f, df, algo)
        self._callback = callback
        self._kwargs = dict(kwargs)
        self.f, self.df, self.opt_algo = f, df, algo
        self._hessp = hessp
        if hessp is not None:
            # the gradient Op's derivative then calls hessp
            df = SecondOrder(df, hessp)

        self._tracker = Tracker()
        self._detached = None
        self.status = Status.RUNNING
        defaults = dict(_DEFAULTS)
        if derivative_free(algo):
            del defaults["gtol"]  # no gradient to stop on
        options = {**defaults, **kwargs}
        options = {key: value for key, value in options.items() if value is not None}
        self._iteration = _ITERATIONS.acquire(self, self._structure, df, algo, options)
        self._iteration.start(self._structure, f, df, self._tracker)
        self.updates = self._iteration.updates
        self._params, self._stop = self._iteration.params, self._iteration.stop
        self._step = self._iteration.step
        self.n_iter = 0

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
        if self._detached is not None:
            return self._structure.pack(self._detached[0])
        return self._structure.pack([p.get_value() for p in self._params])

    def _final(self):
        """The parameters, ``stop`` and the rule's state of this run."""
        if self._detached is not None:
            return self._detached
        return (
            [p.get_value() for p in self._params],
            self._stop.get_value(),
            self.updates.state_dict(),
        )

    def _detach(self):
        """Keep this ended run's last values: its iteration serves another."""
        params, stop, state = self._final()
        self._detached = ([p.copy() for p in params], stop, state)

    @property
    def _ended(self):
        return self.status != Status.RUNNING

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
    def n_hess_evals(self):
        return self._tracker.n_hess_evals

    @property
    def message(self):
        return self.status.message

    def result(self):
        """The run so far as a :class:`scipy.optimize.OptimizeResult`.

        ``x``/``fun`` are the best point seen and its cost (``point="best"``),
        or the last iterate when no cost was evaluated yet (``point="last"``);
        ``x_last`` is always the last iterate.
        """
        from scipy.optimize import OptimizeResult  # not at import: 0.25 s

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
        params, stop, state = self._final()
        return {
            "arguments": self._arguments,
            "callback": self._callback,
            "hessp": self._hessp,
            "kwargs": self._kwargs,
            "params": params,
            "stop": stop,
            "state": state,
            "tracker": self._tracker.state(),
            "n_iter": self.n_iter,
            "status": int(self.status),
        }

    def __setstate__(self, state):
        self.__init__(
            *state["arguments"],
            callback=state["callback"],
            hessp=state.get("hessp"),
            **state["kwargs"],
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


# ---- compiled iterations, reused --------------------------------------------


class _Iteration:
    """A rule's iteration on bound NumPy callables, compiled once.

    The parameters, ``stop`` and the rule's state are shared variables of
    the compiled function; a run takes the iteration with :meth:`start`,
    which binds its callables, tracker and structure and puts every variable
    back to where a fresh build for its ``x0`` would start. A build for
    ``x0`` of other sizes whose graph is this one (the rule bakes no size into
    it) lets the iteration serve those sizes too (:meth:`adopt`).
    """

    def __init__(self, structure, df, algo, options):
        self.binding = Binding()
        # built once: a build for other sizes applies these same Ops
        self.ops = callable_ops(structure, self.binding, df)
        self.params, self.stop, self.updates, cost = _build(
            structure, self.ops, algo, options
        )
        self.step = pytensor.function(
            [], cost, updates=self.updates, mode=_MODE, accept_inplace=True
        )
        self.graph = _graph(cost, self.updates)
        self.shapes = structure.shapes
        # per shapes served: the initial values of the graph's shared
        # variables (in the order of _shared) and the state's reset values
        self._shared = _shared_inputs(self.graph)
        self._starts = {self.shapes: self._start_values(self._shared)}
        self.owner = None
        self.fresh = True
        self.fits = None  # whether its graph serves other sizes: unknown
        self.disk_name = None  # its file in the disk cache, if kept there
        # a random generator's state, restored on reuse, would repeat the
        # first run's numbers: only with a seed is that what a new run draws
        self.reusable = options.get("seed") is not None or not any(
            isinstance(initial, dict) for _, initial in self.updates._state
        )

    def __getstate__(self):
        # for the disk cache: the compiled iteration, not this process's runs
        state = dict(self.__dict__)
        del state["owner"]
        state.pop("kept", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.owner = None
        self.fresh = False  # a run sets the parameters and state it needs

    def _start_values(self, shared, updates=None):
        updates = self.updates if updates is None else updates
        values = [copy.deepcopy(variable.get_value(borrow=True)) for variable in shared]
        return values, [initial for _, initial in updates._state]

    def serves(self, shapes):
        return shapes in self._starts

    def add_starts(self, starts):
        """Serve the sizes of ``starts`` (``{shapes: start}`` of ``adopt``s
        in earlier processes, see ``_disk``)."""
        self._starts.update(starts)
        if starts:
            self.fits = True

    def adopt(self, structure, algo, options):
        """Serve ``x0`` of ``structure``'s shapes, if the rule's graph for them
        (built, not compiled) is this one; whether it is."""
        self.binding.structure = structure  # what the Ops' make_node reads
        _, _, updates, cost = _build(structure, self.ops, algo, options)
        graph = _graph(cost, updates)
        shared = _shared_inputs(graph)
        names = [variable.name for variable, _ in self.updates._state]
        if (
            len(shared) != len(self._shared)
            or names != [variable.name for variable, _ in updates._state]
            or not equal_computations(graph, self.graph, shared, self._shared)
        ):
            return False
        self._starts[structure.shapes] = start = self._start_values(shared, updates)
        if self.disk_name is not None:
            _disk.save_start(self.disk_name, structure.shapes, start)
        return True

    def free(self):
        """Whether no run needs this iteration: its last one is gone or has
        ended (and then keeps its last values, see ``_detach``)."""
        owner = None if self.owner is None else self.owner()
        if owner is None:
            return True
        if owner._ended:
            owner._detach()
            return True
        return False

    def start(self, structure, f, df, tracker):
        """Serve the run that acquired this iteration: its callables, its
        starting point, the initial state."""
        binding = self.binding
        binding.f, binding.df, binding.tracker = f, df, tracker
        binding.structure = structure
        if self.fresh:  # as built
            self.fresh = False
            return
        if structure.shapes == self.shapes:
            for param, array in zip(self.params, structure.arrays, strict=True):
                param.set_value(array.copy())
            self.stop.set_value(np.int64(0))
            self.updates.reset()
            return
        values, initials = self._starts[structure.shapes]
        for variable, value in zip(self._shared, values, strict=True):
            variable.set_value(copy.deepcopy(value))
        for param, array in zip(self.params, structure.arrays, strict=True):
            param.set_value(array.copy())
        self.stop.set_value(np.int64(0))
        self.updates._state = tuple(
            (variable, initial)
            for (variable, _), initial in zip(
                self.updates._state, initials, strict=True
            )
        )
        self.shapes = structure.shapes


def _build(structure, ops, algo, options):
    """The rule's graph on the callables' Ops at ``structure``'s arrays:
    ``(params, stop, updates, cost)``."""
    names = ["x"] if len(structure.shapes) == 1 else None
    params = [
        pytensor.shared(array.copy(), name=names[0] if names else f"x{index}")
        for index, array in enumerate(structure.arrays)
    ]
    stop = pytensor.shared(np.int64(0), name="stop")
    cost, gradients = callable_cost(ops, params)
    token = static_sizes.set(False)  # a graph for every size, where it can
    try:
        updates = algo(params, cost=cost, gradients=gradients, stop=stop, **options)
    finally:
        static_sizes.reset(token)
    if getattr(updates, "status", None) is None:
        raise TypeError(
            f"opt_algo returned {type(updates).__name__} without a status; "
            "it must follow the protocol (return the Updates of finish())"
        )
    return params, stop, updates, cost


def _graph(cost, updates):
    """What the compiled function computes and writes: the cost, each updated
    variable and its new value."""
    return [cost, *updates.keys(), *updates.values()]


def _shared_inputs(graph):
    """The shared variables of ``graph``, each once, in the order of a walk
    that is the same for equal graphs."""
    seen = {}
    for variable in graph_inputs(graph):
        if isinstance(variable, SharedVariable):
            seen.setdefault(variable, None)
    return list(seen)


class _Iterations:
    """The compiled iterations of this process, by rule, options and structure.

    An iteration is found by rule, options, container, dtypes and number of
    dimensions of ``x0``; one compiled for other sizes serves a new size when
    the rule's graph for it is the same (checked once per size, by building
    it). Holds at most ``size`` iterations; a new one replaces the least
    recently used free one. ``compilations`` counts the iterations compiled.
    """

    def __init__(self, size=64):
        self.size = size
        self.compilations = 0
        self.loaded = 0  # from the disk cache (_disk)
        self._entries = OrderedDict()
        self._lock = threading.Lock()

    def acquire(self, run, structure, df, algo, options):
        kept = []
        key = (
            algo,
            _df_kind(df),
            structure.container,
            tuple(len(shape) for shape in structure.shapes),
            tuple(str(dtype) for dtype in structure.dtypes),
            options_key(options, kept),
        )
        shapes = structure.shapes
        with self._lock:
            entries = self._entries.get(key, ())
            free = [iteration for iteration in entries if iteration.free()]
            # one that served these shapes, else one whose graph fits them
            for iteration in sorted(free, key=lambda i: not i.serves(shapes)):
                if iteration.serves(shapes) or (
                    iteration.fits is not False
                    and _fits(iteration, structure, algo, options)
                ):
                    iteration.owner = weakref.ref(run)
                    self._entries.move_to_end(key)
                    return iteration
        iteration = self._made(structure, df, algo, options, key, kept)
        iteration.owner = weakref.ref(run)
        iteration.kept = kept  # the objects compared by identity stay alive
        with self._lock:
            if iteration.reusable:
                self._entries.setdefault(key, []).append(iteration)
                self._entries.move_to_end(key)
                self._evict()
        return iteration

    def _made(self, structure, df, algo, options, key, kept):
        """An iteration loaded from the disk cache or compiled (and saved).

        On disk, an iteration is kept under a name for its rule, options and
        structure without the sizes, and serves other sizes as in a process;
        one whose graph depends on the size is kept under a name with them.
        """
        name = getattr(algo, "__name__", repr(algo))
        shapes = structure.shapes
        names = [None, None]
        if not kept:
            names = [_disk.key(algo, (*key[1:], shapes)), _disk.key(algo, key[1:])]
        start = time.perf_counter()
        for on_disk in names:
            iteration = None if on_disk is None else _disk.load(on_disk)
            if iteration is None:
                continue
            iteration.disk_name = on_disk
            if iteration.serves(shapes) or _fits(iteration, structure, algo, options):
                self.loaded += 1
                _LOG.info(
                    "loaded %s, compiled by an earlier process, in %.2f s",
                    name,
                    time.perf_counter() - start,
                )
                return iteration
            names[1] = None  # the size-free name serves other sizes
        _LOG.info(
            "compiling %s for x0 of shapes %s (once per structure; kept on disk "
            "for later processes)",
            name,
            shapes,
        )
        iteration = _Iteration(structure, df, algo, options)
        with self._lock:
            self.compilations += 1
        _LOG.info("compiled %s in %.2f s", name, time.perf_counter() - start)
        on_disk = names[1] or names[0]
        if on_disk is not None and iteration.reusable:
            _disk.save(on_disk, iteration)
            iteration.disk_name = on_disk
        return iteration

    def clear(self):
        with self._lock:
            self._entries.clear()

    def _evict(self):
        excess = sum(map(len, self._entries.values())) - self.size
        for key in list(self._entries):
            if excess <= 0:
                return
            entries = self._entries[key]
            for iteration in [i for i in entries if i.free()][:excess]:
                entries.remove(iteration)
                excess -= 1
            if not entries:
                del self._entries[key]


def _fits(iteration, structure, algo, options):
    """Whether ``iteration`` serves ``structure``'s shapes (remembering a
    rule whose graph depends on the sizes, so as to try it only once)."""
    fits = iteration.adopt(structure, algo, options)
    iteration.fits = fits
    return fits


_ITERATIONS = _Iterations()


def _df_kind(df):
    if isinstance(df, SecondOrder):
        return ("hessp", _df_kind(df.gradient))
    if df is True or df is None or isinstance(df, str):
        return df
    return "callable"
