"""Task parameters: the numbers a sequence may change without changing any shape, their bounds,
and named variants; shared by the numba families.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Param:
    """A task parameter: something a sequence may change without changing any shape.

    A default written as an ``int`` makes a count (lives, rows, cells): it takes whole numbers.
    """

    name: str
    default: float
    low: float
    high: float
    doc: str

    @property
    def integer(self) -> bool:
        """Whether the parameter takes whole numbers only (its default is an ``int``)."""
        return isinstance(self.default, int)


def resolve_params(
    owner: str,
    params: Sequence[Param],
    variants: Mapping[str, Mapping[str, float]],
    variant: str,
    overrides: Mapping[str, float],
    other_arguments: Sequence[str] = (),
) -> np.ndarray:
    """The float64 vector of ``params``: defaults, then ``variant``'s values, then ``overrides``.

    Errors name the offending argument and what is allowed; ``other_arguments`` (the env's own
    keyword arguments) are listed alongside the parameters when a name is unknown.
    """
    if not isinstance(variant, str) or (variant != "default" and variant not in variants):
        raise ValueError(
            f"variant: unknown variant {variant!r} of {owner}; allowed: {['default', *variants]}"
        )
    values = {param.name: float(param.default) for param in params}
    values.update(variants.get(variant, {}))
    for name, value in overrides.items():
        if name not in values:
            close = difflib.get_close_matches(name, list(values), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            others = f" and {', '.join(other_arguments)}" if other_arguments else ""
            raise ValueError(
                f"{name}: not a task parameter of {owner}{hint}; allowed: {sorted(values)}{others}"
            )
        values[name] = value
    vector = np.empty(len(params), dtype=np.float64)
    for index, param in enumerate(params):
        value = values[param.name]
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            raise ValueError(f"{param.name}: must be a number, got {value!r}")
        if param.integer and not float(value).is_integer():
            raise ValueError(f"{param.name}: must be a whole number ({param.doc}), got {value!r}")
        if not param.low <= value <= param.high:
            raise ValueError(
                f"{param.name}: {value!r} is outside [{param.low}, {param.high}] "
                f"for {owner} ({param.doc})"
            )
        vector[index] = value
    return vector
