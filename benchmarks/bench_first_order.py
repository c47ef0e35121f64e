"""One optimizer step: pytensor_optim against torch.optim, measured in the same run.

    python benchmarks/bench_first_order.py [--threads 1] [--repeat 20]

Cases: (a) one float32 tensor of 1e7 elements, (b) 100 float32 tensors of 1e5
elements, (c) the per-call overhead on a 10-element float32 problem. The
gradients are fixed shared variables (torch: ``.grad`` set once), so only the
update itself is timed. torch uses its fused CPU kernel where it has one
(Adam, SGD, Adagrad), else foreach (RMSprop). Both sides use the same thread
count (PyTensor's C kernels run on one thread: the default here is 1).
Reported: median seconds per step, and ours/torch.
"""

import argparse
import statistics
import time
import warnings

import numpy as np
import pytensor
import torch

import pytensor_optim as po

warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")

RULES = {
    # name: (ours, our kwargs, torch class, torch kwargs, torch kernel option)
    "adam": (po.adam, {"step_size": 1e-3}, torch.optim.Adam, {"lr": 1e-3}, "fused"),
    "sgd-momentum": (
        po.sgd,
        {"step_size": 1e-3, "momentum": 0.9},
        torch.optim.SGD,
        {"lr": 1e-3, "momentum": 0.9},
        "fused",
    ),
    "rmsprop": (
        po.rmsprop,
        {"step_size": 1e-3},
        torch.optim.RMSprop,
        {"lr": 1e-3},
        "foreach",
    ),
    "adagrad": (
        po.adagrad,
        {"step_size": 1e-2},
        torch.optim.Adagrad,
        {"lr": 1e-2},
        "fused",
    ),
}

CASES = {
    "1 x 1e7": [10_000_000],
    "100 x 1e5": [100_000] * 100,
    "overhead 10": [10],
}


def median_time(step, repeat, warmup=3):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def ours(rule, kwargs, sizes, mode):
    rng = np.random.default_rng(0)
    params = [
        pytensor.shared(rng.normal(size=n).astype("float32"), name=f"p{i}")
        for i, n in enumerate(sizes)
    ]
    grads = [pytensor.shared(rng.normal(size=n).astype("float32")) for n in sizes]
    updates = rule(params, gradients=grads, **kwargs)
    start = time.perf_counter()
    step = pytensor.function([], [], updates=updates, mode=mode)
    compile_time = time.perf_counter() - start
    return step, compile_time


def theirs(cls, kwargs, kernel, sizes):
    rng = np.random.default_rng(0)
    params = [
        torch.tensor(rng.normal(size=n).astype("float32"), requires_grad=True)
        for n in sizes
    ]
    for p, n in zip(params, sizes, strict=True):
        p.grad = torch.tensor(rng.normal(size=n).astype("float32"))
    optimizer = cls(params, **kwargs, **{kernel: True})
    return optimizer.step


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--modes", default="CVM,NUMBA")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    modes = args.modes.split(",")
    print(
        f"torch {torch.__version__}, pytensor {pytensor.__version__}, "
        f"threads {args.threads}"
    )
    header = (
        "| case | rule | torch (kernel) | "
        + " | ".join(f"ours {m} | ours/torch {m} | compile {m}" for m in modes)
        + " |"
    )
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for case, sizes in CASES.items():
        repeat = args.repeat if sizes[0] > 1000 else args.repeat * 100
        for name, (rule, kwargs, cls, torch_kwargs, kernel) in RULES.items():
            torch_time = median_time(theirs(cls, torch_kwargs, kernel, sizes), repeat)
            cells = []
            for mode in modes:
                step, compile_time = ours(rule, kwargs, sizes, mode)
                our_time = median_time(step, repeat)
                cells.append(
                    f"{our_time * 1e3:.3f} ms | {our_time / torch_time:.2f} | "
                    f"{compile_time:.1f} s"
                )
            print(
                f"| {case} | {name} | {torch_time * 1e3:.3f} ms ({kernel}) | "
                + " | ".join(cells)
                + " |"
            )


if __name__ == "__main__":
    main()
