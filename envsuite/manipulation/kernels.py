"""The per-step bookkeeping around ``mj_step`` as numba kernels: commanding the arm and writing
the observation frame. In Python they cost more than a third of the physics step.
"""

from __future__ import annotations

import numpy as np
from numba import njit

NO_OBJECT, BODY, SITE = 0, 1, 2  # where an observed object's position comes from


@njit(cache=True)
def command_arm(
    action: np.ndarray,
    target: np.ndarray,
    grip: np.ndarray,
    motion_scale: float,
    workspace_low: np.ndarray,
    workspace_high: np.ndarray,
    leash: float,
    grip_offset: np.ndarray,
    mocap: np.ndarray,
    ctrl: np.ndarray,
    finger_travel: float,
) -> bool:
    """Move the commanded grip point ``target`` by ``action[:3] * motion_scale`` (kept in the
    workspace and within ``leash`` of the actual grip point), put the hand's mocap body there and
    set the finger controls from ``action[3]``. False, changing nothing, if any action entry is
    not a number in [-1, 1]."""
    for index in range(4):
        if not -1.0 <= action[index] <= 1.0:  # NaN compares false
            return False
    for axis in range(3):
        low = max(grip[axis] - leash, workspace_low[axis])
        high = min(grip[axis] + leash, workspace_high[axis])
        value = min(max(target[axis] + action[axis] * motion_scale, low), high)
        target[axis] = value
        mocap[axis] = value + grip_offset[axis]
    opening = finger_travel * 0.5 * (1.0 - action[3])
    for index in range(ctrl.shape[0]):
        ctrl[index] = opening
    return True


@njit(cache=True)
def write_frame(
    observation: np.ndarray,
    frame_size: int,
    keep_previous: bool,
    grip: np.ndarray,
    qpos: np.ndarray,
    finger_addresses: np.ndarray,
    finger_travel: float,
    objects: np.ndarray,
    site_positions: np.ndarray,
    body_positions: np.ndarray,
    body_quaternions: np.ndarray,
    frame_low: np.ndarray,
    frame_high: np.ndarray,
) -> None:
    """Write this step's frame into ``observation[:frame_size]`` (first moving the last one to
    ``[frame_size:2 * frame_size]`` if ``keep_previous``): grip point, gripper opening (0 to 1)
    and the poses of ``objects`` (rows: position source kind, its index, orientation body),
    clipped to the frame's bounds."""
    if keep_previous:
        for index in range(frame_size):
            observation[frame_size + index] = observation[index]
    for axis in range(3):
        observation[axis] = grip[axis]
    opening = 0.0
    for address in finger_addresses:
        opening += qpos[address]
    observation[3] = opening / (finger_travel * finger_addresses.shape[0])
    for slot in range(objects.shape[0]):
        start = 4 + 7 * slot
        kind, index, orientation = objects[slot, 0], objects[slot, 1], objects[slot, 2]
        for axis in range(7):
            observation[start + axis] = 0.0
        if kind == NO_OBJECT:
            continue
        positions = site_positions if kind == SITE else body_positions
        for axis in range(3):
            observation[start + axis] = positions[index, axis]
        for axis in range(4):
            observation[start + 3 + axis] = body_quaternions[orientation, axis]
    # Quaternions and the opening can overshoot their bounds by rounding or soft joint limits.
    for index in range(frame_size):
        observation[index] = min(max(observation[index], frame_low[index]), frame_high[index])
