"""A handle on one sequence: its spec, its schedule, the sequence env and per-task envs."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import gymnasium as gym
from gymnasium.envs.registration import EnvSpec

from envsuite.core.continual_vector_env import ContinualVectorEnv
from envsuite.core.registry import SEQUENCE_MAKE_OPTIONS, find_sequence_spec
from envsuite.core.schedule import Block, build_schedule
from envsuite.core.spaces import UnifiedSpaces
from envsuite.core.spec import SequenceSpec
from envsuite.core.task_env import (
    UnifiedTaskEnv,
    UnifiedTaskVectorEnv,
    make_base_env,
    make_base_vector_env,
    unify_sequence_spaces,
    wrap_task,
    wrap_task_vector,
)


class Sequence:
    """A continual-learning sequence: make its env, its per-task envs, and read its schedule.

    Example:
        >>> import envsuite
        >>> sequence = envsuite.make_sequence("ClassicPendulumGravity")
        >>> env = sequence.make_env()                  # plays the whole schedule
        >>> envs = sequence.make_vector_env(64)        # 64 envs on one clock
        >>> evaluation_env = sequence.make_task_env(2)  # task 2 alone, same spaces
    """

    def __init__(self, spec: SequenceSpec) -> None:
        self.spec = spec

    @property
    def num_tasks(self) -> int:
        return self.spec.num_tasks

    @property
    def task_names(self) -> list[str]:
        return [task.name for task in self.spec.tasks]

    def schedule(self) -> tuple[Block, ...]:
        """The blocks the sequence plays, in order."""
        return build_schedule(self.spec)

    def make_env(self, render_mode: str | None = None) -> gym.Env:
        """The sequence env, made through ``gymnasium.make`` with its usual wrappers."""
        return gym.make(self._env_spec(), render_mode=render_mode)

    def make_vector_env(self, num_envs: int, **kwargs: Any) -> ContinualVectorEnv:
        """``num_envs`` envs on the schedule's one clock, made through ``gymnasium.make_vec``;
        ``kwargs`` as :class:`ContinualVectorEnv`'s (``autoreset_mode``, ``render_mode``, ...)."""
        return gym.make_vec(self._env_spec(), num_envs=num_envs, **kwargs)

    def make_task_vector_env(
        self,
        task: int | str,
        num_envs: int,
        vectorization_mode: str | None = None,
        render_mode: str | None = None,
    ) -> UnifiedTaskVectorEnv:
        """``num_envs`` copies of task ``task`` (index or name) as one vector env, in the
        sequence's spaces: the family's batched env where it has one (see
        :func:`make_base_vector_env`), next-step autoreset."""
        index = self._task_index(task)
        env = make_base_vector_env(self.spec, index, num_envs, vectorization_mode, render_mode)
        return wrap_task_vector(self.spec, index, env, self.unified_spaces)

    def make_task_env(self, task: int | str, render_mode: str | None = None) -> UnifiedTaskEnv:
        """Task ``task`` (index or name) alone, in the sequence's spaces: for evaluation."""
        index = self._task_index(task)
        env = make_base_env(self.spec, index, render_mode)
        return wrap_task(self.spec, index, env, self.unified_spaces)

    def _env_spec(self) -> EnvSpec:
        return EnvSpec(id=self.spec.id, kwargs={"spec": self.spec}, **SEQUENCE_MAKE_OPTIONS)

    @cached_property
    def unified_spaces(self) -> UnifiedSpaces:
        observation_spaces, action_spaces = [], []
        for index in range(self.num_tasks):
            env = make_base_env(self.spec, index)
            observation_spaces.append(env.observation_space)
            action_spaces.append(env.action_space)
            env.close()
        return unify_sequence_spaces(self.spec, observation_spaces, action_spaces)

    def _task_index(self, task: int | str) -> int:
        if isinstance(task, str) and task in self.task_names:
            return self.task_names.index(task)
        if isinstance(task, int) and 0 <= task < self.num_tasks:
            return task
        raise ValueError(
            f"task must be an index below {self.num_tasks} or a name in {self.task_names}, "
            f"got {task!r}"
        )


def make_sequence(name_or_id: str, **overrides: Any) -> Sequence:
    """Look a sequence up by id, name (latest version) or YAML path, optionally overriding fields.

    ``overrides`` may set ``steps_per_task``, ``schedule``, ``task_id_mode``, ``seed`` and
    ``task_kwargs`` (added to every task's kwargs; it may not replace one a task sets).
    """
    spec = find_sequence_spec(name_or_id)
    if overrides:
        spec = spec.with_overrides(source="make_sequence keyword arguments", **overrides)
    return Sequence(spec)
