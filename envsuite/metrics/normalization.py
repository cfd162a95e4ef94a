"""Returns normalised per task between a random policy's score and a reference score."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def normalize_returns(
    returns: np.ndarray,
    evaluated_task: np.ndarray,
    random_scores: Mapping[int, float],
    reference_scores: Mapping[int, float],
) -> np.ndarray:
    """``(return - random) / (reference - random)`` with each row's task scores: 0 random, 1 ref.

    Raises ``ValueError`` naming the task when a score is missing or reference equals random.
    """
    returns = np.asarray(returns, dtype=float)
    evaluated_task = np.asarray(evaluated_task)
    normalized = np.empty_like(returns)
    for task in np.unique(evaluated_task):
        task = int(task)
        if task not in random_scores or task not in reference_scores:
            raise ValueError(f"task {task}: random and reference scores are both required")
        low, high = random_scores[task], reference_scores[task]
        if high == low:
            raise ValueError(f"task {task}: reference score equals random score ({low})")
        rows = evaluated_task == task
        normalized[rows] = (returns[rows] - low) / (high - low)
    return normalized
