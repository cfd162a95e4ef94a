"""The evaluation table: one row per evaluation episode, reduced to :class:`Rounds` for metrics."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from envsuite.metrics.normalization import normalize_returns
from envsuite.metrics.rounds import Rounds

RECORD_FIELDS = (
    "eval_step",
    "trained_task",
    "evaluated_task",
    "episode",
    "return",
    "success",
    "seed",
)
MEASURES = ("auto", "success", "return", "normalized_return")


@dataclass(frozen=True)
class EvaluationTable:
    """Columns of evaluation episodes; ``success`` is NaN where the task reports none.

    ``seed`` is the run's seed, so that one table can hold several runs of one sequence.
    """

    eval_step: np.ndarray
    trained_task: np.ndarray
    evaluated_task: np.ndarray
    episode: np.ndarray
    episode_return: np.ndarray
    success: np.ndarray
    seed: np.ndarray
    task_names: tuple[str, ...]

    @classmethod
    def from_records(
        cls, records: Iterable[Mapping[str, Any]], task_names: tuple[str, ...]
    ) -> EvaluationTable:
        """Build from dicts with the keys of ``RECORD_FIELDS``; ``ValueError`` names a bad row."""
        columns: dict[str, list] = {field: [] for field in RECORD_FIELDS}
        for row, record in enumerate(records):
            missing = [field for field in RECORD_FIELDS if field not in record]
            if missing:
                raise ValueError(
                    f"record {row} lacks fields {missing}; records need {RECORD_FIELDS}"
                )
            for field in RECORD_FIELDS:
                value = record[field]
                columns[field].append(float("nan") if value is None else value)
        if not columns["eval_step"]:
            raise ValueError("no evaluation records")
        evaluated = np.asarray(columns["evaluated_task"], dtype=np.int64)
        if evaluated.min() < 0 or evaluated.max() >= len(task_names):
            raise ValueError(
                f"evaluated_task must lie in [0, {len(task_names)}) for tasks {list(task_names)}"
            )
        return cls(
            eval_step=np.asarray(columns["eval_step"], dtype=np.int64),
            trained_task=np.asarray(columns["trained_task"], dtype=np.int64),
            evaluated_task=evaluated,
            episode=np.asarray(columns["episode"], dtype=np.int64),
            episode_return=np.asarray(columns["return"], dtype=float),
            success=np.asarray(columns["success"], dtype=float),
            seed=np.asarray(columns["seed"], dtype=np.int64),
            task_names=tuple(task_names),
        )

    @property
    def seeds(self) -> list[int]:
        return sorted({int(seed) for seed in self.seed})

    @property
    def has_success(self) -> bool:
        """True when every episode reports success: then success is the default measure."""
        return bool(np.all(np.isfinite(self.success)))

    def measure_values(
        self,
        measure: str = "auto",
        random_scores: Mapping[int, float] | None = None,
        reference_scores: Mapping[int, float] | None = None,
    ) -> tuple[str, np.ndarray]:
        """The per-episode values of ``measure`` and its resolved name.

        ``auto`` is success where every episode reports it, else normalised returns where both
        score maps are given, else raw returns.
        """
        if measure not in MEASURES:
            raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")
        if measure == "auto":
            if self.has_success:
                measure = "success"
            elif random_scores is not None and reference_scores is not None:
                measure = "normalized_return"
            else:
                measure = "return"
        if measure == "success":
            if not self.has_success:
                raise ValueError("measure 'success': these tasks do not report success")
            return measure, self.success
        if measure == "normalized_return":
            if random_scores is None or reference_scores is None:
                raise ValueError("measure 'normalized_return' needs random and reference scores")
            values = normalize_returns(
                self.episode_return, self.evaluated_task, random_scores, reference_scores
            )
            return measure, values
        return measure, self.episode_return

    def rounds(self, values: np.ndarray) -> Rounds:
        """Mean ``values`` per (evaluation step, task) of a single run, as :class:`Rounds`.

        ``ValueError`` when the table holds several runs, or a round misses a task or mixes
        trained tasks (a truncated or corrupted results file).
        """
        if len(self.seeds) != 1:
            raise ValueError(f"the table holds runs with seeds {self.seeds}; select one first")
        steps = np.unique(self.eval_step)
        performance = np.full((steps.size, len(self.task_names)), np.nan)
        trained = np.empty(steps.size, dtype=np.int64)
        for index, step in enumerate(steps):
            rows = self.eval_step == step
            trained_here = np.unique(self.trained_task[rows])
            if trained_here.size != 1:
                raise ValueError(f"round at step {step} names several trained tasks {trained_here}")
            trained[index] = trained_here[0]
            for task in range(len(self.task_names)):
                task_rows = rows & (self.evaluated_task == task)
                if not task_rows.any():
                    raise ValueError(
                        f"round at step {step} has no episode of task "
                        f"{self.task_names[task]!r}: the results are incomplete"
                    )
                performance[index, task] = values[task_rows].mean()
        return Rounds(steps, trained, performance, self.task_names)

    def select_seed(self, seed: int) -> EvaluationTable:
        rows = self.seed == seed
        if not rows.any():
            raise ValueError(f"no run with seed {seed}; seeds: {self.seeds}")
        return EvaluationTable(
            self.eval_step[rows],
            self.trained_task[rows],
            self.evaluated_task[rows],
            self.episode[rows],
            self.episode_return[rows],
            self.success[rows],
            self.seed[rows],
            self.task_names,
        )
