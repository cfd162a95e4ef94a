"""Sequence specs: loading, defaults, overrides, and a clear SpecError for every bad input."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import yaml
from conftest import toy_sequence

import envsuite
from envsuite.core.schedule import build_schedule
from envsuite.core.spec import ScheduleSpec, load_sequence_spec
from envsuite.data import data_path


def test_shipped_specs_load_with_their_fields() -> None:
    spec = load_sequence_spec(data_path("tasks") / "classic" / "pendulum_gravity.yaml")
    assert spec.id == "envsuite/ClassicPendulumGravity-v0"
    assert spec.family == "classic"
    assert [task.kwargs["g"] for task in spec.tasks] == [2.0, 5.0, 10.0, 15.0, 20.0]
    assert spec.schedule == ScheduleSpec(type="sequential")
    assert spec.total_steps == 5 * spec.steps_per_task


def test_defaults_and_short_forms(write_spec) -> None:
    path = write_spec(toy_sequence(tasks=["toy/Counter-v0", {"id": "toy/Image-v0"}]))
    spec = load_sequence_spec(path)
    assert [task.name for task in spec.tasks] == ["Counter-v0", "Image-v0"]
    assert spec.task_id_mode == "hidden"
    assert spec.seed == 0
    assert spec.schedule.type == "sequential"


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ("random", ScheduleSpec(type="random", blocks_per_task=4)),
        ({"type": "cycles", "cycles": 3}, ScheduleSpec(type="cycles", cycles=3)),
        (
            {"type": "powerlaw", "alpha": 2, "blocks_per_task": 2},
            ScheduleSpec(type="powerlaw", alpha=2.0, blocks_per_task=2),
        ),
        (["wide", "narrow", 1], ScheduleSpec(type="explicit", order=(1, 0, 1))),
        ({"type": "explicit", "order": [0, 1]}, ScheduleSpec(type="explicit", order=(0, 1))),
    ],
)
def test_schedule_forms(write_spec, schedule: Any, expected: ScheduleSpec) -> None:
    spec = load_sequence_spec(write_spec(toy_sequence(schedule=schedule)))
    assert spec.schedule == expected


# Each bad input, the field the error must name, and a phrase of the message.
CYCLES = {"type": "cycles"}
BAD_SPECS = [
    pytest.param({"tasks": [{"id": "Pendulm-v1"}]}, "tasks[0].id", "Pendulum-v1", id="unknown-id"),
    pytest.param({"tasks": []}, "tasks", "non-empty", id="no-tasks"),
    pytest.param({"schedule": "shuffle"}, "schedule.type", "unknown schedule", id="bad-schedule"),
    pytest.param({"schedule": {**CYCLES, "alpha": 1}}, "schedule.alpha", "cycles", id="param"),
    pytest.param({"schedule": {**CYCLES, "cycles": 0}}, "schedule.cycles", "positive", id="c0"),
    pytest.param(
        {"schedule": {"type": "powerlaw", "alpha": -1}}, "schedule.alpha", ">= 0", id="alpha<0"
    ),
    pytest.param({"schedule": ["narrow"]}, "schedule.order", "never plays", id="order-missing"),
    pytest.param({"schedule": ["narrow", "tall"]}, "schedule.order[1]", "not a task", id="order"),
    pytest.param({"steps_per_task": 0}, "steps_per_task", "positive", id="zero-steps"),
    pytest.param({"steps_per_task": -5}, "steps_per_task", "positive", id="negative-steps"),
    pytest.param({"steps_per_task": "ten"}, "steps_per_task", "positive", id="text-steps"),
    pytest.param({"steps_per_task": True}, "steps_per_task", "positive", id="bool-steps"),
    pytest.param(
        {"steps_per_task": 2, "schedule": {**CYCLES, "cycles": 3}},
        "steps_per_task",
        "fewer than the 3 blocks",
        id="steps-below-blocks",
    ),
    pytest.param({"task_id_mode": "visible"}, "task_id_mode", "allowed", id="bad-mode"),
    pytest.param({"seed": -1}, "seed", "non-negative", id="bad-seed"),
    pytest.param({"name": "toy_sequence"}, "name", "CamelCase", id="bad-name"),
    pytest.param({"steps": 5}, "steps", "unknown field", id="unknown-field"),
    pytest.param(
        {"tasks": [{"id": "toy/Counter-v0", "args": {}}]}, "tasks[0].args", "unknown", id="t-field"
    ),
    pytest.param(
        {"tasks": [{"id": "toy/Counter-v0", "kwargs": [1]}]}, "tasks[0].kwargs", "mapping", id="kw"
    ),
    pytest.param(
        {"tasks": ["toy/Counter-v0", "toy/Counter-v0"]}, "tasks[1].name", "duplicate", id="dup-name"
    ),
]


@pytest.mark.parametrize(("fields", "field", "phrase"), BAD_SPECS)
def test_bad_spec_names_file_and_field(write_spec, fields: dict, field: str, phrase: str) -> None:
    path = write_spec(toy_sequence(**fields))
    with pytest.raises(envsuite.SpecError) as caught:
        load_sequence_spec(path)
    assert caught.value.source == str(path)
    assert caught.value.field == field
    assert phrase in str(caught.value)
    assert str(path) in str(caught.value)


def test_missing_required_field(write_spec) -> None:
    fields = toy_sequence()
    del fields["steps_per_task"]
    with pytest.raises(envsuite.SpecError, match="steps_per_task: missing"):
        load_sequence_spec(write_spec(fields))


@pytest.mark.parametrize(
    ("text", "field"),
    [("name: [unclosed\n", "<yaml>"), ("- just\n- a list\n", "<document>"), ("", "<document>")],
)
def test_malformed_yaml(write_spec, text: str, field: str) -> None:
    path = write_spec(text)
    with pytest.raises(envsuite.SpecError) as caught:
        load_sequence_spec(path)
    assert caught.value.field == field
    assert str(path) in str(caught.value)


def test_malformed_yaml_names_the_file_s_line(write_spec) -> None:
    path = write_spec(
        "name: Toy\nversion: 0\ntasks:\n  - id: CartPole-v1\nsteps_per_task: 5\n  seed: 1\n"
    )
    with pytest.raises(envsuite.SpecError) as caught:
        load_sequence_spec(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: <yaml>: malformed YAML at line 6, column 7: ")
    assert "<unicode string>" not in message


def test_a_file_outside_tasks_has_no_family(tmp_path, write_spec) -> None:
    assert load_sequence_spec(write_spec(toy_sequence(), family="yamls")).family == ""
    nested = write_spec(toy_sequence(), family="tasks/toy/deeper")
    assert load_sequence_spec(nested).family == "toy"


def test_missing_file_is_a_spec_error(tmp_path) -> None:
    with pytest.raises(envsuite.SpecError, match="cannot read"):
        load_sequence_spec(tmp_path / "toy" / "absent.yaml")


@pytest.mark.parametrize(
    ("tasks", "phrase"),
    [
        (["Pendulum-v1", "MountainCarContinuous-v0"], "continuous actions must have equal"),
        (["Pendulum-v1", "CartPole-v1"], "cannot be unified"),
        (["CartPole-v1", "FrozenLake-v1"], "is not a Box"),
        (
            ["toy/Image-v0", {"id": "toy/Image-v0", "name": "big", "kwargs": {"size": 8}}],
            "last axis",
        ),
    ],
)
def test_non_unifiable_spaces_name_file_and_task(write_spec, tasks: list, phrase: str) -> None:
    path = write_spec(toy_sequence(tasks=tasks))
    spec = load_sequence_spec(path)
    with pytest.raises(envsuite.SpecError) as caught:
        envsuite.ContinualEnv(spec)
    assert caught.value.field == "tasks[1].id"
    assert phrase in str(caught.value)
    assert str(path) in str(caught.value)


def test_overrides_are_validated_and_applied() -> None:
    spec = envsuite.make_sequence("ClassicCartPoleAcrobot").spec
    changed = spec.with_overrides(steps_per_task=10, schedule="random", seed=3)
    assert (changed.steps_per_task, changed.schedule.type, changed.seed) == (10, "random", 3)
    assert changed.id == spec.id
    with pytest.raises(envsuite.SpecError, match="name: cannot be overridden"):
        spec.with_overrides(name="Other")
    with pytest.raises(envsuite.SpecError, match="task_id_mode: unknown mode"):
        spec.with_overrides(task_id_mode="secret")
    with pytest.raises(envsuite.SpecError, match="steps_per_task: must be a positive integer"):
        gym.make(spec.id, steps_per_task=0)


def test_task_kwargs_override_merges_into_every_task(write_spec) -> None:
    tasks = ["Pendulum-v1", {"id": "Pendulum-v1", "name": "light", "kwargs": {"g": 2.0}}]
    spec = load_sequence_spec(write_spec(toy_sequence(tasks=tasks, steps_per_task=50)))
    with pytest.raises(envsuite.SpecError, match=r"task_kwargs\.g: would replace tasks\[1\]"):
        spec.with_overrides(task_kwargs={"g": 1.5})
    changed = spec.with_overrides(task_kwargs={"g": 2.0})  # what the task sets: no change
    assert [task.kwargs["g"] for task in changed.tasks] == [2.0, 2.0]
    assert spec.tasks[0].kwargs == {}
    env = envsuite.Sequence(changed).make_env()
    assert env.unwrapped.task_envs[0].unwrapped.g == 2.0
    # The registered sequences: their tasks' own kwargs stay theirs.
    pendulums = envsuite.make_sequence("ClassicPendulumGravity").spec
    with pytest.raises(envsuite.SpecError, match=r"task_kwargs\.g: would replace tasks\[0\]"):
        gym.make(pendulums.id, task_kwargs={"g": 1.5})
    with pytest.raises(envsuite.SpecError, match="task_kwargs: must be a mapping"):
        spec.with_overrides(task_kwargs=["g"])
    with pytest.raises(envsuite.SpecError, match=r"task_kwargs\.render_mode: render mode is"):
        spec.with_overrides(task_kwargs={"render_mode": "rgb_array"})


def test_task_kwargs_that_fail_name_the_task(write_spec) -> None:
    tasks = ["Pendulum-v1", {"id": "Pendulum-v1", "name": "bad", "kwargs": {"gravity": 3.0}}]
    spec = load_sequence_spec(write_spec(toy_sequence(tasks=tasks)))
    with pytest.raises(envsuite.SpecError, match=r"tasks\[1\].kwargs: making Pendulum-v1"):
        envsuite.ContinualEnv(spec)


def test_render_mode_belongs_to_the_sequence(write_spec) -> None:
    tasks = [{"id": "Pendulum-v1", "kwargs": {"render_mode": "rgb_array"}}]
    with pytest.raises(envsuite.SpecError, match=r"tasks\[0\].kwargs.render_mode"):
        load_sequence_spec(write_spec(toy_sequence(tasks=tasks)))


@pytest.mark.parametrize("alpha", [float("inf"), float("nan"), ".inf"])
def test_powerlaw_alpha_must_be_finite(write_spec, alpha) -> None:
    text = yaml_text(toy_sequence(schedule={"type": "powerlaw", "alpha": 1.0})).replace(
        "alpha: 1.0", f"alpha: {alpha}"
    )
    with pytest.raises(envsuite.SpecError, match=r"schedule\.alpha: must be a finite number"):
        load_sequence_spec(write_spec(text))


def test_a_huge_alpha_still_builds_a_schedule() -> None:
    spec = envsuite.make_sequence(
        "ClassicCartPoleAcrobot",
        steps_per_task=40,
        schedule={"type": "powerlaw", "alpha": 5000.0, "blocks_per_task": 4},
    ).spec
    blocks = build_schedule(spec)
    assert sum(block.steps for block in blocks) == 80


def test_duplicate_yaml_keys_are_rejected(write_spec) -> None:
    text = yaml_text(toy_sequence()) + "steps_per_task: 99\n"
    with pytest.raises(envsuite.SpecError, match="key 'steps_per_task' appears twice"):
        load_sequence_spec(write_spec(text))


def test_non_utf8_files_are_rejected(tmp_path) -> None:
    path = tmp_path / "toy" / "latin.yaml"
    path.parent.mkdir()
    path.write_bytes("description: caf\xe9\n".encode("latin-1"))
    with pytest.raises(envsuite.SpecError, match="not UTF-8"):
        load_sequence_spec(path)


def test_numpy_integers_are_valid_overrides() -> None:
    spec = envsuite.make_sequence("ClassicCartPoleAcrobot").spec
    assert spec.with_overrides(steps_per_task=np.int64(20)).steps_per_task == 20
    with pytest.raises(envsuite.SpecError, match=r"schedule\.type: unknown schedule 'bogus'"):
        spec.with_overrides(schedule=ScheduleSpec(type="bogus"))


def yaml_text(fields: dict) -> str:
    return yaml.safe_dump(fields)
