"""The manipulation tasks' planning rewards (:mod:`envsuite.planning`): each task's reward from
the observation its step returns."""

from __future__ import annotations

from envsuite.manipulation.task import ManipulationTask
from envsuite.manipulation.tasks import TASKS
from envsuite.planning import Array, RewardFn, array_namespace

PLANNING_TASKS = tuple(
    name
    for name, task in TASKS.items()
    if task.observed_components is not ManipulationTask.observed_components
)
"""The tasks whose observation determines their reward."""


def reward_fn(task: str) -> RewardFn:
    """The planning reward of ``task`` (a name in :data:`PLANNING_TASKS`): the weighted sum of
    its reward components, read from ``next_observation`` (the state the step reached), as the
    env's step computes it; numpy or torch, batched over leading axes."""
    if task not in PLANNING_TASKS:
        raise ValueError(
            f"task: {task!r} has no planning reward (its observation does not determine it); "
            f"tasks with one: {list(PLANNING_TASKS)}"
        )
    definition = TASKS[task]
    weights = definition.reward_weights

    def reward(observation: Array, action: Array, next_observation: Array) -> Array:
        components = definition.observed_components(
            array_namespace(next_observation), next_observation
        )
        return sum(weight * term for weight, term in zip(weights, components, strict=True))

    return reward
