"""The machinery behind ``envsuite-train``: the training loop, settings, run directory,
checkpoints, monitoring and the continual, multi-task and single-task runs.

The names load on first use (PEP 562): ``envsuite-train --help`` and the config checks do not
wait for torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agents.training.checkpoints import Checkpointer, CheckpointError, load_checkpoint
    from agents.training.loop import make_vector_env, train_agent
    from agents.training.run_directory import ResumeMismatchError
    from agents.training.runs import REFERENCES_FILE, SingleTaskClock, train, write_references
    from agents.training.settings import TrainingConfigError, TrainSettings, read_settings

_MODULE_OF = {
    "CheckpointError": "agents.training.checkpoints",
    "Checkpointer": "agents.training.checkpoints",
    "load_checkpoint": "agents.training.checkpoints",
    "make_vector_env": "agents.training.loop",
    "train_agent": "agents.training.loop",
    "ResumeMismatchError": "agents.training.run_directory",
    "REFERENCES_FILE": "agents.training.runs",
    "SingleTaskClock": "agents.training.runs",
    "train": "agents.training.runs",
    "write_references": "agents.training.runs",
    "TrainingConfigError": "agents.training.settings",
    "TrainSettings": "agents.training.settings",
    "read_settings": "agents.training.settings",
}
__all__ = [
    "REFERENCES_FILE",
    "CheckpointError",
    "Checkpointer",
    "ResumeMismatchError",
    "SingleTaskClock",
    "TrainSettings",
    "TrainingConfigError",
    "load_checkpoint",
    "make_vector_env",
    "read_settings",
    "train",
    "train_agent",
    "write_references",
]


def __getattr__(name: str) -> Any:
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_MODULE_OF[name]), name)
