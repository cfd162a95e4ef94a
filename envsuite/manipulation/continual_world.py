"""Continual World (CW10, CW20) on Meta-World v3: an ``envsuite/MetaWorld<Task>-v3`` id for each of
CW's ten Meta-World environments, randomised and seeded as one gymnasium env each."""

from __future__ import annotations

import copy
import sys
from typing import Any, ClassVar, SupportsFloat

import gymnasium as gym
import numpy as np

from envsuite.core.registry import TASK_DESCRIPTIONS

# Continual World's task order (awarelab/continual_world, continualworld/tasks.py), v2 -> v3.
CW10_ENV_NAMES: tuple[str, ...] = (
    "hammer-v3",
    "push-wall-v3",
    "faucet-close-v3",
    "push-back-v3",
    "stick-pull-v3",
    "handle-press-side-v3",
    "push-v3",
    "shelf-place-v3",
    "window-close-v3",
    "peg-unplug-side-v3",
)
MAX_EPISODE_STEPS = 500
ENTRY_POINT = "envsuite.manipulation.continual_world:MetaWorldTaskEnv"
INSTALL_HINT = (
    "Meta-World is not installed; the Continual World tasks (envsuite/MetaWorld*-v3, "
    'envsuite/CW10-v0, envsuite/CW20-v0) need it: pip install "envsuite[metaworld]"'
)
# randomize=False plays the variation that a generator seeded with this draws first.
FIXED_VARIATION_SEED = 0
# Meta-World's reward function; named, so that a change of Meta-World's default cannot change
# the rewards of an id silently.
REWARD_FUNCTION_VERSION = "v2"
USER_ARGUMENTS = ("randomize", "render_mode")
# Meta-World's resets move bodies and sites of the model itself (the goal site, the shelf, the
# box), so a pickled env carries these model fields besides MuJoCo's physics state.
MOVABLE_MODEL_FIELDS = ("body_pos", "body_quat", "site_pos", "site_quat", "geom_pos", "geom_quat")
# What a rebuilt Meta-World env makes afresh rather than unpickles: the model (20 MB of meshes),
# its data (restored from the physics state), the renderer (viewers do not pickle) and the
# attributes that Meta-World's constructor makes live views of the data (a pickled copy would
# freeze them).
REBUILT_ATTRIBUTES = frozenset(
    {"model", "data", "mujoco_renderer", "init_left_pad", "init_right_pad"}
)
# Compiling a Meta-World XML takes ~0.2 s and copying the compiled model ~0.01 s; a CW20
# sequence makes twenty envs, and every pickled env rebuilds one.
_COMPILED_MODELS: dict[str, Any] = {}
_COPYING_CLASSES: dict[type, type] = {}


def task_id(env_name: str) -> str:
    """The id of a Meta-World v3 env: ``hammer-v3`` -> ``envsuite/MetaWorldHammer-v3``."""
    words = env_name.removesuffix("-v3").split("-")
    return "envsuite/MetaWorld" + "".join(word.capitalize() for word in words) + "-v3"


CW10_TASK_IDS: tuple[str, ...] = tuple(task_id(name) for name in CW10_ENV_NAMES)


def register_continual_world() -> list[str]:
    """Register the ten CW task ids (again: no-op) without importing Meta-World; return them."""
    for env_name, env_id in zip(CW10_ENV_NAMES, CW10_TASK_IDS, strict=True):
        TASK_DESCRIPTIONS[env_id] = (
            f"Meta-World's {env_name} as Continual World plays it (a Sawyer arm; goal visible, "
            "random object and goal positions); needs envsuite[metaworld]."
        )
        if env_id not in gym.registry:
            # A string entry point: registering stays cheap and works without the optional extra;
            # gym.make imports Meta-World, or says how to install it.
            gym.register(
                env_id,
                entry_point=ENTRY_POINT,
                kwargs={"env_name": env_name},
                max_episode_steps=MAX_EPISODE_STEPS,
            )
    return list(CW10_TASK_IDS)


class MetaWorldTaskEnv(gym.Env[np.ndarray, np.ndarray]):
    """One Meta-World v3 environment as Continual World plays it: goal visible, random variations.

    ## Description
    A Sawyer arm on a table-top task from Meta-World v3 (``hammer-v3``, ``push-wall-v3``, ...;
    the ten of Continual World's CW10 are registered as ``envsuite/MetaWorld<Task>-v3``). The env
    wraps Meta-World's own environment class, configured as Continual World configures it (a
    Meta-World MT50 task): the goal position is part of the observation, and every reset draws
    a new variation (object and goal positions) from the task's reset space, with the env's own
    generator, so that ``reset(seed=s)`` fixes the episode.

    ## Action Space
    ``Box(-1, 1, (4,), float32)``: end-effector displacement (x, y, z; Meta-World scales it by
    1/100 and clips the target to the reachable box) and gripper effort (-1 open, 1 closed).
    Actions must hold 4 numbers in [-1, 1]: NaN, infinities and larger values raise ValueError.

    ## Observation Space
    ``Box((39,), float64)``, Meta-World's layout: hand position (3), gripper opening (1), the
    objects' positions and quaternions (14, zero-padded), the same 18 values of the previous
    step, then the goal position (3). The bounds are Meta-World's own (hand box, gripper
    [-1, 1], objects unbounded, goal: the task's goal space); Meta-World clips stepped
    observations into them and this env clips reset observations the same way.

    ## Rewards
    Meta-World's dense shaped reward (reward function ``v2``), between 0 and 10.

    ## Episode End
    Never terminated: as in Continual World, success does not end an episode. Truncated after
    ``max_episode_steps`` steps (a ``gym.make`` argument; default 500). ``info["success"]`` is
    ``True`` on every step where Meta-World judges the task solved; the other Meta-World info
    values (``near_object``, ``grasp_success``, ``grasp_reward``, ``in_place_reward``,
    ``obj_to_target``, ``unscaled_reward``) are passed on as floats.

    ## Arguments
    - ``randomize``: ``True`` (default) draws each episode's variation afresh (Continual World's
      ``random_init_all``); ``False`` plays one fixed variation every episode (the one a generator
      seeded ``FIXED_VARIATION_SEED`` draws first; CW's ``deterministic``).
    - ``render_mode``: ``"rgb_array"``, ``"depth_array"`` or ``"human"``, passed to Meta-World.
    - ``env_name`` is set by the registered id (one of ``CW10_ENV_NAMES``).
    Needs the optional extra: ``pip install "envsuite[metaworld]"``. Meta-World's own env is
    ``env.unwrapped.metaworld_env`` (its ``_last_rand_vec`` is the episode's variation).

    ## Version History
    - v3: initial version, on Meta-World v3 (the id's version follows Meta-World's).
    """

    metadata: ClassVar[dict[str, Any]] = {
        "render_modes": ["human", "rgb_array", "depth_array"],
        "render_fps": 80,
    }

    def __init__(
        self,
        env_name: str,
        randomize: bool = True,
        render_mode: str | None = None,
        **unknown: Any,
    ) -> None:
        if unknown:
            raise TypeError(
                f"{task_id(env_name) if env_name in CW10_ENV_NAMES else env_name}: unknown "
                f"keyword argument(s) {sorted(unknown)}; allowed: {list(USER_ARGUMENTS)}"
            )
        if env_name not in CW10_ENV_NAMES:
            raise ValueError(f"env_name: must be one of {list(CW10_ENV_NAMES)}, got {env_name!r}")
        if not isinstance(randomize, bool | np.bool_):
            raise ValueError(f"randomize: must be True or False, got {randomize!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode: must be None or one of {self.metadata['render_modes']}, "
                f"got {render_mode!r}"
            )
        self.env_name = env_name
        self.randomize = bool(randomize)
        self.render_mode = render_mode
        self.metaworld_env = self._make_metaworld()
        space = self.metaworld_env.sawyer_observation_space
        self.observation_space = gym.spaces.Box(
            space.low.copy(), space.high.copy(), dtype=np.float64
        )
        self.action_space = gym.spaces.Box(-1.0, 1.0, (4,), dtype=np.float32)

    def _make_metaworld(self) -> Any:
        """Meta-World's env for ``env_name``, goal visible, its variations drawn as configured."""
        env_class = _copying_class(_metaworld_classes()[self.env_name])
        env = env_class(
            render_mode=self.render_mode, reward_function_version=REWARD_FUNCTION_VERSION
        )
        # What Meta-World's MT benchmarks (and so Continual World) set, without the pickled
        # Task round trip: the goal is observed and each reset draws a variation.
        env._partially_observable = False
        del env.sawyer_observation_space  # a cached property that depends on the line above
        env._set_task_called = True
        env._freeze_rand_vec = False
        env.seeded_rand_vec = True  # draw from env.np_random, not numpy's global generator
        # gymnasium's TimeLimit (the registered max_episode_steps) owns truncation; Meta-World's
        # own limit would raise on the step after it.
        env.max_path_length = sys.maxsize
        if not self.randomize:
            env.np_random = np.random.default_rng(FIXED_VARIATION_SEED)
            env.reset()  # draws the variation through the task's own constraints
            env._freeze_rand_vec = True
        return env

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        # Meta-World draws the variation from the generator it holds: ours, so that the seed
        # fixes the episode (and a pickled env keeps one generator, shared).
        self.metaworld_env.np_random = self.np_random
        observation, _ = self.metaworld_env.reset()
        space = self.observation_space
        return np.clip(observation, space.low, space.high), {}

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        observation, reward, _, _, raw_info = self.metaworld_env.step(_checked_action(action))
        info = {key: float(value) for key, value in raw_info.items()}
        info["success"] = bool(raw_info["success"])
        return observation, float(reward), False, False, info

    def render(self) -> Any:
        return self.metaworld_env.render()

    def close(self) -> None:
        self.metaworld_env.close()
        super().close()

    def __getstate__(self) -> dict[str, Any]:
        import mujoco

        state = self.__dict__.copy()
        metaworld_env = state.pop("metaworld_env")
        model, data = metaworld_env.model, metaworld_env.data
        physics = np.empty(mujoco.mj_stateSize(model, mujoco.mjtState.mjSTATE_INTEGRATION))
        mujoco.mj_getState(model, data, physics, mujoco.mjtState.mjSTATE_INTEGRATION)
        state["_metaworld_state"] = {
            # The task state (variation, goal, previous observation, step count, generator).
            "attributes": {
                key: value
                for key, value in metaworld_env.__dict__.items()
                if key not in REBUILT_ATTRIBUTES
            },
            "model_fields": {name: getattr(model, name).copy() for name in MOVABLE_MODEL_FIELDS},
            # Time, qpos, qvel, act, warm start, controls, applied forces and mocap poses: all
            # that the next mj_step reads, so that a clone continues bit for bit.
            "physics": physics,
        }
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        import mujoco

        saved = state.pop("_metaworld_state")
        self.__dict__.update(state)
        metaworld_env = self._make_metaworld()
        metaworld_env.__dict__.update(saved["attributes"])
        model, data = metaworld_env.model, metaworld_env.data
        for name, value in saved["model_fields"].items():
            getattr(model, name)[:] = value
        # Forward for the derived quantities (positions, contacts) that rendering reads, then
        # the state again: mj_forward overwrites the solver's warm start, which the next step reads.
        mujoco.mj_setState(model, data, saved["physics"], mujoco.mjtState.mjSTATE_INTEGRATION)
        mujoco.mj_forward(model, data)
        mujoco.mj_setState(model, data, saved["physics"], mujoco.mjtState.mjSTATE_INTEGRATION)
        self.metaworld_env = metaworld_env


def _checked_action(action: Any) -> np.ndarray:
    """``action`` as 4 float32 numbers in [-1, 1], or a ValueError saying what it must be (as
    our own manipulation envs: nothing out of range is clipped silently)."""
    try:
        array = np.asarray(action, dtype=np.float32)
    except (TypeError, ValueError):
        array = None
    # The comparison is false for NaN, so it rejects non-finite entries too.
    if array is None or array.shape != (4,) or not (np.abs(array) <= 1.0).all():
        raise ValueError(
            "action: must be 4 finite numbers (dx, dy, dz, gripper effort) in [-1, 1], "
            f"got {action!r}"
        )
    return array


def _metaworld_classes() -> dict[str, Any]:
    """Meta-World's v3 environment classes by name, or the install hint if it is missing."""
    try:
        # The package itself first: a submodule already imported would not notice its absence.
        import metaworld  # noqa: F401
        from metaworld.env_dict import ENV_CLS_MAP
    except ImportError as error:
        raise ModuleNotFoundError(INSTALL_HINT, name="metaworld") from error
    return ENV_CLS_MAP


def _copying_class(env_class: type) -> type:
    """``env_class`` with its MuJoCo model copied from a per-process compiled one."""
    copying = _COPYING_CLASSES.get(env_class)
    if copying is None:
        # The same name: Meta-World reports it as the task name.
        copying = type(
            env_class.__name__,
            (env_class,),
            {"_initialize_simulation": _initialize_simulation_from_copy, "__module__": __name__},
        )
        _COPYING_CLASSES[env_class] = copying
    return copying


def _initialize_simulation_from_copy(env: Any) -> tuple[Any, Any]:
    """gymnasium's ``MujocoEnv._initialize_simulation``, copying a model compiled once."""
    import mujoco

    compiled = _COMPILED_MODELS.get(env.fullpath)
    if compiled is None:
        compiled = _COMPILED_MODELS[env.fullpath] = mujoco.MjModel.from_xml_path(env.fullpath)
    model = copy.copy(compiled)  # mj_copyModel: the envs never share a model they modify
    model.vis.global_.offwidth = max(model.vis.global_.offwidth, env.width)
    model.vis.global_.offheight = max(model.vis.global_.offheight, env.height)
    return model, mujoco.MjData(model)
