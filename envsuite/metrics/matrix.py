"""The performance matrix: every task at the end of every training block (e.g. GEM's ``R``)."""

from __future__ import annotations

import numpy as np

from envsuite.metrics.rounds import Rounds


def performance_matrix(rounds: Rounds) -> np.ndarray:
    """``R[b, j]``: performance on task ``j`` at the end of training block ``b``.

    For a sequential schedule the blocks are the tasks, so ``R[i, j]`` is task ``j`` after
    training task ``i``.
    """
    return np.stack([rounds.performance[block.last_round] for block in rounds.blocks()])
