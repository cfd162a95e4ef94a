"""Options of the metrics, checked up front: a mistake names the argument and the allowed values.

Windowed forgetting's window is one: a number of consecutive evaluations, as the stability-gap
code counts it, or of steps.
"""

from __future__ import annotations

from typing import Literal

WindowUnit = Literal["evaluations", "steps"]
WINDOW_UNITS: tuple[WindowUnit, ...] = ("evaluations", "steps")
# The stability-gap code's windowed forgetting keeps the last 10 evaluations of a task
# (WindowedForgettingPluginMetric's window_size=10, reported as F10).
DEFAULT_WINDOW = 10


def check_choice(argument: str, value: object, allowed: tuple[str, ...]) -> None:
    """``ValueError`` naming ``argument`` and the allowed values unless ``value`` is one."""
    if value not in allowed:
        raise ValueError(f"{argument} must be one of {allowed}, got {value!r}")


def check_window(window: object, window_unit: object) -> None:
    """A window is a positive whole number of evaluations or steps."""
    check_choice("window_unit", window_unit, WINDOW_UNITS)
    # bool is an int to Python, never a window.
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ValueError(f"window must be a positive integer ({window_unit}), got {window!r}")
