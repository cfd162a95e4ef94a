"""Reach: bring the grip point to a goal in the air."""

from __future__ import annotations

from types import ModuleType
from typing import ClassVar

import numpy as np

from envsuite.manipulation.task import (
    ARM_PARAMS,
    GOAL,
    GOAL_SPREAD,
    GRIP,
    ManipulationTask,
    closeness,
    closeness_of_squared,
    distance,
    sample_around,
    squared_distance,
)
from envsuite.planning import Array

GOAL_CENTRE = np.array([0.0, 0.6, 0.2])
GOAL_HALF_EXTENT = np.array([0.2, 0.15, 0.15])
SUCCESS_DISTANCE = 0.05


class Reach(ManipulationTask):
    name = "Reach"
    scene = "reach"
    description = "Move the grip point to a goal in the air; success within 5 cm of it."
    params = (*ARM_PARAMS, GOAL_SPREAD)
    variants: ClassVar[dict[str, dict[str, float]]] = {
        "fixed_goal": {"goal_spread": 0.0},
        "slow_arm": {"motion_scale": 0.005},
    }
    reward_components = ("reach",)
    reward_weights = (10.0,)

    def place(self, rng: np.random.Generator) -> np.ndarray:
        return sample_around(rng, GOAL_CENTRE, GOAL_HALF_EXTENT, self.values["goal_spread"])

    def evaluate(self, goal: np.ndarray) -> tuple[tuple[float, ...], bool]:
        to_goal = distance(self.simulation.grip_position, goal)
        return (closeness(to_goal, SUCCESS_DISTANCE),), to_goal < SUCCESS_DISTANCE

    @staticmethod
    def observed_components(xp: ModuleType, observation: Array) -> tuple[Array, ...]:
        to_goal = squared_distance(observation[..., GRIP], observation[..., GOAL])
        return (closeness_of_squared(to_goal, SUCCESS_DISTANCE),)
