"""WMAR's replay in the agent: each minibatch comes from one store with the stated chance (or
its windows do, per sample), checkpoints restore both stores and the choice, the diagnostics
report each task's share, and config mistakes are named."""

from __future__ import annotations

import io

import gymnasium as gym
import numpy as np
import pytest
import torch
from train_helpers import loop_transition

import envsuite
from agents.common.protocol import AgentConfigError, AgentContext
from agents.dreamer.config import Size
from agents.training import train_agent
from agents.wmar.agent import WMARAgent
from agents.wmar.config import Mixing, WMARConfig

# A WMAR small enough for a CPU test: stores of a few chunks of 16 steps.
TINY = {
    "size": Size.XS,
    "batch_size": 4,
    "sequence_length": 8,
    "chunk_length": 16,
    "replay_capacity": 4 * 9,
    "long_term_capacity": 6 * 9,
    "prefill": 64,
    "train_ratio": 8.0,
    "horizon": 5,
    "log_every": 1,
    "video_every": 0,
}


def _agent(steps: int = 400, seed: int = 0, **fields) -> tuple[WMARAgent, gym.vector.VectorEnv]:
    env = envsuite.make_sequence("MinigamesCatchSpeed", steps_per_task=steps // 2).make_vector_env(
        1, autoreset_mode="SameStep"
    )
    config = WMARConfig(**{**TINY, **fields})
    return config.build(AgentContext.of_env(env, steps, seed=seed, device="cpu")), env


def _fill(agent: WMARAgent, env: gym.vector.VectorEnv, steps: int) -> None:
    """Random play stored without updates."""
    observation, _ = env.reset(seed=0)
    for _ in range(steps):
        action = np.array([env.single_action_space.sample()])
        step = env.step(action)
        agent.observe(loop_transition(observation, action, step))
        observation = step[0]


@pytest.mark.parametrize("share", [0.5, 0.2])
def test_each_minibatch_comes_whole_from_one_store_with_the_stated_chance(share: float) -> None:
    agent, env = _agent(long_term_share=share)
    _fill(agent, env, 200)
    env.close()
    assert agent.replay.windows("long_term") >= agent.config.batch_size
    draws = 4000
    counts = np.array([agent.long_term_count() for _ in range(draws)])
    assert set(counts.tolist()) <= {0, agent.config.batch_size}
    whole = np.mean(counts == agent.config.batch_size)
    assert abs(whole - share) < 4 * np.sqrt(share * (1 - share) / draws)


def test_per_sample_mixing_draws_each_window_from_the_long_term_store_with_the_chance() -> None:
    agent, env = _agent(mixing=Mixing.per_sample, batch_size=8)
    _fill(agent, env, 200)
    env.close()
    counts = np.array([agent.long_term_count() for _ in range(4000)])
    # A binomial count: mean 8 * 0.5, variance 8 * 0.25 (whole minibatches would give 16).
    assert abs(counts.mean() - 4.0) < 0.1
    assert 1.7 < counts.var() < 2.3


def test_the_long_term_store_waits_for_a_minibatch_of_windows() -> None:
    agent, env = _agent(long_term_share=1.0, batch_size=12)
    _fill(agent, env, 16)  # one chunk of 16 steps full and offered: 9 windows
    assert agent.replay.windows("long_term") == 9
    assert agent.long_term_count() == 0
    _fill(agent, env, 9)  # the second chunk (its first 7 steps repeat the first's) offered
    env.close()
    assert agent.replay.windows("long_term") == 18
    assert agent.long_term_count() == 12


def test_updates_run_once_the_stores_together_hold_a_minibatch_of_windows() -> None:
    # The smallest recent store: its windows fall below a minibatch whenever a chunk opens.
    agent, env = _agent(
        steps=300, replay_capacity=18, long_term_capacity=90, batch_size=16, prefill=0
    )
    try:
        train_agent(agent, env, 0, 300, seed=0)
    finally:
        env.close()
    assert agent.updates > 10


def test_training_reports_the_draws_and_each_tasks_share_of_both_stores() -> None:
    agent, env = _agent(steps=400)
    reports = []
    original_update = agent.update

    def update() -> dict:
        report = original_update()
        if report:
            reports.append(report)
        return report

    agent.update = update
    try:
        train_agent(agent, env, 0, 400, seed=0)
    finally:
        env.close()
    last = reports[-1]
    names = list(agent.task_names.values())
    assert len(names) == 2
    for store in ("recent", "long_term"):
        shares = [last[f"replay/{store}/share/{name}"] for name in names]
        assert sum(shares) == pytest.approx(1.0)
    # The recent store holds the newest chunks: only the second task's by the end.
    assert last[f"replay/recent/share/{names[1]}"] == 1.0
    assert 0 < last[f"replay/long_term/share/{names[0]}"] < 1
    drawn = np.mean([report["replay/long_term_drawn"] for report in reports[-40:]])
    assert 0.2 < drawn < 0.8
    assert all(report["replay/sampled_age"] >= 0 for report in reports)


def test_a_checkpoint_restores_both_stores_their_keys_and_the_store_choice() -> None:
    agent, env = _agent()
    _fill(agent, env, 150)
    file = io.BytesIO()
    torch.save(agent.state_dict(include_replay=True), file)
    file.seek(0)
    restored, restored_env = _agent(seed=7)
    restored_env.close()
    restored.load_state_dict(torch.load(file, weights_only=True))
    assert np.array_equal(restored.replay._key, agent.replay._key)
    assert restored.replay.windows("long_term") == agent.replay.windows("long_term")
    for _ in range(20):
        first, second = agent._sample_batch(), restored._sample_batch()
        for name in ("reward", "step", "task", "is_first"):
            assert torch.equal(first[name], second[name])
    env.close()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"long_term_share": 1.5}, r"agent\.long_term_share: must lie in \[0, 1\], got 1.5"),
        ({"long_term_capacity": -1}, "agent.long_term_capacity: must be 0 or more"),
        ({"chunk_length": 4}, "agent.chunk_length: must be at least agent.sequence_length=8"),
        ({"long_term_capacity": 5}, "agent.long_term_capacity: long_term_capacity=5 holds 0"),
        ({"replay_capacity": 9}, "agent.replay_capacity: capacity=9 holds 1 chunks"),
    ],
)
def test_config_mistakes_name_the_field(fields: dict, message: str) -> None:
    with pytest.raises(AgentConfigError, match=message):
        _agent(**fields)
