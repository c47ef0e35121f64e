"""A whole Moré–Thuente search as one node, run as one loop under Numba.

:func:`~pytensor_optim.line_search.more_thuente` runs by the protocol's
driver, :func:`~pytensor_optim.line_search._core.run`: a ``scan`` whose body
evaluates the cost and gradients at the trial step, and then computes their
slope along the line, their finiteness, the count of evaluations, the
``dcsrch`` iteration (:class:`~pytensor_optim.line_search._dcsrch.DcsrchStep`)
and the gradients to keep. Under Numba each of those nodes, and each state
the loop carries, makes and frees arrays at every evaluation; on a small
problem they cost several times the evaluation itself.

:class:`MoreThuenteSearch` wraps the driver's graph of one search in an
:class:`~pytensor.compile.builders.OpFromGraph`: its inputs are the line
(parameters, direction, gradients, first step, cost and slope at the start,
whether to skip) and every other input of the cost (shared variables, data);
its outputs the :class:`~pytensor_optim.line_search.LineSearchResult`.

- Every mode but Numba's inlines the node: the C VM, the Python linker and
  JAX run the driver's graph, as before.
- Under Numba a rewrite (tagged ``numba``) turns it into
  :class:`FusedMoreThuenteSearch` first, which the Numba backend compiles
  as one loop (:func:`loop_source`): the evaluation, compiled from the cost's
  graph by PyTensor's Numba backend as ``scan`` compiles its body, then the
  slope and finiteness, and ``dcsrch``'s kernel, with the search's state in
  local variables.

The loop computes what the driver's graph computes, step by step (the
tests compare the two, ``tests/test_fused_search.py``), with IEEE arithmetic
(the slope's products in the gradients' dtype, summed in float64 as
PyTensor's ``Sum`` sums them); PyTensor's Numba backend may fuse a multiply
and an add in the graph's trial points and products, so the last bits may
differ.
"""

from hashlib import sha256
from typing import NamedTuple

import numpy as np
import pytensor.tensor as pt
from pytensor.compile.builders import OpFromGraph
from pytensor.graph.basic import Constant
from pytensor.graph.replace import graph_replace
from pytensor.graph.rewriting.basic import dfs_rewriter, node_rewriter
from pytensor.graph.traversal import graph_inputs

from .._compat import inner_graph
from .._kernels import backend_kernel, cache_key
from ._core import Line, result_of, result_tensors, run
from ._dcsrch import (
    AT_MAX,
    AT_MIN,
    CONSTANTS,
    CONVERGED,
    FIELDS,
    RUNNING,
    XTRAPU,
    _kernel,
)

__all__ = ["FusedMoreThuenteSearch", "MoreThuenteSearch", "search_node"]


class MoreThuenteSearch(OpFromGraph):
    """One Moré–Thuente search: the driver's graph as an ``OpFromGraph``.

    Build it with :func:`search_node`. Every mode but Numba's inlines it.
    """

    def fused(self):
        """The same search as a :class:`FusedMoreThuenteSearch`."""
        inputs, outputs = inner_graph(self)
        fused = FusedMoreThuenteSearch(
            inputs,
            outputs,
            strict=True,
            name="FusedMoreThuenteSearch",
        )
        fused.layout = self.layout
        return fused


class FusedMoreThuenteSearch(MoreThuenteSearch):
    """A :class:`MoreThuenteSearch` that the Numba backend runs as one loop."""


class _Layout(NamedTuple):
    """What the Numba loop needs to know of a search, besides its inputs.

    ``n_params`` parameters and ``n_extras`` other inputs of the cost;
    ``dtype`` the line's; ``budget`` the most evaluations; ``options`` the
    floats ``(c1, c2, xtol, min_step, max_step)``; ``evaluation`` the cost
    and gradients at a trial point, ``(inputs, outputs)``: the trial
    parameters and the other inputs, to the cost in ``dtype`` and each
    gradient in its parameter's dtype.
    """

    n_params: int
    n_extras: int
    dtype: str
    budget: int
    options: tuple
    evaluation: tuple


def search_node(search, line):
    """The result of ``run(search, line)`` as the outputs of one node.

    Returns the :class:`LineSearchResult` that ``run`` returns, computed by
    a :class:`MoreThuenteSearch` of the line's tensors and the cost's other
    inputs.
    """
    budget = search.evaluation_budget(line)
    params = list(line.params)
    n = len(params)
    cost, gradients = line.objective
    # everything else the cost and gradients read: shared variables, data
    extras = [
        variable
        for variable in graph_inputs([cost, *gradients])
        if not isinstance(variable, Constant) and variable not in params
    ]
    skip = line.skip if line.skip is not None else pt.constant(np.bool_(False))
    outer = [
        *params,
        *line.direction,
        *line.gradients,
        line.initial_step,
        line.cost,
        line.slope,
        pt.as_tensor_variable(skip),
        *extras,
    ]
    inner = [variable.type() for variable in outer]
    inner_params = inner[:n]
    inner_extras = inner[len(outer) - len(extras) :]
    objective = graph_replace(
        [cost, *gradients],
        dict(zip(params + extras, inner_params + inner_extras, strict=True)),
        strict=False,
    )
    inner_line = Line(
        inner_params,
        inner[n : 2 * n],
        inner[3 * n + 1],
        inner[2 * n : 3 * n],
        objective=(objective[0], objective[1:]),
        initial_step=inner[3 * n],
        max_evals=budget,
        skip=inner[3 * n + 3],
    )
    # the slope computed outside, as the driver would have it
    inner_line.slope = inner[3 * n + 2]
    outputs = result_tensors(run(search, inner_line))
    # strict: every input explicit (a shared variable read implicitly would
    # make the node rebuild itself without its layout)
    op = MoreThuenteSearch(inner, outputs, strict=True, name="MoreThuenteSearch")
    # the evaluation at a trial point, for the Numba loop: the inner
    # objective, the inner parameters standing for the trial point
    evaluation = (
        [*inner_params, *inner_extras],
        [
            pt.cast(objective[0], line.dtype),
            *(pt.cast(g, p.dtype) for g, p in zip(objective[1:], params, strict=True)),
        ],
    )
    op.layout = _Layout(
        n,
        len(extras),
        line.dtype,
        budget,
        (search.c1, search.c2, search.xtol, search.min_step, search.max_step),
        evaluation,
    )
    return result_of(op(*outer, return_list=True), n)


# ---- rewrites: Numba keeps the node whole, every other mode inlines it -------


@node_rewriter([MoreThuenteSearch])
def fuse_for_numba(fgraph, node):
    """Keep a search whole for the Numba backend (tagged ``numba``)."""
    if isinstance(node.op, FusedMoreThuenteSearch):
        return False
    return node.op.fused()(*node.inputs, return_list=True)


@node_rewriter([MoreThuenteSearch])
def inline_search(fgraph, node):
    """Replace a search by the driver's graph (every mode but Numba's)."""
    from pytensor.tensor.rewriting.ofg import inline_ofg_node

    if isinstance(node.op, FusedMoreThuenteSearch):
        return False
    return inline_ofg_node(node)


def register_rewrites():
    """Register both rewrites with PyTensor's rewrite database (idempotent).

    They run before PyTensor's own inlining of ``OpFromGraph`` nodes and
    before the rewrites of ``scan``: the fusion first, in Numba's modes (the
    ``numba`` tag), then the inlining, in every mode.
    """
    from pytensor.compile import optdb

    if "pytensor_optim_fuse_more_thuente" in optdb.__db__:
        return
    optdb.register(
        "pytensor_optim_fuse_more_thuente",
        dfs_rewriter(fuse_for_numba),
        "numba",
        position=-0.03,
    )
    optdb.register(
        "pytensor_optim_inline_more_thuente",
        dfs_rewriter(inline_search),
        "fast_compile",
        "fast_run",
        position=-0.02,
    )


# ---- the Numba loop -------------------------------------------------------------


def _start(start_step, start_cost, start_slope, step_min, step_max, state):
    """The first trial and the packed state before the first evaluation.

    What :meth:`_MoreThuente.init` computes, in the dtype of ``state`` (a
    vector of :data:`FIELDS`, filled here). Numba-compilable.
    """
    real = state.dtype.type
    trial = start_step
    if step_min > trial:
        trial = step_min
    if step_max < trial:
        trial = step_max
    width = step_max - step_min
    zero = real(0)
    state[0], state[1], state[2] = zero, zero, zero
    state[3], state[4] = start_cost, start_slope
    state[5], state[6], state[7] = zero, start_cost, start_slope
    state[8] = zero
    state[9] = trial + real(XTRAPU) * trial
    state[10] = width
    state[11] = width / real(0.5)
    state[12] = real(np.inf)
    state[13], state[14], state[15] = start_cost, zero, start_cost
    return trial


def _trial_point(step, direction, param):
    """``param + step direction``, the step cast to the direction's dtype (as
    ``axpy`` casts it); an array also for a 0-d parameter."""
    return np.asarray(direction.dtype.type(step) * direction + param)


def _all_finite(values):
    """Whether every entry of ``values`` is finite."""
    flat = values.ravel()
    for j in range(flat.size):
        if not np.isfinite(flat[j]):
            return False
    return True


def _inner(values, direction):
    """``sum(values * direction)`` as PyTensor's ``Sum`` computes it: each
    product in the arrays' dtype, summed in order in float64 (PyTensor
    accumulates float32 in float64), rounded to the dtype."""
    a, b = values.ravel(), direction.ravel()
    total = 0.0
    for j in range(a.size):
        total += np.float64(a[j] * b[j])
    return values.dtype.type(total)


def _ends(status):
    """Whether the search reports the last point (see ``returns_point``)."""
    return status == CONVERGED or status == AT_MAX or status == AT_MIN


_STX, _BEST_COST, _POINT_STEP, _POINT_COST = (
    FIELDS.index(name) for name in ("stx", "best_cost", "point_step", "point_cost")
)


def loop_source(n_params, n_extras):
    """The Python source of the loop, for ``n_params`` parameters and
    ``n_extras`` other inputs of the cost.

    Its arguments are the node's inputs (see :func:`search_node`); its
    globals the compiled evaluation ``evaluate``, the kernels, ``real`` (the
    line's dtype), ``budget`` and the options ``c1``, ..., ``step_max``.
    """
    params = [f"x{i}" for i in range(n_params)]
    directions = [f"d{i}" for i in range(n_params)]
    starts = [f"g0_{i}" for i in range(n_params)]
    extras = [f"e{i}" for i in range(n_extras)]
    trials = [f"xt{i}" for i in range(n_params)]
    news = [f"g{i}" for i in range(n_params)]
    kept = [f"kept{i}" for i in range(n_params)]
    outs = [f"out{i}" for i in range(n_params)]
    arguments = [*params, *directions, *starts, "t0", "f0", "slope0", "skip", *extras]
    lines = [
        f"def more_thuente_search({', '.join(arguments)}):",
        "    start_cost = real(f0.item())",
        "    start_slope = real(slope0.item())",
        "    state = np.empty(n_fields, dtype=real)",
        "    trial = start(real(t0.item()), start_cost, start_slope,"
        " step_min, step_max, state)",
        "    status = np.int8(running)",
        "    descent = start_slope < real(0) and not skip.item()",
        "    n_steps = budget if descent else 0",
        "    evals = 0",
        "    finite = True",
        *(f"    {k} = np.zeros_like({x})" for k, x in zip(kept, params, strict=True)),
        "    while evals < n_steps:",
        *(
            f"        {t} = trial_point(trial, {d}, {x})"
            for t, d, x in zip(trials, directions, params, strict=True)
        ),
        f"        cost, {', '.join(news)}, = evaluate({', '.join(trials + extras)})",
        "        f = real(cost.item())",
        "        evals += 1",
        "        finite = np.isfinite(f)"
        + "".join(f" and all_finite({g})" for g in news),
        "        slope = "
        + " + ".join(
            f"real(inner({g}, {d}))" for g, d in zip(news, directions, strict=True)
        ),
        "        trial, status, state, takes = step(state, trial, f, slope, finite,"
        " start_cost, start_slope, c1, c2, xtol, step_min, step_max)",
        "        if takes:",
        *(f"            {k} = {g}" for k, g in zip(kept, news, strict=True)),
        "        if status != running:",
        "            break",
        "    last = ends(status)",
        "    end_step = state[point_step] if last else state[stx]",
        "    end_cost = state[point_cost] if last else state[best_cost]",
        "    success = end_step > real(0) and end_cost < start_cost",
        "    converged = status == converged_code",
        "    non_finite = (not success) and (not finite)",
        "    success = descent and success",
        "    converged = converged and success",
        "    non_finite = descent and non_finite",
        "    if not success:",
        "        end_step = real(0)",
        "        end_cost = start_cost",
        # the gradients at the step, typed like those at the start
        *(
            f"    {o} = {k}.astype({g0}.dtype) if success else {g0}.copy()"
            for o, k, g0 in zip(outs, kept, starts, strict=True)
        ),
        "    return (",
        "        np.asarray(end_step),",
        "        np.asarray(end_cost),",
        *(f"        {o}," for o in outs),
        "        np.asarray(np.int64(evals)),",
        "        np.asarray(success),",
        "        np.asarray(converged),",
        "        np.asarray(non_finite),",
        "    )",
    ]
    return "\n".join(lines) + "\n"


def _evaluation_function(layout):
    """The cost and gradients at a trial point, rewritten with the ``NUMBA``
    mode's rewrites and compiled by PyTensor's Numba backend, as ``scan``
    prepares its body: ``(function, cache key)``."""
    from pytensor.compile.aliasing import add_supervisor_to_fgraph, insert_deepcopy
    from pytensor.compile.io import In, Out
    from pytensor.compile.mode import get_mode
    from pytensor.graph.fg import FunctionGraph
    from pytensor.link.numba.dispatch import basic as numba_basic

    inputs, outputs = layout.evaluation
    fgraph = FunctionGraph(inputs, outputs, clone=True)
    specs = [In(x, borrow=True, mutable=False) for x in fgraph.inputs]
    add_supervisor_to_fgraph(fgraph=fgraph, input_specs=specs, accept_inplace=True)
    get_mode("NUMBA").optimizer.rewrite(fgraph)
    insert_deepcopy(
        fgraph,
        wrapped_inputs=specs,
        wrapped_outputs=[Out(x, borrow=False) for x in fgraph.outputs],
    )
    return numba_basic.numba_funcify_and_cache_key(
        fgraph, fgraph_name="more_thuente_evaluation"
    )


def register_numba():
    """Register :class:`FusedMoreThuenteSearch` with PyTensor's Numba
    dispatch (idempotent)."""
    from pytensor.link.numba.cache import compile_numba_function_src
    from pytensor.link.numba.dispatch import basic as numba_basic

    registry = numba_basic.numba_funcify_and_cache_key
    if FusedMoreThuenteSearch in registry.registry:
        return
    helpers = {
        "start": backend_kernel(_start),
        "trial_point": backend_kernel(_trial_point),
        "all_finite": backend_kernel(_all_finite),
        "inner": backend_kernel(_inner),
        "ends": backend_kernel(_ends),
        "step": backend_kernel(_kernel),
    }
    helper_key = cache_key(
        "pytensor_optim.FusedMoreThuenteSearch",
        _start,
        _trial_point,
        _all_finite,
        _inner,
        _ends,
        _kernel,
        constants=(*CONSTANTS, FIELDS),
    )

    def funcify(op, node=None, **kwargs):
        layout = op.layout
        evaluate, evaluation_key = _evaluation_function(layout)
        source = loop_source(layout.n_params, layout.n_extras)
        real = np.dtype(layout.dtype).type
        c1, c2, xtol, step_min, step_max = (real(v) for v in layout.options)
        environment = {
            "np": np,
            "evaluate": evaluate,
            **helpers,
            "real": real,
            "budget": layout.budget,
            "c1": c1,
            "c2": c2,
            "xtol": xtol,
            "step_min": step_min,
            "step_max": step_max,
            "n_fields": len(FIELDS),
            "running": RUNNING,
            "converged_code": CONVERGED,
            "stx": _STX,
            "best_cost": _BEST_COST,
            "point_step": _POINT_STEP,
            "point_cost": _POINT_COST,
        }
        function = compile_numba_function_src(
            source, "more_thuente_search", environment
        )
        key = None
        if evaluation_key is not None and helper_key is not None:
            text = "\n".join(
                [
                    source,
                    evaluation_key,
                    helper_key,
                    repr((layout.dtype, layout.budget, layout.options)),
                ]
            )
            key = sha256(text.encode()).hexdigest()
        # IEEE arithmetic, as the helpers (the sum over the parameters)
        return backend_kernel(function), key

    registry.register(FusedMoreThuenteSearch, funcify)
    numba_basic.numba_funcify.register(
        FusedMoreThuenteSearch,
        lambda op, node=None, **kwargs: funcify(op, node, **kwargs)[0],
    )
