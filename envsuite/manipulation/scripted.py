"""Scripted waypoint controllers for the manipulation tasks: each reads only the observation and
picks the next waypoint (as Meta-World's scripted policies), proving every task solvable.

They are tuned for the default ``motion_scale`` (1 cm per step); much faster arms overshoot.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from envsuite.manipulation.env import OBSERVATION_SIZE
from envsuite.manipulation.tasks.door import HANDLE_IN_DOOR, OPEN_ANGLE

OPEN, CLOSED = -1.0, 1.0
NOMINAL_MOTION = 0.01  # the default motion_scale: full speed until a centimetre from the waypoint


def scripted_action(task: str, observation: np.ndarray) -> np.ndarray:
    """The scripted controller's action for ``task`` (a ``TASKS`` name) given an observation."""
    if task not in CONTROLLERS:
        raise ValueError(
            f"task: no scripted controller for {task!r}; allowed: {sorted(CONTROLLERS)}"
        )
    observation = np.asarray(observation, dtype=np.float64)
    if observation.shape != (OBSERVATION_SIZE,):
        raise ValueError(
            f"observation: must be a manipulation env's ({OBSERVATION_SIZE},) observation, "
            f"got shape {observation.shape}"
        )
    return CONTROLLERS[task](observation)


def _move(grip: np.ndarray, target: np.ndarray, gripper: float) -> np.ndarray:
    action = np.empty(4)
    action[:3] = np.clip((target - grip) / NOMINAL_MOTION, -1.0, 1.0)
    action[3] = gripper
    return action


def _parts(observation: np.ndarray) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """Grip point, gripper opening, first object's position, goal."""
    return observation[0:3], float(observation[3]), observation[4:7], observation[36:39]


def reach(observation: np.ndarray) -> np.ndarray:
    grip, _, _, goal = _parts(observation)
    return _move(grip, goal, OPEN)


def push(observation: np.ndarray) -> np.ndarray:
    grip, _, block, goal = _parts(observation)
    heading = goal[:2] - block[:2]
    heading /= max(float(np.linalg.norm(heading)), 1e-6)
    behind = block[:2] - 0.045 * heading  # where the fingers stand to push the block goalwards
    if np.linalg.norm(grip[:2] - behind) > 0.02:
        # Come down behind the block from above, so as not to knock it on the way.
        height = 0.1 if np.linalg.norm(grip[:2] - block[:2]) < 0.07 or grip[2] > 0.05 else grip[2]
        return _move(grip, np.array([*behind, height]), CLOSED)
    if grip[2] > 0.03:
        return _move(grip, np.array([*behind, 0.02]), CLOSED)
    return _move(grip, np.array([*(behind + 0.03 * heading), 0.02]), CLOSED)


def _carry(
    observation: np.ndarray, destination: np.ndarray, held_opening: float, carry_height: float
) -> np.ndarray:
    """Grasp the first object from above, lift it to ``carry_height``, and take it to
    ``destination`` (where the object's centre should end up)."""
    grip, opening, item, _ = _parts(observation)
    grasped = np.linalg.norm(grip - item) < 0.02 and opening < held_opening
    if not grasped:
        if np.linalg.norm(grip[:2] - item[:2]) > 0.012:
            return _move(grip, np.array([item[0], item[1], item[2] + 0.08]), OPEN)
        if grip[2] - item[2] > 0.008 and opening > held_opening:
            return _move(grip, item, OPEN)
        return _move(grip, item, CLOSED)
    held_offset = grip - item
    if np.linalg.norm(item[:2] - destination[:2]) > 0.02:
        if item[2] < carry_height - 0.02:
            return _move(grip, np.array([grip[0], grip[1], carry_height]), CLOSED)
        return _move(grip, np.array([*destination[:2], carry_height]) + held_offset, CLOSED)
    return _move(grip, destination + held_offset, CLOSED)


def pick_place(observation: np.ndarray) -> np.ndarray:
    return _carry(observation, observation[36:39], held_opening=0.45, carry_height=0.12)


def peg_insert(observation: np.ndarray) -> np.ndarray:
    return _carry(observation, observation[36:39], held_opening=0.35, carry_height=0.17)


def door_open(observation: np.ndarray) -> np.ndarray:
    grip, _, handle, _ = _parts(observation)
    quaternion = observation[7:11]
    angle = 2.0 * math.atan2(quaternion[3], quaternion[0])  # the door turns about z only

    def on_door(along: float, out: float, at_angle: float) -> np.ndarray:
        cosine, sine = math.cos(at_angle), math.sin(at_angle)
        return hinge + np.array([cosine * along - sine * out, sine * along + cosine * out, -0.05])

    cosine, sine = math.cos(angle), math.sin(angle)
    x, y, _ = HANDLE_IN_DOOR
    hinge = handle - np.array([cosine * x - sine * y, sine * x + cosine * y, 0.0])
    contact = on_door(0.2, -0.036, angle)
    if np.linalg.norm(grip - contact) < 0.025:
        # Push along the door's arc, to a little past the opening that counts.
        return _move(grip, on_door(0.2, -0.02, min(angle + 0.3, OPEN_ANGLE + 0.2)), CLOSED)
    approach = on_door(0.2, -0.08, angle)
    if np.linalg.norm(grip - approach) < 0.02 or np.linalg.norm(grip - contact) < 0.05:
        return _move(grip, contact, CLOSED)
    return _move(grip, approach, CLOSED)


def drawer_open(observation: np.ndarray) -> np.ndarray:
    grip, _, handle, _ = _parts(observation)
    hook = handle + np.array([0.0, 0.034, 0.0])  # between the bar and the drawer's front
    behind_bar = (
        abs(grip[0] - handle[0]) < 0.02
        and 0.0 < grip[1] - handle[1] < 0.045
        and abs(grip[2] - handle[2]) < 0.02
    )
    if behind_bar:
        return _move(grip, hook - np.array([0.0, 0.05, 0.0]), CLOSED)
    if np.linalg.norm(grip[:2] - hook[:2]) > 0.01:
        return _move(grip, hook + np.array([0.0, 0.0, 0.1]), CLOSED)
    return _move(grip, hook, CLOSED)


def drawer_close(observation: np.ndarray) -> np.ndarray:
    grip, _, handle, _ = _parts(observation)
    front = handle - np.array([0.0, 0.035, 0.0])  # just in front of the bar, on the arm's side
    in_front = (
        abs(grip[0] - handle[0]) < 0.02
        and -0.06 < grip[1] - handle[1] < 0.0
        and abs(grip[2] - handle[2]) < 0.02
    )
    if in_front:
        return _move(grip, front + np.array([0.0, 0.05, 0.0]), CLOSED)
    if np.linalg.norm(grip[:2] - front[:2]) > 0.01:
        return _move(grip, np.array([front[0], front[1], handle[2] + 0.1]), CLOSED)
    return _move(grip, front, CLOSED)


def button_press(observation: np.ndarray) -> np.ndarray:
    grip, _, top, _ = _parts(observation)
    if np.linalg.norm(grip[:2] - top[:2]) > 0.01:
        return _move(grip, top + np.array([0.0, 0.0, 0.06]), CLOSED)
    return _move(grip, top - np.array([0.0, 0.0, 0.03]), CLOSED)


CONTROLLERS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "Reach": reach,
    "Push": push,
    "PickPlace": pick_place,
    "DoorOpen": door_open,
    "DrawerOpen": drawer_open,
    "DrawerClose": drawer_close,
    "ButtonPress": button_press,
    "PegInsert": peg_insert,
}
