r"""Data-parallel training over MPI: average gradients across processes.

Every process (an MPI *rank*) builds the same graph on its own shard of the
data. :func:`allreduce_mean` is a gradient transform that averages the
gradients (and, if asked, the cost) over the ranks inside the compiled step,
so any rule applies the same update on every rank and the parameters stay
identical. :func:`broadcast_parameters` gives every rank the root's
parameters and optimizer state before training (or after a restore).

Launch one process per rank::

    mpirun -n 4 python train.py

mpi4py is imported on first use; install it with
``pip install pytensor-optim[mpi]`` (it needs an MPI library such as
OpenMPI).
"""

import numpy as np
import pytensor.tensor as pt
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op

from ._compat import shape_inference
from .transforms import _gradient_list

__all__ = [
    "AllreduceMean",
    "allreduce_mean",
    "broadcast_parameters",
    "rank",
    "shard",
    "size",
]


def _mpi():
    """mpi4py's ``MPI`` module, imported on first use."""
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ImportError(
            "pytensor_optim.distributed needs mpi4py and an MPI library (such as "
            "OpenMPI): pip install pytensor-optim[mpi]"
        ) from error
    return MPI


def _communicator(comm):
    """``comm``, checked, or ``MPI.COMM_WORLD`` when it is None."""
    MPI = _mpi()
    if comm is None:
        return MPI.COMM_WORLD
    if not isinstance(comm, MPI.Intracomm) or comm == MPI.COMM_NULL:
        raise TypeError(
            "comm must be an mpi4py intracommunicator such as MPI.COMM_WORLD, got "
            f"{comm!r}"
        )
    return comm


def rank(comm=None) -> int:
    """The rank of this process in ``comm`` (default ``MPI.COMM_WORLD``)."""
    return _communicator(comm).Get_rank()


def size(comm=None) -> int:
    """The number of processes in ``comm`` (default ``MPI.COMM_WORLD``)."""
    return _communicator(comm).Get_size()


def shard(data, comm=None):
    """This rank's equal share of ``data`` along its first axis.

    Parameters
    ----------
    data : array-like
        Anything with a length that slices along its first axis (an array,
        a list).
    comm : mpi4py intracommunicator, optional
        Default ``MPI.COMM_WORLD``.

    Returns
    -------
    The rows ``[r n / p, (r + 1) n / p)`` of the ``n`` rows, for rank ``r``
    of ``p``: the ranks' shards are disjoint, in rank order, and cover
    ``data``.

    Raises
    ------
    ValueError
        When the number of rows is not a multiple of the number of ranks:
        only equal shards make the mean of the shard means the mean over
        the whole batch.
    """
    comm = _communicator(comm)
    if np.ndim(data) == 0:
        raise ValueError(f"data must have a first axis to shard, got {data!r}")
    rows, ranks = len(data), comm.Get_size()
    if rows % ranks:
        raise ValueError(
            f"data has {rows} rows, not a multiple of the {ranks} ranks: drop "
            f"{rows % ranks} rows so that the shards are equal (the mean of "
            "equal shards' means is the mean over the whole batch)"
        )
    share = rows // ranks
    start = comm.Get_rank() * share
    return data[start : start + share]


def _reduction_dtype(dtype):
    # MPI has no standard half-precision sum: add float16 values in float32.
    return np.dtype(np.float32) if dtype == np.float16 else np.dtype(dtype)


class AllreduceMean(Op):
    """Average arrays over the processes of an MPI communicator.

    One output per input, of the input's type. ``perform`` packs the inputs
    of each dtype into one contiguous buffer, sums the buffers over the ranks
    with ``comm.Allreduce`` and divides by the number of ranks. Every rank
    must run the Op with inputs of the same shapes, in the same order.

    The Op has no derivative (it comes after the gradients), is never
    constant-folded (it must run on every call, on every rank), and is a
    Python Op: the C VM calls its ``perform``, Numba runs it in object mode,
    JAX cannot run it.
    """

    def __init__(self, comm):
        self.comm = comm

    def __str__(self):
        return "AllreduceMean"

    def make_node(self, *inputs):
        inputs = [pt.as_tensor_variable(x) for x in inputs]
        for index, x in enumerate(inputs):
            if np.dtype(x.dtype).kind != "f":
                raise TypeError(
                    f"input {index} of AllreduceMean must have a float dtype, got "
                    f"{x.dtype}"
                )
        return Apply(self, inputs, [x.type() for x in inputs])

    def perform(self, node, inputs, output_storage):
        MPI = _mpi()
        ranks = self.comm.Get_size()
        groups = {}  # reduction dtype -> input indices, in input order
        for index, array in enumerate(inputs):
            groups.setdefault(_reduction_dtype(array.dtype), []).append(index)
        for dtype, indices in groups.items():
            buffer = np.concatenate(
                [np.ravel(inputs[index]) for index in indices], dtype=dtype
            )
            self.comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
            start = 0
            for index in indices:
                array = inputs[index]
                stop = start + array.size
                mean = np.divide(buffer[start:stop], ranks).astype(
                    array.dtype, copy=False
                )
                output_storage[index][0] = mean.reshape(array.shape)
                start = stop

    @shape_inference
    def infer_shape(self, node, input_shapes):
        return input_shapes

    def do_constant_folding(self, fgraph, node):
        return False

    def pullback(self, inputs, outputs, cotangents):
        raise NotImplementedError(
            "allreduce_mean has no gradient: it averages values over MPI ranks "
            "after they are computed. Differentiate each rank's cost, then "
            "average the gradients"
        )

    def pushforward(self, inputs, outputs, tangents):
        return self.pullback(inputs, outputs, tangents)


def allreduce_mean(gradients, comm=None):
    r"""Average gradients over the processes (ranks) of an MPI communicator.

    A gradient transform for data-parallel training: each rank computes the
    gradients of its shard's cost, and the transform returns their mean over
    the ranks, the same on every rank, so that any rule takes the same step
    everywhere.

    Parameters
    ----------
    gradients : list or tuple of tensors
        Float tensors; the same list (shapes, dtypes, order) on every rank.
        Put the cost in the list too when the rule uses it (line searches,
        ``ftol``, monitoring): ``cost, *grads = allreduce_mean([cost, *grads])``.
    comm : mpi4py intracommunicator, optional
        The ranks to average over; default ``MPI.COMM_WORLD``. With a single
        rank the values are returned unchanged.

    Returns
    -------
    list of tensors
        The means, each of its gradient's type (float32 stays float32).

    Notes
    -----
    With :math:`p` ranks and gradient :math:`g_r` on rank :math:`r`, every
    rank receives

    .. math:: \bar g = \frac{1}{p} \sum_{r=0}^{p-1} g_r

    summed by ``comm.Allreduce`` (one call per dtype, on one contiguous
    buffer), then divided by :math:`p` in the gradient's dtype (float16 is
    summed in float32). When each :math:`g_r` is the mean gradient over an
    equal shard of a batch, :math:`\bar g` is the mean gradient over the whole
    batch, up to rounding.

    The result is computed by an :class:`AllreduceMean` Op, a Python Op: the
    C VM (``mode="CVM"``) and the Python VM (``"FAST_COMPILE"``) run it;
    Numba (the linker of PyTensor's default mode) runs it in object mode,
    with a warning; JAX has no implementation of it. It has no gradient
    (``pytensor.grad`` through it raises ``NotImplementedError``).

    Every rank must call the compiled function the same number of times, and
    the Op must run the same number of times per call on each rank (it does
    when all ranks build the same graph): otherwise MPI waits forever. One
    ``allreduce_mean`` call for all values per function keeps the order of
    the reductions fixed.

    Examples
    --------
    ..
        >>> import pytest
        >>> _ = pytest.importorskip("mpi4py.MPI")

    Run as ``mpirun -n 2 python script.py``; in a single process it runs as
    one rank:

    >>> import numpy as np, pytensor, pytensor.tensor as pt
    >>> import pytensor_optim as po
    >>> from pytensor_optim.distributed import allreduce_mean, shard
    >>> x, y = shard(np.arange(8.0).reshape(4, 2)), shard(np.arange(4.0))
    >>> w = pytensor.shared(np.zeros(2), name="w")
    >>> cost = ((x @ w - y) ** 2).mean()
    >>> cost, *grads = allreduce_mean([cost, *pytensor.grad(cost, [w])])
    >>> updates = po.sgd([w], gradients=grads, step_size=0.01)
    >>> step = pytensor.function([], cost, updates=updates, mode="FAST_COMPILE")
    >>> float(step())
    3.5
    """
    gradients = _gradient_list(gradients)
    if not gradients:
        raise ValueError("gradients must hold at least one tensor")
    for index, gradient in enumerate(gradients):
        if np.dtype(gradient.dtype).kind != "f":
            raise TypeError(
                f"gradients[{index}] must have a float dtype, got {gradient.dtype}"
            )
    return list(AllreduceMean(_communicator(comm)).make_node(*gradients).outputs)


def _shared_variables(shared_variables):
    """The variables to broadcast, in order, each once."""
    if isinstance(shared_variables, SharedVariable):
        candidates = [shared_variables]
    elif isinstance(shared_variables, dict):
        # an Updates dict: its keys, then state variables that no item updates
        candidates = [*shared_variables, *getattr(shared_variables, "state", ())]
    else:
        try:
            candidates = list(shared_variables)
        except TypeError:
            raise TypeError(
                "shared_variables must be a shared variable, an iterable of them "
                f"or an updates dict, got {type(shared_variables).__name__}"
            ) from None
    variables = []
    for index, variable in enumerate(candidates):
        if not isinstance(variable, SharedVariable):
            raise TypeError(
                f"shared_variables[{index}] must be a shared variable, got "
                f"{type(variable).__name__}: {variable!r}"
            )
        if not any(variable is seen for seen in variables):
            variables.append(variable)
    if not variables:
        raise ValueError("shared_variables is empty: nothing to broadcast")
    return variables


def _layout(variable):
    value = variable.get_value(borrow=True)
    if isinstance(value, np.ndarray):
        return (variable.name, "array", value.shape, value.dtype.str)
    return (variable.name, type(value).__name__)


def broadcast_parameters(shared_variables, root=0, comm=None):
    """Give every rank the root's values of shared variables.

    Call it once on every rank before training, so that ranks that
    initialised their parameters differently (another random seed) start
    from the same point; and after restoring a checkpoint on one rank.

    Parameters
    ----------
    shared_variables : shared variable, iterable of them, or dict
        The variables, in the same order on every rank. A dict, such as the
        :class:`~pytensor_optim.Updates` of a rule, stands for its keys (the
        parameters, the rule's state and ``stop``) and the ``state`` of an
        ``Updates``.
    root : int, default 0
        The rank whose values are sent.
    comm : mpi4py intracommunicator, optional
        Default ``MPI.COMM_WORLD``.

    Returns
    -------
    tuple of shared variables
        The variables set, in order.

    Raises
    ------
    ValueError
        On every rank, when the ranks list different variables (names, order,
        shapes or dtypes differ from the root's), or ``root`` is not a rank.

    Notes
    -----
    Array values travel with one ``comm.Bcast`` each, as raw bytes; other
    values (a random generator's state) with mpi4py's pickle-based
    ``comm.bcast``.

    Examples
    --------
    ..
        >>> import pytest
        >>> _ = pytest.importorskip("mpi4py.MPI")

    >>> import numpy as np, pytensor
    >>> import pytensor_optim as po
    >>> from pytensor_optim.distributed import broadcast_parameters, rank
    >>> seed = 1234 + rank()  # a different start on every rank
    >>> w = pytensor.shared(np.random.default_rng(seed).normal(size=3), name="w")
    >>> updates = po.adam([w], (w ** 2).sum())
    >>> [v.name for v in broadcast_parameters(updates)]
    ['w', 'adam.exp_avg[w]', 'adam.exp_avg_sq[w]', 'adam.counter']
    """
    variables = _shared_variables(shared_variables)
    comm = _communicator(comm)
    if isinstance(root, bool) or not isinstance(root, int | np.integer):
        raise TypeError(f"root must be an integer rank, got {root!r}")
    if not 0 <= root < comm.Get_size():
        raise ValueError(f"root must be a rank in [0, {comm.Get_size()}), got {root}")
    MPI = _mpi()
    layout = [_layout(variable) for variable in variables]
    expected = comm.bcast(layout, root=root)
    differs = layout != expected
    if comm.allreduce(differs, op=MPI.LOR):
        detail = (
            f"this rank has {layout}, rank {root} has {expected}"
            if differs
            else "another rank lists other variables"
        )
        raise ValueError(
            "shared_variables must list the same variables (names, order, shapes "
            f"and dtypes) on every rank: {detail}"
        )
    is_root = comm.Get_rank() == root
    for variable in variables:
        value = variable.get_value(borrow=True)
        if not isinstance(value, np.ndarray):
            value = comm.bcast(value, root=root)
            if not is_root:
                variable.set_value(value)
            continue
        buffer = (
            np.ascontiguousarray(value)
            if is_root
            else np.empty(value.shape, value.dtype)
        )
        comm.Bcast([buffer, MPI.BYTE], root=root)
        if not is_root:
            variable.set_value(buffer, borrow=True)
    return tuple(variables)
