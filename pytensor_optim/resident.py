"""A step function whose shared state stays on a JAX device between calls.

``pytensor.function(..., mode="JAX")`` keeps shared variables in PyTensor's
own storage: every call hands the stored values to the jitted function, NumPy
ones (a fixed gradient, anything set with ``set_value``) copied from host
memory each time, and since the storage holds the old values while the call
runs, nothing is donated and every updated buffer is allocated anew. For a
rule's updates on large parameters that traffic, not the update, is the
cost. :func:`resident_function` compiles the same ``(inputs, outputs,
updates)`` through PyTensor's own JAX conversion into one ``jax.jit``
function, and keeps every shared variable it reads or updates as a JAX array
on the device, the updated ones donated to the call that replaces them.
"""

from collections.abc import Mapping, Sequence

import numpy as np
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.configdefaults import config
from pytensor.graph.basic import Constant, Variable
from pytensor.graph.fg import FunctionGraph
from pytensor.graph.traversal import ancestors
from pytensor.tensor.random.type import RandomType
from pytensor.tensor.type import TensorType

__all__ = ["ResidentFunction", "resident_function"]

_INSTALL_HINT = "pip install pytensor-optim[jax]"


def resident_function(
    inputs=(),
    outputs=None,
    updates=None,
    *,
    device=None,
    numpy_outputs=False,
):
    r"""Compile ``(inputs, outputs, updates)`` into a device-resident JAX step.

    The arguments are those of :func:`pytensor.function`, with ``updates``
    typically the :class:`~pytensor_optim.Updates` a rule returns. Every
    shared variable the graph reads or updates is copied once to ``device``
    and stays there as a JAX array: a call passes those arrays and the
    per-call ``inputs`` to one ``jax.jit`` function and keeps the new values
    it returns. Nothing goes through host memory, and the buffers of the
    updated variables are donated, so XLA writes the new values in place.

    Parameters
    ----------
    inputs : list of TensorVariable, optional
        The variables given at each call (a minibatch, a learning rate), in
        call order. Shared variables are not allowed here: they are the
        resident state.
    outputs : TensorVariable or list of TensorVariable, optional
        What a call returns: one value for a single variable, a list for a
        list, ``[]`` for ``None``.
    updates : mapping or list of pairs, optional
        ``{shared variable: new value}``, as for :func:`pytensor.function`.
        A shared variable's ``default_update`` is used when it has no update
        here, as :func:`pytensor.function` does.
    device : jax.Device or str, optional
        Where the state lives and the step runs: a device, or a platform name
        (``"cpu"``, ``"gpu"``) for its first device. Default: the first device
        of JAX's default backend.
    numpy_outputs : bool, default False
        Return the outputs as NumPy arrays (copied to the host, waiting for
        the step) instead of JAX arrays (asynchronous, on ``device``).

    Returns
    -------
    ResidentFunction
        The step: ``step(*inputs)`` runs one call. See
        :class:`ResidentFunction` for reading, writing and synchronising the
        state.

    Raises
    ------
    ImportError
        When JAX is not installed.
    TypeError
        For an input that is shared or not a variable, an update key that is
        not a shared variable or a value of another type, or a shared
        variable JAX cannot hold (random generators, sparse matrices).
    ValueError
        For a repeated input or update key, or an unknown ``device``.

    Notes
    -----
    The graph goes through the steps of ``pytensor.function(...,
    mode="JAX")``: the shared variables are replaced by explicit inputs, the
    JAX mode's rewrites are applied, and ``jax_funcify`` turns the rewritten
    graph into a JAX function. It is wrapped as

    .. math::

        (s_{\text{updated}},\; s_{\text{read}},\; x_1, \dots, x_k)
        \;\mapsto\; (y_1, \dots, y_m,\; s'_{\text{updated}})

    and compiled by ``jax.jit`` with ``donate_argnums=0``: the arrays of the
    updated state :math:`s_{\text{updated}}` are consumed by the call and
    replaced by :math:`s'_{\text{updated}}`; the state that is only read,
    :math:`s_{\text{read}}`, stays as it is. float32 state stays float32:
    the package's JAX conversion of reductions returns their declared dtype
    (PyTensor's returns a float32 ``sum``'s float64 accumulator).

    The shared variables themselves are not touched by calls: copy the
    device values back with :meth:`ResidentFunction.write_back` (to continue
    with :func:`pytensor.function`, to checkpoint with
    ``Updates.state_dict``), and copy new host values to the device with
    :meth:`ResidentFunction.reload` (after ``set_value`` or
    ``Updates.load_state_dict``).

    References
    ----------
    .. [1] JAX documentation, "Buffer donation",
       https://docs.jax.dev/en/latest/faq.html#buffer-donation

    Examples
    --------
    >>> import pytest
    >>> jax = pytest.importorskip("jax")
    >>> import numpy as np, pytensor, pytensor.tensor as pt
    >>> from pytensor_optim import adam
    >>> from pytensor_optim.resident import resident_function
    >>> w = pytensor.shared(np.zeros(3, dtype="float32"), name="w")
    >>> x = pt.vector("x", dtype="float32")
    >>> cost = ((w - x) ** 2).sum()
    >>> step = resident_function([x], cost, adam([w], cost, step_size=0.1))
    >>> for _ in range(3):
    ...     loss = step(np.ones(3, dtype="float32"))
    >>> step.get_value(w).round(4)
    array([0.2984, 0.2984, 0.2984], dtype=float32)
    >>> w.get_value()  # the shared variable is untouched until write_back
    array([0., 0., 0.], dtype=float32)
    >>> step.write_back()
    >>> w.get_value().round(4)
    array([0.2984, 0.2984, 0.2984], dtype=float32)
    """
    try:
        import jax  # noqa: F401
    except ImportError as error:
        raise ImportError(f"resident_function needs JAX: {_INSTALL_HINT}") from error
    return ResidentFunction(
        inputs, outputs, updates, device=device, numpy_outputs=numpy_outputs
    )


class ResidentFunction:
    """One compiled step whose shared state lives on a JAX device.

    Made by :func:`resident_function`. Calls take the inputs in order and
    return the outputs; the state is read and written with the methods
    below, never by the shared variables' ``get_value``/``set_value``.

    Attributes
    ----------
    device : jax.Device
        Where the state lives and the step runs.
    shared_variables : tuple of SharedVariable
        The resident state: the updated variables first (in the order of
        ``updates``), then those only read.
    updated : tuple of SharedVariable
        The variables each call replaces (their buffers are donated).
    jax_function : callable
        The jitted ``(updated_state, read_state, *inputs) -> (outputs,
        new_updated_state)``, with ``updated_state`` and ``read_state``
        tuples of arrays aligned with :attr:`updated` and the rest of
        :attr:`shared_variables`; argument 0 is donated.

    Notes
    -----
    A call consumes the arrays of the updated state: an array obtained
    earlier from :attr:`state` or ``get_value(..., borrow=True)`` is deleted
    by the next call. ``get_value`` without ``borrow`` returns a NumPy copy
    that stays valid.
    """

    def __init__(self, inputs, outputs, updates, *, device=None, numpy_outputs=False):
        import jax

        self._jax = jax
        self.device = _resolve_device(jax, device)
        self._numpy_outputs = bool(numpy_outputs)
        self._inputs = _check_inputs(inputs)
        self._single_output = isinstance(outputs, Variable)
        output_list = _check_outputs(outputs)
        pairs = _check_updates(updates)
        pairs = _with_default_updates(pairs, output_list)

        self.updated = tuple(key for key, _ in pairs)
        read = [
            variable
            for variable in ancestors(output_list + [value for _, value in pairs])
            if isinstance(variable, SharedVariable) and variable not in self.updated
        ]
        self.shared_variables = self.updated + tuple(dict.fromkeys(read))
        _check_state_types(self.shared_variables)

        self._n_outputs = len(output_list)
        self.jax_function, self._static_inputs = self._compile(
            output_list, [value for _, value in pairs]
        )
        # the resident arrays, aligned with shared_variables
        self._n_updated = len(self.updated)
        self._index = {variable: i for i, variable in enumerate(self.shared_variables)}
        self._values = [None] * len(self.shared_variables)
        self.reload()

    # -- building --------------------------------------------------------------

    def _compile(self, outputs, new_values):
        from pytensor.compile.mode import get_mode
        from pytensor.link.jax.dispatch import jax_funcify, jax_typify
        from pytensor.link.jax.dispatch.shape import JAXShapeTuple
        from pytensor.link.utils import fgraph_to_python

        jax = self._jax
        # The shared variables become explicit inputs of a cloned graph, after
        # the per-call inputs, as pytensor.function's FunctionGraph has them.
        placeholders = {
            variable: variable.type(name=variable.name)
            for variable in self.shared_variables
        }
        fgraph = FunctionGraph(
            list(self._inputs) + list(self.shared_variables),
            list(outputs) + list(new_values),
            clone=True,
            memo=dict(placeholders),
        )
        mode = get_mode("JAX")
        with config.change_flags(mode=mode):
            mode.optimizer.rewrite(fgraph)

        # Inputs used only as shapes must be concrete when JAX traces: the
        # JAX linker passes them as static arguments, and so do we.
        n_inputs = len(self._inputs)
        static = tuple(
            index
            for index, variable in enumerate(fgraph.inputs[:n_inputs])
            if fgraph.clients[variable]
            and all(
                isinstance(node.op, JAXShapeTuple)
                for node, _ in fgraph.clients[variable]
            )
        )
        graph_function = fgraph_to_python(
            fgraph,
            jax_funcify,
            type_conversion_fn=jax_typify,
            fgraph_name="resident_step",
        )
        dtypes = [variable.type.dtype for variable in fgraph.outputs]
        n_outputs = self._n_outputs

        def step(updated_state, read_state, *inputs):
            import jax.numpy as jnp

            results = graph_function(*inputs, *updated_state, *read_state)
            # an output that is an input or a constant passes no node's cast
            results = [
                jnp.asarray(value, dtype=dtype)
                for value, dtype in zip(results, dtypes, strict=True)
            ]
            return tuple(results[:n_outputs]), tuple(results[n_outputs:])

        jitted = jax.jit(
            step,
            donate_argnums=0,
            static_argnums=tuple(2 + index for index in static),
        )
        return jitted, static

    # -- calling ---------------------------------------------------------------

    def __call__(self, *inputs):
        """Run one step on ``inputs`` and return the outputs."""
        if len(inputs) != len(self._inputs):
            names = ", ".join(str(variable) for variable in self._inputs)
            raise TypeError(
                f"expected {len(self._inputs)} inputs ({names}), got {len(inputs)}"
            )
        arguments = [
            self._input_value(index, variable, value)
            for index, (variable, value) in enumerate(
                zip(self._inputs, inputs, strict=True)
            )
        ]
        values, n_updated = self._values, self._n_updated
        outputs, values[:n_updated] = self.jax_function(
            tuple(values[:n_updated]), tuple(values[n_updated:]), *arguments
        )
        if self._numpy_outputs:
            outputs = [np.asarray(value) for value in outputs]
        if self._single_output:
            return outputs[0]
        return list(outputs)

    def _input_value(self, index, variable, value):
        jax = self._jax
        if index in self._static_inputs:
            return int(value)
        expected = variable.type
        if isinstance(value, jax.Array):
            if value.dtype != np.dtype(expected.dtype) or value.ndim != expected.ndim:
                raise TypeError(
                    f"input {index} ({variable}) expects {expected}, got a JAX "
                    f"array of dtype {value.dtype} and shape {value.shape}"
                )
            return value
        try:
            value = expected.filter(value)
        except TypeError as error:
            raise TypeError(f"input {index} ({variable}): {error}") from error
        return jax.device_put(value, self.device)

    # -- the state -------------------------------------------------------------

    @property
    def state(self) -> dict:
        """``{shared variable: resident JAX array}`` (borrowed, see Notes)."""
        return dict(zip(self.shared_variables, self._values, strict=True))

    def get_value(self, variable, borrow=False):
        """The resident value of ``variable``.

        A NumPy copy, or with ``borrow=True`` the JAX array itself (deleted
        by the next call when ``variable`` is updated).
        """
        value = self._values[self._held(variable)]
        if borrow:
            return value
        return np.array(value)

    def set_value(self, variable, value):
        """Put ``value`` on the device as the resident value of ``variable``."""
        index = self._held(variable)
        if isinstance(value, self._jax.Array):
            value = np.asarray(value)
        try:
            # the rules of the shared variable's own set_value (Python floats
            # go to its dtype, a wider NumPy dtype is refused)
            value = variable.type.filter(value)
        except TypeError as error:
            raise TypeError(f"set_value of {variable}: {error}") from error
        self._values[index] = self._jax.device_put(value, self.device)

    def reload(self):
        """Copy every shared variable's current value to the device."""
        for index, variable in enumerate(self.shared_variables):
            value = np.asarray(variable.get_value(borrow=True))
            # device_put copies: the donated buffers never alias host memory
            self._values[index] = self._jax.device_put(value, self.device)

    def write_back(self):
        """Copy every resident value into its shared variable."""
        for variable, value in zip(self.shared_variables, self._values, strict=True):
            variable.set_value(np.array(value), borrow=True)

    def block_until_ready(self):
        """Wait until the last call has finished; return ``self``."""
        self._jax.block_until_ready(self._values)
        return self

    def _held(self, variable):
        """The position of ``variable`` in :attr:`shared_variables`."""
        try:
            return self._index[variable]
        except (KeyError, TypeError):
            raise KeyError(
                f"{variable} is not a shared variable of this function; it holds "
                f"{[str(held) for held in self.shared_variables]}"
            ) from None

    def __repr__(self):
        return (
            f"ResidentFunction(inputs={[str(v) for v in self._inputs]}, "
            f"outputs={self._n_outputs}, updated={len(self.updated)}, "
            f"read={len(self.shared_variables) - len(self.updated)}, "
            f"device={self.device})"
        )


def _resolve_device(jax, device):
    if device is None:
        return jax.devices()[0]
    if isinstance(device, str):
        try:
            return jax.devices(device)[0]
        except RuntimeError as error:
            raise ValueError(
                f"device={device!r}: JAX has no such backend here "
                f"(available: {jax.default_backend()!r}, 'cpu')"
            ) from error
    if isinstance(device, jax.Device):
        return device
    raise TypeError(
        f"device must be a jax.Device, a platform name or None, got {device!r}"
    )


def _check_inputs(inputs):
    if isinstance(inputs, Variable) or not isinstance(inputs, Sequence):
        raise TypeError(
            f"inputs must be a list of variables, got {type(inputs).__name__}"
        )
    for index, variable in enumerate(inputs):
        if isinstance(variable, SharedVariable):
            raise TypeError(
                f"inputs[{index}] is the shared variable {variable}: shared "
                "variables are the resident state, pass only per-call inputs"
            )
        if not isinstance(variable, Variable) or isinstance(variable, Constant):
            raise TypeError(
                f"inputs[{index}] must be a symbolic variable, got {variable!r}"
            )
    if len(set(inputs)) != len(inputs):
        raise ValueError(f"inputs holds a variable twice: {list(inputs)}")
    return tuple(inputs)


def _check_outputs(outputs):
    if outputs is None:
        return []
    if isinstance(outputs, Variable):
        return [outputs]
    if not isinstance(outputs, Sequence):
        raise TypeError(
            "outputs must be a variable or a list of variables, got "
            f"{type(outputs).__name__}"
        )
    for index, variable in enumerate(outputs):
        if not isinstance(variable, Variable):
            raise TypeError(f"outputs[{index}] must be a variable, got {variable!r}")
    return list(outputs)


def _check_updates(updates):
    if updates is None:
        return []
    pairs = list(updates.items()) if isinstance(updates, Mapping) else list(updates)
    checked = []
    seen = set()
    for pair in pairs:
        if not (isinstance(pair, tuple | list) and len(pair) == 2):
            raise TypeError(
                f"updates must be a mapping or a list of pairs, got item {pair!r}"
            )
        key, value = pair
        if not isinstance(key, SharedVariable):
            raise TypeError(
                f"updates key {key!r} must be a shared variable, got "
                f"{type(key).__name__}"
            )
        if key in seen:
            raise ValueError(f"updates holds {key} twice")
        seen.add(key)
        try:
            value = key.type.filter_variable(value, allow_convert=True)
        except TypeError as error:
            raise TypeError(f"updates[{key}]: {error}") from error
        checked.append((key, value))
    return checked


def _with_default_updates(pairs, outputs):
    """Add the ``default_update`` of the shared variables the graph reaches."""
    pairs = list(pairs)
    while True:
        keys = {key for key, _ in pairs}
        found = [
            (variable, variable.default_update)
            for variable in ancestors(outputs + [value for _, value in pairs])
            if isinstance(variable, SharedVariable)
            and variable not in keys
            and getattr(variable, "default_update", None) is not None
        ]
        if not found:
            return pairs
        pairs += _check_updates(dict(found))


def _check_state_types(variables):
    random = [str(v) for v in variables if isinstance(v.type, RandomType)]
    if random:
        raise TypeError(
            f"resident_function does not hold random generators: {random} are "
            "RandomType shared variables (a JAX key cannot be written back to a "
            "NumPy Generator); compile this graph with pytensor.function"
        )
    other = [str(v) for v in variables if not isinstance(v.type, TensorType)]
    if other:
        raise TypeError(
            f"resident_function holds tensor shared variables only, got {other}"
        )
