"""JAX conversion of PyTensor's while loops (a ``scan`` with ``until``).

PyTensor 3.0's JAX backend converts a ``scan`` only when it is a ``for``
loop of a number of steps known when JAX traces the function: every while
loop fails ("While Scan cannot yet be converted to JAX"), and so does a
``for`` loop whose number of steps is computed in the graph. This keeps
every line search of this package, and every loop that runs zero or more
times on a condition, off JAX. This module adds those cases, on
:func:`jax.lax.while_loop`, and leaves the other loops to PyTensor's own
conversion.

JAX requires static shapes, and an output holding every iteration of a loop
whose number of iterations is known only at run time has none. Outputs
read through their last value only are what the loops of this package need
(see :func:`pytensor_optim._scan.last_or`), and PyTensor's
memory rewrites make them *untraced* states, one value carried from one
iteration to the next: the JAX loop carries them. An output that
keeps its history is supported when its buffer keeps at most one entry
more than the initial values its loop reads (its length is then the
buffer's, whatever the number of iterations); anything longer raises
``NotImplementedError`` naming the loop, the backend and the alternatives.

:mod:`pytensor_optim._backends` registers the conversion with PyTensor's
``jax_funcify`` dispatch when PyTensor's JAX dispatch module is imported
(the first compilation with ``mode="JAX"``), so importing this package
neither needs nor imports JAX.
"""

import math

from pytensor.compile import optdb
from pytensor.compile.mode import JAX, get_mode
from pytensor.graph.rewriting.basic import dfs_rewriter, node_rewriter
from pytensor.graph.rewriting.db import RewriteDatabaseQuery
from pytensor.scan.op import Scan
from pytensor.tensor.basic import (
    AllocEmpty,
    alloc,
    get_underlying_scalar_constant_value,
)
from pytensor.tensor.exceptions import NotScalarConstantError
from pytensor.tensor.subtensor import IncSubtensor, Subtensor, get_idx_list

from ._compat import mutable_inner_fgraph

__all__ = ["register", "register_rewrite"]

_MARK = "_pytensor_optim_while_loop"
_REWRITE = "pytensor_optim_single_entry_scan_buffers"


def register():
    """Register the conversion with PyTensor's ``jax_funcify`` for ``Scan``.

    Imports JAX. Idempotent. Returns the function now dispatched for
    ``Scan``: ours for while loops and for ``for`` loops of a traced number
    of steps, PyTensor's for the others.
    """
    from pytensor.link.jax.dispatch import jax_funcify

    original = jax_funcify.dispatch(Scan)
    if getattr(original, _MARK, False):
        return original

    def funcify_scan(op, node=None, **kwargs):
        if op.info.as_while:
            _check_static_buffers(op, node)
            return _funcify_loop(op, node, **kwargs)
        for_loop = original(op, node=node, **kwargs)
        if _constant_int(node.inputs[0]) is not None:
            return for_loop
        dynamic_loop = _funcify_loop(op, node, **kwargs)

        def scan(*outer_inputs):
            if _is_concrete(outer_inputs[0]):
                return for_loop(*outer_inputs)
            return dynamic_loop(*outer_inputs)

        return scan

    setattr(funcify_scan, _MARK, True)
    jax_funcify.register(Scan, funcify_scan)
    return funcify_scan


def _single_entry_buffers(fgraph, node):
    """Give the buffers of one entry that PyTensor leaves sliced their length.

    PyTensor's memory rewrite shrinks the buffer of a loop state read only
    through its last value to ``buffer[:1]``, where ``buffer`` is
    ``set_subtensor(empty(n_steps + 1, ...)[:1], initial)``, but to a fresh
    buffer of static length 1, which then becomes an untraced state, only
    when ``initial`` fills the buffer without broadcasting. A state that
    starts from broadcast zeros keeps ``buffer[:1]``, whose length JAX
    cannot know statically. As ``n_steps >= 0``, that slice is ``initial``
    broadcast to length 1.
    """
    op = node.op
    info = op.info
    start = 1 + info.n_seqs + info.n_mit_mot + info.n_mit_sot
    inputs = list(node.inputs)
    changed = False
    for position in range(start, start + info.n_sit_sot):
        buffer = inputs[position]
        if buffer.type.shape[0] == 1:
            continue
        entry = _first_entry(buffer)
        if entry is not None:
            inputs[position] = entry
            changed = True
    if not changed:
        return None
    outputs = op(*inputs, return_list=True)
    return dict(zip(node.outputs, outputs, strict=True))


def _first_entry(buffer):
    """``initial`` of length 1 when ``buffer`` is the slice described above."""
    if buffer.owner is None or not isinstance(buffer.owner.op, Subtensor):
        return None
    if not _is_prefix_of_one(buffer.owner):
        return None
    filled = buffer.owner.inputs[0]
    if filled.owner is None or not isinstance(filled.owner.op, IncSubtensor):
        return None
    set_node = filled.owner
    if not set_node.op.set_instead_of_inc or not _is_prefix_of_one(set_node):
        return None
    empty, initial = set_node.inputs[:2]
    if empty.owner is None or not isinstance(empty.owner.op, AllocEmpty):
        return None
    entry = alloc(initial, 1, *empty.owner.inputs[1:])
    if entry.type.ndim != buffer.type.ndim or entry.type.dtype != buffer.type.dtype:
        return None
    return entry


def _is_prefix_of_one(node):
    """Whether the (Inc)Subtensor ``node`` indexes ``[:1]``."""
    return _prefix_stop(node) == 1


def _prefix_stop(node):
    """``k`` when the (Inc)Subtensor ``node`` indexes ``[:k]`` with a constant
    ``k``, else None."""
    # an IncSubtensor's inputs are (x, y, *indices), a Subtensor's (x, *indices)
    inputs = node.inputs[1:] if isinstance(node.op, IncSubtensor) else node.inputs
    indices = get_idx_list(inputs, node.op.idx_list)
    if len(indices) != 1 or not isinstance(indices[0], slice):
        return None
    index = indices[0]
    if index.start is not None or index.step is not None or index.stop is None:
        return None
    return _constant_int(index.stop)


def register_rewrite():
    """Add :func:`_single_entry_buffers` to the rewrites of the JAX mode."""
    if _REWRITE in optdb:
        return
    optdb.register(
        _REWRITE,
        dfs_rewriter(node_rewriter([Scan])(_single_entry_buffers)),
        "jax",
        # after PyTensor shrinks the buffers, before it makes untraced states
        position=1.616,
    )


def _funcify_loop(op, node, **kwargs):
    """A JAX function of the ``Scan`` node on :func:`jax.lax.while_loop`.

    The loop carries, besides the untraced states, a *window* per output
    that keeps a history: its last entries (as many as its buffer), oldest
    first, from which the inner function reads its taps.
    """
    import jax
    import jax.numpy as jnp
    from pytensor.link.jax.dispatch import jax_funcify

    info = op.info
    if info.n_mit_mot:
        raise NotImplementedError(
            _message(
                op,
                "it has outputs that read and write several steps of their "
                "history (the gradient of another loop)",
            )
        )
    # the same rewrites as PyTensor's conversion of for loops
    rewriter = (
        get_mode(op.mode)
        .including("jax")
        .excluding("numba", *JAX._optimizer.exclude)
        .optimizer
    )
    fgraph = mutable_inner_fgraph(op)
    rewriter(fgraph)
    # Loops inside the loop: those rewrites leave out the memory rewrites
    # (tagged "numba" too) that make their states untraced, which JAX needs
    if any(isinstance(inner.op, Scan) for inner in fgraph.apply_nodes):
        _nested_loop_rewriter()(fgraph)
    inner_function = jax_funcify(fgraph, **kwargs)

    taps = [*info.mit_sot_in_slices, *info.sit_sot_in_slices]
    initial_lengths = [-min(slices) for slices in taps]
    n_traced = len(taps)
    n_nit_sot = info.n_nit_sot
    traced_dtypes = [out.type.dtype for out in node.outputs[:n_traced]]
    nit_sot_dtypes = [
        out.type.dtype for out in node.outputs[n_traced : n_traced + n_nit_sot]
    ]
    nit_sot_sizes = [_constant_int(size) for size in op.outer_nitsot(node.inputs)]
    untraced_dtypes = [
        variable.type.dtype for variable in op.outer_untraced_sit_sot(node.inputs)
    ]

    def inner_inputs(i, windows, untraced, sequences, non_sequences):
        return (
            *(sequence[i] for sequence in sequences),
            *(
                window[window.shape[0] + tap]
                for window, slices in zip(windows, taps, strict=True)
                for tap in slices
            ),
            *untraced,
            *non_sequences,
        )

    def loop(*outer_inputs):
        outer_inputs = list(outer_inputs)
        n_steps = outer_inputs[0]
        sequences = op.outer_seqs(outer_inputs)
        non_sequences = op.outer_non_seqs(outer_inputs)
        buffers = [
            jnp.asarray(buffer, dtype=dtype)
            for buffer, dtype in zip(
                op.outer_mitsot(outer_inputs) + op.outer_sitsot(outer_inputs),
                traced_dtypes,
                strict=True,
            )
        ]
        untraced = [
            jnp.asarray(value, dtype=dtype)
            for value, dtype in zip(
                op.outer_untraced_sit_sot(outer_inputs), untraced_dtypes, strict=True
            )
        ]
        windows = []
        for buffer, length in zip(buffers, initial_lengths, strict=True):
            _check_length(op, buffer.shape[0], length)
            window = buffer[:length]
            if buffer.shape[0] > length:
                # a slot for the newest value, never read before it is set
                window = jnp.concatenate([jnp.zeros_like(buffer[:1]), window])
            windows.append(window)
        if n_nit_sot:
            for size in nit_sot_sizes:
                _check_length(op, size, 0)
            shapes = jax.eval_shape(
                lambda *inputs: tuple(inner_function(*inputs)),
                *inner_inputs(0, windows, untraced, sequences, non_sequences),
            )
            windows.extend(
                jnp.zeros((size, *shape.shape), dtype=dtype)
                for size, shape, dtype in zip(
                    nit_sot_sizes,
                    op.inner_nitsot_outs(list(shapes)),
                    nit_sot_dtypes,
                    strict=True,
                )
            )

        def running(carry):
            i, going, _, _ = carry
            return jnp.logical_and(going, i < n_steps)

        def body(carry):
            i, _, windows, untraced = carry
            outputs = list(
                inner_function(
                    *inner_inputs(
                        i, windows[:n_traced], untraced, sequences, non_sequences
                    )
                )
            )
            new_values = [
                *op.inner_mitsot_outs(outputs),
                *op.inner_sitsot_outs(outputs),
                *op.inner_nitsot_outs(outputs),
            ]
            new_windows = [
                jnp.concatenate(
                    [window[1:], jnp.asarray(value, dtype=window.dtype)[None]]
                )
                if window.shape[0]
                else window
                for window, value in zip(windows, new_values, strict=True)
            ]
            new_untraced = [
                jnp.asarray(value, dtype=old.dtype)
                for value, old in zip(
                    op.inner_untraced_sit_sot_outs(outputs), untraced, strict=True
                )
            ]
            going = (
                jnp.logical_not(jnp.asarray(outputs[-1], dtype=bool))
                if info.as_while
                else jnp.asarray(True)
            )
            return i + 1, going, new_windows, new_untraced

        start = (jnp.asarray(0, dtype="int64"), jnp.asarray(True), windows, untraced)
        done, _, windows, untraced = jax.lax.while_loop(running, body, start)
        # after no iteration the buffers come back as given (PyTensor's Scan)
        traced = [
            jnp.where(done == 0, buffer, window)
            for buffer, window in zip(buffers, windows[:n_traced], strict=True)
        ]
        results = [*traced, *windows[n_traced:], *untraced]
        return results[0] if len(results) == 1 else results

    return loop


def _nested_loop_rewriter():
    """PyTensor's memory rewrites of loops for backends without
    preallocation, then ours (:func:`register_rewrite`)."""
    return optdb.query(
        RewriteDatabaseQuery(
            include=[
                "scan_save_mem_no_prealloc",
                _REWRITE,
                "scan_sit_sot_to_untraced",
            ]
        )
    )


def _check_static_buffers(op, node):
    """Raise the clear error at compile time for a buffer that grows with the
    number of steps (the rest is checked on the shapes JAX traces)."""
    info = op.info
    lengths = [-min(slices) for slices in info.mit_sot_in_slices]
    lengths += [1] * info.n_sit_sot
    buffers = op.outer_mitsot(node.inputs) + op.outer_sitsot(node.inputs)
    for buffer, length in zip(buffers, lengths, strict=True):
        bound = _length_bound(buffer)
        if bound is not None:
            _check_length(op, bound, length)
    for size in op.outer_nitsot(node.inputs):
        _check_length(op, _constant_int(size), 0)


def _length_bound(buffer):
    """An upper bound of ``buffer``'s length known from the graph: its static
    length, ``k`` for ``x[:k]``, infinity for a buffer allocated with a
    length computed at run time (scan's buffer of ``n_steps`` + initial
    values); None when unknown here."""
    if buffer.type.shape[0] is not None:
        return buffer.type.shape[0]
    node = buffer.owner
    if node is None:
        return None
    if isinstance(node.op, Subtensor):
        return _prefix_stop(node)
    if isinstance(node.op, IncSubtensor):
        node = node.inputs[0].owner
    if (
        node is not None
        and isinstance(node.op, AllocEmpty)
        and _constant_int(node.inputs[0]) is None
    ):
        return math.inf
    return None


def _check_length(op, length, initial):
    if length is None or length > initial + 1:
        raise NotImplementedError(
            _message(
                op,
                "an output keeps the values of all its iterations, whose number "
                "is known only at run time, and JAX needs static shapes (a loop "
                "converts when only the last value of each output is read)",
            )
        )


def _constant_int(variable):
    try:
        return int(get_underlying_scalar_constant_value(variable))
    except NotScalarConstantError:
        return None


def _is_concrete(value):
    import jax

    return not isinstance(value, jax.core.Tracer)


def _message(op, reason):
    name = op.name if op.name and op.name != "scan_fn" else "a loop"
    return (
        f"{name} cannot compile with mode='JAX': {reason}; use mode='NUMBA' "
        "(the default) or mode='CVM'"
    )
