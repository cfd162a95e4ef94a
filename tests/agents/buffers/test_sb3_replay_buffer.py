"""SB3ReplayBuffer: SAC and DQN train with it; truncation is not termination; pickling works."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3 import DQN, SAC
from stable_baselines3.common.type_aliases import DictReplayBufferSamples, ReplayBufferSamples

from agents.buffers.sb3 import SB3ReplayBuffer

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def one_torch_thread():
    # Tiny networks: more threads than free cores (pytest-xdist workers) only adds contention,
    # which slows SAC's updates tenfold on a busy 2-core machine.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def pendulum_buffer(**kwargs) -> SB3ReplayBuffer:
    env = gym.make("Pendulum-v1")
    return SB3ReplayBuffer(
        100, env.observation_space, env.action_space, device="cpu", n_envs=2, **kwargs
    )


def add_steps(buffer, steps, truncated_at=(), terminated_at=()):
    """Env 0 observes ``step`` and ends where told; env 1 observes ``100 + step``, never ends."""
    for step in range(steps):
        observation = np.array([[step] * 3, [100 + step] * 3], dtype=np.float32)
        done = np.array([step in truncated_at or step in terminated_at, False])
        infos = [{"TimeLimit.truncated": step in truncated_at}, {}]
        buffer.add(observation, observation + 1, np.full((2, 1), 0.5), np.ones(2), done, infos)


def test_sac_trains_with_it_and_the_buffer_holds_the_transitions(tmp_path):
    model = SAC(
        "MlpPolicy",
        "Pendulum-v1",
        buffer_size=5000,
        learning_starts=100,
        batch_size=64,
        policy_kwargs={"net_arch": [32, 32]},
        replay_buffer_class=SB3ReplayBuffer,
        seed=0,
        device="cpu",
    )
    model.learn(600)
    buffer = model.replay_buffer
    assert isinstance(buffer, SB3ReplayBuffer)
    assert buffer.size() == 600
    assert len(buffer.transitions) == 600
    assert model._n_updates == 500
    # Pendulum only truncates (200-step time limit): nothing is terminal, three truncations.
    assert not buffer.transitions.storage.arrays["terminated"][:600].any()
    assert buffer.transitions.storage.arrays["truncated"][:600].sum() == 3
    # SB3's own save/load of the replay buffer (a pickle) round-trips ours.
    model.save_replay_buffer(tmp_path / "replay")
    model.load_replay_buffer(tmp_path / "replay")
    np.testing.assert_array_equal(
        model.replay_buffer.transitions.storage.arrays["observation"],
        buffer.transitions.storage.arrays["observation"],
    )
    model.learn(50, reset_num_timesteps=False)
    assert model.replay_buffer.size() == 650


def test_dqn_trains_with_it():
    model = DQN(
        "MlpPolicy",
        "CartPole-v1",
        buffer_size=2000,
        learning_starts=100,
        batch_size=32,
        train_freq=4,
        policy_kwargs={"net_arch": [32]},
        replay_buffer_class=SB3ReplayBuffer,
        seed=0,
        device="cpu",
    )
    model.learn(600)
    assert model.replay_buffer.size() == 600
    assert model._n_updates > 0
    actions = model.replay_buffer.transitions.storage.arrays["action"][:600]
    assert actions.dtype == np.int64
    assert set(np.unique(actions)) <= {0, 1}


def test_dict_observations_are_stored_flat_and_sampled_per_key():
    space = spaces.Dict(
        {
            "image": spaces.Box(0, 1, (2, 3), dtype=np.bool_),
            "direction": spaces.Box(0, 4, (4,), dtype=np.uint8),
            "position": spaces.Box(-1, 1, (2,), dtype=np.float32),
        }
    )
    buffer = SB3ReplayBuffer(
        50, space, spaces.Discrete(3), device="cpu", n_envs=2, storage="reservoir"
    )
    # Each key's own bytes: 6 bools, 4 uint8, 2 float32.
    assert buffer.transitions.storage.arrays["observation"].shape[1:] == (6 + 4 + 8,)
    assert buffer.transitions.storage.arrays["observation"].dtype == np.uint8
    rng = np.random.default_rng(0)
    added = []
    for step in range(5):
        observation = {
            "image": rng.random((2, 2, 3)) < 0.5,
            "direction": np.full((2, 4), step, dtype=np.uint8),
            "position": rng.uniform(-1, 1, (2, 2)).astype(np.float32),
        }
        following = {
            "image": ~observation["image"],
            "direction": observation["direction"] + 1,
            "position": -observation["position"],
        }
        buffer.add(observation, following, np.array([1, 2]), np.zeros(2), np.zeros(2), [{}, {}])
        added.append(observation)
    samples = buffer.samples_at(np.arange(10))
    assert isinstance(samples, DictReplayBufferSamples)
    assert samples.observations["image"].dtype == torch.bool
    assert samples.observations["image"].shape == (10, 2, 3)
    for row in range(10):  # rows are step-major: env 0 then env 1 of each step
        step, env = divmod(row, 2)
        image = samples.observations["image"][row].numpy()
        np.testing.assert_array_equal(image, added[step]["image"][env])
        np.testing.assert_array_equal(samples.next_observations["image"][row].numpy(), ~image)
        assert samples.observations["direction"][row].tolist() == [step] * 4
        assert samples.next_observations["direction"][row].tolist() == [step + 1] * 4
        position = samples.observations["position"][row].numpy()
        np.testing.assert_array_equal(position, added[step]["position"][env])
        np.testing.assert_array_equal(samples.next_observations["position"][row].numpy(), -position)
    with pytest.raises(TypeError, match="key 'mode' is Discrete"):
        SB3ReplayBuffer(50, spaces.Dict({"mode": spaces.Discrete(2)}), spaces.Discrete(3))


def test_dqn_with_reservoir_replay_trains_on_a_maze():
    import envsuite

    env = envsuite.make_sequence("NavigationMazeLayouts", steps_per_task=100).make_task_env(0)
    model = DQN(
        "MultiInputPolicy",
        env,
        buffer_size=500,
        learning_starts=50,
        batch_size=16,
        replay_buffer_class=SB3ReplayBuffer,
        replay_buffer_kwargs={"storage": "reservoir"},
        seed=0,
        device="cpu",
    )
    model.learn(120)
    assert model._n_updates > 0
    assert len(model.replay_buffer.transitions) == 120


def test_samples_are_sb3_tensors_and_truncation_is_not_terminal():
    buffer = pendulum_buffer()
    add_steps(buffer, 10, truncated_at={3}, terminated_at={5})
    samples = buffer.sample(400)  # more than stored: SB3 draws with replacement
    assert isinstance(samples, ReplayBufferSamples)
    assert samples.observations.shape == (400, 3)
    assert samples.dones.shape == (400, 1)
    assert samples.rewards.shape == (400, 1)
    assert samples.observations.dtype == torch.float32
    assert samples.dones.dtype == torch.float32
    step = samples.observations[:, 0].numpy()
    np.testing.assert_array_equal(samples.next_observations[:, 0].numpy(), step + 1)
    assert set(step.tolist()) == set(range(10)) | set(range(100, 110))
    # Only env 0's terminated step is done; its truncated step is bootstrapped (not done).
    np.testing.assert_array_equal(samples.dones[:, 0].numpy() == 1, step == 5)


def test_without_timeout_handling_truncation_counts_as_done():
    buffer = pendulum_buffer(handle_timeout_termination=False)
    add_steps(buffer, 10, truncated_at={3}, terminated_at={5})
    samples = buffer.sample(400)
    step = samples.observations[:, 0].numpy()
    dones = samples.dones[:, 0].numpy() == 1
    assert set(step[dones].tolist()) == {3.0, 5.0}


def test_reset_and_unsupported_options():
    buffer = pendulum_buffer()
    add_steps(buffer, 5)
    assert buffer.size() == 5
    buffer.reset()
    assert buffer.size() == 0
    with pytest.raises(ValueError, match="the replay buffer is empty"):
        buffer.sample(4)
    with pytest.raises(ValueError, match="does not support optimize_memory_usage=True"):
        pendulum_buffer(optimize_memory_usage=True, handle_timeout_termination=False)
    with pytest.raises(TypeError, match="MultiDiscrete and Dict observations, got Tuple"):
        SB3ReplayBuffer(10, spaces.Tuple([spaces.Discrete(2)]), spaces.Discrete(2))


def test_reservoir_storage_keeps_early_transitions_and_resets_to_a_reservoir():
    buffer = pendulum_buffer(storage="reservoir", seed=3)  # 100 transitions, 2 envs
    for step in range(500):  # 1000 transitions: a ring would keep only steps 450-499
        observation = np.full((2, 3), step, dtype=np.float32)
        buffer.add(
            observation, observation + 1, np.zeros((2, 1)), np.ones(2), [False] * 2, [{}] * 2
        )
    assert buffer.size() == 50
    steps = buffer.transitions.storage.arrays["observation"][:, 0]
    early = np.mean(steps < 250)  # the first half of the stream
    assert 0.35 < early < 0.65
    buffer.reset()
    assert type(buffer.transitions).__name__ == "ReservoirBuffer"
    assert len(buffer.transitions) == 0
    with pytest.raises(ValueError, match=r"storage must be one of \['ring', 'reservoir'\]"):
        pendulum_buffer(storage="fifo")
