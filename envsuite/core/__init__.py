"""Core machinery: sequence specs, schedules, space unification, the sequence env, the registry."""

from envsuite.core.continual_env import ContinualEnv
from envsuite.core.errors import SpecError
from envsuite.core.registry import registered_ids, sequence_ids
from envsuite.core.schedule import Block, build_schedule
from envsuite.core.sequence import Sequence, make_sequence
from envsuite.core.spec import ScheduleSpec, SequenceSpec, TaskSpec, load_sequence_spec
from envsuite.core.task_env import UnifiedTaskEnv

__all__ = [
    "Block",
    "ContinualEnv",
    "ScheduleSpec",
    "Sequence",
    "SequenceSpec",
    "SpecError",
    "TaskSpec",
    "UnifiedTaskEnv",
    "build_schedule",
    "load_sequence_spec",
    "make_sequence",
    "registered_ids",
    "sequence_ids",
]
