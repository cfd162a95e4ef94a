"""Shared fixtures: toy envs registered, and a helper to write sequence YAML files."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))

from toy_envs import register_toy_envs

register_toy_envs()


@pytest.fixture
def write_spec(tmp_path: Path) -> Callable[..., Path]:
    """Write a sequence YAML under ``tmp_path/<family>/`` from fields (or raw text)."""

    def write(fields: dict[str, Any] | str, family: str = "toy", name: str = "spec.yaml") -> Path:
        path = tmp_path / family / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(fields if isinstance(fields, str) else yaml.safe_dump(fields))
        return path

    return write


def toy_sequence(**fields: Any) -> dict[str, Any]:
    """Fields of a valid toy sequence, with ``fields`` replacing the defaults."""
    base: dict[str, Any] = {
        "name": "ToySequence",
        "version": 0,
        "steps_per_task": 10,
        "tasks": [
            {"id": "toy/Counter-v0", "name": "narrow", "kwargs": {"width": 2, "actions": 2}},
            {"id": "toy/Counter-v0", "name": "wide", "kwargs": {"width": 4, "actions": 3}},
        ],
    }
    base.update(fields)
    return base
