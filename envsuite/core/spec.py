"""Task and sequence specifications: what a YAML file under ``tasks/`` loads into.

Parsing validates every field and raises :class:`SpecError` naming the file and the field.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import yaml

from envsuite.core.errors import SpecError

SCHEDULE_TYPES = ("sequential", "cycles", "powerlaw", "random", "explicit")
TASK_ID_MODES = ("hidden", "info", "onehot")
SEQUENCE_FIELDS = (
    "name",
    "version",
    "description",
    "tasks",
    "steps_per_task",
    "schedule",
    "task_id_mode",
    "seed",
)
OVERRIDABLE_FIELDS = ("steps_per_task", "schedule", "task_id_mode", "seed", "task_kwargs")
TASK_FIELDS = ("id", "kwargs", "name")
# Which parameters each schedule type takes; every type may omit them and get the default.
SCHEDULE_PARAMETERS: dict[str, tuple[str, ...]] = {
    "sequential": (),
    "cycles": ("cycles",),
    "powerlaw": ("alpha", "blocks_per_task"),
    "random": ("blocks_per_task",),
    "explicit": ("order",),
}
_CAMEL_CASE = re.compile(r"^[A-Z][A-Za-z0-9]*$")


@dataclass(frozen=True)
class TaskSpec:
    """One task of a sequence: a registered gymnasium id and the keyword arguments to make it.

    Attributes:
        id: any id in ``gymnasium.registry`` (ours, e.g. ``envsuite/...``, or external).
        kwargs: keyword arguments passed to ``gymnasium.make`` (e.g. ``{"g": 2.0}`` for Pendulum).
        name: a name unique within the sequence, used in infos, tables and metrics.
    """

    id: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    name: str = ""


@dataclass(frozen=True)
class ScheduleSpec:
    """How the tasks' steps are cut into blocks and ordered.

    Attributes:
        type: one of ``SCHEDULE_TYPES``.
        cycles: ``cycles``: how many passes through the task list.
        alpha: ``powerlaw``: exponent of the recurrence law (blocks since last seen)^-alpha.
        blocks_per_task: ``powerlaw`` and ``random``: how many blocks each task's steps are cut
            into.
        order: ``explicit``: task indices in play order; every task appears at least once.
    """

    type: str = "sequential"
    cycles: int = 1
    alpha: float = 1.0
    blocks_per_task: int = 4
    order: tuple[int, ...] = ()


@dataclass(frozen=True)
class SequenceSpec:
    """A continual-learning sequence: tasks, a step budget and a schedule.

    Attributes:
        name: CamelCase; registered ones start with their family (``ClassicPendulumGravity``).
        version: bumped when dynamics or rewards change; the id is ``envsuite/<name>-v<version>``.
        family: the folder under ``tasks/`` the spec lives in (``classic``, ``minigames``, ...);
            ``""`` for a file outside any ``tasks/<family>/`` folder.
        tasks: the tasks, in introduction order.
        steps_per_task: environment steps every task receives over the whole sequence.
        schedule: how those steps are cut into blocks and ordered.
        task_id_mode: ``hidden`` (agents must not use task identity), ``info`` (agents may read
            ``info["task_index"]``), ``onehot`` (a one-hot task id is part of the observation).
        seed: seeds the schedule (``random``, ``powerlaw``); episodes are seeded by
            ``reset(seed=...)``.
        description: one line for catalogues.
        source: the YAML file it was loaded from, for error messages.
    """

    name: str
    version: int
    family: str
    tasks: tuple[TaskSpec, ...]
    steps_per_task: int
    schedule: ScheduleSpec = field(default_factory=ScheduleSpec)
    task_id_mode: str = "hidden"
    seed: int = 0
    description: str = ""
    source: str = "<memory>"

    @property
    def id(self) -> str:
        return f"envsuite/{self.name}-v{self.version}"

    @property
    def num_tasks(self) -> int:
        return len(self.tasks)

    @property
    def total_steps(self) -> int:
        return self.steps_per_task * len(self.tasks)

    def with_overrides(self, source: str = "overrides", **overrides: Any) -> SequenceSpec:
        """Return a copy with some fields replaced, validated like the YAML fields.

        Only ``steps_per_task``, ``schedule``, ``task_id_mode`` and ``seed`` may be overridden: the
        rest define the sequence and its id. ``task_kwargs`` is added to every task's ``kwargs``
        (e.g. ``{"obs_mode": "pixels"}`` to play a minigame sequence from pixels); it may not
        replace a kwarg a task sets itself.
        """
        for key in overrides:
            if key not in OVERRIDABLE_FIELDS:
                raise SpecError(
                    source, key, f"cannot be overridden; overridable fields: {OVERRIDABLE_FIELDS}"
                )
        changes: dict[str, Any] = {}
        if "steps_per_task" in overrides:
            changes["steps_per_task"] = _positive_int(
                overrides["steps_per_task"], source, "steps_per_task"
            )
        if "schedule" in overrides:
            changes["schedule"] = _parse_schedule(overrides["schedule"], self.tasks, source)
        if "task_id_mode" in overrides:
            changes["task_id_mode"] = _parse_task_id_mode(overrides["task_id_mode"], source)
        if "seed" in overrides:
            changes["seed"] = _non_negative_int(overrides["seed"], source, "seed")
        if "task_kwargs" in overrides:
            extra = _parse_kwargs(overrides["task_kwargs"], source, "task_kwargs")
            for index, task in enumerate(self.tasks):
                for key in extra.keys() & task.kwargs.keys():
                    if extra[key] != task.kwargs[key]:
                        # The tasks' own kwargs are what tells them apart: replacing one would
                        # change the sequence (all of ClassicPendulumGravity at one gravity).
                        raise SpecError(
                            source,
                            f"task_kwargs.{key}",
                            f"would replace tasks[{index}] ({task.name})'s own {key}="
                            f"{task.kwargs[key]!r}; task_kwargs may only add kwargs the tasks "
                            "leave unset",
                        )
            changes["tasks"] = tuple(
                dataclasses.replace(task, kwargs={**task.kwargs, **extra}) for task in self.tasks
            )
        updated = dataclasses.replace(self, **changes)
        check_steps_fit_schedule(updated, source)
        return updated


def load_sequence_spec(path: str | Path, family: str | None = None) -> SequenceSpec:
    """Load and validate a sequence YAML file.

    Args:
        path: the YAML file.
        family: the family the file belongs to; defaults to the folder under the nearest
            ``tasks/`` above the file (``tasks/<family>/...``), else ``""``: a file elsewhere
            belongs to no family (its parent folder's name would be a made-up one).
    """
    path = Path(path)
    source = str(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except yaml.YAMLError as error:
        raise SpecError(source, "<yaml>", f"malformed YAML{_yaml_problem(error)}") from None
    except UnicodeDecodeError as error:
        raise SpecError(source, "<file>", f"not UTF-8 text: {error}") from None
    except OSError as error:
        raise SpecError(source, "<file>", f"cannot read: {error.strerror}") from None
    return parse_sequence_spec(data, source, _family_of_path(path) if family is None else family)


def _family_of_path(path: Path) -> str:
    """The ``<family>`` of ``.../tasks/<family>/**/<file>``, else ``""``."""
    folders = path.resolve().parent.parts
    for index in range(len(folders) - 2, -1, -1):
        if folders[index] == "tasks":
            return folders[index + 1]
    return ""


def parse_sequence_spec(data: Any, source: str, family: str) -> SequenceSpec:
    """Validate a mapping (a parsed YAML document) into a :class:`SequenceSpec`."""
    if not isinstance(data, Mapping):
        raise SpecError(
            source, "<document>", "must be a mapping of the fields " + str(SEQUENCE_FIELDS)
        )
    for key in data:
        if key not in SEQUENCE_FIELDS:
            raise SpecError(source, str(key), f"unknown field; allowed fields: {SEQUENCE_FIELDS}")
    for required in ("name", "version", "tasks", "steps_per_task"):
        if required not in data:
            raise SpecError(source, required, "missing (required)")

    name = data["name"]
    if not isinstance(name, str) or not _CAMEL_CASE.match(name):
        raise SpecError(source, "name", f"must be a CamelCase identifier, got {name!r}")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise SpecError(source, "description", f"must be a string, got {description!r}")
    tasks = _parse_tasks(data["tasks"], source)
    spec = SequenceSpec(
        name=name,
        version=_non_negative_int(data["version"], source, "version"),
        family=family,
        tasks=tasks,
        steps_per_task=_positive_int(data["steps_per_task"], source, "steps_per_task"),
        schedule=_parse_schedule(data.get("schedule", "sequential"), tasks, source),
        task_id_mode=_parse_task_id_mode(data.get("task_id_mode", "hidden"), source),
        seed=_non_negative_int(data.get("seed", 0), source, "seed"),
        description=description,
        source=source,
    )
    check_steps_fit_schedule(spec, source)
    return spec


def check_steps_fit_schedule(spec: SequenceSpec, source: str) -> None:
    """Every block needs at least one step: ``steps_per_task`` must cover a task's block count."""
    blocks = blocks_per_task_upper_bound(spec.schedule, spec.num_tasks)
    if spec.steps_per_task < blocks:
        raise SpecError(
            source,
            "steps_per_task",
            f"{spec.steps_per_task} is fewer than the {blocks} blocks a task may get under the "
            f"{spec.schedule.type!r} schedule",
        )


def blocks_per_task_upper_bound(schedule: ScheduleSpec, num_tasks: int) -> int:
    """The most blocks any one task is cut into under ``schedule``."""
    if schedule.type == "sequential":
        return 1
    if schedule.type == "cycles":
        return schedule.cycles
    if schedule.type == "explicit":
        return max(schedule.order.count(index) for index in range(num_tasks))
    return schedule.blocks_per_task


def _parse_tasks(value: Any, source: str) -> tuple[TaskSpec, ...]:
    if not isinstance(value, list) or not value:
        raise SpecError(source, "tasks", "must be a non-empty list of task ids or task mappings")
    tasks = tuple(
        _parse_task(entry, f"tasks[{index}]", source) for index, entry in enumerate(value)
    )
    seen: dict[str, int] = {}
    for index, task in enumerate(tasks):
        if task.name in seen:
            raise SpecError(
                source,
                f"tasks[{index}].name",
                f"duplicate task name {task.name!r} (also tasks[{seen[task.name]}]); "
                "give each task a distinct name",
            )
        seen[task.name] = index
    return tasks


def _parse_task(entry: Any, where: str, source: str) -> TaskSpec:
    if isinstance(entry, str):
        entry = {"id": entry}
    if not isinstance(entry, Mapping):
        raise SpecError(source, where, f"must be a gymnasium id or a mapping of {TASK_FIELDS}")
    for key in entry:
        if key not in TASK_FIELDS:
            raise SpecError(
                source, f"{where}.{key}", f"unknown field; allowed fields: {TASK_FIELDS}"
            )
    task_id = entry.get("id")
    if not isinstance(task_id, str):
        raise SpecError(source, f"{where}.id", "missing: a registered gymnasium id is required")
    if task_id not in gym.registry:
        close = difflib.get_close_matches(task_id, list(gym.registry), n=3)
        hint = (
            f"; did you mean {close}?"
            if close
            else "; see `envsuite list` or gymnasium.pprint_registry()"
        )
        raise SpecError(source, f"{where}.id", f"unknown gymnasium id {task_id!r}{hint}")
    kwargs = _parse_kwargs(entry.get("kwargs", {}) or {}, source, f"{where}.kwargs")
    name = entry.get("name", task_id.rsplit("/", 1)[-1])
    if not isinstance(name, str) or not name:
        raise SpecError(source, f"{where}.name", f"must be a non-empty string, got {name!r}")
    return TaskSpec(id=task_id, kwargs=kwargs, name=name)


def _parse_kwargs(value: Any, source: str, where: str) -> dict[str, Any]:
    if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
        raise SpecError(source, where, "must be a mapping of keyword arguments")
    if "render_mode" in value:
        raise SpecError(
            source,
            f"{where}.render_mode",
            "render mode is the sequence env's: pass render_mode to gymnasium.make instead",
        )
    return dict(value)


def _parse_schedule(value: Any, tasks: tuple[TaskSpec, ...], source: str) -> ScheduleSpec:
    if isinstance(value, ScheduleSpec):
        fields = dataclasses.asdict(value)
        parameters = SCHEDULE_PARAMETERS.get(value.type, ())
        value = {key: fields[key] for key in ("type", *parameters)}
    if isinstance(value, list):
        return ScheduleSpec(type="explicit", order=_parse_order(value, tasks, source))
    if isinstance(value, str):
        value = {"type": value}
    if not isinstance(value, Mapping):
        raise SpecError(
            source,
            "schedule",
            f"must be one of {SCHEDULE_TYPES}, a mapping with a 'type', or a list of task names",
        )
    schedule_type = value.get("type")
    if schedule_type not in SCHEDULE_TYPES:
        raise SpecError(
            source,
            "schedule.type",
            f"unknown schedule {schedule_type!r}; allowed: {SCHEDULE_TYPES}",
        )
    allowed = SCHEDULE_PARAMETERS[schedule_type]
    for key in value:
        if key != "type" and key not in allowed:
            raise SpecError(
                source,
                f"schedule.{key}",
                f"not a parameter of the {schedule_type!r} schedule; it takes {allowed or 'none'}",
            )
    defaults = ScheduleSpec()
    if schedule_type == "explicit":
        if "order" not in value:
            raise SpecError(source, "schedule.order", "missing: list the task names in play order")
        return ScheduleSpec(type="explicit", order=_parse_order(value["order"], tasks, source))
    alpha = value.get("alpha", defaults.alpha)
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0 <= alpha < math.inf:
        raise SpecError(source, "schedule.alpha", f"must be a finite number >= 0, got {alpha!r}")
    return ScheduleSpec(
        type=schedule_type,
        cycles=_positive_int(value.get("cycles", defaults.cycles), source, "schedule.cycles"),
        alpha=float(alpha),
        blocks_per_task=_positive_int(
            value.get("blocks_per_task", defaults.blocks_per_task),
            source,
            "schedule.blocks_per_task",
        ),
    )


def _parse_order(value: Any, tasks: tuple[TaskSpec, ...], source: str) -> tuple[int, ...]:
    names = [task.name for task in tasks]
    if not isinstance(value, list | tuple) or not value:
        raise SpecError(
            source, "schedule.order", "must be a non-empty list of task names or indices"
        )
    order = []
    for position, item in enumerate(value):
        if isinstance(item, str) and item in names:
            order.append(names.index(item))
        elif isinstance(item, int) and not isinstance(item, bool) and 0 <= item < len(tasks):
            order.append(item)
        else:
            raise SpecError(
                source,
                f"schedule.order[{position}]",
                f"{item!r} is not a task; use a name from {names} or an index below {len(tasks)}",
            )
    missing = [names[index] for index in range(len(tasks)) if index not in order]
    if missing:
        raise SpecError(source, "schedule.order", f"never plays tasks {missing}; list every task")
    return tuple(order)


def _parse_task_id_mode(value: Any, source: str) -> str:
    if value not in TASK_ID_MODES:
        raise SpecError(source, "task_id_mode", f"unknown mode {value!r}; allowed: {TASK_ID_MODES}")
    return str(value)


def _positive_int(value: Any, source: str, field_name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise SpecError(source, field_name, f"must be a positive integer, got {value!r}")
    return int(value)


def _non_negative_int(value: Any, source: str, field_name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise SpecError(source, field_name, f"must be a non-negative integer, got {value!r}")
    return int(value)


def _yaml_problem(error: yaml.YAMLError) -> str:
    """Where and what a YAML error is, by the file's lines: PyYAML's own text names the stream
    it parsed, ``"<unicode string>"``, not the file."""
    mark = getattr(error, "problem_mark", None)
    if not isinstance(error, yaml.MarkedYAMLError) or mark is None:
        return f": {error}"
    text = f" at line {mark.line + 1}, column {mark.column + 1}: {error.problem}"
    context_mark = error.context_mark
    if error.context and context_mark is not None:
        text += f" ({error.context} at line {context_mark.line + 1})"
    return text


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that rejects a key written twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)
