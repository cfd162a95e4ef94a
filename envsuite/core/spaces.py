"""Unify the tasks' observation and action spaces into one pair a single agent can act in.

Vector observations are zero-padded to the longest, images are channel-padded, discrete action
sets become the largest; a one-hot task id is appended (vectors) or added as a ``Dict`` key.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces
from numba import njit

from envsuite.core.errors import SpecError

OBSERVATION_KEY = "observation"
TASK_ID_KEY = "task_id"


@dataclass(frozen=True)
class UnifiedSpaces:
    """The sequence's spaces and, per task, how to map into and out of them."""

    observation_space: spaces.Space
    action_space: spaces.Space
    observation_adapters: tuple[ObservationAdapter | DictObservationAdapter, ...]
    action_adapters: tuple[ActionAdapter, ...]


class ObservationAdapter:
    """Maps one task's observation into the unified observation space.

    ``template`` is the unified observation with this task's part zeroed (and, for vectors, the
    one-hot task id already in place); the task's observation is copied into its first ``width``
    entries along the last axis. ``task_id`` is set when the unified space is a ``Dict`` carrying
    the one-hot id as a key. ``map`` is chosen once, as this runs on every step.
    """

    def __init__(
        self, template: np.ndarray, width: int, task_id: np.ndarray | None, task_dtype: np.dtype
    ) -> None:
        self.template = template
        self.width = width
        self.task_id = task_id
        self.identity = (
            task_id is None and template.shape[-1] == width and task_dtype == template.dtype
        )
        self.map: Callable[[Any], Any] = (
            pass_through if self.identity else self._pad if task_id is None else self._pad_with_id
        )
        self.map_batch: Callable[[Any], Any] = (
            pass_through
            if self.identity
            else self._pad_batch
            if task_id is None
            else self._pad_batch_with_id
        )

    def __call__(self, observation: np.ndarray) -> Any:
        return self.map(observation)

    def _pad(self, observation: np.ndarray) -> np.ndarray:
        padded = self.template.copy()
        padded[..., : self.width] = observation
        return padded

    def _pad_with_id(self, observation: np.ndarray) -> dict[str, np.ndarray]:
        return {OBSERVATION_KEY: self._pad(observation), TASK_ID_KEY: self.task_id.copy()}

    def _pad_batch(self, observations: np.ndarray) -> np.ndarray:
        # Filling both parts of an empty array writes each byte once (zeros, then a copy, twice).
        padded = np.empty((len(observations), *self.template.shape), self.template.dtype)
        padded[..., : self.width] = observations
        padded[..., self.width :] = self.template[..., self.width :]
        return padded

    def _pad_batch_with_id(self, observations: np.ndarray) -> dict[str, np.ndarray]:
        return {
            OBSERVATION_KEY: self._pad_batch(observations),
            TASK_ID_KEY: np.tile(self.task_id, (len(observations), 1)),
        }


class DictObservationAdapter:
    """Maps one task's ``Dict`` observation key by key, adding the one-hot task id as a key."""

    def __init__(self, adapters: dict[str, ObservationAdapter], task_id: np.ndarray | None) -> None:
        self.adapters = adapters
        self.task_id = task_id
        self.identity = task_id is None and all(adapter.identity for adapter in adapters.values())
        self.map: Callable[[Any], Any] = pass_through if self.identity else self._map
        self.map_batch: Callable[[Any], Any] = pass_through if self.identity else self._map_batch

    def __call__(self, observation: dict[str, Any]) -> Any:
        return self.map(observation)

    def _map(self, observation: dict[str, Any]) -> dict[str, Any]:
        mapped = {key: adapter(observation[key]) for key, adapter in self.adapters.items()}
        if self.task_id is not None:
            mapped[TASK_ID_KEY] = self.task_id.copy()
        return mapped

    def _map_batch(self, observations: dict[str, Any]) -> dict[str, Any]:
        mapped = {
            key: adapter.map_batch(observations[key]) for key, adapter in self.adapters.items()
        }
        if self.task_id is not None:
            mapped[TASK_ID_KEY] = np.tile(self.task_id, (len(next(iter(mapped.values()))), 1))
        return mapped


class ActionAdapter:
    """Maps an action of the unified action space to one task's action, rejecting invalid ones.

    Discrete union: unified integer action ``a`` plays the task's action ``start + a % n``
    (tasks with fewer actions wrap around); with ``map_batch``, a batch for a task with exactly
    the union's actions passes to the task's vector env unchanged, which must check it (the
    numba families' do), while ``map_batch_checked`` checks it here (for vector envs that index
    with an action unchecked, as gymnasium's over single envs). Box actions must have the
    space's shape and finite numbers; their bounds are left to the task (most clip). Other
    spaces, equal across tasks, pass through. ``map`` (one action) and ``map_batch`` (a batch,
    first axis the envs) are chosen once, as they run on every step.
    """

    def __init__(self, action_space: spaces.Space, unified: spaces.Space) -> None:
        self.unified = unified
        self.map: Callable[[Any], Any] = pass_through
        self.map_batch: Callable[[Any], Any] = pass_through
        self.map_batch_checked: Callable[[Any], Any] = pass_through
        if isinstance(action_space, spaces.Discrete):
            count, start = int(action_space.n), int(action_space.start)
            # A lookup table beats arithmetic on numpy scalars, and its numpy values keep the
            # task's own Discrete.contains (asserted in many tasks' step) on its fast path.
            self.table = {
                action: action_space.dtype.type(start + action % count)
                for action in range(int(unified.n))
            }
            self.map = self._map_discrete
            self.batch_table = np.array(list(self.table.values()), dtype=action_space.dtype)
            # A task that has the union's actions takes a batch as it is, and checks it itself
            # (the numba families' batched envs refuse bad actions by name): a per-step pass
            # here would cost a fast env several percent.
            identity = count == int(unified.n) and start == 0
            self.map_batch = pass_through if identity else self._map_discrete_batch
            self.map_batch_checked = self._map_discrete_batch
        elif isinstance(unified, spaces.Box):
            self.shape = unified.shape
            self.map = self._check_box
            self.map_batch = self.map_batch_checked = self._check_box_batch

    def __call__(self, action: Any) -> Any:
        return self.map(action)

    def _map_discrete(self, action: Any) -> Any:
        # Only integers: the table's hash lookup alone would also take 1.0, True or [1].
        if action.__class__ not in _INTEGER_TYPES:
            array = np.asarray(action)
            if array.shape != () or array.dtype.kind not in "iu":
                raise ValueError(f"action must be an integer in {self.unified}, got {action!r}")
            action = array.item()
        mapped = self.table.get(action)
        if mapped is None:
            raise ValueError(
                f"action {action!r} is outside the sequence's action space {self.unified}"
            )
        return mapped

    def _map_discrete_batch(self, actions: Any) -> np.ndarray:
        actions = np.asarray(actions)
        mapped = np.empty(actions.shape, self.batch_table.dtype)
        if (
            actions.ndim != 1
            or actions.dtype.kind not in "iu"
            or _look_up_actions(actions, self.batch_table, mapped) != -1
        ):
            raise ValueError(
                f"actions: must be a 1-d array of integers in {self.unified}, one per env, "
                f"got {actions!r}"
            )
        return mapped

    def _check_box_batch(self, actions: Any) -> np.ndarray:
        actions = np.asarray(actions)
        if actions.shape[1:] != self.shape or actions.ndim != len(self.shape) + 1:
            raise ValueError(
                f"actions: must have shape (num_envs, *{self.shape}) for {self.unified}, "
                f"got shape {actions.shape}"
            )
        if actions.dtype.kind not in "iuf" or not np.isfinite(actions).all():
            raise ValueError(f"actions: must hold finite numbers, got {actions!r}")
        return actions

    def _check_box(self, action: Any) -> Any:
        # This runs every step: an ndarray's shape attribute costs far less than np.shape().
        is_array = isinstance(action, np.ndarray)
        if (action.shape if is_array else np.shape(action)) != self.shape:
            raise ValueError(
                f"action must have shape {self.shape} for {self.unified}, got {action!r}"
            )
        # tolist() and math.isfinite beat np.isfinite(...).all() several times on small actions.
        values = action.ravel().tolist() if is_array else np.ravel(action).tolist()
        try:
            finite = all(map(math.isfinite, values))
        except TypeError:
            finite = False
        if not finite:
            raise ValueError(f"action must hold finite numbers, got {action!r}")
        return action


@njit(cache=True)
def _look_up_actions(actions: np.ndarray, table: np.ndarray, out: np.ndarray) -> int:
    """``out[i] = table[actions[i]]``; the index of the first action outside the table, or -1.

    One pass that checks and maps: a batch's min and max alone cost numpy twice as much.
    """
    for index in range(actions.shape[0]):
        action = actions[index]
        if action < 0 or action >= table.shape[0]:
            return index
        out[index] = table[action]
    return -1


_INTEGER_TYPES = frozenset({int, *(np.dtype(code).type for code in np.typecodes["AllInteger"])})


def pass_through(value: Any) -> Any:
    """The adapter of a task whose observations or actions need no mapping."""
    return value


def unify_spaces(
    observation_spaces: list[spaces.Space],
    action_spaces: list[spaces.Space],
    task_names: list[str],
    onehot_task_id: bool,
    source: str,
) -> UnifiedSpaces:
    """Build the unified spaces of a sequence; :class:`SpecError` if they cannot be unified."""
    action_space = _unify_actions(action_spaces, task_names, source)
    observation_space, observation_adapters = _unify_observations(
        observation_spaces, task_names, onehot_task_id, source
    )
    return UnifiedSpaces(
        observation_space=observation_space,
        action_space=action_space,
        observation_adapters=observation_adapters,
        action_adapters=tuple(ActionAdapter(space, action_space) for space in action_spaces),
    )


def _unify_actions(
    action_spaces: list[spaces.Space], task_names: list[str], source: str
) -> spaces.Space:
    first = action_spaces[0]
    if all(isinstance(space, spaces.Discrete) for space in action_spaces):
        return spaces.Discrete(max(int(space.n) for space in action_spaces))
    # A copy: the sequence's space must not share its generator with task 0's own space.
    first = copy.deepcopy(first)
    for index, space in enumerate(action_spaces):
        if type(space) is not type(first) or (not isinstance(space, spaces.Box) and space != first):
            raise SpecError(
                source,
                f"tasks[{index}].id",
                f"action space {space} of task {task_names[index]!r} cannot be unified with "
                f"{first} of task {task_names[0]!r}: discrete sets are unified by size, any other "
                "action spaces must be equal",
            )
        if isinstance(space, spaces.Box) and not _same_box(space, first):
            raise SpecError(
                source,
                f"tasks[{index}].id",
                f"Box action space {space} of task {task_names[index]!r} does not match {first} "
                f"of task {task_names[0]!r}: continuous actions must have equal shape, dtype "
                "and bounds",
            )
    return first


def _same_box(a: spaces.Box, b: spaces.Box) -> bool:
    return (
        a.shape == b.shape
        and a.dtype == b.dtype
        and np.array_equal(a.low, b.low)
        and np.array_equal(a.high, b.high)
    )


def _unify_observations(
    observation_spaces: list[spaces.Space],
    task_names: list[str],
    onehot_task_id: bool,
    source: str,
) -> tuple[spaces.Space, tuple[ObservationAdapter | DictObservationAdapter, ...]]:
    if all(isinstance(space, spaces.Dict) for space in observation_spaces):
        return _unify_dicts(observation_spaces, task_names, onehot_task_id, source)
    for index, space in enumerate(observation_spaces):
        if not isinstance(space, spaces.Box):
            raise SpecError(
                source,
                f"tasks[{index}].id",
                f"observation space {space} of task {task_names[index]!r} is not a Box; "
                "sequences unify Box observations (vectors or images), or Dicts of Boxes",
            )
    return _unify_boxes(observation_spaces, task_names, onehot_task_id, source, "observation")


def _unify_dicts(
    observation_spaces: list[spaces.Dict],
    task_names: list[str],
    onehot_task_id: bool,
    source: str,
) -> tuple[spaces.Space, tuple[DictObservationAdapter, ...]]:
    """Dicts with the same keys, each a Box: unify key by key; the one-hot id is one more key."""
    keys = list(observation_spaces[0].spaces)
    for index, space in enumerate(observation_spaces):
        if sorted(space.spaces) != sorted(keys):
            raise SpecError(
                source,
                f"tasks[{index}].id",
                f"observation keys {sorted(space.spaces)} of task {task_names[index]!r} differ "
                f"from {sorted(keys)} of task {task_names[0]!r}: Dict observations unify key by "
                "key, so every task needs the same keys",
            )
        for key, subspace in space.spaces.items():
            if not isinstance(subspace, spaces.Box):
                raise SpecError(
                    source,
                    f"tasks[{index}].id",
                    f"observation key {key!r} of task {task_names[index]!r} is {subspace}, not a "
                    "Box; sequences unify Dicts of Boxes",
                )
    if onehot_task_id and TASK_ID_KEY in keys:
        raise SpecError(
            source,
            "task_id_mode",
            f"onehot adds the key {TASK_ID_KEY!r}, which the tasks' observations already have",
        )
    unified, per_key_adapters = {}, {}
    for key in keys:
        unified[key], per_key_adapters[key] = _unify_boxes(
            [space.spaces[key] for space in observation_spaces],
            task_names,
            False,
            source,
            f"observation key {key!r}",
        )
    num_tasks = len(observation_spaces)
    if onehot_task_id:
        unified[TASK_ID_KEY] = spaces.Box(0.0, 1.0, (num_tasks,), np.float32)
    adapters = []
    for index in range(num_tasks):
        task_id = None
        if onehot_task_id:
            task_id = np.zeros(num_tasks, dtype=np.float32)
            task_id[index] = 1
        adapters.append(
            DictObservationAdapter(
                {key: per_key_adapters[key][index] for key in keys},  # type: ignore[misc]
                task_id,
            )
        )
    return spaces.Dict(unified), tuple(adapters)


def _unify_boxes(
    boxes: list[spaces.Box],
    task_names: list[str],
    onehot_task_id: bool,
    source: str,
    what: str,
) -> tuple[spaces.Space, tuple[ObservationAdapter, ...]]:
    for index, box in enumerate(boxes):
        if len(box.shape) == 0:
            raise SpecError(
                source,
                f"tasks[{index}].id",
                f"{what} space {box} of task {task_names[index]!r} is a scalar; "
                "sequences unify observations with at least one axis",
            )
    leading_shape = boxes[0].shape[:-1]
    for index, box in enumerate(boxes):
        if box.shape[:-1] != leading_shape:
            raise SpecError(
                source,
                f"tasks[{index}].id",
                f"{what} shape {box.shape} of task {task_names[index]!r} cannot be padded to "
                f"match {boxes[0].shape} of task {task_names[0]!r}: only the last axis may differ",
            )
    num_tasks = len(boxes)
    width = max(box.shape[-1] for box in boxes)
    dtype = np.result_type(*(box.dtype for box in boxes))
    # Padded entries are always 0, so 0 joins every task's bounds on the padded part.
    low = np.full((*leading_shape, width), np.inf)
    high = np.full((*leading_shape, width), -np.inf)
    for box in boxes:
        padded_low = np.zeros((*leading_shape, width))
        padded_high = np.zeros((*leading_shape, width))
        padded_low[..., : box.shape[-1]] = box.low
        padded_high[..., : box.shape[-1]] = box.high
        low, high = np.minimum(low, padded_low), np.maximum(high, padded_high)
    is_vector = len(leading_shape) == 0
    append_task_id = onehot_task_id and is_vector
    if append_task_id:
        low = np.concatenate((low, np.zeros(num_tasks)))
        high = np.concatenate((high, np.ones(num_tasks)))
    observation_space: spaces.Space = spaces.Box(low.astype(dtype), high.astype(dtype), dtype=dtype)
    if onehot_task_id and not is_vector:
        task_id_space = spaces.Box(0.0, 1.0, (num_tasks,), np.float32)
        observation_space = spaces.Dict(
            {OBSERVATION_KEY: observation_space, TASK_ID_KEY: task_id_space}
        )

    adapters = []
    for index, box in enumerate(boxes):
        onehot = np.zeros(num_tasks, dtype=dtype if is_vector else np.float32)
        onehot[index] = 1
        template = np.zeros((*leading_shape, width), dtype=dtype)
        if append_task_id:
            template = np.concatenate((template, onehot))
        task_id = onehot if onehot_task_id and not is_vector else None
        adapters.append(ObservationAdapter(template, box.shape[-1], task_id, box.dtype))
    return observation_space, tuple(adapters)
