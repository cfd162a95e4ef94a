"""DoorOpen: push a hinged door open, away from the arm."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from envsuite.manipulation.task import (
    ARM_PARAMS,
    OBJECT_SPREAD,
    ManipulationTask,
    clamp_unit,
    closeness,
    distance,
    joint_damping,
    joint_stiffness,
    object_mass,
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
    params = (
        *ARM_PARAMS,
        OBJECT_SPREAD,
        object_mass(1.5),
        joint_damping(0.5),
        joint_stiffness(0.0),
    )
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

    def __init__(self, simulation, values):  # type: ignore[no-untyped-def]
        super().__init__(simulation, values)
        self._door = simulation.model.body("door").id
        self._handle = simulation.model.site("door_handle").id

    def place(self, rng: np.random.Generator) -> np.ndarray:
        frame = FRAME_CENTRE + self.values["object_spread"] * FRAME_HALF_EXTENT * rng.uniform(
            -1.0, 1.0, size=3
        )
        self.simulation.place_body("door_frame", frame)
        self.simulation.set_joint_position("door_hinge", 0.0)
        # The goal: where the handle is once the door stands open.
        cosine, sine = math.cos(OPEN_ANGLE), math.sin(OPEN_ANGLE)
        x, y, z = HANDLE_IN_DOOR
        return frame + HINGE_IN_FRAME + np.array([cosine * x - sine * y, sine * x + cosine * y, z])

    def evaluate(self, goal: np.ndarray) -> tuple[tuple[float, ...], bool]:
        angle = self.simulation.joint_position("door_hinge")
        door_centre = self.simulation.body_positions[self._door]
        # Reaching means getting to the door's face, anywhere along it.
        to_door = distance(self.simulation.grip_position, door_centre)
        opened = clamp_unit(angle / OPEN_ANGLE)
        return (closeness(to_door, 0.15), opened), angle >= OPEN_ANGLE
