"""Continual evaluation during training, and the run directories it writes.

``ContinualEvaluator`` for any loop; ``ContinualEvalCallback`` (in ``.callback``) for SB3.
"""

from envsuite.evaluation.evaluator import ContinualEvaluator, Measures, Policy, RandomPolicy
from envsuite.evaluation.store import (
    RESULTS_FILE,
    RUN_FILE,
    ResultsStore,
    Run,
    RunDirectoryError,
    RunInfo,
    load_run,
)

__all__ = [
    "RESULTS_FILE",
    "RUN_FILE",
    "ContinualEvaluator",
    "Measures",
    "Policy",
    "RandomPolicy",
    "ResultsStore",
    "Run",
    "RunDirectoryError",
    "RunInfo",
    "load_run",
]
