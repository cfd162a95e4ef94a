"""Which reading of each source a summary uses, checked, and said in words for reports.

Where a source's paper and its released code compute a metric differently, both readings exist;
the default is the code's, which produced the published tables (see docs/metrics.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from envsuite.core.errors import check_choice

Reading = Literal["code", "paper"]
READINGS: tuple[Reading, ...] = ("code", "paper")
WindowUnit = Literal["evaluations", "steps"]
WINDOW_UNITS: tuple[WindowUnit, ...] = ("evaluations", "steps")
# The stability-gap code's windowed forgetting keeps the last 10 evaluations of a task
# (WindowedForgettingPluginMetric's window_size=10, reported as F10).
DEFAULT_WINDOW = 10


def check_reading(reading: object, argument: str = "reading") -> None:
    check_choice(argument, reading, READINGS)


def check_window(window: object, window_unit: object) -> None:
    """A window is a positive whole number of evaluations or steps."""
    check_choice("window_unit", window_unit, WINDOW_UNITS)
    # bool is an int to Python, never a window.
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ValueError(f"window must be a positive integer ({window_unit}), got {window!r}")


_MEANINGS = {
    ("continual_world", "code"): (
        "tables.py: end of task and final performance are the means of the last 5 evaluations; "
        "forward transfer averages the evaluations logged while the task trains; one F and FT "
        "per training block"
    ),
    ("continual_world", "paper"): (
        "the paper's formulas: end of task and final performance are the last evaluations; "
        "forward transfer integrates the curve (trapezoids); one F and FT per training block"
    ),
    ("gem", "code"): "metrics.py: BWT and FWT averaged over all T trained tasks",
    ("gem", "paper"): "the paper's formulas: BWT and FWT averaged over T - 1 tasks",
}
_LIBERO = (
    "paper and code agree: FWT holds each learning curve at its best value from the earliest "
    "best evaluation on; NBT averages over all tasks, the last one counting 0"
)


@dataclass(frozen=True)
class Readings:
    """The readings of one summary; every default is the source's published code.

    Attributes:
        continual_world: ``"code"`` (``tables.py``: ends smoothed over the last 5 evaluations,
            forward transfer as the mean of the evaluations) or ``"paper"`` (single evaluations,
            the integral of the curve).
        gem: ``"code"`` (``metrics.py``: BWT and FWT averaged over all ``T`` tasks) or
            ``"paper"`` (over ``T - 1``).
        window: windowed forgetting's window, in ``window_unit``.
        window_unit: ``"evaluations"`` (the stability-gap code: the window holds ``window``
            consecutive evaluations) or ``"steps"`` (pairs at most ``window`` steps apart, which
            does not depend on how often the run was evaluated).
    """

    continual_world: Reading = "code"
    gem: Reading = "code"
    window: int = DEFAULT_WINDOW
    window_unit: WindowUnit = "evaluations"

    def __post_init__(self) -> None:
        check_reading(self.continual_world, "continual_world")
        check_reading(self.gem, "gem")
        check_window(self.window, self.window_unit)

    def describe(self) -> dict[str, dict[str, Any]]:
        """Per source: the reading used and what it means, for ``metrics.json`` and the page."""
        window = (
            f"the largest drop within {self.window} consecutive evaluations"
            if self.window_unit == "evaluations"
            else f"the largest drop between evaluations at most {self.window} steps apart"
        )
        return {
            "continual_world": {
                "reading": self.continual_world,
                "meaning": _MEANINGS["continual_world", self.continual_world],
            },
            "gem": {"reading": self.gem, "meaning": _MEANINGS["gem", self.gem]},
            "libero": {"reading": "code", "meaning": _LIBERO},
            "windowed_forgetting": {
                "reading": "code" if self.window_unit == "evaluations" else "steps",
                "window": self.window,
                "window_unit": self.window_unit,
                "meaning": (
                    f"the stability-gap code's tracking: {window}, over a task's evaluations "
                    "from its first training on; a task with fewer than two counts 0"
                ),
            },
        }


DEFAULT_READINGS = Readings()
