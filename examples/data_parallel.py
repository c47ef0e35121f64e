"""Data-parallel logistic regression over MPI.

Every rank (process) trains on its shard of the data; ``allreduce_mean``
averages the cost and the gradients over the ranks inside the compiled step,
so all ranks take the same Adam steps, which are the steps of one process on
the whole batch. ``broadcast_parameters`` first gives every rank rank 0's
starting point (each rank draws its own here) and optimizer state.

Run on two ranks (Open MPI as root also needs ``--allow-run-as-root``)::

    mpirun -n 2 python examples/data_parallel.py

or as a single process::

    python examples/data_parallel.py

Needs mpi4py and an MPI library: ``pip install -e ".[mpi]"``.
"""

import warnings

import numpy as np
import pytensor
import pytensor.tensor as pt

import pytensor_optim as po
from pytensor_optim import distributed

# pip-installed PyTensor warns once that it found no BLAS; not needed here.
warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")

ROWS, FEATURES, STEPS = 4096, 10, 200


def make_data():
    """The same synthetic data set on every rank (the same seed)."""
    rng = np.random.default_rng(0)
    features = rng.normal(size=(ROWS, FEATURES))
    true_weights = rng.normal(size=FEATURES)
    noise = 0.5 * rng.normal(size=ROWS)
    labels = (features @ true_weights + noise > 0).astype(float)
    return features, labels


def main():
    rank, ranks = distributed.rank(), distributed.size()
    features, labels = make_data()
    # equal shards make the mean of the shard means the whole batch's mean
    rows = ROWS - ROWS % ranks
    features, labels = features[:rows], labels[:rows]
    x, y = distributed.shard(features), distributed.shard(labels)

    # each rank starts somewhere else: the broadcast below puts them together
    start = np.random.default_rng(1000 + rank).normal(size=FEATURES)
    w = pytensor.shared(start, name="w")
    b = pytensor.shared(0.0, name="b")
    logits = x @ w + b
    cost = pt.mean(pt.softplus(logits) - y * logits)
    cost, *gradients = distributed.allreduce_mean([cost, *pytensor.grad(cost, [w, b])])
    updates = po.adam([w, b], cost, gradients=gradients, step_size=0.05)
    distributed.broadcast_parameters(updates)

    # the C VM runs the MPI Op directly (Numba would use object mode)
    step = pytensor.function([], cost, updates=updates, mode="CVM")
    if rank == 0:
        print(f"{ranks} rank(s), {len(x)} of {rows} rows each")
    for iteration in range(STEPS):
        loss = step()  # the mean over the whole batch, the same on every rank
        if rank == 0 and (iteration % 50 == 0 or iteration == STEPS - 1):
            print(f"step {iteration:3d}  loss {float(loss):.6f}")

    # the ranks agree bit for bit
    from mpi4py import MPI

    gathered = MPI.COMM_WORLD.gather(w.get_value(), root=0)
    if rank == 0:
        same = all(np.array_equal(gathered[0], other) for other in gathered)
        accuracy = np.mean((features @ w.get_value() + b.get_value() > 0) == labels)
        print(f"weights identical on all ranks: {same}")
        print(f"training accuracy {accuracy:.1%}")


if __name__ == "__main__":
    main()
