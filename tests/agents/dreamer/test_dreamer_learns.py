"""DreamerV3 at size XS learns two minigames within a CPU test's budget: after a fixed-seed
run its deterministic policy beats a random one by a clear margin (a margin, not an exact
return). docs/dreamer.md gives the recipe, what it departs from and the figures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import yaml

import envsuite  # noqa: F401 (registers the minigames)
from agents.common.protocol import AgentContext
from agents.dreamer.agent import DreamerAgent
from agents.dreamer.config import DreamerConfig, Size
from agents.training import SingleTaskClock, make_vector_env, train_agent
from envsuite.data import data_path
from envsuite.evaluation.evaluator import RandomPolicy

pytestmark = pytest.mark.slow

MAX_EPISODE_STEPS = 300


@dataclass(frozen=True)
class LearningCase:
    game: str
    kwargs: dict[str, Any]
    steps: int
    margin: float
    """How far above the random policy's mean return the trained policy's must be."""


# The CPU recipe of ``envsuite-train experiment=dreamer_cpu`` (docs/dreamer.md): size XS, the
# paper's model, a smaller batch and train ratio, larger learning rates.
EXPERIMENT = data_path("configs") / "experiment" / "dreamer_cpu.yaml"


def _recipe() -> DreamerConfig:
    experiment = yaml.safe_load(EXPERIMENT.read_text())
    assert {"override /size": "XS"} in experiment["defaults"]
    return DreamerConfig(**{**experiment["agent"], "size": Size.XS, "video_every": 0})


CASES = [
    # Fruit falling a row per step: a catch or a miss every ten steps.
    LearningCase("Catch", {"fruit_speed": 1.0}, steps=2000, margin=1.5),
    LearningCase("SpaceInvaders", {}, steps=1500, margin=8.0),
]


def _make(case: LearningCase) -> gym.Env:
    return gym.make(f"envsuite/{case.game}-v0", max_episode_steps=MAX_EPISODE_STEPS, **case.kwargs)


def _mean_return(env: gym.Env, policy, episodes: int) -> float:
    """Mean return of ``policy`` (the evaluator's Policy: a batch of one) over ``episodes``
    episodes seeded 10 000, 10 001, ..."""
    returns = []
    for episode in range(episodes):
        observation, _ = env.reset(seed=10_000 + episode)
        state, start, total, done = None, np.ones(1, dtype=bool), 0.0, False
        while not done:
            action, state = policy(observation[None], state, start)
            observation, reward, terminated, truncated, _ = env.step(action[0])
            total += float(reward)
            start = np.zeros(1, dtype=bool)
            done = terminated or truncated
        returns.append(total)
    return float(np.mean(returns))


@pytest.mark.parametrize("case", CASES, ids=[case.game for case in CASES])
def test_xs_beats_a_random_policy(case: LearningCase) -> None:
    env = make_vector_env(
        lambda: SingleTaskClock(_make(case), 0, case.game, 0, case.steps, is_last=True)
    )
    agent: DreamerAgent = _recipe().build(AgentContext.of_env(env, case.steps, seed=0))
    train_agent(agent, env, 0, case.steps, seed=0)

    def trained(observation, state, start):
        return agent.act(observation, state, start, deterministic=True)

    evaluation = _make(case)
    random = _mean_return(evaluation, RandomPolicy(evaluation.action_space, 1, seed=0), 20)
    learnt = _mean_return(evaluation, trained, 10)
    print(f"{case.game}: DreamerV3 XS {learnt:.2f} vs random {random:.2f}")  # docs/dreamer.md
    assert learnt > random + case.margin, f"DreamerV3 {learnt:.2f} vs random {random:.2f}"
