"""Tiny sequences for the envsuite-train tests: two CartPoles (Discrete actions) and two
Pendulums (Box actions), written as YAML files a run can name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import yaml

from agents.training import SingleTaskClock, make_vector_env, train_agent


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


def train_for(agent: Any, make_env: Callable[[], gym.Env], steps: int) -> None:
    """Train ``agent`` for ``steps`` through the training loop on a vector env of
    ``make_env`` (a sequence env, or a plain env on a :func:`clocked` clock), then close it."""
    env = make_vector_env(make_env)
    try:
        train_agent(agent, env, 0, steps, seed=0)
    finally:
        agent.close()
        env.close()


def clocked(make_env: Callable[[], gym.Env], steps: int) -> Callable[[], gym.Env]:
    """A plain env as one task of ``steps`` steps on a sequence's clock."""
    return lambda: SingleTaskClock(make_env(), 0, "task", 0, steps, is_last=True)
