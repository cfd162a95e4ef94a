"""envsuite: continual-learning environment suite; every task and sequence is a gymnasium id.

Importing it registers every sequence under ``tasks/`` as ``envsuite/<Name>-v<N>``.
"""

from importlib.metadata import PackageNotFoundError, version

from envsuite.atari import register_atari
from envsuite.classic import register_classic
from envsuite.core import (
    ContinualEnv,
    ScheduleSpec,
    Sequence,
    SequenceSpec,
    SpecError,
    TaskSpec,
    make_sequence,
    registered_ids,
    sequence_ids,
)
from envsuite.core.registry import register_sequences
from envsuite.manipulation import register_manipulation
from envsuite.minigames import register_minigames
from envsuite.navigation import register_navigation

try:
    __version__ = version("envsuite")
except PackageNotFoundError:  # a checkout on sys.path without an install
    __version__ = "0+unknown"

# Task ids first: sequences name them, and registering a sequence checks that its tasks exist.
register_classic()
register_minigames()
register_navigation()
register_manipulation()
register_atari()
register_sequences()

__all__ = [
    "ContinualEnv",
    "ScheduleSpec",
    "Sequence",
    "SequenceSpec",
    "SpecError",
    "TaskSpec",
    "__version__",
    "make_sequence",
    "registered_ids",
    "sequence_ids",
]
