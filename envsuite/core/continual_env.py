"""The sequence environment: one Gymnasium env that plays a schedule of tasks by its step count."""

from __future__ import annotations

from difflib import get_close_matches
from itertools import accumulate
from typing import Any, ClassVar, SupportsFloat

import gymnasium as gym
import numpy as np

from envsuite.core.schedule import (
    block_at,
    build_schedule,
    checked_start_step,
    task_step_offset,
)
from envsuite.core.spec import SequenceSpec
from envsuite.core.task_env import make_base_env, make_task_envs, unify_sequence_spaces

# The keys a sequence env's reset options may have. Anything else is refused rather than passed
# to the task: a typo of global_step (resuming a run) must not pass silently, and the tasks of
# one sequence come from different families with different options, if any.
RESET_OPTION_KEYS = ("global_step", "task_options")


def split_reset_options(options: Any) -> tuple[Any, dict[str, Any] | None]:
    """A sequence env's reset ``options``, checked: ``(global_step or None, task_options)``."""
    if options is None:
        return None, None
    if not isinstance(options, dict):
        raise TypeError(f"options: must be a dict or None, got {options!r}")
    unknown = [key for key in options if key not in RESET_OPTION_KEYS]
    if unknown:
        close = get_close_matches(str(unknown[0]), RESET_OPTION_KEYS, n=1)
        raise ValueError(
            f"options: unknown key {unknown[0]!r}"
            + (f" (did you mean {close[0]!r}?)" if close else "")
            + f"; a sequence env's reset takes {list(RESET_OPTION_KEYS)}: 'global_step' jumps "
            "in the schedule, 'task_options' is a dict passed to the current task's reset"
        )
    task_options = options.get("task_options")
    if task_options is not None and not isinstance(task_options, dict):
        raise TypeError(f"options['task_options']: must be a dict or None, got {task_options!r}")
    return options.get("global_step"), task_options


class ContinualEnv(gym.Env):
    """Plays a sequence's tasks in the order of its schedule, switching by global step count.

    ## Description
    A continual-learning sequence as one environment. The schedule cuts every task's
    ``steps_per_task`` steps into blocks; the env counts its own steps and, when a block is used
    up, ends the current episode with ``truncated=True``. The next ``reset`` starts the next
    block's task. Past the schedule's last step the last block's task keeps playing.

    ## Action Space
    The union of the tasks' action spaces. Discrete sets are unified to the largest; a task with
    ``n`` actions plays unified action ``a`` as its action ``a % n``. Continuous (Box) action
    spaces must be equal across tasks; non-finite actions raise ``ValueError``.

    ## Observation Space
    Box observations padded with zeros to the union: vectors along their only axis, images along
    their channel axis (other axes must agree). With ``task_id_mode="onehot"`` a one-hot task id
    is appended to vectors, or images become a ``Dict`` with keys ``observation`` and ``task_id``.

    ## Rewards
    The current task's reward, unchanged.

    ## Episode End
    The current task's termination and truncation, plus ``truncated=True`` at every block end.

    ## Info
    The task's own keys (``success`` among them where the task reports it) and ``task_index``,
    ``task_name``, ``task_step`` (steps this task has played over all its blocks),
    ``global_step`` (steps played in the sequence) and ``task_switched`` (``True`` on the step
    that ends a block: the next reset starts another task).

    ## Arguments
    ``spec``: the :class:`SequenceSpec`; ``render_mode``: passed to every task.
    ``steps_per_task``, ``schedule``, ``task_id_mode`` and ``seed`` override the spec's fields,
    e.g. ``gymnasium.make("envsuite/ClassicPendulumGravity-v0", steps_per_task=1000)``.
    ``reset(seed=s)`` starts the sequence afresh at global step 0 and seeds every task with a
    seed drawn from ``s`` (each task takes its seed at its first reset); ``reset()`` without a
    seed continues the schedule. ``reset(options={"global_step": n})`` jumps to step ``n`` of the
    schedule and starts a fresh episode there (to resume a training run from a checkpoint);
    ``options={"task_options": {...}}`` passes that dict to the current task's reset as its
    ``options`` (e.g. gymnasium's CartPole takes ``low`` and ``high``). Any other key raises
    ``ValueError`` naming these two: a mistyped ``global_step`` must not go unnoticed.

    ## Version History
    * v0: initial version.
    """

    # What gymnasium.make may ask for before the tasks are known; an instance narrows this to
    # the modes every task supports, and rejects others.
    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["human", "rgb_array", "ansi"]}

    def __init__(self, spec: SequenceSpec, render_mode: str | None = None, **overrides: Any):
        if overrides:
            spec = spec.with_overrides(source=f"{spec.id} keyword arguments", **overrides)
        self.sequence_spec = spec
        self.render_mode = render_mode
        self.task_envs = make_task_envs(
            spec,
            lambda index, **arguments: make_base_env(
                spec, index, render_mode, inner=True, **arguments
            ),
        )
        unified = unify_sequence_spaces(
            spec,
            [env.observation_space for env in self.task_envs],
            [env.action_space for env in self.task_envs],
        )
        self.observation_space = unified.observation_space
        self.action_space = unified.action_space
        self.observation_adapters = unified.observation_adapters
        self.action_adapters = unified.action_adapters
        render_modes = set.intersection(
            *(set(env.metadata.get("render_modes", [])) for env in self.task_envs)
        )
        self.metadata = {"render_modes": sorted(render_modes)}
        frame_rates = {env.metadata.get("render_fps") for env in self.task_envs} - {None}
        if len(frame_rates) == 1:
            self.metadata["render_fps"] = frame_rates.pop()
        if render_mode is not None and render_mode not in render_modes:
            raise ValueError(
                f"render_mode {render_mode!r} is not supported by every task; "
                f"supported by all: {sorted(render_modes)}"
            )

        self.blocks = build_schedule(spec)
        self.block_ends = list(accumulate(block.steps for block in self.blocks))
        self.global_step = 0
        self.block_index = 0
        self._unseeded_tasks: dict[int, int] = {}
        self._needs_reset = True
        # Why a step is refused until the next reset: the ResetNeeded message.
        self._reset_reason = "call reset() before the first step()"
        self._enter_block(0)

    @property
    def total_steps(self) -> int:
        """Steps in the whole schedule; past them the last block's task keeps playing."""
        return self.block_ends[-1]

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        start_step, task_options = split_reset_options(options)
        # Until this reset succeeds: a bad global_step below may have moved the clock already.
        self._needs_reset = True
        self._reset_reason = "the last reset() was refused; call reset() again before step()"
        super().reset(seed=seed)
        if seed is not None:
            # A seeded reset starts the sequence afresh, so that (seed, actions) determine the
            # whole run as gymnasium's contract asks; training loops seed only their first reset.
            task_seeds = np.random.SeedSequence(seed).generate_state(len(self.task_envs))
            self._unseeded_tasks = {task: int(value) for task, value in enumerate(task_seeds)}
            self.global_step = 0
            self._enter_block(0)
        elif self.global_step == self._switch_step:
            self._enter_block(self.block_index + 1)
        if start_step is not None:
            self._seek(start_step)
        self._needs_reset = False
        observation, info = self._env.reset(
            seed=self._unseeded_tasks.pop(self.task_index, None), options=task_options
        )
        info.update(self._block_info)
        info["task_step"] = self.global_step - self._task_step_offset
        info["global_step"] = self.global_step
        info["task_switched"] = False
        return self._adapt_observation(observation), info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        if self._needs_reset:
            raise gym.error.ResetNeeded(self._reset_reason)
        observation, reward, terminated, truncated, info = self._env.step(
            self._adapt_action(action)
        )
        global_step = self.global_step = self.global_step + 1
        switched = global_step == self._switch_step
        info.update(self._block_info)
        info["task_step"] = global_step - self._task_step_offset
        info["global_step"] = global_step
        info["task_switched"] = switched
        if switched:
            truncated = self._needs_reset = True
            self._reset_reason = (
                f"the block ended at global step {global_step} (the step that returned "
                "task_switched=True): call reset() to start the next block's task"
            )
        return self._adapt_observation(observation), reward, terminated, truncated, info

    def render(self) -> Any:
        return self._env.render()

    def close(self) -> None:
        for env in self.task_envs:
            env.close()
        super().close()

    def _seek(self, global_step: Any) -> None:
        """Jump to ``global_step`` of the schedule: into the block that plays it, or into the
        next one at a block's end (where a ``task_switched`` step would have left it)."""
        global_step = checked_start_step(global_step, self.total_steps, "the schedule's steps")
        self._enter_block(block_at(self.block_ends, global_step))
        self.global_step = global_step

    def _enter_block(self, block_index: int) -> None:
        """Point the hot path at block ``block_index``'s task, adapters and switch step."""
        self.block_index = block_index
        self.task_index = self.blocks[block_index].task_index
        self._env = self.task_envs[self.task_index]
        self._block_info = {
            "task_index": self.task_index,
            "task_name": self.sequence_spec.tasks[self.task_index].name,
        }
        # info["task_step"] is global_step minus this offset: the steps of other tasks so far.
        self._task_step_offset = task_step_offset(self.blocks, self.block_ends, block_index)
        is_last = block_index == len(self.blocks) - 1
        self._switch_step = -1 if is_last else self.block_ends[block_index]
        self._adapt_observation = self.observation_adapters[self.task_index].map
        self._adapt_action = self.action_adapters[self.task_index].map
