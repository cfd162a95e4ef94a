"""DrawerOpen and DrawerClose: slide a drawer out by its handle, or push it shut."""

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

CABINET_CENTRE = np.array([0.0, 0.74, 0.0])
CABINET_HALF_EXTENT = np.array([0.15, 0.03, 0.0])
HANDLE_IN_CABINET = np.array([0.0, -0.185, 0.11])  # with the drawer shut
DRAWER_PARAMS = jointed_object_params(mass=0.3, damping=2.0, stiffness=0.0)
# "sprung": a spring towards the start, so that the drawer must be held against it.
DRAWER_VARIANTS = {
    "sprung": {"joint_stiffness": 20.0},
    "sticky": {"joint_damping": 20.0},
    "fixed": {"object_spread": 0.0},
}
FULLY_OPEN = 0.16  # the slide's range


class DrawerTask(ManipulationTask):
    """The cabinet stands across the table; the drawer slides towards the arm (-y). The
    drawer's spring (``joint_stiffness``, none by default) pulls it back to where it starts:
    shut for DrawerOpen, fully open for DrawerClose."""

    scene = "drawer"
    params = DRAWER_PARAMS
    variants = DRAWER_VARIANTS
    observed_objects = (("drawer_handle", "drawer"),)
    object_body = "drawer"
    object_joint = "drawer_slide"
    start_opening: ClassVar[float]
    goal_opening: ClassVar[float]
    spring_rest: ClassVar[float]

    def __init__(self, simulation: Simulation, values: dict[str, float]) -> None:
        super().__init__(simulation, values)
        self._handle = simulation.model.site("drawer_handle").id
        simulation.set_spring_rest("drawer_slide", self.spring_rest)

    def place(self, rng: np.random.Generator) -> np.ndarray:
        cabinet = self.place_fixed_object(rng, "cabinet", CABINET_CENTRE, CABINET_HALF_EXTENT)
        self.simulation.set_joint_position("drawer_slide", self.start_opening)
        return cabinet + HANDLE_IN_CABINET - np.array([0.0, self.goal_opening, 0.0])

    def evaluate(self, goal: np.ndarray) -> tuple[tuple[float, ...], bool]:
        opening = self.simulation.joint_position("drawer_slide")
        handle = self.simulation.site_positions[self._handle]
        to_handle = distance(self.simulation.grip_position, handle)
        progress = (opening - self.start_opening) / (self.goal_opening - self.start_opening)
        progress = clamp_unit(progress)
        return (closeness(to_handle, 0.05), progress), progress >= 0.85


class DrawerOpen(DrawerTask):
    name = "DrawerOpen"
    description = "Hook the bar handle and pull the drawer out; success at 85% of 12 cm."
    start_opening = 0.0
    goal_opening = 0.12
    spring_rest = 0.0
    reward_components = ("reach", "open")
    reward_weights = (2.0, 8.0)


class DrawerClose(DrawerTask):
    name = "DrawerClose"
    description = "Push a drawer that stands 14 cm open shut; success within 2.1 cm of closed."
    start_opening = 0.14
    goal_opening = 0.0
    spring_rest = FULLY_OPEN
    reward_components = ("reach", "close")
    reward_weights = (2.0, 8.0)
