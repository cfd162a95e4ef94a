"""The validated settings of one ``envsuite-train`` run, read from its resolved hydra config.

Hydra and OmegaConf check keys and types against the structured config
(:mod:`agents.training.config`); what types cannot say (a positive period, an existing
references file, a CUDA device that is there) is checked here. Every user mistake is a
:class:`TrainingConfigError` naming the config key and what is allowed.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

from agents.common.protocol import AgentConfig
from agents.training.config import AGENT_CONFIGS, Mode, TrainConfig
from envsuite.core.registry import find_sequence_spec
from envsuite.core.sequence import Sequence
from envsuite.core.spec import SequenceSpec

DEVICES = ("auto", "cpu", "cuda")
# The schedule a reference run plays instead of the sequence's own.
_OWN_SCHEDULES = {
    "multitask": "the tasks interleaved in mode.blocks_per_task random blocks each",
    "single_task": "each task once, in order",
}


class TrainingConfigError(ValueError):
    """A value of the ``envsuite-train`` config is invalid; the message names its key."""


@dataclass(frozen=True)
class TrainSettings:
    """Everything a run needs, validated; built by :func:`read_settings`."""

    agent: AgentConfig
    mode: str
    multitask_blocks_per_task: int
    sequence: SequenceSpec
    seed: int
    device: str
    threads: int
    eval_every: int
    eval_episodes: int
    eval_seed: int
    eval_video_every: int
    checkpoint_every: int
    checkpoint_keep: int
    checkpoint_replay_buffer: bool
    tensorboard: bool
    progress_bar: bool
    log_every: int
    report: bool
    report_references: str | None

    @property
    def at_block_ends(self) -> bool:
        """Evaluate and checkpoint at every block end: all but a multi-task run, whose
        hundreds of short random blocks get rounds and checkpoints by period instead."""
        return self.mode != Mode.multitask.value

    def training_sequence(self) -> Sequence:
        """The sequence the agent trains on: multi-task runs interleave the tasks at random in
        many short blocks, single-task runs play each task once, in order."""
        if self.mode == Mode.multitask.value:
            schedule = {"type": "random", "blocks_per_task": self.multitask_blocks_per_task}
            return Sequence(self.sequence.with_overrides("mode.blocks_per_task", schedule=schedule))
        if self.mode == Mode.single_task.value:
            return Sequence(self.sequence.with_overrides("mode", schedule="sequential"))
        return Sequence(self.sequence)


def typed_config(config: Mapping[str, Any]) -> TrainConfig:
    """``config`` checked against the structured config: an unknown key (one added with
    hydra's ``+``, or in an edited ``config.yaml``), a wrong type or a missing value is a
    :class:`TrainingConfigError` naming the key."""
    agent = config.get("agent")
    name = agent.get("name") if isinstance(agent, Mapping) else None
    if name not in AGENT_CONFIGS:
        raise TrainingConfigError(
            f"agent.name: unknown agent {name!r}; allowed: {sorted(AGENT_CONFIGS)} (agent=NAME)"
        )
    schema = OmegaConf.structured(TrainConfig)
    schema.agent = OmegaConf.structured(AGENT_CONFIGS[name])
    try:
        typed = OmegaConf.to_object(OmegaConf.merge(schema, dict(config)))
    except OmegaConfBaseException as error:
        raise TrainingConfigError(_config_error_message(error, schema)) from None
    assert isinstance(typed, TrainConfig)
    return typed


def _config_error_message(error: OmegaConfBaseException, schema: DictConfig) -> str:
    """OmegaConf's error as one line naming the dotted key, with the keys allowed there."""
    key = str(getattr(error, "full_key", "") or "")
    message = str(getattr(error, "msg", "") or error).splitlines()[0]
    parent_key, _, leaf = key.rpartition(".")
    parent = OmegaConf.select(schema, parent_key) if parent_key else schema
    if isinstance(error, ConfigKeyError) and isinstance(parent, DictConfig):
        allowed = [str(name) for name in parent]
        close = difflib.get_close_matches(leaf, allowed, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"{key}: not a key of the config{hint} Allowed here: {allowed}"
    return f"{key}: {message}" if key else message


def read_settings(config: Mapping[str, Any], cpus_per_job: int | None = None) -> TrainSettings:
    """Validate a resolved config (``OmegaConf.to_container(config, resolve=True,
    enum_to_str=True)``); ``cpus_per_job`` is what ``threads=auto`` gives (default: every core
    of the process)."""
    typed = typed_config(config)
    mode = typed.mode.name.value
    spec = find_sequence_spec(typed.sequence)
    overrides = {
        key: value
        for key, value in OmegaConf.to_container(
            OmegaConf.structured(typed.sequence_overrides)
        ).items()  # type: ignore[union-attr]
        if value is not None and value != {}
    }
    if "schedule" in overrides and mode != Mode.continual.value:
        raise TrainingConfigError(
            f"sequence_overrides.schedule: a {mode} run makes its own schedule "
            f"({_OWN_SCHEDULES[mode]}); drop the override or use mode=continual"
        )
    if overrides:
        spec = spec.with_overrides("sequence_overrides", **overrides)
    if typed.report.references is not None:
        _check_references(typed.report.references, spec)
    num_envs = _positive_int("agent.num_envs", typed.agent.num_envs)
    if num_envs > 1 and mode == Mode.single_task.value:
        raise TrainingConfigError(
            f"agent.num_envs: single-task references train on one env (got {num_envs}); "
            "use agent.num_envs=1 with mode=single_task"
        )
    if typed.agent.replay_is_memory() and not typed.checkpoint.replay_buffer:
        raise TrainingConfigError(
            f"checkpoint.replay_buffer: must be true for {typed.agent.label()}, whose memory "
            "of earlier tasks is its replay buffer: a resumed run would have forgotten it"
        )
    return TrainSettings(
        agent=typed.agent,
        mode=mode,
        multitask_blocks_per_task=_positive_int("mode.blocks_per_task", typed.mode.blocks_per_task),
        sequence=spec,
        seed=_non_negative_int("seed", typed.seed),
        device=resolve_device(typed.device.value),
        threads=resolve_threads(typed.threads, cpus_per_job or available_cores()),
        eval_every=_positive_int("eval.every", typed.eval.every),
        eval_episodes=_positive_int("eval.episodes", typed.eval.episodes),
        eval_seed=_non_negative_int("eval.seed", typed.eval.seed),
        eval_video_every=_non_negative_int("eval.video_every", typed.eval.video_every),
        checkpoint_every=_positive_int("checkpoint.every", typed.checkpoint.every),
        checkpoint_keep=_positive_int("checkpoint.keep", typed.checkpoint.keep),
        checkpoint_replay_buffer=typed.checkpoint.replay_buffer,
        tensorboard=typed.logging.tensorboard,
        progress_bar=typed.logging.progress_bar,
        log_every=_positive_int("logging.every", typed.logging.every),
        report=typed.report.enabled,
        report_references=typed.report.references,
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
            "mode=single_task run of the same sequence)"
        )
    try:
        load_references(references, [task.name for task in spec.tasks])
    except RunDirectoryError as error:
        raise TrainingConfigError(f"report.references: {error}") from None


def resolve_device(device: Any) -> str:
    """``auto`` is ``cuda`` whenever CUDA is available, else ``cpu``; ``cuda`` must be there."""
    if device not in DEVICES:
        raise TrainingConfigError(f"device: unknown value {device!r}; allowed: {list(DEVICES)}")
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
    count = int(threads) if isinstance(threads, str) and threads.isdecimal() else threads
    if isinstance(count, bool) or not isinstance(count, int) or count <= 0:
        raise TrainingConfigError(f"threads: must be 'auto' or a positive integer, got {threads!r}")
    return count


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, where the OS reports one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _positive_int(key: str, value: int) -> int:
    if value <= 0:
        raise TrainingConfigError(f"{key}: must be a positive integer, got {value!r}")
    return value


def _non_negative_int(key: str, value: int) -> int:
    if value < 0:
        raise TrainingConfigError(f"{key}: must be a non-negative integer, got {value!r}")
    return value
