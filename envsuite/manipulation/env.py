"""``ManipulationEnv``: one manipulation task as a gymnasium env, the table-top arm moved by
end-effector displacements, with one 39-number observation layout for every task.
"""

from __future__ import annotations

from typing import Any, ClassVar, NoReturn

import gymnasium as gym
import mujoco
import numpy as np

from envsuite.env_arguments import whole_number
from envsuite.manipulation.simulation import (
    FRAME_HIGH,
    FRAME_LOW,
    FRAME_SIZE,
    FRAME_SKIP,
    POSITION_BOUND,
    Simulation,
)
from envsuite.manipulation.task import ManipulationTask
from envsuite.manipulation.tasks import TASKS
from envsuite.params import resolve_params

OBSERVATION_SIZE = 2 * FRAME_SIZE + 3  # this frame, the previous one, the goal
ACTION_NAMES = ("move_x", "move_y", "move_z", "grip")
OBSERVATION_LOW = np.concatenate([FRAME_LOW, FRAME_LOW, [-POSITION_BOUND] * 3])
OBSERVATION_HIGH = np.concatenate([FRAME_HIGH, FRAME_HIGH, [POSITION_BOUND] * 3])
MAX_RENDER_SIZE = 640  # the offscreen buffer of assets/manipulation/workcell.xml


class ManipulationEnv(gym.Env[np.ndarray, np.ndarray]):
    """A MuJoCo table-top arm with a two-finger gripper doing one skill.

    ## Description
    A five-joint arm stands behind a table; a mocap body welded to its hand moves the hand, the
    joints follow, and two position-controlled fingers grip. The task (``task=``) decides the
    scene's objects, where they start, the goal, the reward and success. Every task shares one
    observation layout, so sequences of them need no padding.

    ## Action Space
    ``Box(-1, 1, (4,), float32)``: the grip point's displacement along x, y, z, in units of
    ``motion_scale`` metres per step, and the gripper (-1 fully open, +1 closed). The commanded
    point stays within the reachable workspace and at most 4 cm ahead of the hand. A NaN, an
    infinite value or a value outside [-1, 1] raises a ``ValueError``.

    ## Observation Space
    ``Box(low, high, (39,), float64)`` (positions within 3 m of the world's origin, quaternions
    and the opening within their ranges), laid out as Meta-World's: this step's frame (grip
    point x, y, z; gripper opening 0 closed to 1 open; the first object's position and
    quaternion; the second object's position and quaternion, zeros where a task has fewer
    objects), the previous step's frame, and the goal point.

    ## Rewards
    A weighted sum of shaping terms in [0, 1] (weights sum to 10); each term is in ``info`` as
    ``reward_<name>``. ``info["success"]`` says whether the task is solved at this step.

    ## Episode End
    Never terminated (as Meta-World); truncated after ``max_episode_steps`` (registered: 200,
    4 s at 50 steps per second), or at once, with ``info["physics_unstable"]``, if MuJoCo finds
    the physics diverging (it then resets the state itself; reset before stepping again).

    ## Arguments
    ``task``: a name from ``envsuite.manipulation.TASKS``; ``variant``: one of the task's named
    variants or ``"default"``; ``render_mode``: ``None`` or ``"rgb_array"``; ``render_size``:
    the side of rendered frames in pixels, 1 to 640; any task parameter (``motion_scale``,
    ``object_mass``, ``joint_stiffness``, ...: see the task's ``params``) as a keyword.

    ## Version History
    * v0: initial version.
    """

    metadata: ClassVar[dict[str, Any]] = {
        "render_modes": ["rgb_array"],
        "render_fps": 1000 // (2 * FRAME_SKIP),
    }

    def __init__(
        self,
        task: str,
        variant: str = "default",
        render_mode: str | None = None,
        render_size: int = 256,
        **task_params: float,
    ) -> None:
        if not isinstance(task, str) or task not in TASKS:
            raise ValueError(f"task: unknown manipulation task {task!r}; allowed: {sorted(TASKS)}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode: must be None or 'rgb_array', got {render_mode!r}")
        render_size = whole_number(
            render_size, "render_size", f"an integer in [1, {MAX_RENDER_SIZE}]", minimum=1
        )
        if render_size > MAX_RENDER_SIZE:
            raise ValueError(
                f"render_size: must be an integer in [1, {MAX_RENDER_SIZE}], got {render_size!r}"
            )
        definition = TASKS[task]
        vector = resolve_params(
            task,
            definition.params,
            definition.variants,
            variant,
            task_params,
            other_arguments=("variant", "render_mode", "render_size"),
        )
        values = {
            param.name: float(value) for param, value in zip(definition.params, vector, strict=True)
        }
        self.simulation = Simulation(definition.scene)
        self.task: ManipulationTask = definition(self.simulation, values)
        self.render_mode = render_mode
        self.render_size = render_size
        self.observation_space = gym.spaces.Box(OBSERVATION_LOW, OBSERVATION_HIGH, dtype=np.float64)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (len(ACTION_NAMES),), np.float32)
        self._observation = np.zeros(OBSERVATION_SIZE)
        self.simulation.observe(definition.observed_objects)
        self._weights = definition.reward_weights
        self._info_keys = tuple(f"reward_{name}" for name in definition.reward_components)
        self._goal: np.ndarray | None = None
        self._renderer: mujoco.Renderer | None = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self.simulation.reset_arm()
        self._goal = self.task.place(self.np_random)
        self.simulation.set_goal_marker(self._goal)
        self.simulation.forward()
        self.simulation.write_frame(self._observation, keep_previous=False)
        self._observation[FRAME_SIZE : 2 * FRAME_SIZE] = self._observation[:FRAME_SIZE]
        self._observation[2 * FRAME_SIZE :] = self._goal
        components, success = self.task.evaluate(self._goal)
        return self._observation.copy(), self._info(components, success)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._goal is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        values = _action_array(action)
        if not self.simulation.act(values):
            _reject(action)
        self.simulation.write_frame(self._observation, keep_previous=True)
        components, success = self.task.evaluate(self._goal)
        reward = sum(weight * term for weight, term in zip(self._weights, components, strict=True))
        info = self._info(components, success)
        truncated = self.simulation.unstable
        if truncated:
            # MuJoCo has reset the diverging state itself: end the episode here, say why, and
            # refuse further steps until reset.
            info["physics_unstable"] = True
            self._goal = None
        return self._observation.copy(), reward, False, truncated, info

    def _info(self, components: tuple[float, ...], success: bool) -> dict[str, Any]:
        info: dict[str, Any] = dict(zip(self._info_keys, components, strict=True))
        info["success"] = success
        return info

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        if self._renderer is None:
            self._renderer = mujoco.Renderer(
                self.simulation.model, self.render_size, self.render_size
            )
        self._renderer.update_scene(self.simulation.data, camera="catalogue")
        return self._renderer.render()

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_renderer"] = None  # a GL context does not pickle; render() makes a new one
        return state


def _action_array(action: Any) -> np.ndarray:
    """``action`` as 4 float64 numbers (the range is checked while commanding the arm).

    Only integers and floats pass: numeric strings, booleans and complex numbers would convert
    silently."""
    try:
        values = np.asarray(action)
    except (TypeError, ValueError):
        _reject(action)
    if values.dtype.kind not in "iuf" or values.shape != (len(ACTION_NAMES),):
        _reject(action)
    return values.astype(np.float64, copy=False)


def _reject(action: Any) -> NoReturn:
    raise ValueError(
        f"action: must be {len(ACTION_NAMES)} finite numbers in [-1, 1] "
        f"({', '.join(ACTION_NAMES)}), got {action!r}"
    )
