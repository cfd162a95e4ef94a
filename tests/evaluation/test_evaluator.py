"""ContinualEvaluator: when it evaluates, what it records, tensorboard, seeds, the SB3 callback."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
from conftest import echo_counter_return, one_env_sequence, toy_sequence
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import envsuite
from envsuite.core.vector_infos import step_infos
from envsuite.evaluation import (
    ContinualEvaluator,
    RandomPolicy,
    RunDirectoryError,
    RunInfo,
    load_run,
)
from envsuite.metrics.table import RECORD_FIELDS


def always_zero(observations, state, episode_starts) -> tuple[np.ndarray, None]:
    return np.zeros(len(observations), dtype=np.int64), None


class StepCounter:
    """A recurrent policy: its state counts each env's steps into the episode, and its action
    is that count (what EchoEnv rewards)."""

    def __call__(self, observations, state, episode_starts):
        if state is None:
            state = np.zeros(len(observations), dtype=np.int64)
        state = np.where(episode_starts, 0, state)
        return state.copy(), state + 1


@pytest.fixture
def toy(write_spec) -> envsuite.Sequence:
    # Two counter tasks; each episode succeeds (terminates) after 5 steps whatever the action.
    return envsuite.make_sequence(str(write_spec(toy_sequence(steps_per_task=30))))


def test_a_round_records_every_task_and_episode(toy, tmp_path) -> None:
    evaluator = ContinualEvaluator(toy, tmp_path, eval_every=10, episodes=3, seed=7)
    summary = evaluator.before_training(always_zero)
    evaluator.close()
    assert set(summary) == {"narrow", "wide"}
    lines = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert len(lines) == 2 * 3
    assert {tuple(sorted(line)) for line in lines} == {tuple(sorted(RECORD_FIELDS))}
    assert {(line["evaluated_task"], line["episode"]) for line in lines} == {
        (task, episode) for task in range(2) for episode in range(3)
    }
    assert all(line["trained_task"] == -1 and line["seed"] == 7 for line in lines)
    # The counter starts at 0, 1 or 2 and succeeds at 5: return = 5 - start, success = 1.
    assert all(line["success"] == 1.0 and 3 <= line["return"] <= 5 for line in lines)
    assert summary["narrow"]["success"] == 1.0


def test_fixed_evaluation_seeds_make_rounds_reproducible(toy, tmp_path) -> None:
    results = []
    for name in ("first", "second"):
        evaluator = ContinualEvaluator(toy, tmp_path / name, eval_every=10, episodes=4)
        evaluator.before_training(always_zero)
        evaluator.evaluate(always_zero, 10, 0)
        evaluator.close()
        results.append((tmp_path / name / "results.jsonl").read_text())
    assert results[0] == results[1]
    returns = [json.loads(line)["return"] for line in results[0].splitlines()[:4]]
    assert len(set(returns)) > 1  # episodes use different seeds


def test_after_step_runs_at_the_period_and_at_block_ends(toy, tmp_path) -> None:
    evaluator = ContinualEvaluator(toy, tmp_path, eval_every=25, episodes=1, tensorboard=False)
    env = toy.make_env()
    env.reset(seed=0)
    evaluated = []
    for _ in range(70):
        *_, terminated, truncated, info = env.step(0)
        if evaluator.after_step(always_zero, info) is not None:
            evaluated.append((info["global_step"], info["task_index"]))
        if terminated or truncated:
            env.reset()
    evaluator.close()
    # Period 25, the block end at 30, the schedule's end at 60; nothing past it but the period.
    assert evaluated == [(25, 0), (30, 0), (50, 1), (60, 1)]
    assert len(evaluator.block_end_rows) == 2


def _play_toy(evaluator: ContinualEvaluator, toy, steps: int) -> list[tuple[int, int]]:
    env = toy.make_env()
    env.reset(seed=0)
    evaluated = []
    for _ in range(steps):
        *_, terminated, truncated, info = env.step(0)
        if evaluator.after_step(always_zero, info) is not None:
            evaluated.append((info["global_step"], info["task_index"]))
        if terminated or truncated:
            env.reset()
    return evaluated


def test_without_block_end_rounds_only_the_period_and_the_end(toy, tmp_path) -> None:
    evaluator = ContinualEvaluator(
        toy, tmp_path, eval_every=25, episodes=1, tensorboard=False, at_block_ends=False
    )
    assert _play_toy(evaluator, toy, 70) == [(25, 0), (50, 1), (60, 1)]
    evaluator.close()
    assert len(evaluator.block_end_rows) == 1
    recorded = json.loads((tmp_path / "run.json").read_text())
    assert recorded["block_end_rounds"] is False
    # run.json files written before the field existed describe runs with every block end.
    del recorded["block_end_rounds"]
    assert RunInfo.from_json(recorded, tmp_path / "run.json").block_end_rounds is True


def test_a_resumed_evaluator_recalls_the_block_ends_before_its_checkpoint(toy, tmp_path) -> None:
    first = ContinualEvaluator(toy, tmp_path, eval_every=25, episodes=1, tensorboard=False)
    assert _play_toy(first, toy, 40) == [(25, 0), (30, 0)]
    first.close()
    resumed = ContinualEvaluator(
        toy, tmp_path, eval_every=25, episodes=1, tensorboard=False, resume_after_step=30
    )
    resumed.close()
    assert len(resumed.block_end_rows) == 1
    np.testing.assert_array_equal(resumed.block_end_rows[0], first.block_end_rows[0])


def test_tensorboard_receives_scalars_and_the_matrix(toy, tmp_path) -> None:
    evaluator = ContinualEvaluator(toy, tmp_path, eval_every=100, episodes=2)
    info = {"global_step": 30, "task_index": 0, "task_switched": True}
    evaluator.before_training(always_zero)
    evaluator.after_step(always_zero, info)
    evaluator.close()
    events = EventAccumulator(str(tmp_path), size_guidance={"images": 0}).Reload()
    scalars = set(events.Tags()["scalars"])
    assert {"eval/narrow/return", "eval/narrow/success", "eval/wide/return", "eval/average"} <= (
        scalars
    )
    assert [event.step for event in events.Scalars("eval/average")] == [0, 30]
    assert events.Scalars("eval/average")[-1].value == pytest.approx(1.0)
    assert "eval/performance_matrix" in events.Tags()["images"]


def test_bad_arguments_and_endless_episodes(toy, tmp_path) -> None:
    with pytest.raises(ValueError, match="eval_every must be a positive"):
        ContinualEvaluator(toy, tmp_path, eval_every=0)
    with pytest.raises(ValueError, match="episodes must be positive"):
        ContinualEvaluator(toy, tmp_path, eval_every=5, episodes=0)
    evaluator = ContinualEvaluator(toy, tmp_path, 5, episodes=1, max_episode_steps=2)
    with pytest.raises(RuntimeError, match="task 'narrow': an episode ran past"):
        evaluator.before_training(always_zero)
    evaluator.close()


def test_a_run_directory_holds_one_run(toy, tmp_path) -> None:
    with ContinualEvaluator(toy, tmp_path, eval_every=10, episodes=1) as evaluator:
        evaluator.before_training(always_zero)
    with pytest.raises(RunDirectoryError, match="already holds results"):
        ContinualEvaluator(toy, tmp_path, eval_every=10, episodes=1)


def test_random_policy_batches_valid_actions() -> None:
    space = gym.spaces.Discrete(3)
    policy = RandomPolicy(space, batch=5, seed=1)
    actions, state = policy(None, None, np.ones(5, bool))
    assert actions.shape == (5,)
    assert state is None
    assert all(space.contains(action) for action in actions)
    np.testing.assert_array_equal(RandomPolicy(space, 5, seed=1)(None, None, None)[0], actions)


def test_a_recurrent_policy_keeps_its_state_within_episodes_and_not_across(
    write_spec, tmp_path
) -> None:
    sequence = one_env_sequence(write_spec, "toy/Echo-v0", ["first", "second"], "EchoSequence", 30)
    evaluator = ContinualEvaluator(sequence, tmp_path, eval_every=10, episodes=4, eval_seed=5)
    policy = StepCounter()
    evaluator.before_training(policy)
    evaluator.evaluate(policy, 10, 0)
    evaluator.close()
    expected = [echo_counter_return(5 + e) for e in range(4)]
    assert len(set(expected)) > 1  # the episodes differ in length: the batch ends unevenly
    records = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    for step in (0, 10):
        for task in (0, 1):
            returns = [
                r["return"]
                for r in records
                if (r["eval_step"], r["evaluated_task"]) == (step, task)
            ]
            # Dropped within an episode, the counter would earn 1; carried over from the
            # previous task or round, it would earn 0.
            assert returns == expected


@pytest.mark.slow
def test_videos_every_k_rounds_go_to_the_run_directory_and_tensorboard(
    write_spec, tmp_path
) -> None:
    from PIL import Image

    sequence = one_env_sequence(write_spec, "toy/Image-v0", ["first", "second"], "ImageVideos", 30)
    evaluator = ContinualEvaluator(
        sequence, tmp_path, eval_every=10, episodes=2, eval_seed=3, video_every=2
    )
    evaluator.before_training(always_zero)
    for step in (10, 20, 30):
        evaluator.evaluate(always_zero, step, 0)
    evaluator.close()

    # ImageEnv renders its count, which starts where reset(seed=3) puts it and ends at 20.
    start = gym.make("toy/Image-v0").reset(seed=3)[0][0, 0, 0]
    for task in ("first", "second"):
        videos = sorted((tmp_path / "videos" / task).iterdir())
        # Rounds 0, 1, 2, 3 at steps 0, 10, 20, 30: every second round, the first included.
        assert [path.name for path in videos] == ["step_000000000.gif", "step_000000020.gif"]
        with Image.open(videos[0]) as gif:
            assert gif.n_frames == 1 + (20 - start)  # the reset's frame, then one per step
            assert np.asarray(gif.convert("RGB"))[0, 0, 0] == start
    events = EventAccumulator(str(tmp_path), size_guidance={"images": 0})
    events.Reload()
    assert [event.step for event in events.Images("eval/first/video")] == [0, 20]
    assert events.Images("eval/second/video")[0].encoded_image_string.startswith(b"GIF")

    # A resumed evaluator counts the rounds before its checkpoint: round 4 is the next video.
    resumed = ContinualEvaluator(
        sequence,
        tmp_path,
        eval_every=10,
        episodes=2,
        eval_seed=3,
        video_every=2,
        resume_after_step=30,
    )
    resumed.evaluate(always_zero, 40, 1)
    resumed.close()
    assert (tmp_path / "videos" / "first" / "step_000000040.gif").is_file()


def test_a_policy_that_fails_on_a_video_episode_is_an_error_not_a_warning(
    write_spec, tmp_path
) -> None:
    sequence = one_env_sequence(write_spec, "toy/Image-v0", ["only"], "ImageOnly", 30)

    def fails_on_one_env(observations, state, episode_starts):
        if len(observations) == 1:
            raise IndexError("a bug that only a batch of one shows")
        return always_zero(observations, state, episode_starts)

    evaluator = ContinualEvaluator(sequence, tmp_path, eval_every=10, episodes=2, video_every=1)
    with pytest.raises(IndexError, match="only a batch of one"):
        evaluator.before_training(fails_on_one_env)
    evaluator.close()


def test_a_task_that_cannot_render_gets_no_video_and_a_warning(toy, tmp_path) -> None:
    evaluator = ContinualEvaluator(toy, tmp_path, eval_every=10, episodes=1, video_every=1)
    with pytest.warns(UserWarning, match="no evaluation videos of 'narrow'"):
        evaluator.before_training(always_zero)
    evaluator.evaluate(always_zero, 10, 0)  # and no second warning, nor an error
    evaluator.close()
    assert not (tmp_path / "videos").exists()
    with pytest.raises(ValueError, match="video_every must be 0"):
        ContinualEvaluator(toy, tmp_path / "other", eval_every=10, video_every=-1)


def test_sb3_callback_evaluates_during_learning(tmp_path) -> None:
    from stable_baselines3 import PPO

    from envsuite.evaluation.callback import ContinualEvalCallback

    sequence = envsuite.make_sequence("ClassicCartPoleAcrobot", steps_per_task=512)
    evaluator = ContinualEvaluator(sequence, tmp_path, eval_every=256, episodes=2)
    model = PPO("MlpPolicy", sequence.make_env(), n_steps=256, batch_size=64, seed=0, device="cpu")
    callback = ContinualEvalCallback(evaluator)
    # One learn call per task, as continual-learning loops often do: one step-0 round only.
    model.learn(total_timesteps=512, callback=callback)
    model.learn(total_timesteps=512, callback=callback, reset_num_timesteps=False)
    evaluator.close()
    run = load_run(tmp_path)
    rounds = run.table.rounds(run.table.measure_values("return")[1])
    np.testing.assert_array_equal(rounds.steps, [0, 256, 512, 768, 1024])
    # Two cycles: blocks of 256 steps alternate cartpole (0) and acrobot (1).
    np.testing.assert_array_equal(rounds.trained_task, [-1, 0, 1, 0, 1])
    assert run.info.sequence_id == "envsuite/ClassicCartPoleAcrobot-v0"


def test_sb3_on_a_sequences_vector_env_evaluates_every_round(tmp_path) -> None:
    from stable_baselines3 import PPO

    from envsuite.evaluation.callback import ContinualEvalCallback
    from envsuite.report.collect import collect
    from envsuite.sb3 import sequence_vec_env

    sequence = envsuite.make_sequence("ClassicCartPoleAcrobot", steps_per_task=512)
    env = sequence_vec_env(sequence, num_envs=2)
    with ContinualEvaluator(sequence, tmp_path, eval_every=256, episodes=2) as evaluator:
        model = PPO("MlpPolicy", env, n_steps=64, batch_size=64, seed=0, device="cpu")
        model.learn(total_timesteps=1024, callback=ContinualEvalCallback(evaluator))
    run = load_run(tmp_path)
    rounds = run.table.rounds(run.table.measure_values("return")[1])
    # Two envs, one clock: every round of the 1024-step schedule, each cycle's tasks trained.
    np.testing.assert_array_equal(rounds.steps, [0, 256, 512, 768, 1024])
    np.testing.assert_array_equal(rounds.trained_task, [-1, 0, 1, 0, 1])
    assert collect([tmp_path]).runs[0].summary  # a complete run: the report takes it


def test_sb3_on_copies_of_the_sequence_env_is_refused_at_the_start(tmp_path) -> None:
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    from envsuite.evaluation.callback import ContinualEvalCallback

    sequence = envsuite.make_sequence("ClassicCartPoleAcrobot", steps_per_task=512)
    copies = make_vec_env(lambda: sequence.make_env(), n_envs=2)
    with ContinualEvaluator(sequence, tmp_path, eval_every=256, episodes=2) as evaluator:
        model = PPO("MlpPolicy", copies, n_steps=64, batch_size=64, seed=0, device="cpu")
        with pytest.raises(ValueError, match=r"do not play one clock.*sequence_vec_env"):
            model.learn(total_timesteps=1024, callback=ContinualEvalCallback(evaluator))
        assert model.num_timesteps == 4  # the second step of two envs


def observation_policy(observations, state, episode_starts) -> tuple[np.ndarray, None]:
    """Actions drawn from the observations alone: two paths given equal observations act alike."""
    image = observations["image"] if isinstance(observations, dict) else observations
    flat = image.reshape(len(image), -1).astype(np.int64)
    return (flat * np.arange(flat.shape[1])).sum(axis=1) % 3, None


def single_env_round(sequence: envsuite.Sequence, task: int, episodes: int, seed: int):
    """A round as played before tasks were batched: a SyncVectorEnv of single task envs."""
    env = gym.vector.SyncVectorEnv(
        [lambda: sequence.make_task_env(task)] * episodes,
        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,
    )
    observations, _ = env.reset(seed=[seed + e for e in range(episodes)])
    returns, successes = np.zeros(episodes), np.full(episodes, np.nan)
    running = np.ones(episodes, dtype=bool)
    while running.any():
        actions, _ = observation_policy(observations, None, None)
        observations, rewards, terminations, truncations, infos = env.step(actions)
        returns += np.where(running, rewards, 0.0)
        ended = running & (terminations | truncations)
        final = infos.get("final_info", {})
        if "success" in final:
            successes[ended & final["_success"]] = final["success"][ended & final["_success"]]
        running &= ~ended
    env.close()
    return returns, successes


@pytest.mark.parametrize("sequence_id", ["MinigamesCatchSpeed", "NavigationMazeLayouts"])
def test_a_batched_round_equals_a_round_of_single_envs(sequence_id: str, tmp_path) -> None:
    sequence = envsuite.make_sequence(sequence_id)
    with ContinualEvaluator(sequence, tmp_path, eval_every=10, episodes=6, tensorboard=False) as ev:
        assert not isinstance(ev.task_envs[0], gym.vector.SyncVectorEnv)  # the family's batch
        ev.evaluate(observation_policy, 0, -1)
    records = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    for task in range(sequence.num_tasks):
        returns, successes = single_env_round(sequence, task, 6, ev.eval_seed)
        own = sorted(
            (record for record in records if record["evaluated_task"] == task),
            key=lambda record: record["episode"],
        )
        np.testing.assert_array_equal([record["return"] for record in own], returns)
        got = [np.nan if record["success"] is None else record["success"] for record in own]
        np.testing.assert_array_equal(got, successes)
    assert len({record["return"] for record in records}) > 1


def test_rounds_fire_when_a_vector_step_crosses_a_period_or_a_block_end(toy, tmp_path) -> None:
    evaluator = ContinualEvaluator(toy, tmp_path, eval_every=25, episodes=1, tensorboard=False)
    env = toy.make_vector_env(4, autoreset_mode="SameStep")
    env.reset(seed=0)
    evaluated = []
    for _ in range(16):  # to step 64
        *_, terminations, truncations, infos = env.step(np.zeros(4, dtype=np.int64))
        info = step_infos(infos, terminations | truncations)[0]
        if evaluator.after_step(always_zero, info) is not None:
            evaluated.append((info["global_step"], info["task_index"]))
    evaluator.close()
    # Steps of 4: the period's 25 and 50 are crossed at 28 and 52; the block end (30) at 32,
    # the schedule's end (60) at 60.
    assert evaluated == [(28, 0), (32, 0), (52, 1), (60, 1)]
    assert len(evaluator.block_end_rows) == 2
