"""Tiny sequences for the envsuite-train tests: two CartPoles (Discrete actions) and two
Pendulums (Box actions), written as YAML files a run can name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def cartpoles(name: str, steps_per_task: int) -> dict[str, Any]:
    """CartPole, then CartPole with Sutton and Barto's reward; a one-hot task id."""
    return {
        "name": name,
        "version": 0,
        "steps_per_task": steps_per_task,
        "task_id_mode": "onehot",
        "tasks": [
            {"id": "CartPole-v1", "name": "cartpole"},
            {
                "id": "CartPole-v1",
                "name": "cartpole-sutton",
                "kwargs": {"sutton_barto_reward": True},
            },
        ],
    }


def pendulums(name: str, steps_per_task: int) -> dict[str, Any]:
    """Pendulum at gravity 5, then at 15."""
    return {
        "name": name,
        "version": 0,
        "steps_per_task": steps_per_task,
        "tasks": [
            {"id": "Pendulum-v1", "name": "pendulum-g5", "kwargs": {"g": 5.0}},
            {"id": "Pendulum-v1", "name": "pendulum-g15", "kwargs": {"g": 15.0}},
        ],
    }


def write_sequence(path: Path, fields: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(fields))
    return path


def run_overrides(agent: str, sequence: Path, eval_every: int, *more: str) -> list[str]:
    """The overrides of a short CPU run: one evaluation episode per task every ``eval_every``
    steps, no progress bar, then ``more``."""
    return [
        f"agent={agent}",
        f"sequence={sequence}",
        "device=cpu",
        f"eval.every={eval_every}",
        "eval.episodes=1",
        "logging.progress_bar=false",
        *more,
    ]
