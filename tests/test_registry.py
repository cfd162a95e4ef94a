"""Registry-wide: every envsuite id passes the harness; every YAML under tasks/ is registered."""

from __future__ import annotations

import gymnasium as gym
import pytest
from conftest import toy_sequence

import envsuite
from envsuite.core.registry import family_of, register_sequences
from envsuite.data import data_path
from envsuite.testing import check_sequence_vector_env, check_task

ALL_IDS = envsuite.registered_ids()
SEQUENCE_IDS = set(envsuite.sequence_ids())


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_every_registered_id_passes_the_harness(env_id: str) -> None:
    # Short blocks so that the harness's rollouts cross task switches.
    make_kwargs = {"steps_per_task": 23} if env_id in SEQUENCE_IDS else {}
    check_task(env_id, **make_kwargs)


@pytest.mark.parametrize(
    "env_id", envsuite.registered_ids("minigames") + envsuite.registered_ids("navigation")
)
def test_every_numba_family_id_passes_the_harness_from_pixels(env_id: str) -> None:
    if env_id in SEQUENCE_IDS:
        check_task(env_id, steps_per_task=23, task_kwargs={"obs_mode": "pixels"})
    else:
        check_task(env_id, obs_mode="pixels")


NUMBA_SEQUENCE_IDS = sorted(
    SEQUENCE_IDS & set(envsuite.registered_ids("minigames") + envsuite.registered_ids("navigation"))
)


ATARI_SEQUENCE_IDS = set(envsuite.registered_ids("atari")) & SEQUENCE_IDS


@pytest.mark.parametrize(
    ("env_id", "task_kwargs"),
    [pytest.param(env_id, {}, id=env_id) for env_id in sorted(SEQUENCE_IDS)]
    + [
        pytest.param(env_id, {"obs_mode": "pixels"}, id=f"{env_id}-pixels")
        for env_id in NUMBA_SEQUENCE_IDS
    ],
)
def test_every_sequence_plays_a_vector_of_envs_on_one_clock(env_id: str, task_kwargs: dict) -> None:
    # Eight envs; two of the Atari games, as ALE loads its ROM (0.2 s) at each env's first
    # seeded reset of a game, and eight envs of six games spent half a minute a sequence on that.
    num_envs = 2 if env_id in ATARI_SEQUENCE_IDS else 8
    schedule = envsuite.make_sequence(env_id).schedule()
    most_blocks = max(
        sum(block.task_index == task for block in schedule)
        for task in {block.task_index for block in schedule}
    )
    # Blocks of about three vector steps, not a multiple of the envs: ends are rounded, and 300
    # steps cross every block.
    steps_per_task = 3 * num_envs * most_blocks + 1
    overrides = {"task_kwargs": task_kwargs} if task_kwargs else {}
    check_sequence_vector_env(env_id, 300, 0, num_envs, steps_per_task=steps_per_task, **overrides)


def test_every_yaml_is_registered_under_its_name_and_family() -> None:
    files = sorted(data_path("tasks").rglob("*.yaml"))
    assert len(files) >= 2
    for path in files:
        spec = envsuite.make_sequence(str(path)).spec
        assert spec.id in gym.registry
        assert spec.id in SEQUENCE_IDS
        assert family_of(spec.id) == path.parent.name
    classic_ids = set(envsuite.registered_ids("classic"))
    assert "envsuite/Pendulum-v0" in classic_ids - SEQUENCE_IDS
    assert "envsuite/ClassicPendulumGravity-v0" in classic_ids & SEQUENCE_IDS
    minigame_ids = set(envsuite.registered_ids("minigames"))
    assert "envsuite/Catch-v0" in minigame_ids - SEQUENCE_IDS  # tasks as well as sequences
    assert "envsuite/MinigamesCross-v0" in minigame_ids & SEQUENCE_IDS
    assert envsuite.registered_ids("no-such-family") == []


def test_registration_is_idempotent_and_rejects_a_second_owner(write_spec, tmp_path) -> None:
    write_spec(toy_sequence(name="ToyRegistered"), name="one.yaml")
    assert register_sequences(tmp_path) == ["envsuite/ToyRegistered-v0"]
    assert register_sequences(tmp_path) == ["envsuite/ToyRegistered-v0"]
    assert family_of("envsuite/ToyRegistered-v0") == "toy"
    write_spec(toy_sequence(name="ToyRegistered"), name="two.yaml")
    with pytest.raises(envsuite.SpecError, match=r"already registered by .*one\.yaml"):
        register_sequences(tmp_path)
    del gym.registry["envsuite/ToyRegistered-v0"]


def test_registered_names_start_with_their_family(write_spec, tmp_path) -> None:
    path = write_spec(toy_sequence(name="OtherSequence"))
    assert envsuite.make_sequence(str(path)).spec.name == "OtherSequence"  # loading is fine
    with pytest.raises(envsuite.SpecError, match="name: must start with the family name 'Toy'"):
        register_sequences(tmp_path)


def test_files_outside_a_family_folder_are_rejected(tmp_path) -> None:
    (tmp_path / "loose.yaml").write_text("name: Loose\n")
    with pytest.raises(envsuite.SpecError, match="tasks/<family>/"):
        register_sequences(tmp_path)


def test_external_ids_report_their_family() -> None:
    assert family_of("CartPole-v1") == "external"
