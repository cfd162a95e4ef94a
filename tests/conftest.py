"""Shared fixtures: toy envs registered, and a helper to write sequence YAML files."""

from __future__ import annotations

import os
import sys

# One torch thread per test worker: make test runs two workers on two cores, and torch's
# thread pool contending for them made a small MLP's predict 5x slower. Set before torch loads.
os.environ.setdefault("OMP_NUM_THREADS", "1")
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))

from toy_envs import register_toy_envs

register_toy_envs()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long tests first, each at a place of its own, then the other slow tests, then the rest.

    make test hands tests to the workers one at a time (``--maxschedchunk 1``; two each at the
    start): a long test (one that trains an agent for minutes) at every other place begins on a
    worker of its own, and the suite runs on beside it. Begun last, one worker would train alone
    for minutes while the other sat idle."""
    long = [item for item in items if item.get_closest_marker("long")]
    others = [item for item in items if not item.get_closest_marker("long")]
    others.sort(key=lambda item: item.get_closest_marker("slow") is None)
    ordered = []
    for test in long:
        ordered.append(test)
        if others:
            ordered.append(others.pop(0))
    items[:] = ordered + others


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


def one_env_sequence(
    write_spec: Callable[..., Path], env_id: str, task_names: list[str], name: str, steps: int
) -> Any:
    """A sequence whose tasks are all ``env_id``, named ``task_names``, ``steps`` per task."""
    import envsuite

    tasks = [{"id": env_id, "name": task_name} for task_name in task_names]
    fields = toy_sequence(name=name, steps_per_task=steps, tasks=tasks)
    return envsuite.make_sequence(str(write_spec(fields)))


def echo_counter_return(seed: int) -> float:
    """toy/Echo-v0 played by hand with a fresh step counter from ``reset(seed=seed)``: the
    return a recurrent counting policy must get."""
    import gymnasium as gym

    env = gym.make("toy/Echo-v0")
    env.reset(seed=seed)
    total, count, ended = 0.0, 0, False
    while not ended:
        _, reward, terminated, truncated, _ = env.step(count)
        total, count, ended = total + reward, count + 1, terminated or truncated
    return total
