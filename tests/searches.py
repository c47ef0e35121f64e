"""One entry per line search: what the generic search tests need to know.

Covering a new search is one entry here; ``tests/test_searches.py`` then
checks that it refuses an uphill line without evaluating, that its bad
options raise errors naming them, that it keeps float32 in a rule, and that
its name gives it with its defaults. Each search's own file compares it with
its reference (torch, SciPy's ``dcsrch``, the paper's transcription).
"""

from dataclasses import dataclass

from pytensor_optim import line_search as ls


@dataclass(frozen=True)
class Search:
    # the name of ``line_search="..."``
    name: str
    # the factory: keyword options (and ``mode``) -> a LineSearch
    make: object
    # (options, error type, the option's name that the message must hold)
    bad_options: tuple = ()
    # runs through line_search._core.run, which refuses an uphill line;
    # ``constant`` takes the step it is given whatever the slope
    refuses_ascent: bool = True


SEARCHES = [
    Search(
        "strong_wolfe",
        ls.strong_wolfe,
        (
            ({"c1": 0.0}, ValueError, "c1"),
            ({"c1": 0.5, "c2": 0.5}, ValueError, "c2"),
            ({"c2": 1.0}, ValueError, "c2"),
            ({"c2": "0.1"}, TypeError, "c2"),
            ({"tolerance_change": -1.0}, ValueError, "tolerance_change"),
            ({"max_evals": 0}, ValueError, "max_evals"),
            ({"mode": 3}, TypeError, "mode"),
        ),
    ),
    Search(
        "more_thuente",
        ls.more_thuente,
        (
            ({"c1": 0.0}, ValueError, "c1"),
            ({"c1": 1.5}, ValueError, "c1"),
            ({"c1": "0.1"}, TypeError, "c1"),
            ({"c1": 0.5, "c2": 0.4}, ValueError, "c2"),
            ({"c2": 1.0}, ValueError, "c2"),
            ({"c2": True}, TypeError, "c2"),
            ({"xtol": -1e-3}, ValueError, "xtol"),
            ({"xtol": float("nan")}, ValueError, "xtol"),
            ({"xtol": None}, TypeError, "xtol"),
            ({"min_step": -1.0}, ValueError, "min_step"),
            ({"min_step": float("inf")}, ValueError, "min_step"),
            ({"max_step": 0.0}, ValueError, "max_step"),
            ({"min_step": 2.0, "max_step": 1.0}, ValueError, "max_step"),
            ({"max_step": "1"}, TypeError, "max_step"),
            ({"max_evals": 0}, ValueError, "max_evals"),
            ({"max_evals": 2.5}, ValueError, "max_evals"),
            ({"mode": 3}, TypeError, "mode"),
            ({"mode": "no such mode"}, ValueError, "mode"),
        ),
    ),
    Search(
        "hager_zhang",
        ls.hager_zhang,
        (
            ({"c1": 0.0}, ValueError, "c1"),
            ({"c1": 0.5}, ValueError, "c1"),
            ({"c1": 0.3, "c2": 0.2}, ValueError, "c2"),
            ({"c2": 1.0}, ValueError, "c2"),
            ({"c2": "0.9"}, TypeError, "c2"),
            ({"epsilon": -1e-6}, ValueError, "epsilon"),
            ({"epsilon": None}, TypeError, "epsilon"),
            ({"theta": 1.0}, ValueError, "theta"),
            ({"gamma": 0.0}, ValueError, "gamma"),
            ({"expansion": 1.0}, ValueError, "expansion"),
            ({"expansion": True}, TypeError, "expansion"),
            ({"max_evals": 0}, ValueError, "max_evals"),
            ({"max_evals": 2.5}, ValueError, "max_evals"),
            ({"mode": 3}, TypeError, "mode"),
        ),
    ),
    Search(
        "rasmussen",
        ls.rasmussen,
        (
            ({"c1": 0.0}, ValueError, "c1"),
            ({"c1": 0.5, "c2": 0.5}, ValueError, "c2"),
            ({"c2": 1.0}, ValueError, "c2"),
            ({"interpolation": 0.5}, ValueError, "interpolation"),
            ({"extrapolation": 1.0}, ValueError, "extrapolation"),
            ({"max_evals": 0}, ValueError, "max_evals"),
            ({"mode": "no such mode"}, ValueError, "mode"),
        ),
    ),
    Search(
        "backtracking",
        ls.backtracking,
        (
            ({"shrink": 1.0}, ValueError, "shrink"),
            ({"c1": 1.5}, ValueError, "c1"),
            ({"max_evals": 2.5}, ValueError, "max_evals"),
            ({"mode": 3}, TypeError, "mode"),
        ),
    ),
    Search(
        "bold_driver",
        ls.bold_driver,
        (
            ({"step_up": 0.0}, ValueError, "step_up"),
            ({"step_up": "1.1"}, TypeError, "step_up"),
            ({"step_down": 1.0}, ValueError, "step_down"),
            ({"step_down": 0.0}, ValueError, "step_down"),
            ({"step_up_mode": "add"}, ValueError, "step_up_mode"),
            ({"step_up_mode": None}, ValueError, "step_up_mode"),
            ({"max_evals": 0}, ValueError, "max_evals"),
            ({"mode": 3}, TypeError, "mode"),
        ),
    ),
    Search("constant", ls.constant, refuses_ascent=False),
]

IDS = [search.name for search in SEARCHES]
