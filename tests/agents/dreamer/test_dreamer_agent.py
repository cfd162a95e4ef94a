"""DreamerV3 through the training loop: every observation kind of our families trains, the
recurrent state carries, checkpoints restore, and config mistakes are named."""

from __future__ import annotations

import io
import json

import gymnasium as gym
import numpy as np
import pytest
import torch

import envsuite
from agents.common.protocol import AgentConfigError, AgentContext
from agents.dreamer.agent import DreamerAgent
from agents.dreamer.config import DreamerConfig, Size
from agents.training import train_agent

# A DreamerV3 small enough for a CPU test: a few dozen updates in a few hundred steps.
TINY = {
    "size": Size.XS,
    "batch_size": 4,
    "sequence_length": 8,
    "replay_capacity": 4096,
    "prefill": 64,
    "train_ratio": 8.0,
    "horizon": 5,
    "log_every": 1,
    "video_every": 5,
}


def _agent(env: gym.vector.VectorEnv, steps: int, **fields) -> DreamerAgent:
    config = DreamerConfig(**{**TINY, **fields})
    return config.build(AgentContext.of_env(env, steps, seed=0, device="cpu"))


@pytest.mark.parametrize(
    ("sequence", "overrides"),
    [
        ("MinigamesCatchSpeed", {}),  # a symbolic grid of bools: the MLP
        ("MinigamesCatchSpeed", {"task_kwargs": {"obs_mode": "pixels"}}),  # 64x64x3: the CNN
        ("NavigationMazeLayouts", {}),  # a Dict of a symbolic grid and one-hot features
        ("NavigationMazeLayouts", {"task_kwargs": {"obs_mode": "pixels"}}),  # Dict with an image
        ("ManipulationPushDynamics", {}),  # float vectors, Box actions
    ],
    ids=["symbolic", "pixels", "navigation-dict", "navigation-pixels", "manipulation"],
)
def test_every_observation_kind_of_our_families_trains(sequence: str, overrides: dict) -> None:
    steps = 200
    env = envsuite.make_sequence(sequence, steps_per_task=100, **overrides).make_vector_env(
        2, autoreset_mode="SameStep"
    )
    agent = _agent(env, steps, num_envs=2)
    reports = []
    original_update = agent.update

    def update() -> dict:
        report = original_update()
        reports.append(report)
        return report

    agent.update = update
    try:
        assert train_agent(agent, env, 0, steps, seed=0) >= steps
    finally:
        env.close()
    scalars = [report for report in reports if "world_model/loss" in report]
    assert scalars, "no update ran"
    assert agent.updates > 10
    for report in scalars:
        assert all(np.isfinite(value) for value in report.values() if isinstance(value, float))
    videos = [
        report["world_model/open_loop"] for report in reports if "world_model/open_loop" in report
    ]
    if "pixels" in str(overrides):
        assert videos
        assert videos[0].dtype == np.uint8
        assert videos[0].shape[1:] == (3 * 64, 4 * 64, 3)
    else:
        assert not videos


def test_evaluation_is_deterministic_and_carries_the_recurrent_state() -> None:
    env = envsuite.make_sequence("MinigamesCatchSpeed", steps_per_task=100).make_vector_env(
        1, autoreset_mode="SameStep"
    )
    agent = _agent(env, 100)
    observation, _ = env.reset(seed=0)
    start = np.ones(1, dtype=bool)

    def play(torch_seed: int) -> tuple[list[np.ndarray], list]:
        """Six evaluation steps from a fresh state, with torch's generator at ``torch_seed``:
        the actions and the states."""
        torch.manual_seed(torch_seed)
        env.reset(seed=0)
        current, state, actions, states = observation, None, [], []
        for step in range(6):
            action, state = agent.act(current, state, np.array([step == 0]), deterministic=True)
            current = env.step(action)[0]
            actions.append(action)
            states.append(state)
        return actions, states

    # Neither the action nor the latent state is sampled: the global generator is not read.
    (actions, states), (again, states_again) = play(1), play(2)
    for action, same, (latent, _), (latent_again, _) in zip(
        actions, again, states, states_again, strict=True
    ):
        assert np.array_equal(action, same)
        torch.testing.assert_close(latent.stoch, latent_again.stoch, rtol=0, atol=0)
        torch.testing.assert_close(latent.deter, latent_again.deter, rtol=0, atol=0)
    state = states[0]
    _, carried = agent.act(observation, state, np.zeros(1, dtype=bool), deterministic=True)
    _, restarted = agent.act(observation, state, start, deterministic=True)
    _, fresh = agent.act(observation, None, start, deterministic=True)
    # Continuing the episode moves the GRU on; an episode start forgets the state.
    assert not torch.allclose(carried[0].deter, fresh[0].deter)
    torch.testing.assert_close(restarted[0].deter, fresh[0].deter)
    env.close()


def test_a_checkpoint_restores_an_agent_that_trains_on_identically(tmp_path) -> None:
    env = envsuite.make_sequence("MinigamesCatchSpeed", steps_per_task=200).make_vector_env(
        1, autoreset_mode="SameStep"
    )
    agent = _agent(env, 400)
    train_agent(agent, env, 0, 150, seed=0)
    env.close()
    torch.save(agent.state_dict(include_replay=True), tmp_path / "agent.pt")
    clone = _agent(env, 400)
    clone.load_state_dict(torch.load(tmp_path / "agent.pt", weights_only=True))
    assert (clone.env_steps, clone.updates) == (agent.env_steps, agent.updates)
    # The same further updates (16 more env steps' worth) from the same randomness.
    for trainee in (agent, clone):
        trainee.env_steps += 16
        torch.manual_seed(5)
        trainee.update()
    for mine, theirs in zip(
        agent.world_model.parameters(), clone.world_model.parameters(), strict=True
    ):
        torch.testing.assert_close(mine, theirs)
    for mine, theirs in zip(agent.behavior.parameters(), clone.behavior.parameters(), strict=True):
        torch.testing.assert_close(mine, theirs)
    assert "replay" not in agent.state_dict(include_replay=False)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("batch_size", 0, "agent.batch_size: must be positive"),
        ("sequence_length", 1, "agent.sequence_length: must be at least 2"),
        ("discount", 1.5, r"agent.discount: must lie in \[0, 1\]"),
        ("prefill", -1, "agent.prefill: must be 0 or more"),
        ("actor_lr", 0.0, "agent.actor_lr: must be positive"),
        ("free_nats", -1.0, "agent.free_nats: must be 0 or more"),
    ],
)
def test_config_mistakes_name_the_field(field: str, value: float, message: str) -> None:
    env = gym.vector.SyncVectorEnv([lambda: gym.make("CartPole-v1")])
    with pytest.raises(AgentConfigError, match=message):
        _agent(env, 100, **{field: value})


def test_an_unsupported_action_space_is_a_config_error() -> None:
    space = gym.spaces.MultiDiscrete([2, 3])
    context = AgentContext(gym.spaces.Box(-1, 1, (3,)), space, 1, 100, 0, "cpu")
    with pytest.raises(AgentConfigError, match="action space: DreamerV3 takes Discrete"):
        DreamerConfig(**TINY).build(context)


@pytest.mark.slow
def test_compiled_networks_compute_what_the_eager_ones_do() -> None:
    space = gym.spaces.Box(-1, 1, (5,), np.float32)
    context = AgentContext(space, gym.spaces.Discrete(3), 1, 100, 0, "cpu")
    agents = [
        DreamerConfig(**{**TINY, "compile": compiled}).build(context) for compiled in (False, True)
    ]
    generator = torch.Generator().manual_seed(0)
    batch = {
        "observation": torch.rand(4, 8, 5, generator=generator),
        "action": torch.randint(0, 3, (4, 8, 1), generator=generator),
        "reward": torch.rand(4, 8, generator=generator),
        "is_first": torch.zeros(4, 8, dtype=torch.bool),
        "terminated": torch.zeros(4, 8, dtype=torch.bool),
        "truncated": torch.zeros(4, 8, dtype=torch.bool),
    }
    results = []
    for agent in agents:
        torch.manual_seed(1)
        results.append(agent.train_on_batch(batch))
    for name, value in results[0].items():
        torch.testing.assert_close(results[1][name], value, rtol=1e-4, atol=1e-5)


def test_without_prefill_updates_wait_for_a_batch_of_windows_then_keep_the_ratio() -> None:
    env = envsuite.make_sequence("MinigamesCatchSpeed", steps_per_task=100).make_vector_env(
        1, autoreset_mode="SameStep"
    )
    agent = _agent(env, 100, prefill=0)
    updates_after_step = {}
    original_update = agent.update

    def update() -> dict:
        report = original_update()
        updates_after_step[agent.env_steps] = agent.updates
        return report

    agent.update = update
    train_agent(agent, env, 0, 40, seed=0)
    # After k steps the stream holds k + 1 (the first observation too): k - 6 windows of 8
    # steps, short of a batch of 4 until k = 10.
    assert updates_after_step[9] == 0
    assert updates_after_step[10] == 1
    # Then train_ratio 8 / (4 x 8) = 0.25 updates per step from step 10 on: no burst for the
    # ten steps spent waiting.
    assert updates_after_step[40] == 1 + 30 // 4
    env.close()


def test_held_out_steps_are_never_trained_on_and_their_loss_is_measured(tmp_path) -> None:
    from envsuite.evaluation import ContinualEvaluator

    sequence = envsuite.make_sequence("MinigamesCatchSpeed", steps_per_task=120)
    env = sequence.make_vector_env(1, autoreset_mode="SameStep")
    agent = _agent(env, 240, held_out_steps=40)
    evaluator = ContinualEvaluator(sequence, tmp_path, eval_every=60, episodes=1, tensorboard=False)
    try:
        train_agent(agent, env, 0, 240, evaluator=evaluator, seed=0)  # two tasks of four
    finally:
        env.close()
        evaluator.close()
    assert sorted(agent.held_out) == [0, 1]
    replayed = set(agent.replay.stored("step").tolist())
    for task, held_out in agent.held_out.items():
        assert held_out.steps_added == 40
        held_out_steps = set(held_out.stored("step").tolist())
        assert min(held_out_steps) > 120 * task
        assert not held_out_steps & replayed
    lines = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    measured = [(line["eval_step"], line["evaluated_task"]) for line in lines if "measure" in line]
    # A task is measured once its held-out steps are in, at every round after.
    assert measured == [(60, 0), (120, 0), (180, 0), (180, 1), (240, 0), (240, 1)]
    values = [line["value"] for line in lines if "measure" in line]
    assert all(np.isfinite(values))
    assert all(value > 0 for value in values)
    # A checkpoint with the replay keeps the held-out steps: the measures come out the same.
    restored = _agent(env, 240, held_out_steps=40)
    file = io.BytesIO()
    torch.save(agent.state_dict(include_replay=True), file)
    file.seek(0)
    restored.load_state_dict(torch.load(file, weights_only=True))
    before = torch.random.get_rng_state()
    assert restored.evaluation_measures() == agent.evaluation_measures()
    assert torch.equal(torch.random.get_rng_state(), before)  # training's stream unmoved


def test_held_out_steps_fewer_than_a_window_per_env_are_refused() -> None:
    sequence = envsuite.make_sequence("MinigamesCatchSpeed", steps_per_task=120)
    env = sequence.make_vector_env(2, autoreset_mode="SameStep")
    try:
        with pytest.raises(AgentConfigError, match=r"agent\.held_out_steps: must be 0 or at least"):
            _agent(env, 240, num_envs=2, held_out_steps=15)
    finally:
        env.close()
