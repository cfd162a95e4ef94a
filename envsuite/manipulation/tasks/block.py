"""Push and PickPlace: move a block to a goal, along the table or through the air."""

from __future__ import annotations

from types import ModuleType
from typing import ClassVar

import numpy as np

from envsuite.manipulation.simulation import Simulation
from envsuite.manipulation.task import (
    ManipulationTask,
    clamp_unit,
    closeness,
    closeness_of_squared,
    distance,
    free_object_params,
    observed_points,
    sample_around,
    squared_distance,
)
from envsuite.planning import Array

BLOCK_HALF_SIZE = 0.02
BLOCK_START_CENTRE = np.array([0.0, 0.5, BLOCK_HALF_SIZE])
BLOCK_START_HALF_EXTENT = np.array([0.1, 0.05, 0.0])
SUCCESS_DISTANCE = 0.05
BLOCK_PARAMS = free_object_params(mass=0.1)
# Heavier or slipperier blocks come with a stiffer grip: the default one holds neither.
BLOCK_VARIANTS = {
    "heavy": {"object_mass": 0.3, "gripper_gain": 1000.0},
    "slippery": {"object_friction": 0.3, "gripper_gain": 1000.0},
    "fixed": {"goal_spread": 0.0, "object_spread": 0.0},
}


class BlockTask(ManipulationTask):
    """A block starts near the front of the table; the goal is further away (and, for PickPlace,
    in the air)."""

    scene = "block"
    params = BLOCK_PARAMS
    variants = BLOCK_VARIANTS
    observed_objects = (("block", "block"),)
    object_body = "block"
    goal_centre: ClassVar[np.ndarray]
    goal_half_extent: ClassVar[np.ndarray]

    def __init__(self, simulation: Simulation, values: dict[str, float]) -> None:
        super().__init__(simulation, values)
        self._block = simulation.model.body("block").id

    def place(self, rng: np.random.Generator) -> np.ndarray:
        self.place_free_object(rng, "block", BLOCK_START_CENTRE, BLOCK_START_HALF_EXTENT)
        return sample_around(
            rng, self.goal_centre, self.goal_half_extent, self.values["goal_spread"]
        )

    def block_position(self) -> np.ndarray:
        return self.simulation.body_positions[self._block]


class Push(BlockTask):
    name = "Push"
    description = (
        "Push a block along the table to a goal; success with its centre within 5 cm of it."
    )
    goal_centre = np.array([0.0, 0.7, BLOCK_HALF_SIZE])
    goal_half_extent = np.array([0.15, 0.06, 0.0])
    reward_components = ("reach", "place")
    reward_weights = (2.0, 8.0)

    def evaluate(self, goal: np.ndarray) -> tuple[tuple[float, ...], bool]:
        block = self.block_position()
        to_block = distance(self.simulation.grip_position, block)
        to_goal = distance(block[:2], goal[:2])
        return (closeness(to_block, 0.05), closeness(to_goal, 0.05)), to_goal < SUCCESS_DISTANCE

    @staticmethod
    def observed_components(xp: ModuleType, observation: Array) -> tuple[Array, ...]:
        grip, block, goal = observed_points(observation)
        return (
            closeness_of_squared(squared_distance(grip, block), 0.05),
            closeness_of_squared(squared_distance(block[..., :2], goal[..., :2]), 0.05),
        )


class PickPlace(BlockTask):
    name = "PickPlace"
    description = "Grasp a block and lift it to a goal in the air; success within 5 cm of it."
    # At least 9 cm up: a block slid along the table (centre at 2 cm) is never within 5 cm.
    goal_centre = np.array([0.0, 0.68, 0.17])
    goal_half_extent = np.array([0.15, 0.08, 0.08])
    reward_components = ("reach", "lift", "place")
    reward_weights = (1.0, 2.0, 7.0)

    def evaluate(self, goal: np.ndarray) -> tuple[tuple[float, ...], bool]:
        block = self.block_position()
        to_block = distance(self.simulation.grip_position, block)
        to_goal = distance(block, goal)
        # Lifting counts only while the block is between the fingers.
        lift = clamp_unit((block[2] - BLOCK_HALF_SIZE) / 0.05) if to_block < 0.03 else 0.0
        components = (closeness(to_block, 0.05), lift, closeness(to_goal, 0.05))
        return components, to_goal < SUCCESS_DISTANCE

    @staticmethod
    def observed_components(xp: ModuleType, observation: Array) -> tuple[Array, ...]:
        grip, block, goal = observed_points(observation)
        to_block = squared_distance(grip, block)
        raised = xp.clip((block[..., 2] - BLOCK_HALF_SIZE) / 0.05, 0.0, 1.0)
        lift = xp.where(to_block < 0.03**2, raised, 0.0)
        return (
            closeness_of_squared(to_block, 0.05),
            lift,
            closeness_of_squared(squared_distance(block, goal), 0.05),
        )
