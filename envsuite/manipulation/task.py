"""What every manipulation task defines (its scene, parameters, object placement, observed poses,
reward and success) and the parameters a sequence may change, shared by the tasks.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from types import ModuleType
from typing import ClassVar

import numpy as np

from envsuite.manipulation.simulation import FRAME_SIZE, Simulation
from envsuite.params import Param
from envsuite.planning import Array

# Where an observation (ManipulationEnv's layout) holds what the planning rewards read: this
# step's grip point, first object's position and quaternion (w, x, y, z), and the goal.
GRIP = slice(0, 3)
OBJECT_POSITION = slice(4, 7)
OBJECT_QUATERNION = slice(7, 11)
GOAL = slice(2 * FRAME_SIZE, 2 * FRAME_SIZE + 3)

# The dynamics and goal parameters. A task lists the ones that mean something for it, with its
# own defaults where the objects differ (a door weighs more than a block).
MOTION_SCALE = Param(
    "motion_scale", 0.01, 0.002, 0.03, "metres the grip point moves per step at full action"
)
GRIPPER_GAIN = Param(
    "gripper_gain", 300.0, 30.0, 3000.0, "stiffness of the finger actuators, N/m: grip force"
)
GOAL_SPREAD = Param(
    "goal_spread", 1.0, 0.0, 1.0, "share of the goal region sampled at reset; 0: its centre"
)
OBJECT_SPREAD = Param(
    "object_spread", 1.0, 0.0, 1.0, "share of the object's start region sampled; 0: its centre"
)
OBJECT_FRICTION = Param("object_friction", 1.0, 0.05, 3.0, "sliding friction of the object")
ARM_PARAMS = (MOTION_SCALE, GRIPPER_GAIN)


def object_mass(default: float) -> Param:
    return Param("object_mass", default, 0.01, 5.0, "mass of the moving object, kg")


def joint_damping(default: float) -> Param:
    return Param("joint_damping", default, 0.0, 50.0, "damping of the object's joint")


def joint_stiffness(default: float) -> Param:
    return Param(
        "joint_stiffness",
        default,
        0.0,
        200.0,
        "spring of the object's joint towards its rest position (N·m/rad or N/m)",
    )


def free_object_params(mass: float) -> tuple[Param, ...]:
    """The parameters of a task with a loose object (a block, a peg) to carry to a goal."""
    return (*ARM_PARAMS, GOAL_SPREAD, OBJECT_SPREAD, object_mass(mass), OBJECT_FRICTION)


def jointed_object_params(mass: float, damping: float, stiffness: float) -> tuple[Param, ...]:
    """The parameters of a task with an object on a joint (a door, a drawer, a button)."""
    return (
        *ARM_PARAMS,
        OBJECT_SPREAD,
        object_mass(mass),
        joint_damping(damping),
        joint_stiffness(stiffness),
    )


def closeness(distance: float, margin: float) -> float:
    """1 at zero distance, 1/2 at ``margin``, a long tail beyond: a shaping term in (0, 1]."""
    return margin * margin / (margin * margin + distance * distance)


def observed_points(observation: Array) -> tuple[Array, Array, Array]:
    """Batched observations' grip point, first object's position and goal (each ``[..., 3]``)."""
    return observation[..., GRIP], observation[..., OBJECT_POSITION], observation[..., GOAL]


def closeness_of_squared(squared_distance: Array, margin: float) -> Array:
    """:func:`closeness` of batched squared distances (numpy or torch)."""
    return margin * margin / (margin * margin + squared_distance)


def squared_distance(first: Array, second: Array) -> Array:
    """Squared Euclidean distances of batched points (last axis: coordinates)."""
    return ((first - second) ** 2).sum(-1)


def clamp_unit(value: float) -> float:
    """``value`` limited to [0, 1] (never -0.0)."""
    return 0.0 if value <= 0.0 else 1.0 if value >= 1.0 else value


def distance(first: np.ndarray, second: np.ndarray) -> float:
    """Euclidean distance of two small vectors (a tenth of ``np.linalg.norm``'s cost)."""
    return math.dist(first.tolist(), second.tolist())


def sample_around(
    rng: np.random.Generator, centre: np.ndarray, half_extent: np.ndarray, spread: float
) -> np.ndarray:
    """A uniform point in the box ``centre ± spread * half_extent``."""
    return centre + spread * half_extent * rng.uniform(-1.0, 1.0, size=3)


class ManipulationTask(ABC):
    """One skill in one scene: the rules; the env runs them (dm_control's task/physics split).

    A task places its objects and goal at reset, names up to two objects for the observation,
    and scores a state. Its ``params`` are the task parameters it accepts.
    """

    name: ClassVar[str]
    scene: ClassVar[str]
    description: ClassVar[str]
    params: ClassVar[tuple[Param, ...]]
    variants: ClassVar[dict[str, dict[str, float]]]
    # The reward is the weighted sum of the components (weights sum to 10, as Meta-World's).
    reward_components: ClassVar[tuple[str, ...]]
    reward_weights: ClassVar[tuple[float, ...]]
    # What the observation shows: (position, orientation) pairs naming a site (else a body) and
    # a body; up to two, the rest of the frame stays zero.
    observed_objects: ClassVar[tuple[tuple[str, str], ...]] = ()
    # The object the dynamics parameters act on and its joint, where the task has them.
    object_body: ClassVar[str | None] = None
    object_joint: ClassVar[str | None] = None

    def __init__(self, simulation: Simulation, values: dict[str, float]) -> None:
        self.simulation = simulation
        self.values = values
        self.apply_dynamics()

    def apply_dynamics(self) -> None:
        """Write this task's parameter values into the simulation's model."""
        simulation, values = self.simulation, self.values
        simulation.motion_scale = values["motion_scale"]
        simulation.set_gripper_gain(values["gripper_gain"])
        if "object_mass" in values:
            simulation.set_body_mass(self._object_body(), values["object_mass"])
        if "object_friction" in values:
            simulation.set_body_friction(self._object_body(), values["object_friction"])
        if "joint_damping" in values:
            simulation.set_joint_damping(self._object_joint(), values["joint_damping"])
        if "joint_stiffness" in values:
            simulation.set_joint_stiffness(self._object_joint(), values["joint_stiffness"])
        simulation.settle_constants()

    def _object_body(self) -> str:
        assert self.object_body is not None, f"{self.name} has object parameters but no object"
        return self.object_body

    def _object_joint(self) -> str:
        assert self.object_joint is not None, f"{self.name} has joint parameters but no joint"
        return self.object_joint

    def place_fixed_object(
        self, rng: np.random.Generator, body: str, centre: np.ndarray, half_extent: np.ndarray
    ) -> np.ndarray:
        """Move a fixed body (a door frame, a cabinet) to a uniform point of its start region,
        ``object_spread`` of it around the centre; return where it went."""
        position = sample_around(rng, centre, half_extent, self.values["object_spread"])
        self.simulation.place_body(body, position)
        return position

    def place_free_object(
        self, rng: np.random.Generator, joint: str, centre: np.ndarray, half_extent: np.ndarray
    ) -> None:
        """Put a loose object (a block, a peg), upright and at rest, at a uniform point of its
        start region, ``object_spread`` of it around the centre."""
        position = sample_around(rng, centre, half_extent, self.values["object_spread"])
        self.simulation.place_free_body(joint, position)

    @abstractmethod
    def place(self, rng: np.random.Generator) -> np.ndarray:
        """Put the objects where this episode starts (the arm is home); return the goal point."""

    @abstractmethod
    def evaluate(self, goal: np.ndarray) -> tuple[tuple[float, ...], bool]:
        """The reward components (in ``reward_components`` order, each in [0, 1]) and success."""

    @staticmethod
    def observed_components(xp: ModuleType, observation: Array) -> tuple[Array, ...]:
        """:meth:`evaluate`'s reward components computed from batched observations
        (``[..., OBSERVATION_SIZE]``, numpy or torch as ``xp``), where the observation
        determines them: a task that has this has a planning reward
        (:func:`envsuite.manipulation.reward_fn`)."""
        raise NotImplementedError("the observation does not determine this task's reward")
