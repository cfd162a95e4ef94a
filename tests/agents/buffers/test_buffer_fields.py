"""FieldSpec: validation and the fields gymnasium spaces map to."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium import spaces

from agents.buffers import FieldSpec, transition_fields


@pytest.mark.parametrize(
    ("space", "expected"),
    [
        (spaces.Box(0, 255, (64, 64, 3), np.uint8), FieldSpec((64, 64, 3), np.uint8)),
        (spaces.Box(-1, 1, (6,)), FieldSpec((6,), np.float32)),
        (spaces.Discrete(5), FieldSpec((1,), np.int64)),
        (spaces.MultiDiscrete([3, 4]), FieldSpec((2,), np.int64)),
        (spaces.MultiBinary(7), FieldSpec((7,), np.int8)),
    ],
)
def test_fields_of_spaces(space, expected):
    assert FieldSpec.from_space(space) == expected


def test_field_spec_validation():
    assert FieldSpec(3, "float32") == FieldSpec((3,), np.float32)
    assert FieldSpec((), bool).item_bytes == 1
    with pytest.raises(ValueError, match="shape must be positive integers"):
        FieldSpec((0, 2), np.float32)
    with pytest.raises(ValueError, match="shape must be positive integers"):
        FieldSpec((2.5,), np.float32)
    with pytest.raises(TypeError, match="bool, integer or floating point"):
        FieldSpec((2,), object)
    with pytest.raises(TypeError, match="is not a numpy dtype"):
        FieldSpec((2,), "pixels")
    with pytest.raises(TypeError, match="cannot store elements of Text"):
        FieldSpec.from_space(spaces.Text(5))
    spec = FieldSpec((2, 3), np.uint16)
    assert FieldSpec.from_json(spec.to_json()) == spec


def test_layouts():
    observation, action = FieldSpec((4,), np.float32), spaces.Discrete(2)
    assert list(transition_fields(observation, action)) == [
        "observation",
        "action",
        "reward",
        "next_observation",
        "terminated",
        "truncated",
    ]
    with pytest.raises(ValueError, match="field names must be identifiers"):
        transition_fields(observation, action, {"task index": FieldSpec((), np.int32)})
