"""Continual-learning metrics: pure functions over evaluation rounds (see docs/metrics.md).

One module per source: Continual World, GEM, LIBERO, L2M, the stability gap; rliable aggregates.
"""

from envsuite.metrics import continual_world, gem, l2m, libero, stability
from envsuite.metrics.aggregate import Estimate, aggregate_runs
from envsuite.metrics.continual_world import average_performance
from envsuite.metrics.matrix import performance_matrix
from envsuite.metrics.normalization import normalize_returns
from envsuite.metrics.readings import DEFAULT_READINGS, READINGS, WINDOW_UNITS, Readings
from envsuite.metrics.rounds import BEFORE_TRAINING, Rounds, TrainingBlock
from envsuite.metrics.summary import summarize
from envsuite.metrics.table import EvaluationTable

__all__ = [
    "BEFORE_TRAINING",
    "DEFAULT_READINGS",
    "READINGS",
    "WINDOW_UNITS",
    "Estimate",
    "EvaluationTable",
    "Readings",
    "Rounds",
    "TrainingBlock",
    "aggregate_runs",
    "average_performance",
    "continual_world",
    "gem",
    "l2m",
    "libero",
    "normalize_returns",
    "performance_matrix",
    "stability",
    "summarize",
]
