"""One task of a sequence seen through the sequence's unified spaces, alone or batched.

:class:`ContinualEnv` plays the single ones and :class:`ContinualVectorEnv` the batched ones;
``Sequence.make_task_env(i)`` and ``Sequence.make_task_vector_env(i, n)`` hand them out.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any, SupportsFloat, TypeVar

import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import EnvSpec, VectorizeMode, load_env_creator
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from envsuite.core.errors import SpecError
from envsuite.core.spaces import ActionAdapter, ObservationAdapter, UnifiedSpaces, unify_spaces
from envsuite.core.spec import SequenceSpec
from envsuite.numba_vector import NumbaVectorEnv

EnvType = TypeVar("EnvType", gym.Env, gym.vector.VectorEnv)


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


class UnifiedTaskVectorEnv(gym.vector.VectorWrapper):
    """A batch of one task's envs whose observations and actions are mapped, a whole batch at a
    time, into the sequence's unified spaces.

    Its infos carry ``task_index`` and ``task_name`` (arrays, with ``_key`` masks) besides the
    task's own keys. Autoresets as the task's vector env does (next-step).
    """

    def __init__(
        self, env: gym.vector.VectorEnv, task_index: int, task_name: str, unified: UnifiedSpaces
    ) -> None:
        super().__init__(env)
        self.task_index = task_index
        self.task_name = task_name
        # num_envs, read once: the wrapper's property costs a lookup through the env each step.
        self.batch_size = env.num_envs
        # Copies: envs must not share their spaces' random generators.
        self.single_observation_space = copy.deepcopy(unified.observation_space)
        self.single_action_space = copy.deepcopy(unified.action_space)
        self.observation_space = batch_space(self.single_observation_space, env.num_envs)
        self.action_space = batch_space(self.single_action_space, env.num_envs)
        self.map_observations = unified.observation_adapters[task_index].map_batch
        # Only the numba families' batched envs check their actions themselves (by name);
        # gymnasium's vector envs over single envs would index with a bad action unchecked.
        action_adapter = unified.action_adapters[task_index]
        checks_actions = isinstance(env.unwrapped, NumbaVectorEnv)
        self.map_actions = (
            action_adapter.map_batch if checks_actions else action_adapter.map_batch_checked
        )
        # Constant, so made once; read-only, so that no caller's edit leaks into later steps.
        self.task_info = _read_only_info(
            {
                "task_index": np.full(env.num_envs, task_index),
                "task_name": np.full(env.num_envs, task_name, dtype=object),
            }
        )

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        observations, infos = self.env.reset(seed=seed, options=options)
        infos.update(self.task_info)
        return self.map_observations(observations), infos

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        actions = self.map_actions(actions)
        try:
            count = len(actions)
        except TypeError:  # a scalar, passed through by an identity map
            count = None
        if count != self.batch_size:
            got = f"{count} actions" if count is not None else repr(actions)
            raise ValueError(
                f"actions: must hold one action per env ({self.batch_size}), got {got}"
            )
        observations, rewards, terminations, truncations, infos = self.env.step(actions)
        infos.update(self.task_info)
        return self.map_observations(observations), rewards, terminations, truncations, infos


def _read_only_info(values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Vector infos (with all-true ``_key`` masks) that no one can write to."""
    infos = {}
    for key, value in values.items():
        mask = np.ones(len(value), dtype=np.bool_)
        value.flags.writeable = mask.flags.writeable = False
        infos[key], infos[f"_{key}"] = value, mask
    return infos


def _task_env_spec(spec: SequenceSpec, index: int, inner: bool) -> EnvSpec:
    """Task ``index``'s registered spec; ``inner``: without order enforcing and env checker."""
    env_spec = gym.spec(spec.tasks[index].id)
    if inner:
        env_spec = dataclasses.replace(env_spec, order_enforce=False, disable_env_checker=True)
    return env_spec


# The metadata key naming the keyword argument with which a task's env writes its observations
# zero-padded along their last axis to a given width (the minigames' observation_channels): a
# sequence then pads nothing itself.
PADDED_WIDTH_ARGUMENT = "padded_width_argument"


def make_task_envs(spec: SequenceSpec, make: Callable[..., EnvType]) -> list[EnvType]:
    """Every task's env, ``make(index, **kwargs)``; a task narrower than the sequence's widest
    Box observation whose env can pad itself is made again, padded to it (see
    :data:`PADDED_WIDTH_ARGUMENT`)."""
    envs: list[EnvType] = []
    try:
        for index in range(spec.num_tasks):
            envs.append(make(index))
        observation_spaces = [_single_observation_space(env) for env in envs]
        if all(isinstance(space, gym.spaces.Box) and space.shape for space in observation_spaces):
            width = max(space.shape[-1] for space in observation_spaces)
            for index, (env, space) in enumerate(zip(envs, observation_spaces, strict=True)):
                argument = env.metadata.get(PADDED_WIDTH_ARGUMENT)
                # A task whose kwargs set the argument keeps it (the adapter pads the rest).
                chosen = argument is None or argument in spec.tasks[index].kwargs
                if not chosen and space.shape[-1] < width:
                    env.close()
                    envs[index] = make(index, **{argument: width})
    except Exception:
        for env in envs:
            env.close()
        raise
    return envs


def _single_observation_space(env: gym.Env | gym.vector.VectorEnv) -> gym.Space:
    if isinstance(env, gym.vector.VectorEnv):
        return env.single_observation_space
    return env.observation_space


def make_base_env(
    spec: SequenceSpec,
    index: int,
    render_mode: str | None = None,
    inner: bool = False,
    **arguments: Any,
) -> gym.Env:
    """Make task ``index``'s own environment, as registered, with the spec's keyword arguments.

    ``inner=True`` makes it for a :class:`ContinualEnv`, which alone calls it and enforces
    reset-before-step itself: the task's own order enforcing and passive env checker are left out
    (the checker runs once, on the sequence env the user receives). A task that cannot be made
    raises :class:`SpecError` naming the task's ``kwargs``. ``arguments`` go to the env too.
    """
    task = spec.tasks[index]
    # Only pass render_mode when asked: external envs need not accept the argument.
    render = {} if render_mode is None else {"render_mode": render_mode}
    try:
        return gym.make(_task_env_spec(spec, index, inner), **render, **task.kwargs, **arguments)
    except (TypeError, ValueError, gym.error.Error) as error:
        raise SpecError(
            spec.source,
            f"tasks[{index}].kwargs",
            f"making {task.id} with {dict(task.kwargs)} failed: {error}",
        ) from error


VECTORIZATION_MODES = ("vector_entry_point", "sync", "async")


def make_base_vector_env(
    spec: SequenceSpec,
    index: int,
    num_envs: int,
    vectorization_mode: str | None = None,
    render_mode: str | None = None,
    **arguments: Any,
) -> gym.vector.VectorEnv:
    """Make ``num_envs`` of task ``index``'s own envs as one vector env (next-step autoreset).

    ``vectorization_mode`` as ``gymnasium.make_vec``'s; ``None``: the task's registered
    ``vector_entry_point`` where it is one of the numba families' batched envs, else ``sync``.
    Other batched envs need not do what a sequence relies on: gymnasium's own CartPole one
    resets every env on a ``reset_mask`` (same-step autoreset would restart the envs whose
    episodes go on) and seeds its batch from one seed, not env ``i`` with ``seed + i``.
    The single envs of ``sync`` and ``async`` go without order enforcing and env checker, as in
    :func:`make_base_env` with ``inner=True``. ``arguments`` go to the env too.
    """
    if vectorization_mode is not None and vectorization_mode not in VECTORIZATION_MODES:
        raise ValueError(
            f"task_vectorization_mode: must be None or one of {list(VECTORIZATION_MODES)}, "
            f"got {vectorization_mode!r}"
        )
    task = spec.tasks[index]
    env_spec = _task_env_spec(spec, index, inner=True)
    if vectorization_mode is None:
        numba = _is_numba_batch(env_spec.vector_entry_point)
        vectorization_mode = VectorizeMode.VECTOR_ENTRY_POINT if numba else VectorizeMode.SYNC
    render = {} if render_mode is None else {"render_mode": render_mode}
    try:
        env = gym.make_vec(
            env_spec,
            num_envs,
            vectorization_mode=vectorization_mode,
            **render,
            **task.kwargs,
            **arguments,
        )
    except (TypeError, ValueError, gym.error.Error) as error:
        raise SpecError(
            spec.source,
            f"tasks[{index}].kwargs",
            f"making {num_envs} of {task.id} with {dict(task.kwargs)} as a vector env "
            f"({VectorizeMode(vectorization_mode).value}) failed: {error}",
        ) from error
    autoreset = env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
    if autoreset != AutoresetMode.NEXT_STEP:
        env.close()
        raise SpecError(
            spec.source,
            f"tasks[{index}].id",
            f"the vector env of {task.id} autoresets in mode {autoreset}; a sequence plays its "
            "tasks' vector envs with next-step autoreset (pass task_vectorization_mode='sync')",
        )
    return env


def _is_numba_batch(vector_entry_point: Any) -> bool:
    """Whether a registered ``vector_entry_point`` makes one of the numba families' batched envs."""
    if vector_entry_point is None:
        return False
    creator = (
        load_env_creator(vector_entry_point)
        if isinstance(vector_entry_point, str)
        else vector_entry_point
    )
    return isinstance(creator, type) and issubclass(creator, NumbaVectorEnv)


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


def wrap_task_vector(
    spec: SequenceSpec, index: int, env: gym.vector.VectorEnv, unified: UnifiedSpaces
) -> UnifiedTaskVectorEnv:
    """Wrap a vector env of task ``index`` into the sequence's unified spaces."""
    return UnifiedTaskVectorEnv(env, index, spec.tasks[index].name, unified)
