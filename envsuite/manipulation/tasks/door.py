"""DoorOpen: push a hinged door open, away from the arm."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from envsuite.manipulation.simulation import Simulation
from envsuite.manipulation.task import (
    ManipulationTask,
    clamp_unit,
    closeness,
    distance,
    jointed_object_params,
)

FRAME_CENTRE = np.array([0.0, 0.6, 0.0])
FRAME_HALF_EXTENT = np.array([0.1, 0.04, 0.0])
HINGE_IN_FRAME = np.array([-0.17, 0.0, 0.17])
HANDLE_IN_DOOR = np.array([0.28, -0.07, 0.0])
OPEN_ANGLE = 0.85  # radians (about 49°): open enough to walk through, within the arm's reach


class DoorOpen(ManipulationTask):
    name = "DoorOpen"
    scene = "door"
    description = (
        "Push a hinged door open, away from the arm; success once it stands 0.85 rad (49°) open."
    )
    params = jointed_object_params(mass=1.5, damping=0.5, stiffness=0.0)
    variants: ClassVar[dict[str, dict[str, float]]] = {
        "sprung": {"joint_stiffness": 5.0},
        "stiff": {"joint_stiffness": 15.0},
        "heavy": {"object_mass": 5.0, "joint_damping": 5.0},
    }
    observed_objects = (("door_handle", "door"),)
    object_body = "door"
    object_joint = "door_hinge"
    reward_components = ("reach", "open")
    reward_weights = (2.0, 8.0)

    def __init__(self, simulation: Simulation, values: dict[str, float]) -> None:
        super().__init__(simulation, values)
        self._panel = simulation.model.geom("door").id

    def place(self, rng: np.random.Generator) -> np.ndarray:
        frame = self.place_fixed_object(rng, "door_frame", FRAME_CENTRE, FRAME_HALF_EXTENT)
        self.simulation.set_joint_position("door_hinge", 0.0)
        # The goal: where the handle is once the door stands open.
        cosine, sine = math.cos(OPEN_ANGLE), math.sin(OPEN_ANGLE)
        x, y, z = HANDLE_IN_DOOR
        return frame + HINGE_IN_FRAME + np.array([cosine * x - sine * y, sine * x + cosine * y, z])

    def evaluate(self, goal: np.ndarray) -> tuple[tuple[float, ...], bool]:
        angle = self.simulation.joint_position("door_hinge")
        # Reaching: getting near the middle of the panel (the body's origin is the hinge).
        to_door = distance(
            self.simulation.grip_position, self.simulation.geom_positions[self._panel]
        )
        opened = clamp_unit(angle / OPEN_ANGLE)
        return (closeness(to_door, 0.15), opened), angle >= OPEN_ANGLE
