"""Tiny sequences for the envsuite-train tests: two CartPoles (Discrete actions) and two
Pendulums (Box actions), written as YAML files a run can name."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import yaml

from agents.common.protocol import Transition
from agents.training import SingleTaskClock, make_vector_env, train_agent
from envsuite.core.vector_infos import final_observations, step_infos

README = Path(__file__).parents[1] / "README.md"


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


# The SB3 baselines as the agent configs named them before the algorithm x method x mode groups.
BASELINES = (
    "dqn",
    "dqn_ewc",
    "dqn_multitask",
    "dqn_replay",
    "dqn_single_task",
    "ppo",
    "ppo_ewc",
    "ppo_l2",
    "ppo_multitask",
    "ppo_single_task",
    "sac",
    "sac_ewc",
    "sac_l2",
    "sac_multitask",
    "sac_replay",
    "sac_single_task",
)


def baseline_overrides(baseline: str) -> list[str]:
    """``sac_ewc`` as ``algorithm=sac method=ewc``, ``dqn_multitask`` as ``algorithm=dqn
    mode=multitask``."""
    algorithm, _, rest = baseline.partition("_")
    if rest in ("multitask", "single_task"):
        return [f"algorithm={algorithm}", f"mode={rest}"]
    return [f"algorithm={algorithm}", *([f"method={rest}"] if rest else [])]


def run_overrides(baseline: str, sequence: Path, eval_every: int, *more: str) -> list[str]:
    """The overrides of a short CPU run of a baseline (named as in :data:`BASELINES`): one
    evaluation episode per task every ``eval_every`` steps, no progress bar, then ``more``."""
    return [
        *baseline_overrides(baseline),
        f"sequence={sequence}",
        "device=cpu",
        "threads=1",
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


def readme_agent_module(folder: Path) -> Path:
    """The README's ``my_agents.py`` code block, written to ``folder``."""
    match = re.search(r"```python\n(# my_agents\.py\n.*?)```", README.read_text(), re.DOTALL)
    assert match, "README.md has no ```python block starting with '# my_agents.py'"
    path = folder / "my_agents.py"
    path.write_text(match.group(1))
    return path


def example_agent_overrides(sequence: Path, *more: str) -> list[str]:
    return [
        "agent=custom",
        "agent.target=my_agents:ReinforceAgent",
        "+agent.options.learning_rate=0.01",
        f"sequence={sequence}",
        "device=cpu",
        "threads=1",
        "eval.episodes=5",
        "logging.progress_bar=false",
        *more,
    ]


def loop_transition(
    observation: Any, action: Any, step: tuple[Any, Any, Any, Any, dict[str, Any]]
) -> Transition:
    """The transition the training loop hands an agent for ``env.step(action)``'s ``step`` of a
    same-step-autoreset vector env (final observations and per-env infos split out)."""
    following, reward, terminated, truncated, infos = step
    ended = terminated | truncated
    return Transition(
        observation,
        action,
        reward,
        final_observations(following, infos, ended),
        following,
        terminated,
        truncated,
        step_infos(infos, ended),
    )
