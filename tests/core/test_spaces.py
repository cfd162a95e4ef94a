"""Space unification: padding, one-hot ids, image channels, the discrete union, invalid actions."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import toy_sequence
from gymnasium import spaces

import envsuite
from envsuite.core.spaces import OBSERVATION_KEY, TASK_ID_KEY, unify_spaces
from envsuite.core.spec import load_sequence_spec


def make_env(write_spec, **fields) -> envsuite.ContinualEnv:
    return envsuite.ContinualEnv(load_sequence_spec(write_spec(toy_sequence(**fields))))


def test_vector_observations_are_zero_padded(write_spec) -> None:
    env = make_env(write_spec, steps_per_task=3)
    assert env.observation_space == spaces.Box(0.0, 1000.0, (4,), np.float32)
    observation, info = env.reset(seed=0)
    assert info["task_name"] == "narrow"
    counts = [observation[0]]
    for _ in range(2):
        observation, *_ = env.step(0)
        counts.append(observation[0])
        # The narrow task fills two entries; the padding stays zero.
        np.testing.assert_array_equal(observation, [counts[-1], counts[-1], 0, 0])
    assert counts == [counts[0], counts[0] + 1, counts[0] + 2]


def test_onehot_task_id_is_appended_to_vectors(write_spec) -> None:
    env = make_env(write_spec, steps_per_task=2, task_id_mode="onehot")
    assert env.observation_space.shape == (6,)
    observation, _ = env.reset(seed=0)
    np.testing.assert_array_equal(observation[4:], [1, 0])
    env.step(0)
    *_, truncated, info = env.step(0)
    assert truncated
    assert info["task_switched"]
    observation, info = env.reset()
    assert info["task_name"] == "wide"
    np.testing.assert_array_equal(observation[4:], [0, 1])
    assert observation[0] == observation[3]  # the wide task fills all four entries


def test_images_are_channel_padded_and_onehot_becomes_a_dict_key(write_spec) -> None:
    tasks = [
        {"id": "toy/Image-v0", "name": "gray", "kwargs": {"channels": 1}},
        {"id": "toy/Image-v0", "name": "color", "kwargs": {"channels": 3}},
    ]
    env = make_env(write_spec, tasks=tasks, task_id_mode="onehot", steps_per_task=1)
    assert isinstance(env.observation_space, spaces.Dict)
    image_space = env.observation_space[OBSERVATION_KEY]
    assert image_space.shape == (6, 6, 3)
    assert image_space.dtype == np.uint8
    observation, _ = env.reset(seed=0)
    assert observation[OBSERVATION_KEY][..., 0].min() > 0
    assert observation[OBSERVATION_KEY][..., 1:].max() == 0
    np.testing.assert_array_equal(observation[TASK_ID_KEY], [1, 0])
    assert env.observation_space.contains(observation)
    env.step(0)
    observation, _ = env.reset()
    np.testing.assert_array_equal(observation[TASK_ID_KEY], [0, 1])
    assert observation[OBSERVATION_KEY][..., 2].min() > 0


def test_dicts_of_boxes_are_unified_key_by_key_and_onehot_adds_a_key(write_spec) -> None:
    tasks = [
        {"id": "toy/Dict-v0", "name": "small", "kwargs": {"channels": 1, "width": 2}},
        {"id": "toy/Dict-v0", "name": "large", "kwargs": {"channels": 3, "width": 4}},
    ]
    env = make_env(write_spec, tasks=tasks, task_id_mode="onehot", steps_per_task=1)
    assert set(env.observation_space.spaces) == {"image", "vector", TASK_ID_KEY}
    assert env.observation_space["image"].shape == (6, 6, 3)
    assert env.observation_space["vector"].shape == (4,)
    observation, _ = env.reset(seed=0)
    assert env.observation_space.contains(observation)
    np.testing.assert_array_equal(observation["vector"], [0.5, 0.5, 0.0, 0.0])
    assert observation["image"][..., 1:].max() == 0
    np.testing.assert_array_equal(observation[TASK_ID_KEY], [1, 0])
    env.step(0)
    observation, _ = env.reset()
    np.testing.assert_array_equal(observation["vector"], [0.5] * 4)
    np.testing.assert_array_equal(observation[TASK_ID_KEY], [0, 1])
    same = [tasks[1], {**tasks[1], "name": "large-again"}]
    hidden = make_env(write_spec, tasks=same, task_id_mode="hidden")
    assert all(adapter.identity for adapter in hidden.observation_adapters)


@pytest.mark.parametrize(
    ("second", "phrase"),
    [
        ({"id": "toy/Dict-v0", "kwargs": {"extra": True}}, "every task needs the same keys"),
        ({"id": "toy/Image-v0"}, "not a Box; sequences unify Box observations"),
    ],
)
def test_dicts_with_other_keys_or_mixed_with_boxes_are_spec_errors(
    write_spec, second: dict, phrase: str
) -> None:
    tasks = [{"id": "toy/Dict-v0", "name": "first"}, {**second, "name": "second"}]
    with pytest.raises(envsuite.SpecError, match=phrase):
        make_env(write_spec, tasks=tasks)


def test_mixed_dtypes_take_the_wider_one(write_spec) -> None:
    tasks = [
        {"id": "toy/Counter-v0", "name": "single", "kwargs": {"dtype": "float32"}},
        {"id": "toy/Counter-v0", "name": "double", "kwargs": {"dtype": "float64"}},
    ]
    env = make_env(write_spec, tasks=tasks)
    assert env.observation_space.dtype == np.float64
    observation, _ = env.reset(seed=0)
    assert observation.dtype == np.float64


def test_identical_spaces_pass_observations_through_untouched() -> None:
    sequence = envsuite.make_sequence("ClassicPendulumGravity")
    adapters = sequence.unified_spaces.observation_adapters
    assert all(adapter.identity for adapter in adapters)
    observation = np.ones(3, np.float32)
    assert adapters[0](observation) is observation


def test_discrete_union_wraps_smaller_action_sets(write_spec) -> None:
    env = make_env(write_spec, steps_per_task=4)
    assert env.action_space == spaces.Discrete(3)
    env.reset(seed=0)
    played = []
    for action in (0, 1, 2, np.int64(2)):
        env.step(action)
        played.append(int(env.task_envs[0].unwrapped.last_action))
    # The narrow task has two actions: unified action 2 plays its action 2 % 2 = 0.
    assert played == [0, 1, 0, 0]


def test_spaces_are_never_shared_between_envs() -> None:
    sequence = envsuite.make_sequence("ClassicPendulumGravity")
    first, second = sequence.make_task_env(0), sequence.make_task_env(1)
    assert first.action_space is not second.action_space
    env = sequence.make_env()
    assert env.action_space is not env.unwrapped.task_envs[0].action_space
    first.action_space.seed(0)
    second.action_space.seed(0)
    assert first.action_space.sample() == pytest.approx(second.action_space.sample())


def test_scalar_observations_are_a_spec_error(write_spec) -> None:
    spec = load_sequence_spec(write_spec(toy_sequence(tasks=["toy/Scalar-v0"])))
    with pytest.raises(envsuite.SpecError, match=r"tasks\[0\].id: .* is a scalar"):
        envsuite.ContinualEnv(spec)


def test_discrete_start_is_respected() -> None:
    unified = unify_spaces(
        [spaces.Box(0, 1, (2,))] * 2,
        [spaces.Discrete(2, start=-1), spaces.Discrete(3)],
        ["shifted", "plain"],
        onehot_task_id=False,
        source="test",
    )
    shifted = unified.action_adapters[0]
    assert [int(shifted(action)) for action in range(3)] == [-1, 0, -1]


@pytest.mark.parametrize("action", [3, -1, 7, np.int8(-2)])
def test_actions_outside_the_union_are_rejected(write_spec, action) -> None:
    env = make_env(write_spec)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="outside the sequence's action space Discrete"):
        env.step(action)


@pytest.mark.parametrize(
    "action", [None, "left", 1.0, np.float64(2.0), True, np.True_, np.array([1]), np.array(1.0)]
)
def test_discrete_actions_must_be_integers(write_spec, action) -> None:
    env = make_env(write_spec)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action must be an integer in Discrete"):
        env.step(action)


def test_integer_arrays_of_no_dimension_are_accepted(write_spec) -> None:
    env = make_env(write_spec)
    env.reset(seed=0)
    env.step(np.array(1))
    assert int(env.task_envs[0].unwrapped.last_action) == 1


@pytest.mark.parametrize(
    ("action", "phrase"),
    [
        (np.array([np.nan], np.float32), "finite numbers"),
        (np.array([np.inf], np.float32), "finite numbers"),
        (np.array([-np.inf], np.float32), "finite numbers"),
        ([None], "finite numbers"),
        (np.zeros(3, np.float32), r"shape \(1,\)"),
        (np.float32(0.1), r"shape \(1,\)"),
        (None, r"shape \(1,\)"),
    ],
)
def test_bad_continuous_actions_are_rejected(action, phrase: str) -> None:
    env = envsuite.make_sequence("ClassicPendulumGravity").make_env()
    env.reset(seed=0)
    with pytest.raises(ValueError, match=phrase):
        env.step(action)
    observation, *_ = env.step(np.array([0.5], np.float32))
    assert np.all(np.isfinite(observation))
