"""The machinery behind ``envsuite-train``: the training loop, settings, run directory,
checkpoints, monitoring and the continual, multi-task and single-task runs."""

from agents.training.checkpoints import Checkpointer, CheckpointError, load_checkpoint
from agents.training.loop import make_vector_env, train_agent
from agents.training.run_directory import ResumeMismatchError
from agents.training.runs import REFERENCES_FILE, SingleTaskClock, train, write_references
from agents.training.settings import TrainingConfigError, TrainSettings, read_settings

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
