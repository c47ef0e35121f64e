"""Loops inside one compiled call: ``scan`` with a symbolic number of
steps, built cheaply, and its last value (the line searches, the inner CG
loops of truncated_newton and hessian_free, fista's backtracking)."""

import pytensor.tensor as pt
from pytensor.compile.mode import Mode, get_mode
from pytensor.graph.replace import graph_replace
from pytensor.scan.op import Scan
from pytensor.tensor.basic import get_underlying_scalar_constant_value
from pytensor.tensor.exceptions import NotScalarConstantError
from pytensor.tensor.subtensor import Subtensor, get_idx_list

from ._compat import scan


def loop(body, initial, invariants, n_steps, mode, name=None):
    """``scan(body, ...)`` for a symbolic number of steps; the list of outputs.

    ``scan`` infers the static shapes of its buffers through the whole graph
    of ``n_steps`` and of the initial values (for a line search or an inner
    CG loop, the rule's direction and gradients: slow to build). The loop is
    built on stand-ins, variables of the same types, for ``n_steps`` and for
    every computed initial value and invariant; the real ones then replace
    them. ``name`` names the loop (``scan``'s ``name``), for instance the
    rule, in printed graphs and in errors about it.
    """
    replacements = {}

    def stand_in(variable):
        if variable.owner is None:  # an input, a shared variable, a constant
            return variable
        placeholder = variable.type()
        replacements[placeholder] = variable
        return placeholder

    stand_in_steps = pt.lscalar("n_steps")
    replacements[stand_in_steps] = pt.cast(n_steps, "int64")
    outputs = scan(
        body,
        outputs_info=[stand_in(value) for value in initial],
        non_sequences=[stand_in(value) for value in invariants],
        n_steps=stand_in_steps,
        return_updates=False,
        mode=mode,
        name=name,
    )
    if not isinstance(outputs, list | tuple):
        outputs = [outputs]
    return graph_replace(list(outputs), replacements)


def last_or(initial, output):
    """The last entry of a ``scan`` output, or ``initial`` after no iteration.

    ``initial`` is the loop's initial value of that output. ``scan`` returns
    its buffer without the initial value, ``buffer[1:]``: the last entry of
    the buffer itself is the answer, and is what PyTensor's memory rewrites
    recognise, so the loop then carries one value instead of keeping every
    iteration (which is also what lets a while loop compile with JAX, see
    ``pytensor_optim._jax_while``).

    For any other ``output``: ``output[-1]`` of an empty output fails even
    where a ``switch`` would not use it; prepending the initial value is
    always valid. (The index is the number of iterations, not -1: PyTensor
    3.0 rewrites a negative index into a join of inputs of unknown length to
    the wrong input.)
    """
    buffer = _scan_buffer(output)
    if buffer is not None:
        return buffer[-1]
    return pt.concatenate([pt.shape_padleft(initial), output])[output.shape[0]]


def _scan_buffer(output):
    """The buffer of the ``scan`` output ``output = buffer[1:]``, else None."""
    node = output.owner
    if node is None or not isinstance(node.op, Subtensor):
        return None
    buffer = node.inputs[0]
    if buffer.owner is None or not isinstance(buffer.owner.op, Scan):
        return None
    indices = get_idx_list(node.inputs, node.op.idx_list)
    if len(indices) != 1:
        return None
    (index,) = indices
    if not (
        isinstance(index, slice)
        and index.stop is None
        and index.step is None
        and _is_one(index.start)
    ):
        return None
    return buffer


def _is_one(value):
    try:
        return int(get_underlying_scalar_constant_value(value)) == 1
    except (NotScalarConstantError, TypeError):
        return False


def like(value, template):
    """``value`` with exactly ``template``'s type (scan needs matching types)."""
    value = pt.as_tensor_variable(value)
    if value.dtype != template.dtype:
        value = pt.cast(value, template.dtype)
    if value.type != template.type:
        value = template.type.filter_variable(value, allow_convert=True)
    return value


def check_mode(mode):
    """``mode`` for ``scan``: None, a mode's name, or a Mode."""
    if mode is None or isinstance(mode, Mode):
        return mode
    if not isinstance(mode, str):
        raise TypeError(f"mode must be None, a mode's name or a Mode, got {mode!r}")
    try:
        get_mode(mode)
    except Exception as error:
        raise ValueError(f"mode={mode!r} is not a compilation mode") from error
    return mode
