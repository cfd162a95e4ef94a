"""The validated settings of one ``envsuite-train`` run, read from its resolved hydra config.

Every user mistake (an unknown algorithm, a bad device, a non-positive period) is a
:class:`TrainingConfigError` naming the config key and the allowed values.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from envsuite.core.registry import find_sequence_spec
from envsuite.core.sequence import Sequence
from envsuite.core.spec import SequenceSpec

MODES = ("continual", "multitask", "single_task")
DEVICES = ("auto", "cpu", "cuda")
# The schedule a reference run plays instead of the sequence's own.
_OWN_SCHEDULES = {
    "multitask": "the tasks interleaved in agent.multitask_blocks_per_task random blocks each",
    "single_task": "each task once, in order",
}
SEQUENCE_OVERRIDE_KEYS = ("steps_per_task", "schedule", "task_id_mode", "seed", "task_kwargs")


class TrainingConfigError(ValueError):
    """A value of the ``envsuite-train`` config is invalid; the message names its key."""


@dataclass(frozen=True)
class AgentSettings:
    """``agent=``: which SB3 algorithm, which continual-learning method, which kind of run.

    ``mode`` is ``continual`` (one agent through the schedule), ``multitask`` (one agent on the
    tasks interleaved in ``multitask_blocks_per_task`` random blocks each: the upper reference)
    or ``single_task`` (a fresh agent per task: the reference curves of forward transfer).
    """

    algorithm: str
    method: str
    mode: str = "continual"
    multitask_blocks_per_task: int = 50
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    method_options: dict[str, Any] = field(default_factory=dict)

    @property
    def at_block_ends(self) -> bool:
        """Evaluate and checkpoint at every block end: all but a multi-task run, whose
        hundreds of short random blocks get rounds and checkpoints by period instead."""
        return self.mode != "multitask"


@dataclass(frozen=True)
class TrainSettings:
    """Everything a run needs, validated; built by :func:`read_settings`."""

    agent: AgentSettings
    sequence: SequenceSpec
    seed: int
    device: str
    threads: int
    eval_every: int
    eval_episodes: int
    eval_seed: int
    checkpoint_every: int
    checkpoint_keep: int
    checkpoint_replay_buffer: bool
    tensorboard: bool
    progress_bar: bool
    log_every: int
    report: bool
    report_references: str | None

    def training_sequence(self) -> Sequence:
        """The sequence the agent trains on: multi-task runs interleave the tasks at random in
        many short blocks, single-task runs play each task once, in order."""
        if self.agent.mode == "multitask":
            schedule = {"type": "random", "blocks_per_task": self.agent.multitask_blocks_per_task}
            return Sequence(
                self.sequence.with_overrides("agent.multitask_blocks_per_task", schedule=schedule)
            )
        if self.agent.mode == "single_task":
            return Sequence(self.sequence.with_overrides("agent.mode", schedule="sequential"))
        return Sequence(self.sequence)


def read_settings(config: Mapping[str, Any], cpus_per_job: int | None = None) -> TrainSettings:
    """Validate a resolved config (``OmegaConf.to_container(config, resolve=True)``);
    ``cpus_per_job`` is what ``threads=auto`` gives (default: every core of the process)."""
    from agents.baselines import ALGORITHMS, METHODS

    agent = _mapping(config, "agent")
    mode = _choice("agent.mode", agent.get("mode", "continual"), MODES)
    settings_agent = AgentSettings(
        algorithm=_choice("agent.algorithm", agent.get("algorithm"), ALGORITHMS),
        method=_choice("agent.method", agent.get("method"), METHODS),
        mode=mode,
        multitask_blocks_per_task=_positive_int(
            "agent.multitask_blocks_per_task", agent.get("multitask_blocks_per_task", 50)
        ),
        hyperparameters=dict(_mapping(agent, "hyperparameters", "agent.hyperparameters")),
        method_options=dict(_mapping(agent, "method_options", "agent.method_options")),
    )
    sequence_name = config.get("sequence")
    if not isinstance(sequence_name, str) or not sequence_name:
        raise TrainingConfigError(
            f"sequence: must be a sequence id, name or YAML path, got {sequence_name!r}"
        )
    spec = find_sequence_spec(sequence_name)
    overrides = {
        key: value
        for key, value in _mapping(config, "sequence_overrides").items()
        if value is not None
    }
    unknown = sorted(set(overrides) - set(SEQUENCE_OVERRIDE_KEYS))
    if unknown:
        raise TrainingConfigError(
            f"sequence_overrides: unknown keys {unknown}; allowed: {list(SEQUENCE_OVERRIDE_KEYS)}"
        )
    if "schedule" in overrides and mode != "continual":
        raise TrainingConfigError(
            f"sequence_overrides.schedule: a {mode} run makes its own schedule "
            f"({_OWN_SCHEDULES[mode]}); drop the override or use a continual agent"
        )
    if overrides:
        spec = spec.with_overrides("sequence_overrides", **overrides)
    evaluation = _mapping(config, "eval")
    checkpoint = _mapping(config, "checkpoint")
    logging = _mapping(config, "logging")
    report = _mapping(config, "report")
    references = report.get("references")
    if references is not None:
        _check_references(references, spec)
    with_replay_buffer = _bool("checkpoint.replay_buffer", checkpoint.get("replay_buffer"))
    if settings_agent.method == "replay" and not with_replay_buffer:
        raise TrainingConfigError(
            "checkpoint.replay_buffer: must be true for agent.method=replay, whose memory of "
            "earlier tasks is the replay buffer: a resumed run would have forgotten it"
        )
    return TrainSettings(
        agent=settings_agent,
        sequence=spec,
        seed=_non_negative_int("seed", config.get("seed")),
        device=resolve_device(config.get("device")),
        threads=resolve_threads(config.get("threads"), cpus_per_job or available_cores()),
        eval_every=_positive_int("eval.every", evaluation.get("every")),
        eval_episodes=_positive_int("eval.episodes", evaluation.get("episodes")),
        eval_seed=_non_negative_int("eval.seed", evaluation.get("seed")),
        checkpoint_every=_positive_int("checkpoint.every", checkpoint.get("every")),
        checkpoint_keep=_positive_int("checkpoint.keep", checkpoint.get("keep")),
        checkpoint_replay_buffer=with_replay_buffer,
        tensorboard=_bool("logging.tensorboard", logging.get("tensorboard")),
        progress_bar=_bool("logging.progress_bar", logging.get("progress_bar")),
        log_every=_positive_int("logging.every", logging.get("every")),
        report=_bool("report.enabled", report.get("enabled")),
        report_references=references,
    )


def _check_references(references: Any, spec: SequenceSpec) -> None:
    """``report.references`` must be readable curves of the sequence's tasks, checked before
    training rather than by the report at its end."""
    from envsuite.evaluation import RunDirectoryError
    from envsuite.report.collect import load_references

    if not isinstance(references, str):
        raise TrainingConfigError(
            f"report.references: must be the path of a references JSON file, got {references!r}"
        )
    if not Path(references).is_file():
        raise TrainingConfigError(
            f"report.references: {references} is not a file (the references.json of a "
            "*_single_task run of the same sequence)"
        )
    try:
        load_references(references, [task.name for task in spec.tasks])
    except RunDirectoryError as error:
        raise TrainingConfigError(f"report.references: {error}") from None


def resolve_device(device: Any) -> str:
    """``auto`` is ``cuda`` whenever CUDA is available, else ``cpu``; ``cuda`` must be there."""
    _choice("device", device, DEVICES)
    cuda = torch.cuda.is_available()
    if device == "auto":
        return "cuda" if cuda else "cpu"
    if device == "cuda" and not cuda:
        raise TrainingConfigError(
            "device: 'cuda' asked for, but torch sees no CUDA device "
            f"(torch {torch.__version__}); use device=auto or device=cpu"
        )
    return str(device)


def resolve_threads(threads: Any, cpus_per_job: int) -> int:
    """torch's intra-op threads: ``auto`` is the job's share of the cores, else a positive
    integer."""
    if threads == "auto":
        return max(1, cpus_per_job)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads <= 0:
        raise TrainingConfigError(f"threads: must be 'auto' or a positive integer, got {threads!r}")
    return threads


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, where the OS reports one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _mapping(config: Mapping[str, Any], key: str, name: str | None = None) -> Mapping[str, Any]:
    value = config.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TrainingConfigError(f"{name or key}: must be a mapping, got {value!r}")
    return value


def _choice(key: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise TrainingConfigError(f"{key}: unknown value {value!r}; allowed: {list(allowed)}")
    return str(value)


def _positive_int(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise TrainingConfigError(f"{key}: must be a positive integer, got {value!r}")
    return value


def _non_negative_int(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TrainingConfigError(f"{key}: must be a non-negative integer, got {value!r}")
    return value


def _bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TrainingConfigError(f"{key}: must be true or false, got {value!r}")
    return value
