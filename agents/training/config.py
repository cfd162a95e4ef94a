"""The ``envsuite-train`` config as hydra structured configs: one dataclass per section, with a
docstring per field, that hydra and OmegaConf check for unknown keys and wrong types.

Groups: ``agent=`` (an agent family: ``baselines``, ``dreamerv3``, ``wmar``, the memory agents
``hcam``, ``memory_transformer``, ``memory_window`` and ``memory_lstm``, ``custom``),
``algorithm=`` and ``method=`` (the baselines' two halves), ``size=`` (DreamerV3's and WMAR's
model size), ``mode=``
(``continual``, ``multitask``, ``single_task``), ``experiment=`` (``configs/experiment/``) and
``launcher=`` (``configs/launcher/``). A new agent family adds its config dataclass to
:data:`AGENT_CONFIGS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from agents.baselines.config import Algorithm, BaselinesConfig, Method
from agents.common.protocol import AgentConfig
from agents.dreamer.config import DreamerConfig, Size
from agents.hcam.config import (
    MemoryAgentConfig,
    MemoryLSTMConfig,
    MemoryTransformerConfig,
    MemoryWindowConfig,
)
from agents.training.custom import CustomAgentConfig
from agents.wmar.config import WMARConfig

# ``agent=<name>``: every agent family's config, by its name.
AGENT_CONFIGS: dict[str, type[AgentConfig]] = {
    "baselines": BaselinesConfig,
    "dreamerv3": DreamerConfig,
    "wmar": WMARConfig,
    "hcam": MemoryAgentConfig,
    "memory_transformer": MemoryTransformerConfig,
    "memory_window": MemoryWindowConfig,
    "memory_lstm": MemoryLSTMConfig,
    "custom": CustomAgentConfig,
}
SCHEMA_NAME = "envsuite_train_schema"


class Mode(Enum):
    """What kind of run (``mode=``)."""

    continual = "continual"
    multitask = "multitask"
    single_task = "single_task"


class Device(Enum):
    """Where the agent trains (``device=``)."""

    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


@dataclass
class ModeConfig:
    """``mode=``: ``continual`` (one agent through the sequence's schedule), ``multitask`` (one
    agent on the tasks interleaved at random in short blocks: the upper reference) or
    ``single_task`` (a fresh agent per task: the reference curves of forward transfer)."""

    name: Mode = Mode.continual
    """The kind of run."""
    blocks_per_task: int = 50
    """``multitask``: each task's steps are cut into this many randomly placed blocks."""


@dataclass
class SequenceOverrides:
    """Fields of the sequence's spec to override; ``None`` keeps the spec's value."""

    steps_per_task: int | None = None
    """Steps each task is trained for in each of its blocks."""
    schedule: Any = None
    """``sequential``, ``random``, a list of task indices, or a mapping such as
    ``{type: cycles, cycles: 3}`` or ``{type: powerlaw, alpha: 1.5}``."""
    task_id_mode: str | None = None
    """``hidden``, ``info`` or ``onehot``."""
    seed: int | None = None
    """Seeds the schedule and the tasks' layouts."""
    task_kwargs: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments added to every task's own; empty: none. An open mapping: each key is
    added with ``+``, e.g. ``+sequence_overrides.task_kwargs.obs_mode=pixels``."""


@dataclass
class EvalConfig:
    """Continual evaluation: every task, on its own envs."""

    every: int = 5000
    """Evaluate every this many global steps, at the end, and at every block end (but a
    multi-task run's many short blocks)."""
    episodes: int = 5
    """Episodes per task and round."""
    seed: int = 1_000_000
    """Seed of the first evaluation episode."""
    video_every: int = 0
    """Every this many rounds (the first included), one more episode per task is rendered to
    ``videos/<task>/step_*.gif`` and tensorboard's ``eval/<task>/video``; 0: no videos."""


@dataclass
class CheckpointConfig:
    """Checkpoints: full ones to resume from, snapshots without the replay buffer at block ends."""

    every: int = 10000
    """Global steps between full checkpoints (also written at the end and at every block end
    but a multi-task run's)."""
    keep: int = 2
    """Full checkpoints kept, newest first; a resume reads these. Every block end also leaves a
    snapshot without the replay buffer in ``checkpoints/blocks/`` (none in multi-task runs),
    kept for analysis."""
    replay_buffer: bool = True
    """Full checkpoints hold the agent's replay buffer."""


@dataclass
class LoggingConfig:
    """What a run shows while it trains."""

    tensorboard: bool = True
    """Write tensorboard events into the run directory."""
    progress_bar: bool = True
    """Show progress: rich's bar with the task and ETA on a terminal; without one (a pipe, a log
    file) a plain line at the start, at least every 20 s, and at the end."""
    every: int = 1000
    """Global steps between ``metrics.jsonl`` lines (steps/s, training returns)."""


@dataclass
class ReportConfig:
    """The ``envsuite report`` of the run, at its end."""

    enabled: bool = True
    """Report the run when it ends."""
    references: str | None = None
    """The ``references.json`` of a ``mode=single_task`` run of the same sequence, for
    forward transfer."""


@dataclass
class TrainConfig:
    """One ``envsuite-train`` run."""

    agent: Any = MISSING
    """The agent family's config (``agent=``), one of :data:`AGENT_CONFIGS`."""
    mode: ModeConfig = field(default_factory=ModeConfig)
    """The kind of run (``mode=``)."""
    sequence: str = "ClassicCartPoleAcrobot"
    """Any registered sequence id, name (latest version) or YAML path: see ``envsuite list``."""
    sequence_overrides: SequenceOverrides = field(default_factory=SequenceOverrides)
    """Fields of the sequence's spec to override."""
    seed: int = 0
    """Seeds the agent, the training envs and the schedule's randomness."""
    device: Device = Device.auto
    """``auto``: CUDA whenever torch sees a CUDA device, else the CPU."""
    threads: str = "auto"
    """torch's CPU threads: ``auto`` gives a lone run every core and each job of a sweep its
    share (a Ray job, the CPUs it reserves), or a positive integer. Parallel jobs that each use
    every core run many times slower."""
    eval: EvalConfig = field(default_factory=EvalConfig)
    """Continual evaluation."""
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    """Checkpoints."""
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    """Progress, ``metrics.jsonl`` and tensorboard."""
    report: ReportConfig = field(default_factory=ReportConfig)
    """The report at the end."""
    resume: str | None = None
    """A run directory to continue from its newest readable checkpoint (from step 0 if it has
    none); its config is kept as it was, but for ``device``, ``threads``,
    ``logging.progress_bar`` and ``report.*``."""


def register_configs() -> None:
    """Put the schema and the groups into hydra's ConfigStore (before composing)."""
    store = ConfigStore.instance()
    store.store(name=SCHEMA_NAME, node=TrainConfig)
    for name, config_class in AGENT_CONFIGS.items():
        store.store(group="agent", name=name, node=config_class)
    for algorithm in Algorithm:
        store.store(
            group="algorithm", name=algorithm.value, node={"algorithm": algorithm}, package="agent"
        )
    for method in Method:
        store.store(group="method", name=method.value, node={"method": method}, package="agent")
    for size in Size:
        store.store(group="size", name=size.value, node={"size": size}, package="agent")
    for mode in Mode:
        store.store(group="mode", name=mode.value, node=ModeConfig(name=mode))


def job_label(agent: DictConfig, mode: Any) -> str:
    """A sweep job's folder name: the agent's label (``sac_ewc``), then the mode unless
    continual (``sac_finetune_multitask``)."""
    try:
        label = OmegaConf.to_object(agent).label()  # type: ignore[union-attr]
    except (OmegaConfBaseException, AttributeError):  # an incomplete or untyped agent config
        label = str(agent.get("name", "agent"))
    mode = getattr(mode, "value", mode)
    return label if mode == Mode.continual.value else f"{label}_{mode}"
