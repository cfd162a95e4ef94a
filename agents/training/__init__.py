"""The machinery behind ``envsuite-train``: settings, run directory, checkpoints, monitoring and
the continual, multi-task and single-task runs."""

from agents.training.checkpoints import CheckpointCallback, CheckpointError, load_checkpoint
from agents.training.run_directory import ResumeMismatchError
from agents.training.runs import REFERENCES_FILE, SingleTaskClock, train, write_references
from agents.training.settings import TrainingConfigError, TrainSettings, read_settings

__all__ = [
    "REFERENCES_FILE",
    "CheckpointCallback",
    "CheckpointError",
    "ResumeMismatchError",
    "SingleTaskClock",
    "TrainSettings",
    "TrainingConfigError",
    "load_checkpoint",
    "read_settings",
    "train",
    "write_references",
]
