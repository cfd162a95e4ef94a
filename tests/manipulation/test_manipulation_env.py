"""ManipulationEnv: one observation layout, the arm follows actions, dynamics parameters change
what the same actions do, and every user mistake is a clear error."""

from __future__ import annotations

import pickle

import gymnasium as gym
import numpy as np
import pytest

from envsuite.manipulation import OBSERVATION_SIZE, TASKS, ManipulationEnv
from envsuite.manipulation.simulation import HOME, WORKSPACE_HIGH, WORKSPACE_LOW


@pytest.mark.parametrize("task", list(TASKS))
def test_every_task_shares_one_observation_layout(task: str) -> None:
    env = gym.make(f"envsuite/{task}-v0")
    assert env.observation_space.shape == (OBSERVATION_SIZE,) == (39,)
    assert env.action_space.shape == (4,)
    observation, _ = env.reset(seed=0)
    np.testing.assert_allclose(observation[:3], HOME, atol=1e-6)  # the grip point
    assert observation[3] == pytest.approx(1.0)  # the gripper starts fully open
    np.testing.assert_array_equal(observation[:18], observation[18:36])  # no previous step yet
    assert np.isfinite(observation).all()


def test_the_previous_frame_is_the_last_observations_frame() -> None:
    env = gym.make("envsuite/Push-v0")
    first, _ = env.reset(seed=0)
    second, *_ = env.step(np.array([1.0, 0.0, 0.0, 1.0]))
    np.testing.assert_array_equal(second[18:36], first[:18])
    np.testing.assert_array_equal(second[36:], first[36:])  # the goal stays


def test_the_grip_point_follows_the_action_and_stays_in_the_workspace() -> None:
    env = gym.make("envsuite/Reach-v0")
    observation, _ = env.reset(seed=0)
    for _ in range(10):
        observation, *_ = env.step(np.array([1.0, 0.0, 0.0, -1.0]))
    for _ in range(15):  # the hand trails the commanded point by a few steps
        observation, *_ = env.step(np.array([0.0, 0.0, 0.0, -1.0]))
    assert observation[0] == pytest.approx(HOME[0] + 0.1, abs=0.003)  # 1 cm per step
    for _ in range(60):
        observation, *_ = env.step(np.array([1.0, 1.0, -1.0, 1.0]))
    assert (observation[:3] >= WORKSPACE_LOW - 0.01).all()
    assert (observation[:3] <= WORKSPACE_HIGH + 0.01).all()
    assert observation[3] < 0.05  # closed on nothing


def test_the_motion_scale_sets_how_far_a_step_moves() -> None:
    env = gym.make("envsuite/Reach-v0", motion_scale=0.005)
    env.reset(seed=0)
    for _ in range(10):
        observation, *_ = env.step(np.array([0.0, 1.0, 0.0, -1.0]))
    for _ in range(15):
        observation, *_ = env.step(np.array([0.0, 0.0, 0.0, -1.0]))
    assert observation[1] == pytest.approx(HOME[1] + 0.05, abs=0.003)


def rollout(task: str, actions: np.ndarray, **kwargs: float) -> np.ndarray:
    env = gym.make(f"envsuite/{task}-v0", **kwargs)
    env.reset(seed=0)
    return np.array([env.step(action)[0] for action in actions])


@pytest.mark.parametrize(
    ("task", "parameter", "value"),
    [
        ("Push", "object_mass", 2.0),
        ("Push", "object_friction", 0.1),
        ("DoorOpen", "joint_stiffness", 30.0),
        ("DoorOpen", "joint_damping", 20.0),
        ("DrawerOpen", "joint_damping", 50.0),
        ("PickPlace", "gripper_gain", 60.0),
        ("Reach", "motion_scale", 0.02),
    ],
)
def test_a_dynamics_parameter_changes_the_trajectory_under_the_same_actions(
    task: str, parameter: str, value: float
) -> None:
    from envsuite.manipulation import scripted_action

    # Actions that touch the object: the scripted controller's, recorded on the default task.
    env = gym.make(f"envsuite/{task}-v0")
    observation, _ = env.reset(seed=0)
    actions = []
    for _ in range(120):
        actions.append(scripted_action(task, observation))
        observation, *_ = env.step(actions[-1])
    actions = np.array(actions)
    default = rollout(task, actions)
    np.testing.assert_array_equal(default, rollout(task, actions))  # deterministic
    changed = rollout(task, actions, **{parameter: value})
    assert np.abs(changed - default).max() > 0.01


def test_goal_and_object_spread_zero_fix_the_start() -> None:
    env = gym.make("envsuite/Push-v0", variant="fixed")
    starts = [env.reset(seed=seed)[0] for seed in range(3)]
    assert all(np.array_equal(starts[0], start) for start in starts)
    env = gym.make("envsuite/Push-v0")
    assert not np.array_equal(env.reset(seed=0)[0], env.reset(seed=1)[0])


@pytest.mark.parametrize(
    "action",
    [
        [np.nan, 0.0, 0.0, 0.0],
        [0.0, np.inf, 0.0, 0.0],
        [0.0, 0.0, 1.5, 0.0],
        [0.0, 0.0, 0.0, -2.0],
        [0.0, 0.0, 0.0],
        "left",
        [-1.0000001, 0.0, 0.0, 0.0],
        ["0.1", "0", "0", "0"],
        [True, False, False, False],
        np.array([0.5j, 0, 0, 0]),
        None,
    ],
)
def test_a_bad_action_is_a_clear_error_and_changes_nothing(action: object) -> None:
    env = ManipulationEnv("Push")
    env.reset(seed=0)
    before = pickle.dumps(env.simulation.data.qpos)
    with pytest.raises(ValueError, match=r"action: must be 4 finite numbers in \[-1, 1\]"):
        env.step(action)
    assert pickle.dumps(env.simulation.data.qpos) == before


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"task": "Juggle"}, r"task: unknown manipulation task 'Juggle'; allowed: \["),
        ({"task": "Push", "object_mas": 1.0}, r"object_mas: not a task parameter .*object_mass"),
        ({"task": "Reach", "joint_stiffness": 1.0}, "joint_stiffness: not a task parameter"),
        ({"task": "Push", "object_mass": -1.0}, r"object_mass: -1.0 is outside \[0.01, 5.0\]"),
        ({"task": "Push", "object_mass": "heavy"}, "object_mass: must be a number"),
        ({"task": "Push", "variant": "huge"}, r"variant: unknown variant 'huge' of Push"),
        ({"task": "Push", "render_mode": "human"}, "render_mode: must be None or 'rgb_array'"),
        ({"task": ["Push"]}, r"task: unknown manipulation task \['Push'\]"),
        ({"task": "Push", "render_size": 0}, r"render_size: must be an integer in \[1, 640\]"),
        ({"task": "Push", "render_size": 2000}, r"render_size: must be an integer in \[1, 640\]"),
        ({"task": "Push", "render_size": 12.5}, "render_size: must be an integer"),
    ],
)
def test_bad_arguments_are_clear_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ManipulationEnv(**kwargs)


def test_stepping_before_reset_is_an_error() -> None:
    with pytest.raises(gym.error.ResetNeeded):
        ManipulationEnv("Reach").step(np.zeros(4))


def test_a_pickled_env_continues_exactly_and_envs_do_not_share_dynamics() -> None:
    env = ManipulationEnv("DoorOpen", joint_stiffness=10.0)
    env.reset(seed=2)
    actions = np.random.default_rng(0).uniform(-1, 1, size=(30, 4))
    for action in actions[:10]:
        env.step(action)
    copy = pickle.loads(pickle.dumps(env))
    for action in actions[10:]:
        np.testing.assert_array_equal(env.step(action)[0], copy.step(action)[0])
    other = ManipulationEnv("DoorOpen")
    assert other.simulation.model.jnt_stiffness.max() == 0.0
    assert env.simulation.model.jnt_stiffness.max() == 10.0


def test_variants_set_their_parameters() -> None:
    assert ManipulationEnv("DoorOpen", variant="stiff").task.values["joint_stiffness"] == 15.0
    heavy = ManipulationEnv("Push", variant="heavy", object_friction=0.5)
    assert heavy.task.values["object_mass"] == 0.3
    assert heavy.task.values["gripper_gain"] == 1000.0
    assert heavy.task.values["object_friction"] == 0.5
    block = heavy.simulation.model.body("block").id
    assert heavy.simulation.model.body_mass[block] == pytest.approx(0.3)
    assert (heavy.simulation.model.actuator_gainprm[:, 0] == 1000.0).all()


def test_diverging_physics_ends_the_episode_and_says_so(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)  # MuJoCo logs its warning to MUJOCO_LOG.TXT in the cwd
    env = ManipulationEnv("Push")
    env.reset(seed=0)
    _, _, terminated, truncated, info = env.step(np.zeros(4))
    assert not truncated
    assert "physics_unstable" not in info
    env.simulation.data.qvel[:] = np.nan  # what a diverging integration leaves behind
    _, _, terminated, truncated, info = env.step(np.zeros(4))
    assert truncated
    assert not terminated
    assert info["physics_unstable"]
    with pytest.raises(gym.error.ResetNeeded):
        env.step(np.zeros(4))
    env.reset(seed=0)
    assert not env.step(np.zeros(4))[3]


def test_an_object_knocked_off_the_table_lands_on_the_floor() -> None:
    env = ManipulationEnv("Push")
    env.reset(seed=0)
    env.simulation.place_free_body("block", np.array([0.0, 1.2, 0.05]))  # past the far edge
    for _ in range(100):
        observation, *_ = env.step(np.zeros(4))
    assert observation[6] == pytest.approx(-0.73, abs=0.005)  # the floor is 75 cm down


def test_the_scripted_controller_refuses_a_foreign_observation() -> None:
    from envsuite.manipulation import scripted_action

    with pytest.raises(ValueError, match=r"observation: must be a manipulation env's \(39,\)"):
        scripted_action("Push", np.zeros(12))
    with pytest.raises(ValueError, match="task: no scripted controller for 'Juggle'"):
        scripted_action("Juggle", np.zeros(39))


def test_rgb_array_renders_the_scene_and_survives_a_pickle() -> None:
    env = ManipulationEnv("Push", render_mode="rgb_array", render_size=64)
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (64, 64, 3)
    assert frame.dtype == np.uint8
    assert frame.std() > 10  # a scene, not a blank buffer
    copy = pickle.loads(pickle.dumps(env))  # the GL context stays behind; a new one is made
    np.testing.assert_array_equal(copy.render(), frame)
    assert ManipulationEnv("Push").render() is None  # no render_mode: nothing drawn
    env.close()
    copy.close()
