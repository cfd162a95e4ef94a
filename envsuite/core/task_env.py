"""One task of a sequence seen through the sequence's unified spaces.

:class:`ContinualEnv` plays these; ``Sequence.make_task_env(i)`` hands one out for evaluation.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any, SupportsFloat

import gymnasium as gym

from envsuite.core.errors import SpecError
from envsuite.core.spaces import ActionAdapter, ObservationAdapter, UnifiedSpaces, unify_spaces
from envsuite.core.spec import SequenceSpec


class UnifiedTaskEnv(gym.Wrapper):
    """A task env whose observations and actions are mapped into the sequence's unified spaces.

    Its infos carry ``task_index`` and ``task_name`` besides the task's own keys.
    """

    def __init__(
        self,
        env: gym.Env,
        task_index: int,
        task_name: str,
        observation_space: gym.Space,
        action_space: gym.Space,
        observation_adapter: ObservationAdapter,
        action_adapter: ActionAdapter,
    ) -> None:
        super().__init__(env)
        self.task_index = task_index
        self.task_name = task_name
        self.observation_space = observation_space
        self.action_space = action_space
        self.observation_adapter = observation_adapter
        self.action_adapter = action_adapter

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        observation, info = self.env.reset(seed=seed, options=options)
        info["task_index"] = self.task_index
        info["task_name"] = self.task_name
        return self.observation_adapter(observation), info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        observation, reward, terminated, truncated, info = self.env.step(
            self.action_adapter(action)
        )
        info["task_index"] = self.task_index
        info["task_name"] = self.task_name
        return self.observation_adapter(observation), reward, terminated, truncated, info


def make_base_env(
    spec: SequenceSpec, index: int, render_mode: str | None = None, inner: bool = False
) -> gym.Env:
    """Make task ``index``'s own environment, as registered, with the spec's keyword arguments.

    ``inner=True`` makes it for a :class:`ContinualEnv`, which alone calls it and enforces
    reset-before-step itself: the task's own order enforcing and passive env checker are left out
    (the checker runs once, on the sequence env the user receives). A task that cannot be made
    raises :class:`SpecError` naming the task's ``kwargs``.
    """
    task = spec.tasks[index]
    env_spec = gym.spec(task.id)
    if inner:
        env_spec = dataclasses.replace(env_spec, order_enforce=False, disable_env_checker=True)
    # Only pass render_mode when asked: external envs need not accept the argument.
    render = {} if render_mode is None else {"render_mode": render_mode}
    try:
        return gym.make(env_spec, **render, **task.kwargs)
    except (TypeError, ValueError, gym.error.Error) as error:
        raise SpecError(
            spec.source,
            f"tasks[{index}].kwargs",
            f"making {task.id} with {dict(task.kwargs)} failed: {error}",
        ) from error


def unify_sequence_spaces(
    spec: SequenceSpec, observation_spaces: list[gym.Space], action_spaces: list[gym.Space]
) -> UnifiedSpaces:
    """Unify the tasks' spaces as the spec's ``task_id_mode`` asks."""
    return unify_spaces(
        observation_spaces,
        action_spaces,
        [task.name for task in spec.tasks],
        onehot_task_id=spec.task_id_mode == "onehot",
        source=spec.source,
    )


def wrap_task(
    spec: SequenceSpec, index: int, env: gym.Env, unified: UnifiedSpaces
) -> UnifiedTaskEnv:
    """Wrap task ``index``'s own env into the sequence's unified spaces."""
    # Copies: task envs must not share their spaces' random generators.
    return UnifiedTaskEnv(
        env,
        index,
        spec.tasks[index].name,
        copy.deepcopy(unified.observation_space),
        copy.deepcopy(unified.action_space),
        unified.observation_adapters[index],
        unified.action_adapters[index],
    )
