"""The physics side of the manipulation family: one MuJoCo model and data of a task scene, the
arm's controls, and what the observation reads from them. Tasks never touch MuJoCo directly.
"""

from __future__ import annotations

import copy
import functools

import mujoco
import numpy as np

from envsuite.data import data_path
from envsuite.manipulation.kernels import BODY, SITE, command_arm, write_frame

FRAME_SKIP = 10  # physics steps of 2 ms per env step: 50 Hz control
FINGER_TRAVEL = 0.045  # how far each finger opens, in metres (the actuators' ctrlrange)
# Where the grip point may be sent: the part of the table the arm reaches with the hand upright.
WORKSPACE_LOW = np.array([-0.3, 0.32, 0.005])
WORKSPACE_HIGH = np.array([0.3, 0.8, 0.35])
# How far the commanded grip point may run ahead of the actual one: bounds the weld's force when
# the hand pushes against something that does not give way.
LEASH = 0.04
HOME = np.array([0.0, 0.45, 0.2])  # the grip point at every reset
OBSERVED_OBJECTS = 2
# The observation's frame: grip point 3, gripper opening 1, two object poses of 7.
FRAME_SIZE = 4 + 7 * OBSERVED_OBJECTS
POSITION_BOUND = 3.0  # metres from the world's origin: a block knocked off the table lands within


def _frame_bounds() -> tuple[np.ndarray, np.ndarray]:
    position, quaternion = [POSITION_BOUND] * 3, [1.0] * 4
    high = np.array([*position, 1.0, *(position + quaternion) * OBSERVED_OBJECTS])
    low = -high
    low[3] = 0.0  # the gripper opening
    return low, high


FRAME_LOW, FRAME_HIGH = _frame_bounds()
ARM_JOINTS = ("base_yaw", "shoulder", "elbow", "wrist_pitch", "wrist_roll")
FINGER_JOINTS = ("left_finger", "right_finger")
ELBOW_UP = (0.0, 0.9, -1.8, 0.9, 0.0)  # a pose near home, the elbow above the hand


@functools.cache
def scene_model(scene: str) -> mujoco.MjModel:
    """The compiled model of ``assets/manipulation/<scene>.xml`` (shared: copy before changing)."""
    path = data_path("assets") / "manipulation" / f"{scene}.xml"
    if not path.is_file():
        raise FileNotFoundError(f"scene {scene!r}: no MJCF file at {path}")
    return mujoco.MjModel.from_xml_path(str(path))


@functools.cache
def home_arm_pose() -> np.ndarray:
    """Arm joint angles that hold the grip point at ``HOME``: found once by letting the weld pull
    the arm there (the arm has no closed-form inverse kinematics here), in the bare work cell so
    that no task's objects get in the way."""
    model = scene_model("reach")
    data = mujoco.MjData(model)
    grip_offset = _grip_offset(model, data)
    data.mocap_pos[_hand_target(model)] = HOME + grip_offset
    # Start bent elbow-up: from the straight zero pose the weld may fold the arm elbow-down.
    data.qpos[[model.joint(name).qposadr[0] for name in ARM_JOINTS]] = ELBOW_UP
    mujoco.mj_step(model, data, nstep=1500)
    return np.array([data.qpos[model.joint(name).qposadr[0]] for name in ARM_JOINTS])


def _hand_target(model: mujoco.MjModel) -> int:
    return int(model.body("hand_target").mocapid[0])


def _grip_offset(model: mujoco.MjModel, data: mujoco.MjData) -> np.ndarray:
    """The hand frame's position minus the grip point's (constant: the hand stays upright)."""
    mujoco.mj_forward(model, data)
    return data.xpos[model.body("hand").id] - data.site_xpos[model.site("grip").id]


class Simulation:
    """A task scene's MuJoCo model and data, with the arm's controls.

    The model is this simulation's own copy: dynamics parameters (masses, frictions, damping,
    stiffness, gains) are written into it and stay until changed.
    """

    def __init__(self, scene: str) -> None:
        self.model = copy.deepcopy(scene_model(scene))
        self.data = mujoco.MjData(self.model)
        self.motion_scale = 0.01
        self._hand_target = _hand_target(self.model)
        self._grip_site = self.model.site("grip").id
        self._goal_site = self.model.site("goal").id
        self._arm_qpos = np.array([self.model.joint(name).qposadr[0] for name in ARM_JOINTS])
        self._finger_qpos = np.array([self.model.joint(name).qposadr[0] for name in FINGER_JOINTS])
        self._grip_offset = _grip_offset(self.model, self.data)
        self.target = HOME.copy()  # the commanded grip point
        self.observed_objects = np.zeros((OBSERVED_OBJECTS, 3), dtype=np.int64)
        self._bind_views()

    def _bind_views(self) -> None:
        # Views into MjData's buffers, made once: attribute access on MjData builds a new array
        # object per call, a real share of a step's cost. A pickle round trip rebuilds them.
        data = self.data
        self._qpos = data.qpos
        self._ctrl = data.ctrl
        self._mocap = data.mocap_pos[self._hand_target]
        self.grip_position = data.site_xpos[self._grip_site]
        self.body_positions = data.xpos
        self.site_positions = data.site_xpos
        self.geom_positions = data.geom_xpos
        # MuJoCo's own divergence checks: it counts each in data.warning and resets the state.
        self._divergence_warnings = tuple(
            data.warning[warning]
            for warning in (
                mujoco.mjtWarning.mjWARN_BADQPOS,
                mujoco.mjtWarning.mjWARN_BADQVEL,
                mujoco.mjtWarning.mjWARN_BADQACC,
            )
        )
        self.body_quaternions = data.xquat

    def __getstate__(self) -> dict[str, object]:
        views = (
            "_qpos",
            "_ctrl",
            "_mocap",
            "grip_position",
            "body_positions",
            "body_quaternions",
            "site_positions",
            "geom_positions",
            "_divergence_warnings",
        )
        return {key: value for key, value in self.__dict__.items() if key not in views}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._bind_views()

    # -- the arm -------------------------------------------------------------------------------

    def reset_arm(self) -> None:
        """Reset all state; the arm at home with the gripper open."""
        mujoco.mj_resetData(self.model, self.data)
        self.data.qpos[self._arm_qpos] = home_arm_pose()
        self.data.qpos[self._finger_qpos] = FINGER_TRAVEL
        self.data.ctrl[:] = FINGER_TRAVEL
        self.target[:] = HOME
        self._mocap[:] = HOME + self._grip_offset

    def act(self, action: np.ndarray) -> bool:
        """Move the grip point by ``action[:3] * motion_scale``, set the gripper (``action[3]``:
        -1 fully open, +1 closed) and step the physics. False, doing nothing, if an entry of
        ``action`` (4 float64 numbers) is not a number in [-1, 1]."""
        if not command_arm(
            action,
            self.target,
            self.grip_position,
            self.motion_scale,
            WORKSPACE_LOW,
            WORKSPACE_HIGH,
            LEASH,
            self._grip_offset,
            self._mocap,
            self._ctrl,
            FINGER_TRAVEL,
        ):
            return False
        mujoco.mj_step(self.model, self.data, nstep=FRAME_SKIP)
        return True

    @property
    def unstable(self) -> bool:
        """Whether MuJoCo found the physics diverging since the last reset (it then resets the
        state itself, mid-episode)."""
        return any(warning.number for warning in self._divergence_warnings)

    def write_frame(self, observation: np.ndarray, keep_previous: bool) -> None:
        """Write this step's frame (grip point, opening, the observed objects' poses) into
        ``observation[:FRAME_SIZE]``; with ``keep_previous``, first move the last one along."""
        write_frame(
            observation,
            FRAME_SIZE,
            keep_previous,
            self.grip_position,
            self._qpos,
            self._finger_qpos,
            FINGER_TRAVEL,
            self.observed_objects,
            self.site_positions,
            self.body_positions,
            self.body_quaternions,
            FRAME_LOW,
            FRAME_HIGH,
        )

    def observe(self, objects: tuple[tuple[str, str], ...]) -> None:
        """Choose the objects the observation shows: (position, orientation) name pairs, where
        the position is a site's if the scene has a site of that name, else a body's, and the
        orientation is a body's. Up to ``OBSERVED_OBJECTS``; the rest of the frame stays zero."""
        if len(objects) > OBSERVED_OBJECTS:
            raise ValueError(f"at most {OBSERVED_OBJECTS} observed objects, got {objects}")
        table = np.zeros((OBSERVED_OBJECTS, 3), dtype=np.int64)
        site_names = {self.model.site(index).name for index in range(self.model.nsite)}
        for slot, (position, orientation) in enumerate(objects):
            if position in site_names:
                table[slot, :2] = SITE, self.model.site(position).id
            else:
                table[slot, :2] = BODY, self.model.body(position).id
            table[slot, 2] = self.model.body(orientation).id
        self.observed_objects = table

    def set_gripper_gain(self, gain: float) -> None:
        """Stiffness of the finger position actuators, N/m (their grip force per metre of error)."""
        self.model.actuator_gainprm[:, 0] = gain
        self.model.actuator_biasprm[:, 1] = -gain

    # -- objects -------------------------------------------------------------------------------

    def set_goal_marker(self, goal: np.ndarray) -> None:
        """Show the goal (a translucent sphere) where the task put it; nothing collides with it."""
        self.model.site_pos[self._goal_site] = goal

    def place_body(self, body: str, position: np.ndarray) -> None:
        """Move a fixed body (a door frame, a cabinet) to ``position`` in the world."""
        self.model.body_pos[self.model.body(body).id] = position

    def place_free_body(self, joint: str, position: np.ndarray) -> None:
        """Put a free-floating object at ``position``, upright and at rest."""
        address = self.model.joint(joint).qposadr[0]
        self.data.qpos[address : address + 3] = position
        self.data.qpos[address + 3 : address + 7] = (1.0, 0.0, 0.0, 0.0)

    def joint_position(self, joint: str) -> float:
        return float(self.data.qpos[self.model.joint(joint).qposadr[0]])

    def set_joint_position(self, joint: str, value: float) -> None:
        self.data.qpos[self.model.joint(joint).qposadr[0]] = value

    def set_body_mass(self, body: str, mass: float) -> None:
        """Change a body's mass, scaling its inertia alike (same shape, other material)."""
        body_id = self.model.body(body).id
        self.model.body_inertia[body_id] *= mass / self.model.body_mass[body_id]
        self.model.body_mass[body_id] = mass

    def set_body_friction(self, body: str, friction: float) -> None:
        """Sliding friction of every geom of a body (MuJoCo uses the larger of two in contact)."""
        self.model.geom_friction[self.model.geom_bodyid == self.model.body(body).id, 0] = friction

    def set_joint_damping(self, joint: str, damping: float) -> None:
        self.model.dof_damping[self.model.joint(joint).dofadr[0]] = damping

    def set_joint_stiffness(self, joint: str, stiffness: float) -> None:
        self.model.jnt_stiffness[self.model.joint(joint).id] = stiffness

    def set_spring_rest(self, joint: str, position: float) -> None:
        """Where a joint's spring pulls it to (MJCF's ``springref``)."""
        self.model.qpos_spring[self.model.joint(joint).qposadr[0]] = position

    def settle_constants(self) -> None:
        """Recompute the model's derived constants after masses changed."""
        mujoco.mj_setConst(self.model, self.data)

    def forward(self) -> None:
        """Recompute positions after placing things (before the first observation)."""
        mujoco.mj_forward(self.model, self.data)
