"""DoorOpen: push a hinged door open, away from the arm."""

from __future__ import annotations

import math
from types import ModuleType
from typing import ClassVar

import numpy as np

from envsuite.manipulation.simulation import Simulation
from envsuite.manipulation.task import (
    GRIP,
    OBJECT_POSITION,
    OBJECT_QUATERNION,
    ManipulationTask,
    clamp_unit,
    closeness,
    closeness_of_squared,
    distance,
    jointed_object_params,
    squared_distance,
)
from envsuite.planning import Array

FRAME_CENTRE = np.array([0.0, 0.6, 0.0])
FRAME_HALF_EXTENT = np.array([0.1, 0.04, 0.0])
HINGE_IN_FRAME = np.array([-0.17, 0.0, 0.17])
HANDLE_IN_DOOR = np.array([0.28, -0.07, 0.0])
PANEL_IN_DOOR = np.array([0.17, 0.0, 0.0])  # the door geom's centre (assets/manipulation/door.xml)
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
        self._door = simulation.model.body("door").id

    def place(self, rng: np.random.Generator) -> np.ndarray:
        frame = self.place_fixed_object(rng, "door_frame", FRAME_CENTRE, FRAME_HALF_EXTENT)
        self.simulation.set_joint_position("door_hinge", 0.0)
        # The goal: where the handle is once the door stands open.
        cosine, sine = math.cos(OPEN_ANGLE), math.sin(OPEN_ANGLE)
        x, y, z = HANDLE_IN_DOOR
        return frame + HINGE_IN_FRAME + np.array([cosine * x - sine * y, sine * x + cosine * y, z])

    def evaluate(self, goal: np.ndarray) -> tuple[tuple[float, ...], bool]:
        # The angle of the door's pose, as observed (the hinge's position is one physics
        # substep newer than the poses a step ends with): its reward is then its observation's.
        angle = float(door_angle(np, self.simulation.body_quaternions[self._door]))
        # Reaching: getting near the middle of the panel (the body's origin is the hinge).
        to_door = distance(
            self.simulation.grip_position, self.simulation.geom_positions[self._panel]
        )
        opened = clamp_unit(angle / OPEN_ANGLE)
        return (closeness(to_door, 0.15), opened), angle >= OPEN_ANGLE

    @staticmethod
    def observed_components(xp: ModuleType, observation: Array) -> tuple[Array, ...]:
        # The panel's centre is the observed handle's point moved by the turned offset between
        # them.
        angle = door_angle(xp, observation[..., OBJECT_QUATERNION])
        x, y, z = (float(value) for value in PANEL_IN_DOOR - HANDLE_IN_DOOR)
        cosine, sine = xp.cos(angle), xp.sin(angle)
        handle = observation[..., OBJECT_POSITION]
        panel = xp.stack(
            [
                handle[..., 0] + cosine * x - sine * y,
                handle[..., 1] + sine * x + cosine * y,
                handle[..., 2] + z,
            ],
            -1,
        )
        to_door = squared_distance(observation[..., GRIP], panel)
        return closeness_of_squared(to_door, 0.15), xp.clip(angle / OPEN_ANGLE, 0.0, 1.0)


def door_angle(xp: ModuleType, quaternion: Array) -> Array:
    """The hinge angle of door quaternions ``[..., 4]`` (w, x, y, z): the door turns about the
    world's z axis alone, so a quaternion is (cos a/2, 0, 0, sin a/2)."""
    return 2.0 * xp.arctan2(quaternion[..., 3], quaternion[..., 0])
