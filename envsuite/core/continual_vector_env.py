"""The batched sequence env: N envs that play one schedule on one clock, each task batched.

``gymnasium.make_vec(sequence_id, num_envs=N)`` makes it (every sequence registers it as its
``vector_entry_point``); ``Sequence.make_vector_env(N)`` too.
"""

from __future__ import annotations

from itertools import accumulate
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

from envsuite.core.continual_env import split_reset_options
from envsuite.core.schedule import block_at, build_schedule, checked_start_step, task_step_offset
from envsuite.core.spec import SequenceSpec
from envsuite.core.task_env import (
    UnifiedTaskVectorEnv,
    make_base_vector_env,
    make_task_envs,
    unify_sequence_spaces,
    wrap_task_vector,
)
from envsuite.core.vector_infos import masked, merge_rows, row
from envsuite.env_arguments import whole_number

AUTORESET_MODES = (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP)
# The switch step of the last block, which plays on past the schedule's end.
NEVER = np.iinfo(np.int64).max


class ContinualVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` envs playing a sequence's schedule together, on one clock.

    ## Description
    The batched face of :class:`ContinualEnv`. The clock, ``global_step``, counts env steps over
    the whole vector: a vector step in which every env steps advances it by ``num_envs`` (an env
    that autoresets instead, in next-step mode, takes no env step, as ``ContinualEnv.reset``
    counts none), so ``steps_per_task`` is the same budget whatever ``num_envs`` is. Every task
    runs as one vector env of ``num_envs`` copies: the family's batched numba env where the
    task registers one, else gymnasium's (``task_vectorization_mode``).

    All envs switch task together. A block ends on the vector step that brings the clock to or
    past the block's end in the schedule (the schedule's block ends, cumulated, are the targets,
    so rounding never accumulates): every env's episode ends there with ``truncated=True`` and
    ``task_switched`` set. A block therefore lasts its scheduled steps give or take fewer than
    ``num_envs``, and a task's total differs from ``steps_per_task`` by fewer than ``num_envs``
    steps per block. Every block must last at least ``num_envs`` steps (one vector step).

    ## Autoreset
    ``autoreset_mode=AutoresetMode.NEXT_STEP`` (or ``"NextStep"``, gymnasium's default): the
    step after an episode ends resets that env, and the step after a block end starts the next
    block's task in every env; neither counts on the clock. ``AutoresetMode.SAME_STEP`` (or
    ``"SameStep"``): an ended episode resets within the step that ended it (at a block end, into
    the next block's task); its last observation and info are in ``info["final_obs"]`` and
    ``info["final_info"]``, as gymnasium's ``SyncVectorEnv`` does.

    ## Spaces, Rewards, Episode End
    As :class:`ContinualEnv`'s, batched: observations padded and actions unified a whole batch
    at a time.

    ## Info
    Gymnasium vector infos (arrays, one row per env, with ``_key`` masks): the task's own keys
    (``success`` where it reports it), ``task_index``, ``task_name``, ``global_step``,
    ``task_switched`` (the same in every env) and ``task_step``: the task's steps by the
    schedule, its earlier blocks' scheduled steps plus the clock's steps since this block's
    scheduled start. The ``task_index``, ``task_name`` and ``task_switched`` arrays and every
    mask are read-only.

    ## Arguments
    ``spec``; ``num_envs``; ``autoreset_mode``; ``task_vectorization_mode`` (``None``: each
    task's own ``vector_entry_point`` where it is a numba family's batched env, else ``"sync"``
    (see :func:`make_base_vector_env`); or ``"sync"``, ``"async"`` for subprocesses,
    ``"vector_entry_point"``); ``render_mode``; and the spec
    overrides of :class:`ContinualEnv` (``steps_per_task``, ``schedule``, ``task_id_mode``,
    ``seed``). ``reset(seed=s)`` starts the schedule afresh and seeds task ``k``'s envs with
    ``s_k + i`` (env ``i``), where ``s_k`` is the seed :class:`ContinualEnv` gives task ``k``:
    with ``num_envs=1`` both play alike. ``reset(options={"global_step": n})`` jumps to step
    ``n`` of the schedule; ``reset(options={"task_options": {...}})`` passes that dict to the
    current task's vector env's reset. Any other key raises ``ValueError`` naming these two. The
    envs of a sequence reset together: no ``reset_mask``, at either level.

    ## Version History
    * v0: initial version.
    """

    metadata: ClassVar[dict[str, Any]] = {
        "render_modes": ["human", "rgb_array", "ansi"],
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }

    def __init__(
        self,
        spec: SequenceSpec,
        num_envs: int = 1,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        task_vectorization_mode: str | None = None,
        render_mode: str | None = None,
        **overrides: Any,
    ) -> None:
        num_envs = whole_number(num_envs, "num_envs", "a positive integer", minimum=1)
        try:
            mode = AutoresetMode(autoreset_mode)
        except ValueError:
            mode = None
        if mode not in AUTORESET_MODES:
            allowed = [mode.value for mode in AUTORESET_MODES]
            raise ValueError(
                f"autoreset_mode: must be one of {allowed} (or gymnasium's AutoresetMode), "
                f"got {autoreset_mode!r}"
            )
        if overrides:
            spec = spec.with_overrides(source=f"{spec.id} keyword arguments", **overrides)
        self.sequence_spec = spec
        self.num_envs = num_envs
        self.render_mode = render_mode
        self.blocks = build_schedule(spec)
        self.block_ends = list(accumulate(block.steps for block in self.blocks))
        short = [index for index, block in enumerate(self.blocks) if block.steps < num_envs]
        if short:
            raise ValueError(
                f"num_envs: every block of {spec.id} must last at least num_envs={num_envs} "
                f"steps (one vector step), but block {short[0]} has "
                f"{self.blocks[short[0]].steps}; lower num_envs or raise steps_per_task"
            )

        base_envs = make_task_envs(
            spec,
            lambda index, **arguments: make_base_vector_env(
                spec, index, num_envs, task_vectorization_mode, render_mode, **arguments
            ),
        )
        unified = unify_sequence_spaces(
            spec,
            [env.single_observation_space for env in base_envs],
            [env.single_action_space for env in base_envs],
        )
        self.task_envs: list[UnifiedTaskVectorEnv] = [
            wrap_task_vector(spec, index, env, unified) for index, env in enumerate(base_envs)
        ]
        self.single_observation_space = self.task_envs[0].single_observation_space
        self.single_action_space = self.task_envs[0].single_action_space
        self.observation_space = self.task_envs[0].observation_space
        self.action_space = self.task_envs[0].action_space
        render_modes = set.intersection(
            *(set(env.metadata.get("render_modes", [])) for env in self.task_envs)
        )
        self.metadata = {"render_modes": sorted(render_modes), "autoreset_mode": mode}
        frame_rates = {env.metadata.get("render_fps") for env in self.task_envs} - {None}
        if len(frame_rates) == 1:
            self.metadata["render_fps"] = frame_rates.pop()
        if render_mode is not None and render_mode not in render_modes:
            # As ContinualEnv refuses it; the task envs (subprocesses, maybe) are closed first.
            self.close()
            raise ValueError(
                f"render_mode {render_mode!r} is not supported by every task; "
                f"supported by all: {sorted(render_modes)}"
            )

        self.autoreset_mode = mode
        self._next_step = mode == AutoresetMode.NEXT_STEP
        self.global_step = 0
        self.block_index = 0
        self._unseeded_tasks: dict[int, int] = {}
        self._needs_reset = True
        # Next-step autoreset: which envs reset (rather than step) on the next step, and whether
        # the next step starts the next block.
        self._autoresetting = np.zeros(num_envs, dtype=np.bool_)
        self._block_ended = False
        self._all_envs = np.ones(num_envs, dtype=np.bool_)
        self._no_envs = np.zeros(num_envs, dtype=np.bool_)
        self._all_envs.flags.writeable = self._no_envs.flags.writeable = False
        self._enter_block(0)

    @property
    def total_steps(self) -> int:
        """Steps in the schedule; past them the last block's task keeps playing."""
        return self.block_ends[-1]

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        # reset_mask first: a vector env's usual key deserves its own reason, not "unknown".
        if isinstance(options, dict):
            for where, given in (("", options), ("['task_options']", options.get("task_options"))):
                if isinstance(given, dict) and "reset_mask" in given:
                    raise ValueError(
                        f"options{where}['reset_mask']: the envs of a sequence play one "
                        "schedule and switch tasks together, so they reset together; "
                        "reset_mask is not supported"
                    )
        start_step, task_options = split_reset_options(options)
        if seed is not None:
            seed = whole_number(seed, "seed", "None or a non-negative int", minimum=0)
        # Until this reset succeeds: a bad global_step below may have moved the clock already.
        self._needs_reset = True
        super().reset(seed=seed)
        if seed is not None:
            task_seeds = np.random.SeedSequence(seed).generate_state(len(self.task_envs))
            self._unseeded_tasks = {task: int(value) for task, value in enumerate(task_seeds)}
            self.global_step = 0
            self._enter_block(0)
        elif self.global_step >= self._switch_step:
            self._enter_block(self.block_index + 1)
        if start_step is not None:
            self._seek(start_step)
        self._needs_reset = self._block_ended = False
        self._autoresetting[:] = False
        observations, infos = self._env.reset(
            seed=self._unseeded_tasks.pop(self.task_index, None), options=task_options
        )
        return observations, self._with_clock(infos, switched=False)

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if self._needs_reset:
            raise gym.error.ResetNeeded("call reset() before step()")
        if self._block_ended:
            return self._start_next_block()
        observations, rewards, terminations, truncations, infos = self._env.step(actions)
        if self._next_step:
            # An env autoresetting in this step took no env step.
            self.global_step += self.num_envs - np.count_nonzero(self._autoresetting)
        else:
            self.global_step += self.num_envs
        switched = self.global_step >= self._switch_step
        if switched:
            truncations = self._all_envs.copy()
        infos = self._with_clock(infos, switched)
        ended = terminations | truncations
        if self._next_step:
            self._autoresetting = ended
            self._block_ended = switched
        elif np.count_nonzero(ended):
            observations, infos = self._reset_ended(observations, infos, ended, switched)
        return observations, rewards, terminations, truncations, infos

    def render(self) -> Any:
        return self._env.render()

    def close_extras(self, **kwargs: Any) -> None:
        for env in self.task_envs:
            env.close()

    def _start_next_block(self) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict]:
        """Next-step autoreset after a block end: every env starts the next block's task."""
        self._enter_block(self.block_index + 1)
        self._block_ended = False
        self._autoresetting[:] = False
        observations, infos = self._env.reset(seed=self._unseeded_tasks.pop(self.task_index, None))
        return (
            observations,
            np.zeros(self.num_envs),
            self._no_envs.copy(),
            self._no_envs.copy(),
            self._with_clock(infos, switched=False),
        )

    def _reset_ended(
        self, observations: Any, infos: dict[str, Any], ended: np.ndarray, switched: bool
    ) -> tuple[Any, dict[str, Any]]:
        """Same-step autoreset: the ended envs start their next episode (every env the next
        block's task at a block end); their step's observation and info become final."""
        final_observations = np.full(self.num_envs, None, dtype=object)
        for index in np.flatnonzero(ended):
            final_observations[index] = row(observations, index)
        final_infos = masked(infos, ended)
        if switched:
            self._enter_block(self.block_index + 1)
            observations, reset_infos = self._env.reset(
                seed=self._unseeded_tasks.pop(self.task_index, None)
            )
            infos = self._with_clock(reset_infos, switched=False)
        else:
            observations, reset_infos = self._env.reset(options={"reset_mask": ended})
            infos = merge_rows(infos, self._with_clock(reset_infos, switched=False), ended)
        infos["final_obs"], infos["_final_obs"] = final_observations, ended
        infos["final_info"], infos["_final_info"] = final_infos, ended
        return observations, infos

    def _with_clock(self, infos: dict[str, Any], switched: bool) -> dict[str, Any]:
        """``infos`` with the clock's keys, the same in every env."""
        # One allocation for both (rows of one array), filled in place: half np.full's cost.
        steps = np.empty((2, self.num_envs), np.int64)
        steps[0].fill(self.global_step - self._task_step_offset)
        steps[1].fill(self.global_step)
        infos["task_step"], infos["global_step"] = steps
        # Read-only, as the masks: shared by every step.
        infos["task_switched"] = self._all_envs if switched else self._no_envs
        infos["_task_step"] = infos["_global_step"] = infos["_task_switched"] = self._all_envs
        return infos

    def _seek(self, global_step: Any) -> None:
        """Jump to ``global_step`` of the schedule, as :meth:`ContinualEnv._seek`; the last
        block's rounding may have carried the clock up to ``num_envs - 1`` past its end."""
        global_step = checked_start_step(
            global_step,
            self.total_steps + self.num_envs - 1,
            "the schedule's steps, and the last vector step's rounding",
        )
        self._enter_block(block_at(self.block_ends, global_step))
        self.global_step = global_step

    def _enter_block(self, block_index: int) -> None:
        """Point the hot path at block ``block_index``'s task and its switch step."""
        self.block_index = block_index
        self.task_index = self.blocks[block_index].task_index
        self._env = self.task_envs[self.task_index]
        # info["task_step"] is global_step minus this offset, by the schedule's clock.
        self._task_step_offset = task_step_offset(self.blocks, self.block_ends, block_index)
        is_last = block_index == len(self.blocks) - 1
        self._switch_step = NEVER if is_last else self.block_ends[block_index]
