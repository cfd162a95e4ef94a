"""Continual evaluation: every task, every N steps and at every block end, with fixed seeds.

Works with any training loop: call :meth:`ContinualEvaluator.after_step` with each step's info
(``agents.training.loop`` does, and so does the SB3 callback in ``envsuite.evaluation.callback``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from itertools import accumulate
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from envsuite.core.schedule import build_schedule, reaches_multiple
from envsuite.core.sequence import Sequence, make_sequence
from envsuite.evaluation.store import MEASURE_FIELDS, ResultsStore, RunInfo
from envsuite.evaluation.videos import (
    RenderError,
    add_gif_to_tensorboard,
    encode_gif,
    record_episode,
    video_path,
)
from envsuite.metrics.rounds import BEFORE_TRAINING

# (batched observations, state, episode starts) -> (batched actions, state). The observations
# are an array or a dict of arrays, one row per env of the evaluation batch; the state is what
# the previous call returned (None on the first call of a round: no memory carries from one
# round or task to the next), and where episode_starts is true that env's row of the state
# must be forgotten. A policy without memory returns None as the state.
Policy = Callable[[Any, Any, np.ndarray], tuple[np.ndarray, Any]]
# () -> {task index: {measure name: value}}: what an agent measures of itself at a round (a
# world model's loss on each task's held-out data), recorded beside the returns; a value may be
# an (H, W, 3) uint8 image (a memory's attention), for tensorboard alone.
Measures = Callable[[], dict[int, dict[str, float | np.ndarray]]]


class ContinualEvaluator:
    """Evaluates a policy on every task of a sequence and records the results in a run directory.

    Each task has a vector env of ``episodes`` copies, ``sequence.make_task_vector_env(task,
    episodes)`` (the family's batched env where it has one), made once; a round resets them with
    seeds ``eval_seed + e`` and plays every copy to the end of its first episode. The policy's
    state starts as ``None`` each round and is reset per env at every episode start (see
    :data:`Policy`). Records go to ``results.jsonl`` (see
    :mod:`envsuite.evaluation.store`); tensorboard receives ``eval/<task>/return``,
    ``eval/<task>/success`` (tasks that report it), ``eval/average`` and, at every block end,
    the performance matrix as an image. Every ``video_every`` rounds (the first included), one
    more episode per task (seed ``eval_seed``) is rendered to ``videos/<task>/step_*.gif`` and
    to tensorboard's ``eval/<task>/video``.

    Args:
        sequence: a :class:`Sequence`, or a name or id for :func:`make_sequence`.
        run_dir: where ``run.json``, ``results.jsonl`` and the tensorboard events go.
        eval_every: evaluate when the sequence's global step is a multiple of this.
        episodes: evaluation episodes per task and round.
        seed: the training run's seed, recorded with every result.
        eval_seed: seed of the first evaluation episode.
        tensorboard: write tensorboard events to ``run_dir``, through ``self.writer`` (a
            trainer may log its own scalars there too: one writer per directory, so that a
            resumed run's ``purge_step`` hides exactly the events written past its checkpoint).
        max_episode_steps: a round fails with ``RuntimeError`` when an episode runs longer.
        resume_after_step: continue the interrupted run in ``run_dir`` from a checkpoint at
            this step: later rounds are dropped from its results and evaluated again.
        at_block_ends: evaluate at every block end too, joining the performance matrix. Turn it
            off for schedules of many short blocks (a multi-task run's hundreds of random
            blocks), where rounds every ``eval_every`` steps and at the end are enough.
        video_every: render videos every this many rounds; 0 renders none. A task whose env
            cannot render ``rgb_array`` frames gets none (with a warning).
    """

    def __init__(
        self,
        sequence: Sequence | str,
        run_dir: str | Path,
        eval_every: int,
        episodes: int = 10,
        seed: int = 0,
        eval_seed: int = 1_000_000,
        tensorboard: bool = True,
        max_episode_steps: int = 100_000,
        resume_after_step: int | None = None,
        at_block_ends: bool = True,
        video_every: int = 0,
    ) -> None:
        if eval_every <= 0:
            raise ValueError(f"eval_every must be a positive number of steps, got {eval_every}")
        if episodes <= 0:
            raise ValueError(f"episodes must be positive, got {episodes}")
        if video_every < 0:
            raise ValueError(f"video_every must be 0 (no videos) or positive, got {video_every}")
        self.sequence = make_sequence(sequence) if isinstance(sequence, str) else sequence
        self.eval_every = eval_every
        self.episodes = episodes
        self.eval_seed = eval_seed
        self.seed = seed
        self.max_episode_steps = max_episode_steps
        self.at_block_ends = at_block_ends
        self.video_every = video_every
        self.run_dir = Path(run_dir)
        self.task_names = self.sequence.task_names
        blocks = build_schedule(self.sequence.spec)
        info = RunInfo(
            sequence_id=self.sequence.spec.id,
            task_names=tuple(self.task_names),
            blocks=tuple((block.task_index, block.steps) for block in blocks),
            seed=seed,
            eval_every=eval_every,
            episodes=episodes,
            eval_seed=eval_seed,
            block_end_rounds=at_block_ends,
        )
        self.total_steps = sum(block.steps for block in blocks)
        # The task each block trains: the performance matrix figure names it on its rows.
        self._block_tasks = [block.task_index for block in blocks]
        self.store = ResultsStore(run_dir, info, resume_after_step)
        # The family's batched env where it has one: a round of a numba task is one batch.
        self.task_envs = [
            self.sequence.make_task_vector_env(task, episodes)
            for task in range(self.sequence.num_tasks)
        ]
        # Made once the store has checked the run directory: a failed resume leaves it as it was.
        self.writer = _summary_writer(Path(run_dir), resume_after_step) if tensorboard else None
        # A resumed run has evaluated up to its checkpoint (before training included), and its
        # performance matrix holds the block ends up to there.
        self.last_step: int | None = resume_after_step
        # The global step of the previous after_step: a vector step may cross a multiple of
        # eval_every without landing on it.
        self.clock = resume_after_step or 0
        self.block_end_rows: list[np.ndarray] = []
        self.rounds = len({record["eval_step"] for record in self.store.records()})
        # Made at the first video round: envs that render cost more than those that do not.
        self.video_envs: list[gym.Env | None] | None = None
        if resume_after_step is not None:
            self._recall_block_ends(set(accumulate(block.steps for block in blocks)))

    def evaluate(
        self, policy: Policy, step: int, trained_task: int, measures: Measures | None = None
    ) -> dict[str, dict[str, float]]:
        """One round at ``step``; returns ``{task: {"return": mean, "success": mean or nan}}``.

        ``trained_task`` is the task trained just before (``-1`` before any training).
        ``measures``, if given, is called once: its values go to ``results.jsonl`` and to
        tensorboard as ``eval/<task>/<measure>``.
        """
        records = []
        for task, env in enumerate(self.task_envs):
            returns, successes = self._play(policy, env, task)
            for episode, (episode_return, success) in enumerate(
                zip(returns, successes, strict=True)
            ):
                records.append(
                    {
                        "eval_step": int(step),
                        "trained_task": int(trained_task),
                        "evaluated_task": task,
                        "episode": episode,
                        "return": float(episode_return),
                        "success": None if np.isnan(success) else float(success),
                        "seed": self.seed,
                    }
                )
        summary = _summarize(records, self.task_names)
        self.store.append(records)
        if measures is not None:
            self._record_measures(measures(), step, trained_task)
        self.last_step = step
        if self.writer is not None:
            self._write_scalars(summary, step)
        if self.video_every and self.rounds % self.video_every == 0:
            self._record_videos(policy, step)
        self.rounds += 1
        return summary

    def _record_measures(
        self, measured: dict[int, dict[str, float | np.ndarray]], step: int, trained_task: int
    ) -> None:
        records = []
        images = []
        for task, values in sorted(measured.items()):
            for name, value in values.items():
                if (
                    not isinstance(name, str)
                    or not name.isidentifier()
                    or name in ("return", "success")
                ):
                    raise ValueError(
                        f"measures: {name!r} of task {task} is not a measure name (an "
                        "identifier other than 'return' and 'success')"
                    )
                if isinstance(value, np.ndarray):
                    if value.dtype != np.uint8 or value.ndim != 3 or value.shape[-1] != 3:
                        raise ValueError(
                            f"measures: {name!r} of task {task} is an array of shape "
                            f"{value.shape} and dtype {value.dtype}; an image measure is "
                            "(height, width, 3) uint8"
                        )
                    images.append((task, name, value))
                    continue
                if not math.isfinite(value):
                    # A diverged model's measure must not make the run's returns unreadable.
                    warnings.warn(
                        f"measure {name} of task {task} at step {step} is {value}: not recorded",
                        stacklevel=2,
                    )
                    continue
                records.append(
                    {
                        "eval_step": int(step),
                        "trained_task": int(trained_task),
                        "evaluated_task": int(task),
                        "measure": name,
                        "value": float(value),
                        "seed": self.seed,
                    }
                )
        self.store.append(records, MEASURE_FIELDS)
        if self.writer is not None:
            for record in records:
                task_name = self.task_names[record["evaluated_task"]]
                self.writer.add_scalar(
                    f"eval/{task_name}/{record['measure']}", record["value"], step
                )
            for task, name, image in images:
                self.writer.add_image(
                    f"eval/{self.task_names[task]}/{name}", image, step, dataformats="HWC"
                )

    def after_step(
        self, policy: Policy, info: dict[str, Any], measures: Measures | None = None
    ) -> dict | None:
        """Evaluate if this step calls for it; ``info`` is the sequence env's step info (one
        env's, for a vector env on one clock: every env's is the same).

        A round runs when ``info["global_step"]`` reaches or passes a multiple of
        ``eval_every`` (a vector step of N envs may cross one), at the first step at or past the
        schedule's last, or (``at_block_ends``) when the step ended a block
        (``info["task_switched"]``); a block end also joins the performance matrix.
        """
        step, previous = int(info["global_step"]), self.clock
        self.clock = step
        finished = previous < self.total_steps <= step
        block_end = (self.at_block_ends and bool(info["task_switched"])) or finished
        crossed = reaches_multiple(previous, step, self.eval_every)
        if not (block_end or crossed) or step == self.last_step:
            return None
        summary = self.evaluate(policy, step, int(info["task_index"]), measures)
        if block_end:
            self._record_block_end(summary, step)
        return summary

    def before_training(self, policy: Policy, measures: Measures | None = None) -> dict:
        """The round at step 0, before any training: the baseline of forward transfer metrics."""
        return self.evaluate(policy, 0, BEFORE_TRAINING, measures)

    def __enter__(self) -> ContinualEvaluator:
        return self

    def __exit__(self, *exception: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the task envs and the results file; call once training ends."""
        for env in self.task_envs:
            env.close()
        for video_env in self.video_envs or []:
            if video_env is not None:
                video_env.close()
        self.store.close()
        if self.writer is not None:
            self.writer.close()

    def _play(self, policy: Policy, env: gym.vector.VectorEnv, task: int):
        # Episode e plays with seed eval_seed + e.
        observations, _ = env.reset(seed=self.eval_seed)
        returns = np.zeros(self.episodes)
        successes = np.full(self.episodes, np.nan)
        running = np.ones(self.episodes, dtype=bool)
        state = None
        episode_starts = np.ones(self.episodes, dtype=bool)
        autoresetting = np.zeros(self.episodes, dtype=bool)
        for _ in range(self.max_episode_steps):
            actions, state = policy(observations, state, episode_starts)
            observations, rewards, terminations, truncations, infos = env.step(actions)
            returns += np.where(running, rewards, 0.0)
            # Next-step autoreset: an env that ended at the previous step returned its next
            # episode's first observation at this one.
            episode_starts, autoresetting = autoresetting, terminations | truncations
            ended = running & autoresetting
            if "success" in infos:
                reported = ended & infos["_success"]
                successes[reported] = infos["success"][reported]
            running &= ~ended
            if not running.any():
                return returns, successes
        raise RuntimeError(
            f"evaluation of task {self.task_names[task]!r}: an episode ran past "
            f"max_episode_steps={self.max_episode_steps}"
        )

    def _record_videos(self, policy: Policy, step: int) -> None:
        if self.video_envs is None:
            self.video_envs = [
                _render_env(self.sequence, task) for task in range(self.sequence.num_tasks)
            ]
        for task, env in enumerate(self.video_envs):
            if env is None:
                continue
            name = self.task_names[task]
            try:
                frames = record_episode(env, policy, self.eval_seed, self.max_episode_steps)
            except RenderError as error:  # the renderer failed: no reason to end the run
                warnings.warn(f"no evaluation videos of {name!r}: {error}", stacklevel=2)
                env.close()
                self.video_envs[task] = None
                continue
            gif = encode_gif(frames, fps=float(env.metadata.get("render_fps") or 30))
            path = video_path(self.run_dir, name, step)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(gif)
            if self.writer is not None:
                add_gif_to_tensorboard(self.writer, f"eval/{name}/video", gif, step)

    def _write_scalars(self, summary: dict[str, dict[str, float]], step: int) -> None:
        for task, values in summary.items():
            self.writer.add_scalar(f"eval/{task}/return", values["return"], step)
            if not np.isnan(values["success"]):
                self.writer.add_scalar(f"eval/{task}/success", values["success"], step)
        key = _headline_measure(summary)
        average = np.mean([values[key] for values in summary.values()])
        self.writer.add_scalar("eval/average", float(average), step)
        self.writer.flush()

    def _recall_block_ends(self, block_ends: set[int]) -> None:
        records = self.store.records()
        for step in sorted({record["eval_step"] for record in records}):
            if (self.at_block_ends and step in block_ends) or step == self.total_steps:
                at_step = [record for record in records if record["eval_step"] == step]
                summary = _summarize(at_step, self.task_names)
                self.block_end_rows.append(_matrix_row(summary, self.task_names))

    def _record_block_end(self, summary: dict[str, dict[str, float]], step: int) -> None:
        self.block_end_rows.append(_matrix_row(summary, self.task_names))
        if self.writer is not None:
            from envsuite.report.plots import matrix_figure

            rows = np.stack(self.block_end_rows)
            # Rows are block ends only when every block end is evaluated; else unnamed.
            named = self.at_block_ends and len(rows) <= len(self._block_tasks)
            block_tasks = self._block_tasks[: len(rows)] if named else None
            figure = matrix_figure(rows, self.task_names, _headline_measure(summary), block_tasks)
            self.writer.add_figure("eval/performance_matrix", figure, step)


def _summarize(records: list[dict[str, Any]], task_names: list[str]) -> dict[str, dict[str, float]]:
    """``{task: {"return": mean, "success": mean, nan unless every episode reported it}}``."""
    summary = {}
    for task, name in enumerate(task_names):
        own = [record for record in records if record["evaluated_task"] == task]
        successes = [np.nan if record["success"] is None else record["success"] for record in own]
        summary[name] = {
            "return": float(np.mean([record["return"] for record in own])),
            "success": float(np.mean(successes)),
        }
    return summary


def _matrix_row(summary: dict[str, dict[str, float]], task_names: list[str]) -> np.ndarray:
    """A block end's row of the performance matrix, in the round's headline measure."""
    key = _headline_measure(summary)
    return np.array([summary[task][key] for task in task_names])


def _headline_measure(summary: dict[str, dict[str, float]]) -> str:
    """Success when every task reported it this round, else return."""
    with_success = all(not np.isnan(values["success"]) for values in summary.values())
    return "success" if with_success else "return"


def _render_env(sequence: Sequence, task: int) -> gym.Env | None:
    """Task ``task`` rendering ``rgb_array`` frames, or ``None`` (with a warning) if it can't."""
    try:
        return sequence.make_task_env(task, render_mode="rgb_array")
    except Exception as error:  # the env's own refusal, of any type
        warnings.warn(
            f"no evaluation videos of {sequence.task_names[task]!r}: its env cannot be made "
            f"with render_mode='rgb_array' ({type(error).__name__}: {error})",
            stacklevel=3,
        )
        return None


def _summary_writer(run_dir: Path, resume_after_step: int | None):
    # Imported here: tensorboard pulls in torch, which only the training extra installs.
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(
            f"tensorboard events need the training extra ({error.name} is not installed): "
            'pip install "envsuite[train]", or pass tensorboard=False'
        ) from error

    # purge_step hides the events an interrupted run wrote past the step it resumes from.
    purge_step = resume_after_step + 1 if resume_after_step is not None else None
    return SummaryWriter(log_dir=str(run_dir), purge_step=purge_step)


class RandomPolicy:
    """Uniformly random batched actions: the baseline every learning claim is measured against."""

    def __init__(self, action_space: gym.Space, batch: int, seed: int = 0) -> None:
        self.space = gym.vector.utils.batch_space(action_space, batch)
        self.space.seed(seed)

    def __call__(
        self, observations: Any, state: Any, episode_starts: np.ndarray
    ) -> tuple[np.ndarray, None]:
        return self.space.sample(), None
