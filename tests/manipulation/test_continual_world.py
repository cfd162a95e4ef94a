"""Continual World on Meta-World v3: the ten task ids, CW10 and CW20, with and without it."""

from __future__ import annotations

import importlib.util
import pickle
import subprocess
import sys
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import envsuite
from envsuite.data import data_path
from envsuite.manipulation.continual_world import (
    CW10_ENV_NAMES,
    CW10_TASK_IDS,
    INSTALL_HINT,
    MAX_EPISODE_STEPS,
    REBUILT_ATTRIBUTES,
    MetaWorldTaskEnv,
    register_continual_world,
    task_id,
)
from envsuite.testing import check_task

# Idempotent: envsuite's import registers them too, before the sequences that name them.
register_continual_world()

SEQUENCE_IDS = ("envsuite/CW10-v0", "envsuite/CW20-v0")
needs_metaworld = pytest.mark.skipif(
    importlib.util.find_spec("metaworld") is None,
    reason='needs the optional extra: pip install "envsuite[metaworld]"',
)


def policy_for(env_name: str) -> Any:
    """Meta-World's own scripted policy for ``env_name`` (``push-v3`` -> SawyerPushV3Policy)."""
    import metaworld.policies

    words = env_name.removesuffix("-v3").split("-")
    return getattr(metaworld.policies, f"Sawyer{''.join(w.capitalize() for w in words)}V3Policy")()


def test_ids_are_meta_world_names_in_camel_case() -> None:
    assert task_id("hammer-v3") == "envsuite/MetaWorldHammer-v3"
    assert task_id("peg-unplug-side-v3") == "envsuite/MetaWorldPegUnplugSide-v3"
    assert len(set(CW10_TASK_IDS)) == 10
    assert register_continual_world() == list(CW10_TASK_IDS)  # again: a no-op
    for env_id in CW10_TASK_IDS:
        assert gym.spec(env_id).max_episode_steps == MAX_EPISODE_STEPS
        assert isinstance(gym.spec(env_id).entry_point, str)  # registering imports nothing


def test_sequences_follow_continual_worlds_order() -> None:
    cw10 = envsuite.make_sequence("CW10").spec
    assert cw10.id == "envsuite/CW10-v0"
    assert tuple(task.id for task in cw10.tasks) == CW10_TASK_IDS
    assert [task.name for task in cw10.tasks][:2] == ["hammer", "push-wall"]
    assert (cw10.steps_per_task, cw10.task_id_mode, cw10.schedule.type, cw10.seed) == (
        1_000_000,
        "onehot",
        "sequential",
        0,
    )
    cw20 = envsuite.make_sequence("CW20").spec
    assert tuple(task.id for task in cw20.tasks) == CW10_TASK_IDS * 2
    assert [task.name for task in cw20.tasks][10:12] == ["hammer-2", "push-wall-2"]
    assert (cw20.steps_per_task, cw20.task_id_mode) == (1_000_000, "onehot")
    assert {path.name for path in data_path("tasks").joinpath("cw").glob("*.yaml")} == {
        "cw10.yaml",
        "cw20.yaml",
    }


# tests/test_registry.py runs the full harness on every registered id, these included; here only
# what it does not cover: the fixed variation.
@needs_metaworld
def test_the_fixed_variation_passes_the_harness() -> None:
    check_task("envsuite/MetaWorldStickPull-v3", steps=60, vector_modes=("sync",), randomize=False)


@needs_metaworld
def test_spaces_and_info() -> None:
    env = gym.make("envsuite/MetaWorldPush-v3")
    assert env.observation_space.shape == (39,)
    assert env.observation_space.dtype == np.float64
    assert env.action_space == gym.spaces.Box(-1.0, 1.0, (4,), np.float32)
    _, info = env.reset(seed=0)
    assert info == {}
    _, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert isinstance(reward, float)
    assert (terminated, truncated) == (False, False)
    assert info["success"] is False
    assert set(info) == {
        "success",
        "near_object",
        "grasp_success",
        "grasp_reward",
        "in_place_reward",
        "obj_to_target",
        "unscaled_reward",
    }
    assert all(type(value) is float for key, value in info.items() if key != "success")
    env.close()


@needs_metaworld
@pytest.mark.parametrize("env_name", CW10_ENV_NAMES)
def test_declared_bounds_hold_over_many_variations(env_name: str) -> None:
    env = MetaWorldTaskEnv(env_name)
    goals = set()
    for seed in range(15):
        observation, _ = env.reset(seed=seed)
        assert env.observation_space.contains(observation), (seed, observation)
        goals.add(tuple(observation[36:]))
        for _ in range(20):
            observation, *_ = env.step(env.action_space.sample())
            assert env.observation_space.contains(observation), (seed, observation)
    # The goal is observed (Continual World's MT50 setting) and it moves, except hammer's,
    # whose nail sits at a fixed place in every variation.
    assert len(goals) == (1 if env_name == "hammer-v3" else 15)
    env.close()


@needs_metaworld
def test_a_seed_fixes_the_variation_and_randomize_false_fixes_it_for_good() -> None:
    env = gym.make("envsuite/MetaWorldPush-v3")
    first, _ = env.reset(seed=7)
    again, _ = env.reset(seed=7)
    other, _ = env.reset(seed=8)
    unseeded, _ = env.reset()
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert not np.array_equal(other, unseeded)
    fixed = gym.make("envsuite/MetaWorldPush-v3", randomize=False)
    observations = [fixed.reset(seed=seed)[0] for seed in range(3)] + [fixed.reset()[0]]
    for observation in observations[1:]:
        np.testing.assert_array_equal(observation, observations[0])


@needs_metaworld
def test_observations_and_rewards_match_meta_worlds_own_env() -> None:
    from metaworld.env_dict import ENV_CLS_MAP
    from metaworld.types import Task

    ours = MetaWorldTaskEnv("shelf-place-v3")
    observation, _ = ours.reset(seed=3)
    # Meta-World's own env, given the variation ours drew, as its MT benchmarks set tasks.
    env_class = ENV_CLS_MAP["shelf-place-v3"]
    reference = env_class()
    variation = {
        "env_cls": env_class,
        "rand_vec": ours.metaworld_env._last_rand_vec,
        "partially_observable": False,
    }
    reference.set_task(Task(env_name="shelf-place-v3", data=pickle.dumps(variation)))
    expected, _ = reference.reset()
    np.testing.assert_array_equal(observation, expected)
    rng = np.random.default_rng(0)
    for _ in range(60):
        action = rng.uniform(-1, 1, 4).astype(np.float32)
        observation, reward, _, _, info = ours.step(action)
        expected, expected_reward, _, _, expected_info = reference.step(action)
        np.testing.assert_array_equal(observation, expected)
        assert reward == expected_reward
        assert info == {key: float(value) for key, value in expected_info.items()}


@needs_metaworld
@pytest.mark.filterwarnings("ignore:Constant:UserWarning")  # the policies' own gain warning
@pytest.mark.parametrize("env_name", CW10_ENV_NAMES)
def test_meta_worlds_scripted_policy_succeeds_and_success_is_a_bool(env_name: str) -> None:
    env = gym.make(task_id(env_name))
    policy = policy_for(env_name)
    observation, _ = env.reset(seed=1)
    successes = []
    for _ in range(MAX_EPISODE_STEPS):
        action = np.clip(policy.get_action(observation), -1, 1).astype(np.float32)
        observation, _, terminated, _, info = env.step(action)
        assert type(info["success"]) is bool
        successes.append(info["success"])
        if info["success"]:
            break
    assert successes[0] is False
    assert successes[-1] is True, f"{env_name}: no success in {MAX_EPISODE_STEPS} steps"
    assert not terminated  # success does not end the episode, as in Continual World
    env.close()


@needs_metaworld
def test_time_limit_owns_truncation_even_past_meta_worlds_500() -> None:
    env = gym.make("envsuite/MetaWorldFaucetClose-v3")
    env.reset(seed=0)
    action = np.zeros(4, np.float32)
    for _ in range(MAX_EPISODE_STEPS - 1):
        assert env.step(action)[3] is False
    assert env.step(action)[3] is True
    longer = gym.make("envsuite/MetaWorldFaucetClose-v3", max_episode_steps=510)
    longer.reset(seed=0)
    truncations = [longer.step(action)[3] for _ in range(510)]
    assert truncations.index(True) == 509


@needs_metaworld
def test_onehot_task_id_in_cw10_observations() -> None:
    env = gym.make("envsuite/CW10-v0", steps_per_task=3)
    assert env.observation_space.shape == (49,)
    assert gym.make("envsuite/CW20-v0", steps_per_task=3).observation_space.shape == (59,)
    observation, info = env.reset(seed=0)
    for task_index in range(3):
        assert info["task_name"] == ["hammer", "push-wall", "faucet-close"][task_index]
        expected = np.zeros(10)
        expected[task_index] = 1
        np.testing.assert_array_equal(observation[39:], expected)
        for _ in range(3):
            observation, _, _, truncated, info = env.step(env.action_space.sample())
            np.testing.assert_array_equal(observation[39:], expected)
            assert isinstance(info["success"], bool)
        assert truncated
        assert info["task_switched"]
        observation, info = env.reset()


@needs_metaworld
def test_pickled_env_restores_everything_but_the_rebuilt_parts() -> None:
    env = MetaWorldTaskEnv("push-v3")
    env.reset(seed=0)
    for _ in range(5):
        env.step(env.action_space.sample())
    clone = pickle.loads(pickle.dumps(env))
    assert clone.metaworld_env.np_random is clone.np_random  # one generator, still shared
    # Every array attribute that views MuJoCo's data is rebuilt, not frozen into a copy.
    data = clone.metaworld_env.data
    for name, value in clone.metaworld_env.__dict__.items():
        if isinstance(value, np.ndarray) and np.shares_memory(value, data.xpos):
            assert name in REBUILT_ATTRIBUTES
    np.testing.assert_array_equal(clone.metaworld_env.init_left_pad, data.body("leftpad").xpos)


@needs_metaworld
def test_meta_world_keeps_no_other_live_views_of_mujoco_arrays() -> None:
    """The pickling assumption: only REBUILT_ATTRIBUTES view the model's or the data's arrays."""
    for env_name in CW10_ENV_NAMES:
        env = MetaWorldTaskEnv(env_name)
        env.reset(seed=0)
        env.step(env.action_space.sample())
        metaworld_env = env.metaworld_env
        arrays = [
            getattr(owner, name)
            for owner in (metaworld_env.model, metaworld_env.data)
            for name in dir(owner)
            if not name.startswith("_") and isinstance(getattr(owner, name, None), np.ndarray)
        ]
        for name, value in metaworld_env.__dict__.items():
            if name in REBUILT_ATTRIBUTES or not isinstance(value, np.ndarray):
                continue
            assert not any(np.shares_memory(value, array) for array in arrays), (env_name, name)
        env.close()


@needs_metaworld
def test_user_mistakes_raise_clear_errors() -> None:
    with pytest.raises(TypeError, match=r"unknown keyword argument\(s\) \['colour'\].*randomize"):
        gym.make("envsuite/MetaWorldHammer-v3", colour="red")
    with pytest.raises(ValueError, match="randomize: must be True or False, got 'yes'"):
        gym.make("envsuite/MetaWorldHammer-v3", randomize="yes")
    with pytest.raises(ValueError, match="env_name: must be one of"):
        MetaWorldTaskEnv("reach-v3")
    with pytest.raises(ValueError, match="render_mode: must be None or one of"):
        MetaWorldTaskEnv("hammer-v3", render_mode="ansi")
    env = gym.make("envsuite/MetaWorldHammer-v3")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action: must be 4 finite numbers"):
        env.step(np.array([0.0, np.nan, 0.0, 0.0], np.float32))
    with pytest.raises(ValueError, match="action: must be 4 finite numbers"):
        env.unwrapped.step(np.zeros(3, np.float32))
    with pytest.raises(ValueError, match=r"action: must be 4 finite numbers .* in \[-1, 1\]"):
        env.step(np.array([0.0, 0.0, 1.5, 0.0], np.float32))  # never clipped silently


def test_without_meta_world_the_ids_stay_listed_and_make_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "metaworld", None)  # import metaworld now fails
    assert set(CW10_TASK_IDS) | set(SEQUENCE_IDS) <= set(envsuite.registered_ids())
    for env_id in (CW10_TASK_IDS[0], SEQUENCE_IDS[0]):
        with pytest.raises(ModuleNotFoundError, match=r'pip install "envsuite\[metaworld\]"'):
            gym.make(env_id)
    assert "envsuite[metaworld]" in INSTALL_HINT


def test_importing_envsuite_registers_continual_world_without_importing_meta_world() -> None:
    code = (
        "import sys; sys.modules['metaworld'] = None\n"
        "import envsuite\n"
        "from envsuite.manipulation.continual_world import register_continual_world\n"
        "register_continual_world()\n"
        "ids = envsuite.registered_ids()\n"
        "assert 'envsuite/CW20-v0' in ids and 'envsuite/MetaWorldHammer-v3' in ids, ids\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
