"""The training runs ``envsuite-train`` makes: continual and multi-task (one agent through a
schedule) and single-task references (a fresh agent per task, one global clock)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
import torch

from agents.common.protocol import Agent, AgentConfigError, AgentContext
from agents.training.checkpoints import Checkpointer, restore_state
from agents.training.config import Mode
from agents.training.loop import make_vector_env, train_agent
from agents.training.monitor import TrainingMonitor
from agents.training.settings import TrainingConfigError, TrainSettings
from envsuite.core.sequence import Sequence
from envsuite.evaluation import RESULTS_FILE, ContinualEvaluator

REFERENCES_FILE = "references.json"


def train(
    settings: TrainSettings,
    run_dir: Path,
    checkpoint: dict[str, Any] | None,
    before_writing: Callable[[], None] = lambda: None,
) -> None:
    """Train as ``settings`` say, from the start or from ``checkpoint``, into ``run_dir``.

    ``before_writing`` runs once the first agent is built and before anything is written to
    ``run_dir``: a config that cannot build its agent leaves the directory untouched.
    """
    sequence = settings.training_sequence()
    recorders = _Recorders(settings, sequence, run_dir, checkpoint, before_writing)
    try:
        if settings.mode == Mode.single_task.value:
            _train_single_tasks(settings, sequence, checkpoint, recorders)
            write_references(run_dir, sequence)
        else:
            _train_through_schedule(settings, sequence, checkpoint, recorders)
    finally:
        recorders.close()


class _Recorders:
    """The evaluator, the monitor and the checkpoints of a run, opened when the first agent is
    built."""

    def __init__(
        self,
        settings: TrainSettings,
        sequence: Sequence,
        run_dir: Path,
        checkpoint: dict[str, Any] | None,
        before_writing: Callable[[], None],
    ) -> None:
        self.settings = settings
        self.sequence = sequence
        self.run_dir = run_dir
        self.start_step = int(checkpoint["global_step"]) if checkpoint is not None else 0
        self.resumed = checkpoint is not None
        self.before_writing = before_writing
        self.evaluator: ContinualEvaluator | None = None
        self.monitor: TrainingMonitor | None = None
        self.checkpointer = Checkpointer(
            run_dir,
            settings.checkpoint_every,
            settings.checkpoint_keep,
            settings.checkpoint_replay_buffer,
            at_block_ends=settings.at_block_ends,
        )

    def open(self) -> tuple[ContinualEvaluator, TrainingMonitor]:
        if self.evaluator is None or self.monitor is None:
            self.before_writing()
            settings = self.settings
            self.evaluator = ContinualEvaluator(
                self.sequence,
                self.run_dir,
                settings.eval_every,
                settings.eval_episodes,
                seed=settings.seed,
                eval_seed=settings.eval_seed,
                tensorboard=settings.tensorboard,
                resume_after_step=self.start_step if self.resumed else None,
                at_block_ends=settings.at_block_ends,
                video_every=settings.eval_video_every,
            )
            self.monitor = TrainingMonitor(
                self.run_dir,
                self.sequence.spec.total_steps,
                self.start_step,
                settings.log_every,
                # One writer per run directory: a resume's purge_step (the evaluator's) hides
                # the events an interrupted run wrote past its checkpoint; a second writer's
                # purge would hide the first one's new events too.
                self.evaluator.writer,
                settings.progress_bar,
            )
        return self.evaluator, self.monitor

    def close(self) -> None:
        if self.monitor is not None:
            self.monitor.close()
        if self.evaluator is not None:  # after the monitor, which writes through its writer
            self.evaluator.close()


def _train_through_schedule(
    settings: TrainSettings,
    sequence: Sequence,
    checkpoint: dict[str, Any] | None,
    recorders: _Recorders,
) -> None:
    total_steps = sequence.spec.total_steps
    num_envs = settings.agent.num_envs
    shortest = min(block.steps for block in sequence.schedule())
    if shortest < num_envs:
        raise TrainingConfigError(
            f"agent.num_envs: every block must last at least one vector step, but this "
            f"{settings.mode} run's shortest block has {shortest} steps, under num_envs="
            f"{num_envs}; lower agent.num_envs or raise sequence_overrides.steps_per_task"
        )
    # The loop and SB3 both want an ended episode's last step and the next one's start at once.
    env = sequence.make_vector_env(num_envs, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    try:
        agent = _build(settings, env, total_steps, settings.seed)
        try:
            evaluator, monitor = recorders.open()
            start_step = 0
            if checkpoint is not None:
                start_step = int(checkpoint["global_step"])
                restore_state(agent, checkpoint)
            train_agent(
                agent,
                env,
                start_step,
                total_steps,
                evaluator=evaluator,
                monitor=monitor,
                checkpointer=recorders.checkpointer,
                seed=env_seed(settings.seed, start_step),
                # The sequence jumps to the checkpoint's place in the schedule.
                reset_options={"global_step": start_step} if checkpoint is not None else None,
            )
        finally:
            agent.close()
    finally:
        env.close()


def _train_single_tasks(
    settings: TrainSettings,
    sequence: Sequence,
    checkpoint: dict[str, Any] | None,
    recorders: _Recorders,
) -> None:
    steps_per_task = sequence.spec.steps_per_task
    start_step = int(checkpoint["global_step"]) if checkpoint is not None else 0
    for task in range(sequence.num_tasks):
        task_start, task_end = task * steps_per_task, (task + 1) * steps_per_task
        if start_step >= task_end:
            continue
        env = make_vector_env(
            partial(
                _single_task_env,
                sequence,
                task,
                task_start,
                steps_per_task,
                is_last=task == sequence.num_tasks - 1,
            )
        )
        try:
            # Each task's agent has its own seed, so that the references are independent runs.
            agent = _build(settings, env, steps_per_task, settings.seed + task)
            try:
                evaluator, monitor = recorders.open()
                resumed = checkpoint is not None and task_start < start_step
                if resumed:
                    restore_state(agent, checkpoint)
                train_agent(
                    agent,
                    env,
                    max(start_step, task_start),
                    task_end,
                    evaluator=evaluator,
                    monitor=monitor,
                    checkpointer=recorders.checkpointer,
                    seed=env_seed(settings.seed + task, start_step if resumed else 0),
                    reset_options={"global_step": start_step} if resumed else None,
                )
            finally:
                agent.close()
        finally:
            env.close()


def env_seed(seed: int, start_step: int) -> int:
    """The seed of the training envs' first reset: the run's seed, or for a run resumed at
    ``start_step`` one drawn from both, so that the tasks' random streams go on afresh rather
    than replaying the ones the run began with."""
    if start_step == 0:
        return seed
    return int(np.random.SeedSequence([seed, start_step]).generate_state(1)[0])


def _single_task_env(
    sequence: Sequence, task: int, first_step: int, steps: int, is_last: bool
) -> SingleTaskClock:
    return SingleTaskClock(
        sequence.make_task_env(task), task, sequence.task_names[task], first_step, steps, is_last
    )


def _build(
    settings: TrainSettings, env: gym.vector.VectorEnv, total_steps: int, seed: int
) -> Agent:
    context = AgentContext.of_env(env, total_steps, seed, settings.device)
    # An agent's initial weights and any draws it makes from the global generators follow
    # the run's seed (SB3 seeds them itself; an agent of the protocol need not).
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    try:
        return settings.agent.build(context)
    except AgentConfigError as error:
        raise TrainingConfigError(str(error)) from None


class SingleTaskClock(gym.Wrapper):
    """One task of a sequence trained alone, on the global clock of a sequential schedule.

    Adds the keys a sequence env's info has (``task_index``, ``task_name``, ``global_step``,
    ``task_switched``), so that evaluation, checkpoints and logging treat the single-task
    references like any run; ``task_switched`` is set on the task's last step.
    """

    def __init__(
        self,
        env: gym.Env,
        task_index: int,
        task_name: str,
        first_step: int,
        steps: int,
        is_last: bool,
    ) -> None:
        super().__init__(env)
        self.task_index = task_index
        self.task_name = task_name
        self.first_step = first_step
        self.steps = steps
        self.is_last = is_last
        self.steps_played = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset the task's env; ``options={"global_step": g}`` puts the clock at ``g`` (a
        resumed run), as a sequence env's reset does."""
        options = dict(options or {})
        if "global_step" in options:
            self.steps_played = int(options.pop("global_step")) - self.first_step
        observation, info = self.env.reset(seed=seed, options=options or None)
        return observation, self._with_clock(info, switched=False)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        self.steps_played += 1
        switched = self.steps_played == self.steps and not self.is_last
        return (
            observation,
            reward,
            terminated,
            truncated or switched,
            self._with_clock(info, switched),
        )

    def _with_clock(self, info: dict[str, Any], switched: bool) -> dict[str, Any]:
        info.update(
            task_index=self.task_index,
            task_name=self.task_name,
            global_step=self.first_step + self.steps_played,
            task_switched=switched,
        )
        return info


def write_references(run_dir: Path, sequence: Sequence) -> Path:
    """Write each task's learning curve from a single-task run's results, in the format
    ``envsuite report --references`` reads: ``{task: {"steps": [...], "performance": [...]}}``.

    A task's curve starts untrained, with the task's result in the round at step 0 (taken
    before any agent trained: every agent starts as an untrained network of the same kind),
    then holds the rounds while the task's own agent trained, steps counted from the task's
    start. Performance is the success rate where every episode of the task reported success,
    else the mean return.
    """
    steps_per_task = sequence.spec.steps_per_task
    lines = (run_dir / RESULTS_FILE).read_text().splitlines()
    # The episodes: an agent's own measures (lines with a "measure") are no performance.
    records = [record for record in map(json.loads, lines) if "measure" not in record]
    references = {}
    for task, name in enumerate(sequence.task_names):
        task_start = task * steps_per_task
        own = [
            (step, record)
            for record in records
            if record["evaluated_task"] == task
            and (step := _own_clock(record["eval_step"], task_start, steps_per_task)) is not None
        ]
        measure = "success" if all(record["success"] is not None for _, record in own) else "return"
        steps = sorted({step for step, _ in own})
        performance = [
            float(np.mean([record[measure] for at, record in own if at == step])) for step in steps
        ]
        references[name] = {"steps": steps, "performance": performance, "measure": measure}
    path = run_dir / REFERENCES_FILE
    path.write_text(json.dumps(references, indent=2) + "\n")
    return path


def _own_clock(eval_step: int, task_start: int, steps_per_task: int) -> int | None:
    """A round's step on a task's own clock, if it belongs to the task's reference curve."""
    if eval_step == 0:
        return 0
    if task_start < eval_step <= task_start + steps_per_task:
        return eval_step - task_start
    return None
