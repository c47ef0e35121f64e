"""One entry per update rule: what the generic tests need to know about it.

Covering a new rule is one entry here. ``kwargs`` must make the rule converge
on the conformance problem (a convex quadratic) within ``max_calls`` calls.
"""

from dataclasses import dataclass, field

import pytensor_optim as po


@dataclass(frozen=True)
class Rule:
    id: str
    function: object
    kwargs: dict
    needs_cost: bool = False
    derivative_free: bool = False
    # kwargs overrides that must raise ValueError naming the key
    bad_hyperparameters: tuple = field(default_factory=tuple)
    max_calls: int = 500


RULES = [
    Rule(
        "sgd",
        po.sgd,
        {"step_size": 0.3},
        bad_hyperparameters=({"step_size": -0.1}, {"step_size": float("nan")}),
    ),
    Rule(
        "sgd-momentum",
        po.sgd,
        {"step_size": 0.1, "momentum": 0.5, "dampening": 0.2},
        bad_hyperparameters=(
            {"momentum": -0.5},
            {"weight_decay": -1.0},
            {"step_size_decay": -1.0},
        ),
    ),
    Rule(
        "sgd-nesterov-annealed",
        po.sgd,
        {
            "step_size": po.schedules.linear_warmup(0.2, 3),
            "momentum": 0.5,
            "nesterov": True,
            "step_size_decay": 1e-3,
        },
        bad_hyperparameters=({"nesterov": True, "momentum": 0.0},),
    ),
]

IDS = [rule.id for rule in RULES]
