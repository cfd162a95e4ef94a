"""Planning rewards: a task's own reward as a batched function of ``(observation, action,
next_observation)``, for model-based agents that score imagined transitions (HyperCRL's CEM).

The functions take numpy arrays or torch tensors (on any device) with the transitions on the
leading axes and give the reward per transition, equal to what the env's ``step`` returns for
the same transition (up to float rounding). They read the task's own observation: a sequence's
task id, where one is appended, is the caller's to strip. :func:`reward_fn` finds the function
for a task of a sequence.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

import numpy as np

Array = Any
"""A numpy array or a torch tensor."""
RewardFn = Callable[[Array, Array, Array], Array]
"""``(observations, actions, next observations) -> rewards``, batched over leading axes."""


def array_namespace(array: Array) -> ModuleType:
    """The module whose functions take ``array``: torch for a tensor, numpy otherwise. Planning
    rewards use names both share (``arctan2``, ``clip``, ``where``, ``sqrt``...)."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(array, torch.Tensor):
        return torch
    return np


def reward_fn(env_id: str, kwargs: Mapping[str, Any] | None = None) -> RewardFn:
    """The planning reward of the task ``gym.make(env_id, **kwargs)`` (a sequence's
    ``TaskSpec`` gives both): gymnasium's Pendulum, ours (``envsuite/Pendulum-v0``), and the
    manipulation tasks that have one (``envsuite.manipulation.PLANNING_TASKS``).

    Raises:
        ValueError: the task has no planning reward; the message lists those that have.
    """
    from envsuite.classic import PENDULUM_ID, pendulum_reward_fn
    from envsuite.manipulation.planning import PLANNING_TASKS
    from envsuite.manipulation.planning import reward_fn as manipulation_reward_fn

    kwargs = dict(kwargs or {})
    if env_id == "Pendulum-v1":
        return pendulum_reward_fn()
    if env_id == PENDULUM_ID:
        return pendulum_reward_fn(kwargs.get("action_gain", 1.0))
    name = env_id.removeprefix("envsuite/").removesuffix("-v0")
    if env_id == f"envsuite/{name}-v0" and name in PLANNING_TASKS:
        return manipulation_reward_fn(name)
    allowed = ["Pendulum-v1", PENDULUM_ID]
    allowed += [f"envsuite/{name}-v0" for name in PLANNING_TASKS]
    raise ValueError(f"env_id: {env_id!r} has no planning reward; tasks with one: {allowed}")
