"""What the rules need from PyTensor's backends beyond what PyTensor 3.0 has.

- JAX: while loops (every line search and inner solver), see
  :mod:`pytensor_optim._jax_while`; and reductions and elementwise
  operations of the declared dtype (PyTensor's JAX reductions return their
  accumulator's dtype: a float32 sum, accumulated in float64, came back
  float64 and turned the float32 graphs that hold one into float64; on
  PyTensor 3.3 a ``switch`` of two int8 constants comes back a weakly typed
  int64).
- Both, and the Python linkers: the implementations of this package's own
  nodes (:class:`~pytensor_optim._two_loop.TwoLoop`, L-BFGS's history
  update and direction; for Numba,
  :class:`~pytensor_optim.line_search._dcsrch.DcsrchStep`, an iteration of
  the Moré–Thuente search, whose inner graph serves JAX, and
  :class:`~pytensor_optim.line_search._fused.FusedMoreThuenteSearch`, a
  whole search as one loop; every other mode inlines the search's node, by
  a rewrite registered when this package is imported).
- Numba: an ``ifelse`` whose outputs are random generators. The rules keep
  their state unchanged while ``stop`` is set with an ``ifelse`` on state
  that an elementwise ``switch`` cannot carry (CMA-ES's generator), and
  PyTensor's Numba ``IfElse`` copies its outputs with ``.copy()``, which
  Numba's generators lack.

Each addition is registered with PyTensor's dispatch of that backend when
the backend's dispatch module is imported (the first compilation with that
mode), so importing this package imports neither JAX nor Numba.
"""

import importlib.abc
import sys
import warnings
from hashlib import sha256

from . import _jax_while, _two_loop
from .line_search import _dcsrch, _fused

__all__ = ["install", "register_jax", "register_numba"]

_JAX_DISPATCH = "pytensor.link.jax.dispatch"
_NUMBA_DISPATCH = "pytensor.link.numba.dispatch"
_MARK = "_pytensor_optim_addition"


def install():
    """Register each addition now if its backend is loaded, else once it is."""
    _jax_while.register_rewrite()
    _fused.register_rewrites()
    _after_import(_JAX_DISPATCH, register_jax, "mode='JAX'")
    _after_import(_NUMBA_DISPATCH, register_numba, "mode='NUMBA'")


def register_jax():
    """Register the JAX additions (imports JAX; idempotent)."""
    from pytensor.link.jax.dispatch import jax_funcify
    from pytensor.tensor.elemwise import CAReduce, Elemwise

    _jax_while.register()
    _register_or_warn(_two_loop.register_jax, "lbfgs under mode='JAX'")
    for op_type in (CAReduce, Elemwise):
        _declared_dtypes_on_jax(jax_funcify, op_type)


def _declared_dtypes_on_jax(jax_funcify, op_type):
    """Make the JAX conversion of ``op_type`` return its declared dtypes.

    PyTensor's JAX reductions return their accumulator's dtype, and an
    elementwise operation of constants only may return a weakly typed int64
    (PyTensor 3.3: ``switch(c, int8(1), int8(2))``), where the graph says
    otherwise. The cast costs nothing when the dtype is already right.
    """
    import jax.numpy as jnp

    original = jax_funcify.dispatch(op_type)
    if getattr(original, _MARK, False):
        return

    def funcify(op, node=None, **kwargs):
        compute = original(op, node=node, **kwargs)
        if node is None:
            return compute
        dtypes = [output.type.dtype for output in node.outputs]
        if len(dtypes) == 1:
            (dtype,) = dtypes

            def declared(*inputs):
                return jnp.asarray(compute(*inputs), dtype=dtype)

        else:

            def declared(*inputs):
                return tuple(
                    jnp.asarray(value, dtype=dtype)
                    for value, dtype in zip(compute(*inputs), dtypes, strict=True)
                )

        return declared

    setattr(funcify, _MARK, True)
    jax_funcify.register(op_type, funcify)


def register_numba():
    """Register the Numba additions (imports Numba; idempotent); one that
    fails does not keep the other from being registered."""
    _register_or_warn(_two_loop.register_numba, "lbfgs under mode='NUMBA'")
    _register_or_warn(_dcsrch.register_numba, "more_thuente under mode='NUMBA'")
    _register_or_warn(_fused.register_numba, "more_thuente under mode='NUMBA'")
    _register_or_warn(_register_numba_ifelse, "CMA-ES with stop under mode='NUMBA'")


def _register_numba_ifelse():
    """Register an ``IfElse`` for random generators with PyTensor's Numba
    dispatch.

    ``IfElse`` nodes whose outputs are all tensors keep PyTensor's own
    conversion; the others copy their outputs with PyTensor's Numba
    ``deepcopy``, which knows generators.
    """
    from pytensor.link.numba.cache import compile_numba_function_src
    from pytensor.link.numba.dispatch import basic as numba_basic
    from pytensor.link.numba.dispatch.compile_ops import numba_deepcopy
    from pytensor.tensor.type import TensorType

    from ._compat import IfElse

    registry = numba_basic.numba_funcify_and_cache_key
    if getattr(registry.dispatch(IfElse), _MARK, False):
        return
    # the base case: PyTensor's IfElse conversion with its default cache key
    original = registry.dispatch(object)

    def funcify_ifelse(op, node=None, **kwargs):
        if node is None or all(
            isinstance(output.type, TensorType) for output in node.outputs
        ):
            return original(op, node=node, **kwargs)
        true_names = [f"t{i}" for i in range(op.n_outs)]
        false_names = [f"f{i}" for i in range(op.n_outs)]
        # the true branch may be a view (as PyTensor's); the false one never
        true_returns = ", ".join(
            true_names
            if op.as_view
            else (f"numba_deepcopy({name})" for name in true_names)
        )
        false_returns = ", ".join(f"numba_deepcopy({name})" for name in false_names)
        source = (
            f"def ifelse(cond, {', '.join(true_names + false_names)}):\n"
            f"    if cond:\n"
            f"        return {true_returns}\n"
            f"    else:\n"
            f"        return {false_returns}\n"
        )
        function = numba_basic.numba_njit(
            compile_numba_function_src(
                source, "ifelse", {"numba_deepcopy": numba_deepcopy}
            )
        )
        key = sha256(f"pytensor_optim.ifelse.deepcopy\n{source}".encode()).hexdigest()
        return function, key

    def funcify_ifelse_legacy(op, node=None, **kwargs):
        return funcify_ifelse(op, node=node, **kwargs)[0]

    setattr(funcify_ifelse, _MARK, True)
    registry.register(IfElse, funcify_ifelse)
    numba_basic.numba_funcify.register(IfElse, funcify_ifelse_legacy)


def _after_import(module, register, what):
    """Run ``register`` now if ``module`` is imported, else right after it is."""
    if module in sys.modules:
        _register_or_warn(register, what)
        return
    for finder in sys.meta_path:
        if isinstance(finder, _AfterImport) and finder.module == module:
            return
    sys.meta_path.insert(0, _AfterImport(module, register, what))


def _register_or_warn(register, what):
    # a failure must not break the backend, only our addition to it
    try:
        register()
    except Exception as error:  # pragma: no cover - depends on the versions
        warnings.warn(
            f"pytensor_optim could not extend PyTensor's backend for {what} "
            f"({error!r})",
            RuntimeWarning,
            stacklevel=2,
        )


class _AfterImport(importlib.abc.MetaPathFinder):
    """Finds ``module`` with the other finders, and runs ``register`` once
    the module has been executed."""

    def __init__(self, module, register, what):
        self.module, self.register, self.what = module, register, what

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.module:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        if spec.loader is not None:
            spec.loader = _RegisteringLoader(spec.loader, self.register, self.what)
        return spec


class _RegisteringLoader(importlib.abc.Loader):
    def __init__(self, loader, register, what):
        self.loader, self.register, self.what = loader, register, what

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        _register_or_warn(self.register, self.what)

    def __getattr__(self, name):
        return getattr(self.loader, name)
