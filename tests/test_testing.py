"""The harness itself: it passes a sound env and names the check that a broken env fails."""

from __future__ import annotations

import gymnasium as gym
import pytest
from conftest import toy_sequence

from envsuite.core.registry import register_sequences
from envsuite.testing import (
    check_determinism,
    check_pickle_round_trip,
    check_task,
    check_vector_matches_single,
    sample_actions,
)


def test_a_sound_env_passes_every_check() -> None:
    check_task("toy/Counter-v0", steps=60)


def test_nondeterminism_is_caught() -> None:
    actions = sample_actions("toy/Unseeded-v0", 20, seed=0)
    with pytest.raises(AssertionError, match=r"determinism .* reward differs"):
        check_determinism("toy/Unseeded-v0", actions, seed=0)


def test_observations_outside_the_space_are_caught() -> None:
    actions = sample_actions("toy/OutOfSpace-v0", 20, seed=0)
    with pytest.raises(AssertionError, match="observation not in Box"):
        check_determinism("toy/OutOfSpace-v0", actions, seed=0)


def test_unpicklable_envs_are_caught() -> None:
    actions = sample_actions("toy/Unpicklable-v0", 10, seed=0)
    with pytest.raises((AttributeError, TypeError), match=r"pickle|lambda"):
        check_pickle_round_trip("toy/Unpicklable-v0", actions, seed=0)


def test_a_registered_vector_entry_point_is_checked() -> None:
    with pytest.raises(AssertionError, match=r"make_vec\('vector_entry_point'\).*reward"):
        check_task("toy/WrongVector-v0", steps=20)


def test_bad_reset_observations_of_later_tasks_are_caught(write_spec) -> None:
    fields = toy_sequence(name="ToyNanReset", tasks=["toy/Counter-v0", "toy/NanReset-v0"])
    path = write_spec(fields)
    (env_id,) = register_sequences(path.parent.parent)
    try:
        with pytest.raises(AssertionError, match=r"reset before step \d+: observation not in Box"):
            check_task(env_id, steps=40, steps_per_task=5, vector_modes=())
    finally:
        del gym.registry[env_id]


def test_vector_mismatch_is_caught() -> None:
    # Each sub-env draws from the global generator: the vector env and singles diverge.
    with pytest.raises(AssertionError, match="make_vec\\('sync'\\) vs single envs: step 0"):
        check_vector_matches_single("toy/Unseeded-v0", 10, 0, 2, "sync")
