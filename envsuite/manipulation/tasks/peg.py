"""PegInsert: pick up an upright square peg and lower it into a square hole."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from envsuite.manipulation.simulation import Simulation
from envsuite.manipulation.task import (
    ManipulationTask,
    clamp_unit,
    closeness,
    distance,
    free_object_params,
    sample_around,
)

PEG_HALF_HEIGHT = 0.045
PEG_START_CENTRE = np.array([-0.1, 0.45, PEG_HALF_HEIGHT])
PEG_START_HALF_EXTENT = np.array([0.08, 0.05, 0.0])
HOLE_CENTRE = np.array([0.1, 0.65, 0.0])
HOLE_HALF_EXTENT = np.array([0.08, 0.06, 0.0])
INSERTED_DEPTH = 0.04  # how far the peg's bottom must be below the hole's rim (6 cm deep)
HOLE_RIM = 0.06
CENTRED = 0.02  # how far off the hole's axis an inserted peg may stand


class PegInsert(ManipulationTask):
    name = "PegInsert"
    scene = "peg"
    description = (
        "Pick up an upright peg and lower it into a square hole; success with its bottom 4 cm "
        "below the rim, within 2 cm of the hole's axis."
    )
    params = free_object_params(mass=0.05)
    variants: ClassVar[dict[str, dict[str, float]]] = {
        "heavy": {"object_mass": 0.3, "gripper_gain": 1000.0},
        "fixed": {"goal_spread": 0.0, "object_spread": 0.0},
    }
    observed_objects = (("peg", "peg"), ("hole", "hole"))
    object_body = "peg"
    reward_components = ("reach", "lift", "align", "insert")
    reward_weights = (1.0, 1.0, 3.0, 5.0)

    def __init__(self, simulation: Simulation, values: dict[str, float]) -> None:
        super().__init__(simulation, values)
        self._peg = simulation.model.body("peg").id

    def place(self, rng: np.random.Generator) -> np.ndarray:
        self.place_free_object(rng, "peg", PEG_START_CENTRE, PEG_START_HALF_EXTENT)
        hole = sample_around(rng, HOLE_CENTRE, HOLE_HALF_EXTENT, self.values["goal_spread"])
        self.simulation.place_body("hole", hole)
        # The goal: the peg's centre once it is all the way in.
        return hole + np.array([0.0, 0.0, PEG_HALF_HEIGHT])

    def evaluate(self, goal: np.ndarray) -> tuple[tuple[float, ...], bool]:
        peg = self.simulation.body_positions[self._peg]
        to_peg = distance(self.simulation.grip_position, peg)
        off_axis = distance(peg[:2], goal[:2])
        bottom = peg[2] - PEG_HALF_HEIGHT
        lift = clamp_unit(bottom / 0.05) if to_peg < 0.03 else 0.0
        depth = clamp_unit((HOLE_RIM - bottom) / INSERTED_DEPTH) if off_axis < CENTRED else 0.0
        components = (closeness(to_peg, 0.05), lift, closeness(off_axis, 0.03), depth)
        return components, depth >= 1.0
