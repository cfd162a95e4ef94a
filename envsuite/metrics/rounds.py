"""Evaluation rounds: the performance of every task at every evaluation, and what was trained.

Every metric in this package is a pure function of a :class:`Rounds`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BEFORE_TRAINING = -1


@dataclass(frozen=True)
class TrainingBlock:
    """Consecutive rounds evaluated while one task trained.

    ``start_round`` is the round evaluated just before the block's training began (the end of the
    previous block, or the evaluation before any training); ``None`` when the run has none.
    """

    task: int
    start_round: int | None
    first_round: int
    last_round: int

    @property
    def rounds(self) -> range:
        """The rounds evaluated after training steps of this block."""
        return range(self.first_round, self.last_round + 1)

    @property
    def curve_rounds(self) -> range:
        """The block's learning curve: its start round (if any) through its last round."""
        start = self.first_round if self.start_round is None else self.start_round
        return range(start, self.last_round + 1)


@dataclass(frozen=True)
class Rounds:
    """Evaluation rounds of one run.

    Attributes:
        steps: ``(R,)`` environment steps trained when each round was evaluated, increasing.
        trained_task: ``(R,)`` the task trained in the steps before each round;
            ``BEFORE_TRAINING`` (-1) for a round evaluated before any training.
        performance: ``(R, T)`` mean performance of every task at every round.
        task_names: the ``T`` task names.
    """

    steps: np.ndarray
    trained_task: np.ndarray
    performance: np.ndarray
    task_names: tuple[str, ...]

    def __post_init__(self) -> None:
        steps = np.asarray(self.steps)
        trained = np.asarray(self.trained_task)
        performance = np.asarray(self.performance, dtype=float)
        if performance.ndim != 2 or performance.shape[1] != len(self.task_names):
            raise ValueError(
                f"performance must have shape (rounds, {len(self.task_names)} tasks), "
                f"got {performance.shape}"
            )
        if steps.shape != (performance.shape[0],) or trained.shape != steps.shape:
            raise ValueError(
                f"steps {steps.shape} and trained_task {trained.shape} must both have shape "
                f"({performance.shape[0]},), one entry per round"
            )
        if performance.shape[0] == 0:
            raise ValueError("no evaluation rounds")
        if np.any(np.diff(steps) <= 0):
            raise ValueError(f"steps must increase from round to round, got {steps.tolist()}")
        if np.any((trained < BEFORE_TRAINING) | (trained >= len(self.task_names))):
            raise ValueError(
                f"trained_task must lie in [-1, {len(self.task_names)}), got {trained.tolist()}"
            )
        object.__setattr__(self, "steps", steps)
        object.__setattr__(self, "trained_task", trained)
        object.__setattr__(self, "performance", performance)

    @property
    def num_tasks(self) -> int:
        return len(self.task_names)

    def blocks(self) -> tuple[TrainingBlock, ...]:
        """Maximal runs of rounds with the same trained task, in order."""
        blocks = []
        first = None
        for index, task in enumerate(self.trained_task):
            if task == BEFORE_TRAINING:
                first = None
                continue
            if first is None or task != self.trained_task[first]:
                first = index
                blocks.append(
                    TrainingBlock(int(task), index - 1 if index > 0 else None, index, index)
                )
            else:
                previous = blocks[-1]
                blocks[-1] = TrainingBlock(previous.task, previous.start_round, first, index)
        return tuple(blocks)

    def task_blocks(self, task: int) -> tuple[TrainingBlock, ...]:
        return tuple(block for block in self.blocks() if block.task == task)

    def trained_tasks(self) -> list[int]:
        """Tasks with at least one training block, in order of first training."""
        seen: list[int] = []
        for block in self.blocks():
            if block.task not in seen:
                seen.append(block.task)
        return seen


def mean_or_nan(values: np.ndarray) -> float:
    """The mean of the finite values, NaN when there are none (no warning)."""
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else float("nan")
