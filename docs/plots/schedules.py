"""Figure: the step-size schedules of ``pytensor_optim.schedules`` over steps.

Run by Matplotlib's ``plot`` directive when the documentation is built, so the
curves are those of the installed package. Each schedule is evaluated on the
steps 0, 1, ..., 999 at once: the schedules are elementwise expressions of the
counter, so a vector of counters gives the vector of step sizes.
"""

import matplotlib.pyplot as plt
import numpy as np
import pytensor.tensor as pt

from pytensor_optim import schedules

STEPS = 1000

SCHEDULES = [
    ("cosine(0.1, 1000)", schedules.cosine(0.1, 1000)),
    ("step(0.1, 0.5, every=250)", schedules.step(0.1, 0.5, every=250)),
    ("exponential(0.1, 0.995)", schedules.exponential(0.1, 0.995)),
    ("inverse_time(0.1, 0.01)", schedules.inverse_time(0.1, 0.01)),
    (
        "linear_warmup(cosine(0.1, 1000), 100)",
        schedules.linear_warmup(schedules.cosine(0.1, 1000), 100),
    ),
    ("noam(64, warmup=100)", schedules.noam(64, 100)),
    (
        "piecewise([300, 600], [0.1, 0.03, 0.01])",
        schedules.piecewise([300, 600], [0.1, 0.03, 0.01]),
    ),
]


def main():
    steps = np.arange(STEPS)
    counter = pt.constant(steps, dtype="int64")
    figure, axes = plt.subplots(
        2, 4, figsize=(9.5, 4.4), sharex=True, layout="constrained"
    )
    for ax, (label, schedule) in zip(axes.flat, SCHEDULES, strict=False):
        values = schedule(counter).eval(mode="FAST_COMPILE")
        ax.plot(steps, values, color="C0")
        ax.set_title(label, fontsize=8)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[1, 3].axis("off")
    axes[0, 3].tick_params(labelbottom=True)
    for ax in (*axes[1, :3], axes[0, 3]):
        ax.set_xlabel("step t")
    for ax in axes[:, 0]:
        ax.set_ylabel("step size")
    return figure
