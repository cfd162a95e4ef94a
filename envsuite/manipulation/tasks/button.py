"""ButtonPress: press a sprung button on top of a box."""

from __future__ import annotations

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

BOX_CENTRE = np.array([0.0, 0.6, 0.0])
BOX_HALF_EXTENT = np.array([0.15, 0.1, 0.0])
BUTTON_TOP_IN_BOX = np.array([0.0, 0.0, 0.11])
PRESSED = 0.02  # metres of travel that count as a press (of 0.03)


class ButtonPress(ManipulationTask):
    name = "ButtonPress"
    scene = "button"
    description = "Press a sprung button on a box from above; success at 2 cm of its 3 cm travel."
    params = jointed_object_params(mass=0.05, damping=1.0, stiffness=20.0)
    variants: ClassVar[dict[str, dict[str, float]]] = {
        "stiff": {"joint_stiffness": 150.0},
        "fixed": {"object_spread": 0.0},
    }
    observed_objects = (("button_top", "button"),)
    object_body = "button"
    object_joint = "button_slide"
    reward_components = ("reach", "press")
    reward_weights = (3.0, 7.0)

    def __init__(self, simulation: Simulation, values: dict[str, float]) -> None:
        super().__init__(simulation, values)
        self._top = simulation.model.site("button_top").id

    def place(self, rng: np.random.Generator) -> np.ndarray:
        box = self.place_fixed_object(rng, "button_box", BOX_CENTRE, BOX_HALF_EXTENT)
        return box + BUTTON_TOP_IN_BOX - np.array([0.0, 0.0, PRESSED])

    def evaluate(self, goal: np.ndarray) -> tuple[tuple[float, ...], bool]:
        travel = self.simulation.joint_position("button_slide")
        top = self.simulation.site_positions[self._top]
        to_top = distance(self.simulation.grip_position, top)
        pressed = clamp_unit(travel / PRESSED)
        return (closeness(to_top, 0.04), pressed), travel >= PRESSED
