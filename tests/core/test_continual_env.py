"""ContinualEnv: block boundaries, infos, seeding, the end of the schedule, make_sequence, SB3."""

from __future__ import annotations

import dataclasses
import os

import gymnasium as gym
import numpy as np
import pytest
from conftest import toy_sequence

import envsuite
from envsuite.core.schedule import build_schedule
from envsuite.core.spec import load_sequence_spec

INFO_KEYS = {"task_index", "task_name", "task_step", "global_step", "task_switched"}


def play(env: gym.Env, steps: int, seed: int = 0) -> list[tuple[bool, bool, dict]]:
    """Step action 0 ``steps`` times, resetting on episode end; return (term, trunc, info)."""
    env.reset(seed=seed)
    results = []
    for _ in range(steps):
        _, _, terminated, truncated, info = env.step(env.action_space.sample() * 0)
        results.append((terminated, truncated, info))
        if terminated or truncated:
            env.reset()
    return results


def test_blocks_end_with_truncation_and_switch_tasks() -> None:
    env = gym.make(
        "envsuite/ClassicCartPoleAcrobot-v0",
        steps_per_task=40,
        schedule={"type": "cycles", "cycles": 2},
    )
    results = play(env, 80)
    switches = [info["global_step"] for _, _, info in results if info["task_switched"]]
    assert switches == [20, 40, 60]
    for _, truncated, info in results:
        assert info.keys() >= INFO_KEYS
        if info["task_switched"]:
            assert truncated
    names = [info["task_name"] for _, _, info in results]
    assert names == ["cartpole"] * 20 + ["acrobot"] * 20 + ["cartpole"] * 20 + ["acrobot"] * 20
    assert [info["global_step"] for _, _, info in results] == list(range(1, 81))
    # task_step counts a task's steps over all its blocks.
    assert results[59][2]["task_step"] == 40
    assert results[79][2]["task_step"] == 40
    assert results[40][2]["task_step"] == 21


def test_reset_info_names_the_new_task() -> None:
    env = gym.make("envsuite/ClassicPendulumGravity-v0", steps_per_task=3)
    _, info = env.reset(seed=1)
    assert (info["task_index"], info["global_step"], info["task_switched"]) == (0, 0, False)
    for _ in range(3):
        *_, info = env.step(np.zeros(1, np.float32))
    assert info["task_switched"]
    _, info = env.reset()
    assert (info["task_index"], info["task_name"], info["task_step"]) == (1, "pendulum-g5", 0)


def test_step_before_reset_and_after_a_block_end_need_a_reset() -> None:
    env = gym.make("envsuite/ClassicPendulumGravity-v0", steps_per_task=2)
    action = np.zeros(1, np.float32)
    # A never-reset env has no block to speak of: the message says only what to do.
    with pytest.raises(
        gym.error.ResetNeeded, match=r"^call reset\(\) before the first step"
    ) as error:
        env.step(action)
    assert "block" not in str(error.value)
    env.reset(seed=0)
    env.step(action)
    env.step(action)
    with pytest.raises(
        gym.error.ResetNeeded, match=r"block ended at global step 2 .*task_switched"
    ):
        env.step(action)


def test_past_the_schedule_the_last_task_keeps_playing() -> None:
    env = gym.make("envsuite/ClassicPendulumGravity-v0", steps_per_task=2)
    results = play(env, 30)
    assert sum(info["task_switched"] for *_, info in results) == 4
    assert {info["task_index"] for *_, info in results[10:]} == {4}
    assert results[-1][2]["task_step"] == 22
    assert env.unwrapped.total_steps == 10


def test_seeded_reset_starts_afresh_and_fixes_the_run() -> None:
    env = gym.make("envsuite/ClassicCartPoleAcrobot-v0", steps_per_task=30)
    first = [info["global_step"] for *_, info in play(env, 25, seed=4)]
    observation, info = env.reset(seed=4)
    assert (info["global_step"], info["task_index"]) == (0, 0)
    again, _ = gym.make("envsuite/ClassicCartPoleAcrobot-v0", steps_per_task=30).reset(seed=4)
    np.testing.assert_array_equal(observation, again)
    assert first == list(range(1, 26))


def test_tasks_get_distinct_seeds() -> None:
    env = gym.make("envsuite/ClassicPendulumGravity-v0", steps_per_task=1)
    observations = []
    env.reset(seed=0)
    for _ in range(5):
        env.step(np.zeros(1, np.float32))
        observation, _ = env.reset()
        observations.append(observation)
    # Five tasks seeded from one reset seed start in different states.
    assert len({tuple(np.round(observation, 6)) for observation in observations[:4]}) == 4


def test_success_passes_through(write_spec) -> None:
    env = envsuite.ContinualEnv(load_sequence_spec(write_spec(toy_sequence(steps_per_task=50))))
    env.reset(seed=0)
    infos = []
    for _ in range(10):
        _, _, terminated, _, info = env.step(0)
        infos.append(info)
        if terminated:
            break
    assert infos[-1]["success"] is True
    assert all(info["success"] is False for info in infos[:-1])


def test_render_delegates_to_the_current_task(write_spec) -> None:
    tasks = [{"id": "toy/Image-v0", "name": "a"}, {"id": "toy/Image-v0", "name": "b"}]
    spec = load_sequence_spec(write_spec(toy_sequence(tasks=tasks)))
    env = envsuite.ContinualEnv(spec, render_mode="rgb_array")
    assert env.metadata["render_modes"] == ["rgb_array"]
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (4, 4, 3)
    assert frame[0, 0, 0] == env.task_envs[0].unwrapped.count


class TestMakeSequence:
    def test_lookup_by_name_id_and_path(self) -> None:
        by_name = envsuite.make_sequence("ClassicPendulumGravity")
        assert envsuite.make_sequence("envsuite/ClassicPendulumGravity-v0").spec == by_name.spec
        assert envsuite.make_sequence("ClassicPendulumGravity-v0").spec == by_name.spec
        assert envsuite.make_sequence(by_name.spec.source).spec == by_name.spec
        assert by_name.num_tasks == 5
        assert by_name.schedule() == build_schedule(by_name.spec)

    def test_unknown_sequence_suggests_close_names(self) -> None:
        with pytest.raises(envsuite.SpecError, match=r"did you mean.*ClassicPendulumGravity"):
            envsuite.make_sequence("ClassicPendulumGravty")

    def test_overrides_reach_the_env(self) -> None:
        sequence = envsuite.make_sequence("ClassicCartPoleAcrobot", steps_per_task=8, seed=2)
        env = sequence.make_env()
        assert env.unwrapped.total_steps == 16
        assert env.spec is not None
        assert env.spec.id == "envsuite/ClassicCartPoleAcrobot-v0"

    def test_task_env_shares_the_sequence_spaces(self) -> None:
        sequence = envsuite.make_sequence("ClassicCartPoleAcrobot")
        env = sequence.make_env()
        task_env = sequence.make_task_env("acrobot")
        assert task_env.observation_space == env.observation_space
        assert task_env.action_space == env.action_space
        observation, info = task_env.reset(seed=0)
        assert (info["task_index"], info["task_name"]) == (1, "acrobot")
        np.testing.assert_array_equal(observation[6:], [0, 1])
        _, _, _, _, info = task_env.step(2)
        assert info["task_name"] == "acrobot"
        with pytest.raises(ValueError, match="task must be an index below 2"):
            sequence.make_task_env(2)


@pytest.mark.slow
@pytest.mark.parametrize(
    "sequence_id", ["envsuite/ClassicCartPoleAcrobot-v0", "envsuite/ClassicPendulumGravity-v0"]
)
def test_stable_baselines3_ppo_trains_on_a_sequence(sequence_id: str) -> None:
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_checker import check_env

    env = gym.make(sequence_id, steps_per_task=500)
    check_env(env.unwrapped)
    model = PPO("MlpPolicy", env, n_steps=512, batch_size=128, n_epochs=2, seed=0, device="cpu")
    model.learn(total_timesteps=2048)
    assert model.num_timesteps == 2048
    # The run crossed task switches: the env has played past the first task.
    assert env.unwrapped.global_step >= 2000
    assert env.unwrapped.task_index == env.unwrapped.blocks[-1].task_index


def test_render_modes_are_declared_and_checked() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = gym.make("envsuite/ClassicPendulumGravity-v0", render_mode="rgb_array")
    assert env.metadata["render_fps"] == 30
    with pytest.raises(ValueError, match="render_mode 'ansi' is not supported by every task"):
        gym.make("envsuite/ClassicPendulumGravity-v0", render_mode="ansi")


def test_registering_the_same_file_by_another_path_is_a_no_op() -> None:
    from envsuite.core.registry import register_sequence

    spec = envsuite.make_sequence("ClassicPendulumGravity").spec
    relative = os.path.relpath(spec.source)
    register_sequence(dataclasses.replace(spec, source=relative))


def test_a_reset_can_jump_to_any_step_of_the_schedule() -> None:
    # Two cycles of blocks of 10 steps: task 0 [0, 10), task 1 [10, 20), task 0, task 1 [30, 40).
    env = gym.make("envsuite/ClassicCartPoleAcrobot-v0", steps_per_task=20)
    unwrapped = env.unwrapped
    assert unwrapped.block_ends == [10, 20, 30, 40]
    _, info = env.reset(seed=0, options={"global_step": 15})
    assert (info["global_step"], info["task_index"], info["task_step"]) == (15, 1, 5)
    for _ in range(5):
        *_, info = env.step(env.action_space.sample())
    assert info["task_switched"]  # the same block end as an uninterrupted run
    assert info["global_step"] == 20
    _, info = env.reset(options={"global_step": 20})  # at a block end: the next block
    assert (info["global_step"], info["task_index"], info["task_step"]) == (20, 0, 10)
    assert unwrapped.block_index == 2
    _, info = env.reset(options={"global_step": 40})  # the very end: the last block goes on
    assert (unwrapped.block_index, info["task_index"]) == (3, 1)
    for bad in (-1, 41, 2.5, True, "3"):
        with pytest.raises(ValueError, match=r"options\['global_step'\]: must be an integer"):
            env.reset(options={"global_step": bad})
    # A refused reset is not a reset: the env must be reset again before it steps.
    with pytest.raises(gym.error.ResetNeeded):
        env.step(env.action_space.sample())


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"globalstep": 5}, ValueError, r"unknown key 'globalstep' \(did you mean 'global_step'"),
        ({"low": -0.1}, ValueError, r"takes \['global_step', 'task_options'\]"),
        ([("global_step", 3)], TypeError, "options: must be a dict"),
        ({"task_options": 3}, TypeError, r"options\['task_options'\]: must be a dict"),
    ],
)
def test_unknown_reset_options_are_refused(options: object, error: type, message: str) -> None:
    env = gym.make("envsuite/ClassicCartPoleAcrobot-v0")
    with pytest.raises(error, match=message):
        env.reset(seed=0, options=options)


def test_task_options_reach_the_current_task() -> None:
    # CartPole draws its start state in [low, high]: a narrow range shows the options arrived.
    env = gym.make("envsuite/ClassicCartPoleAcrobot-v0")
    observation, _ = env.reset(seed=0, options={"task_options": {"low": 0.01, "high": 0.0100001}})
    np.testing.assert_allclose(observation[:4], 0.01, atol=1e-6)
