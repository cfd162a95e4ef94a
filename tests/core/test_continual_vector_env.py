"""ContinualVectorEnv: one clock over the vector, rounded block ends, both autoreset modes, seeking,
and the errors of bad input. (The registry-wide harness compares it with ContinualEnv and with
the tasks' own vector envs.)"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from conftest import toy_sequence

import envsuite
from envsuite.core.continual_vector_env import ContinualVectorEnv


@pytest.fixture
def toy(write_spec: Callable[..., Path]) -> envsuite.Sequence:
    """Two counter tasks (widths 2 and 4, 2 and 3 actions) whose episodes end after 3 to 5
    steps, so that envs autoreset at different steps."""
    return envsuite.make_sequence(str(write_spec(toy_sequence(steps_per_task=50))))


def play(env: gym.vector.VectorEnv, steps: int, seed: int = 0) -> list[tuple]:
    """Step action 0 in every env ``steps`` times from ``reset(seed=seed)``."""
    env.reset(seed=seed)
    actions = np.zeros(env.num_envs, dtype=np.int64)
    return [env.step(actions) for _ in range(steps)]


def test_the_clock_counts_the_env_steps_of_the_vector_and_every_env_switches_together(
    toy: envsuite.Sequence,
) -> None:
    env = toy.make_vector_env(4)
    env.reset(seed=0)
    clock, autoresetting, switch_seen = 0, np.zeros(4, dtype=bool), False
    actions = np.zeros(4, dtype=np.int64)
    for _ in range(40):
        _, rewards, terminations, truncations, infos = env.step(actions)
        if switch_seen:
            # The step after a block end starts the next task in every env and steps none.
            assert infos["task_index"].tolist() == [1] * 4
            assert not (terminations | truncations).any()
            assert not rewards.any()
            assert infos["global_step"].tolist() == [clock] * 4
            assert infos["task_step"].tolist() == [clock - 50] * 4
            return
        clock += 4 - int(autoresetting.sum())
        assert infos["global_step"].tolist() == [clock] * 4
        if clock >= 50:
            # The first step reaching the block's end ends it, in every env.
            assert infos["task_switched"].all()
            assert truncations.all()
            assert infos["task_index"].tolist() == [0] * 4
            switch_seen = True
        else:
            assert not infos["task_switched"].any()
        autoresetting = terminations | truncations
    raise AssertionError("no task switch in 40 steps")


def test_a_block_lasts_its_scheduled_steps_give_or_take_fewer_than_num_envs(
    write_spec: Callable[..., Path],
) -> None:
    fields = toy_sequence(steps_per_task=50, schedule={"type": "cycles", "cycles": 3})
    sequence = envsuite.make_sequence(str(write_spec(fields)))
    blocks = sequence.schedule()  # six blocks of 16 or 17 steps: never a multiple of 4
    scheduled_ends = np.cumsum([block.steps for block in blocks])
    results = play(sequence.make_vector_env(4), 200)
    clocks = [int(result[4]["global_step"][0]) for result in results]
    switches = [step for step, result in enumerate(results) if result[4]["task_switched"][0]]
    assert len(switches) == len(blocks) - 1
    for block, step in enumerate(switches):
        # The first step whose clock reaches the block's cumulated end ends it: rounding never
        # accumulates from block to block.
        assert clocks[step - 1] < scheduled_ends[block] <= clocks[step]
    ends = [0] + [clocks[step] for step in switches]
    lengths = np.diff(ends)
    assert (lengths != [block.steps for block in blocks[:-1]]).any()  # some block was rounded
    for task in range(sequence.num_tasks):
        own = [block for block in range(len(blocks) - 1) if blocks[block].task_index == task]
        played = sum(lengths[block] for block in own)
        scheduled = sum(blocks[block].steps for block in own)
        assert abs(played - scheduled) < 4 * len(own)


def test_same_step_autoreset_plays_as_gymnasiums_over_the_sequence_env(
    toy: envsuite.Sequence,
) -> None:
    ours = toy.make_vector_env(1, autoreset_mode="SameStep")
    theirs = gym.vector.SyncVectorEnv(
        [toy.make_env], autoreset_mode=gym.vector.AutoresetMode.SAME_STEP
    )
    for step, (mine, expected) in enumerate(zip(play(ours, 130), play(theirs, 130), strict=True)):
        for field, name in enumerate(("obs", "reward", "terminated", "truncated")):
            np.testing.assert_equal(mine[field], expected[field], err_msg=f"step {step} {name}")
        for key in ("final_obs", "final_info", "task_index", "global_step", "task_switched"):
            assert (key in mine[4]) == (key in expected[4]), (step, key)
            if key == "final_obs" and key in expected[4]:
                # Object arrays of rows: compared row by row.
                for row, expected_row in zip(mine[4][key], expected[4][key], strict=True):
                    np.testing.assert_equal(row, expected_row, err_msg=f"step {step} final_obs")
            elif key in expected[4]:
                np.testing.assert_equal(
                    mine[4][key], expected[4][key], err_msg=f"step {step} info[{key!r}]"
                )


def test_same_step_autoreset_keeps_the_ended_steps_and_resets_only_those_envs(
    toy: envsuite.Sequence,
) -> None:
    env = toy.make_vector_env(3, autoreset_mode="SameStep")
    env.reset(seed=1)
    actions = np.zeros(3, dtype=np.int64)
    for step in range(1, 17):
        observations, _, terminations, truncations, infos = env.step(actions)
        assert infos["global_step"].tolist() == [3 * step] * 3
        ended = terminations | truncations
        if ended.any() and not infos["final_info"]["task_switched"][ended].any():
            # An ended counter observed its goal (5); its new episode starts at 0 to 2.
            assert infos["_final_obs"].tolist() == ended.tolist()
            for index in np.flatnonzero(ended):
                assert infos["final_obs"][index].tolist() == [5.0, 5.0, 0.0, 0.0]  # padded to 4
                assert infos["final_info"]["success"][index]
                assert observations[index, 0] <= 2
                assert not infos["_success"][index]  # a reset's info has no success key
            for index in np.flatnonzero(~ended):
                assert infos["final_obs"][index] is None
                assert infos["_success"][index]
            return
    raise AssertionError("no episode ended in 16 steps")


def test_reset_jumps_to_a_global_step(toy: envsuite.Sequence) -> None:
    env = toy.make_vector_env(4)
    _, infos = env.reset(seed=0, options={"global_step": 57})
    assert infos["task_index"].tolist() == [1] * 4
    assert infos["task_step"].tolist() == [7] * 4
    assert infos["global_step"].tolist() == [57] * 4
    # The last block's rounding may carry the clock up to num_envs - 1 past the schedule.
    env.reset(options={"global_step": 103})
    with pytest.raises(ValueError, match=r"options\['global_step'\].*\[0, 103\]"):
        env.reset(options={"global_step": 104})


@pytest.mark.parametrize("num_envs", [0, -2, 1.5, True, "4"])
def test_num_envs_must_be_a_positive_integer(toy: envsuite.Sequence, num_envs: object) -> None:
    with pytest.raises(ValueError, match="num_envs: must be a positive integer"):
        toy.make_vector_env(num_envs)


def test_blocks_shorter_than_one_vector_step_are_refused(toy: envsuite.Sequence) -> None:
    with pytest.raises(ValueError, match=r"num_envs: every block .* at least num_envs=64"):
        toy.make_vector_env(64)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"reset_mask": np.ones(2, dtype=bool)}, ValueError, "reset_mask"),
        ([("global_step", 3)], TypeError, "options: must be a dict"),
        ({"global_step": "3"}, ValueError, r"options\['global_step'\]"),
        ({"task_options": {"reset_mask": np.ones(2, dtype=bool)}}, ValueError, "reset_mask"),
        ({"globalstep": 3}, ValueError, r"unknown key 'globalstep' \(did you mean 'global_step'"),
    ],
)
def test_bad_reset_options_are_refused(
    toy: envsuite.Sequence, options: object, error: type, message: str
) -> None:
    env = toy.make_vector_env(2)
    with pytest.raises(error, match=message):
        env.reset(seed=0, options=options)


def test_a_reset_refused_for_its_global_step_must_be_done_again(toy: envsuite.Sequence) -> None:
    env = toy.make_vector_env(2)
    env.reset(seed=0)
    env.step(np.zeros(2, dtype=np.int64))
    with pytest.raises(ValueError, match=r"options\['global_step'\]"):
        env.reset(seed=0, options={"global_step": 10**6})
    # The seeded reset had set the clock back to 0: stepping on would mix two runs.
    with pytest.raises(gym.error.ResetNeeded):
        env.step(np.zeros(2, dtype=np.int64))


def test_bad_seeds_modes_and_actions_are_refused(toy: envsuite.Sequence) -> None:
    env = toy.make_vector_env(2)
    with pytest.raises(gym.error.ResetNeeded):
        env.step(np.zeros(2, dtype=np.int64))
    with pytest.raises(ValueError, match="seed: must be None or a non-negative int"):
        env.reset(seed=[1, 2])
    env.reset(seed=0)
    for actions in (np.zeros(2), np.array([0, 3]), np.zeros(3, dtype=np.int64), 1):
        with pytest.raises(ValueError, match="actions: must"):
            env.step(actions)
    with pytest.raises(ValueError, match="autoreset_mode: must be one of"):
        toy.make_vector_env(2, autoreset_mode="Disabled")
    with pytest.raises(ValueError, match="task_vectorization_mode: must be None or one of"):
        toy.make_vector_env(2, task_vectorization_mode="fast")


def test_same_step_autoreset_restarts_only_the_ended_envs_of_an_external_task() -> None:
    # Gymnasium's own CartPole batch resets all its envs on a reset_mask: by default a sequence
    # plays CartPole through gymnasium's vector env over single envs, seeded s_k + i.
    env = gym.make_vec("envsuite/ClassicCartPoleAcrobot-v0", num_envs=4, autoreset_mode="SameStep")
    task_seed = int(np.random.SeedSequence(0).generate_state(2)[0])
    cartpoles = gym.vector.SyncVectorEnv(
        [lambda: gym.make("CartPole-v1")] * 4,
        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,
    )
    observations, _ = env.reset(seed=0)
    expected, _ = cartpoles.reset(seed=task_seed)
    np.testing.assert_equal(observations[:, :4], expected)
    rng = np.random.default_rng(0)
    ended = np.zeros(4, dtype=bool)
    for step in range(100):  # within the first block, CartPole's
        actions = rng.integers(0, 2, 4)
        observations, _, terminations, truncations, infos = env.step(actions)
        expected, _, expected_terminations, _, _ = cartpoles.step(actions)
        assert infos["task_index"].tolist() == [0] * 4
        np.testing.assert_equal(observations[:, :4], expected, err_msg=f"step {step}")
        np.testing.assert_equal(terminations, expected_terminations, err_msg=f"step {step}")
        ended |= terminations | truncations
    assert ended.any()
    env.close()


def test_a_render_mode_not_every_task_supports_is_refused() -> None:
    # CartPole's batched env renders only rgb_array: refused as ContinualEnv refuses it.
    with pytest.raises(ValueError, match="render_mode 'ansi' is not supported by every task"):
        gym.make_vec("envsuite/ClassicCartPoleAcrobot-v0", num_envs=2, render_mode="ansi")


def test_bad_actions_are_refused_in_a_task_with_the_unions_actions(
    toy: envsuite.Sequence,
) -> None:
    # Task "wide" has the union's 3 actions, and gymnasium's vector env over its single envs
    # would hand a bad action to the task unchecked (the counter takes anything).
    env = toy.make_vector_env(2)
    env.reset(seed=0, options={"global_step": 50})
    for actions in (np.array([-1, 0]), np.array([0, 3]), np.zeros(2), 1):
        with pytest.raises(ValueError, match="actions: must"):
            env.step(actions)


@pytest.mark.parametrize(
    "sequence_id", ["envsuite/ClassicCartPoleAcrobot-v0", "envsuite/ManipulationPushDynamics-v0"]
)
def test_tasks_may_run_in_subprocesses(sequence_id: str) -> None:
    kwargs = {"steps_per_task": 40, "schedule": {"type": "cycles", "cycles": 2}}
    # Subprocesses against gymnasium's vector env over single envs in this process.
    sync = gym.make_vec(sequence_id, num_envs=2, task_vectorization_mode="sync", **kwargs)
    subprocesses = gym.make_vec(sequence_id, num_envs=2, task_vectorization_mode="async", **kwargs)
    try:
        actions = [sync.action_space.sample() for _ in range(50)]
        for env in (sync, subprocesses):
            env.reset(seed=0)
        for step, action in enumerate(actions):
            ours, expected = subprocesses.step(action), sync.step(action)
            for field in range(4):
                np.testing.assert_equal(ours[field], expected[field], err_msg=f"step {step}")
            np.testing.assert_equal(
                ours[4]["global_step"], expected[4]["global_step"], err_msg=f"step {step}"
            )
    finally:
        sync.close()
        subprocesses.close()


def test_a_game_narrower_than_the_sequence_writes_its_padding_itself() -> None:
    env = gym.make_vec("envsuite/MinigamesCross-v0", num_envs=2).unwrapped
    assert isinstance(env, ContinualVectorEnv)
    channels = env.single_observation_space.shape[-1]
    for task_env in env.task_envs:
        # Each game's own vector env has the sequence's channels: nothing is padded on top.
        assert task_env.env.single_observation_space.shape[-1] == channels


def test_a_task_that_sets_its_own_padding_keeps_it(write_spec: Callable[..., Path]) -> None:
    tasks = [
        {"id": "envsuite/Breakout-v0", "name": "breakout", "kwargs": {"observation_channels": 5}},
        {"id": "envsuite/Runner-v0", "name": "runner"},
    ]
    fields = toy_sequence(name="MinigamesPadded", steps_per_task=40, tasks=tasks)
    sequence = envsuite.make_sequence(str(write_spec(fields, family="minigames")))
    for env in (sequence.make_env(), sequence.make_vector_env(2)):
        observation, _ = env.reset(seed=0)
        assert observation.shape[-1] == 6  # Runner's 6 channels; Breakout's 5 padded to them
        env.close()
