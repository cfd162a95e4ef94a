"""Field specs: the shape and dtype of one named field of a stored item, fixed at construction.

A buffer's storage is a dict of such fields; ``transition_fields`` builds the transition layout
(the SequenceBuffer builds its step layout from the same specs).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from gymnasium import spaces

# Fields every transition buffer stores; extra fields may be added by name.
TRANSITION_FIELD_NAMES = (
    "observation",
    "action",
    "reward",
    "next_observation",
    "terminated",
    "truncated",
)
REWARD_DTYPE = np.dtype(np.float32)
FLAG_DTYPE = np.dtype(np.bool_)


@dataclass(frozen=True)
class FieldSpec:
    """Shape (without the leading item axis) and dtype of one stored field."""

    shape: tuple[int, ...]
    dtype: np.dtype
    ndim: int = field(init=False, repr=False, compare=False)  # axes of one item

    def __init__(self, shape: tuple[int, ...] | list[int] | int, dtype: Any) -> None:
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        if not all(isinstance(size, (int, np.integer)) and size > 0 for size in shape):
            raise ValueError(f"FieldSpec shape must be positive integers, got {shape!r}")
        try:
            dtype = np.dtype(dtype)
        except TypeError as error:
            raise TypeError(f"FieldSpec dtype {dtype!r} is not a numpy dtype") from error
        if dtype.kind not in "biuf":
            raise TypeError(f"FieldSpec dtype must be bool, integer or floating point, got {dtype}")
        object.__setattr__(self, "shape", tuple(int(size) for size in shape))
        object.__setattr__(self, "dtype", dtype)
        object.__setattr__(self, "ndim", len(self.shape))  # read on every add

    @property
    def item_bytes(self) -> int:
        """Bytes one item of this field takes."""
        return math.prod(self.shape) * self.dtype.itemsize

    @classmethod
    def from_space(cls, space: spaces.Space) -> FieldSpec:
        """The field that stores elements of a gymnasium space (Box, Discrete, Multi*).

        Discrete actions are stored as one integer, the way Stable-Baselines3 stores them.
        """
        if isinstance(space, spaces.Box):
            return cls(space.shape, space.dtype)
        if isinstance(space, spaces.Discrete):
            return cls((1,), space.dtype)
        if isinstance(space, (spaces.MultiDiscrete, spaces.MultiBinary)):
            return cls(space.shape, space.dtype)
        raise TypeError(
            f"cannot store elements of {space}: supported spaces are Box, Discrete, "
            "MultiDiscrete and MultiBinary"
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-able form, for a state_dict's config."""
        return {"shape": list(self.shape), "dtype": self.dtype.str}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FieldSpec:
        """Inverse of :meth:`to_json`."""
        return cls(tuple(data["shape"]), np.dtype(data["dtype"]))


FieldLike = FieldSpec | spaces.Space


def as_field(name: str, value: FieldLike) -> FieldSpec:
    """A FieldSpec from a FieldSpec or a gymnasium space; the error names the argument."""
    if isinstance(value, FieldSpec):
        return value
    if isinstance(value, spaces.Space):
        try:
            return FieldSpec.from_space(value)
        except TypeError as error:
            raise TypeError(f"{name}: {error}") from None
    raise TypeError(f"{name} must be a FieldSpec or a gymnasium space, got {value!r}")


def transition_fields(
    observation: FieldLike,
    action: FieldLike,
    extra_fields: Mapping[str, FieldLike] | None = None,
) -> dict[str, FieldSpec]:
    """Fields of a transition: observation, action, reward, next observation and end flags."""
    observation_field = as_field("observation", observation)
    fields = {
        "observation": observation_field,
        "action": as_field("action", action),
        "reward": FieldSpec((), REWARD_DTYPE),
        "next_observation": observation_field,
        "terminated": FieldSpec((), FLAG_DTYPE),
        "truncated": FieldSpec((), FLAG_DTYPE),
    }
    return with_extra_fields(fields, extra_fields)


def with_extra_fields(
    fields: dict[str, FieldSpec], extra_fields: Mapping[str, FieldLike] | None
) -> dict[str, FieldSpec]:
    """``fields`` with ``extra_fields`` added, each checked to be a new identifier."""
    for name, value in (extra_fields or {}).items():
        if name in fields:
            raise ValueError(
                f"extra_fields: {name!r} is a built-in field; built-in fields are {list(fields)}"
            )
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"extra_fields: field names must be identifiers, got {name!r}")
        fields[name] = as_field(f"extra_fields[{name!r}]", value)
    return fields


def fields_to_json(fields: Mapping[str, FieldSpec]) -> dict[str, dict[str, Any]]:
    """JSON-able form of a dict of fields."""
    return {name: spec.to_json() for name, spec in fields.items()}


def fields_from_json(data: Mapping[str, Mapping[str, Any]]) -> dict[str, FieldSpec]:
    """Inverse of :func:`fields_to_json`."""
    return {name: FieldSpec.from_json(spec) for name, spec in data.items()}
