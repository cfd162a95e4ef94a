"""Load run directories of one sequence and compute every metric per run and over runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from envsuite.evaluation.store import Run, RunDirectoryError, load_run
from envsuite.metrics.aggregate import Estimate, aggregate_runs
from envsuite.metrics.rounds import Rounds
from envsuite.metrics.summary import METRICS, per_task, summarize


@dataclass(frozen=True)
class RunMetrics:
    run: Run
    rounds: Rounds
    summary: dict[str, float]
    per_task: dict[str, list[float]]


@dataclass(frozen=True)
class Report:
    """Every run's metrics, and each metric's mean over runs with a bootstrap 95% CI."""

    sequence_id: str
    task_names: tuple[str, ...]
    measure: str
    runs: tuple[RunMetrics, ...]
    aggregate: dict[str, Estimate | None]


def collect(run_dirs: Sequence[str | Path], measure: str = "auto") -> Report:
    """Load runs of one sequence; :class:`RunDirectoryError` if they are of several.

    ``measure`` is ``auto`` (success where every run's tasks report it, else return),
    ``success`` or ``return``.
    """
    if not run_dirs:
        raise RunDirectoryError("no run directory given")
    runs = [load_run(run_dir) for run_dir in run_dirs]
    first = runs[0]
    for run in runs[1:]:
        if run.info.sequence_id != first.info.sequence_id:
            raise RunDirectoryError(
                f"runs of different sequences: {first.info.sequence_id} ({first.directory}) and "
                f"{run.info.sequence_id} ({run.directory}); report each sequence on its own"
            )
        if run.info.task_names != first.info.task_names or run.info.blocks != first.info.blocks:
            raise RunDirectoryError(
                f"{run.directory} and {first.directory} ran {first.info.sequence_id} with "
                "different tasks or schedules; report them apart"
            )
    if measure == "auto":
        measure = "success" if all(run.table.has_success for run in runs) else "return"
    run_metrics = []
    for run in runs:
        _, values = run.table.measure_values(measure)
        try:
            rounds = run.table.rounds(values)
        except ValueError as error:
            raise RunDirectoryError(f"{run.directory}: {error}") from None
        run_metrics.append(RunMetrics(run, rounds, summarize(rounds), per_task(rounds)))
    aggregate = {}
    for name in METRICS:
        values = np.array([metrics.summary[name] for metrics in run_metrics])
        finite = values[np.isfinite(values)]
        aggregate[name] = (
            aggregate_runs(finite[:, None], aggregates=("mean",))["mean"] if finite.size else None
        )
    return Report(
        first.info.sequence_id, first.info.task_names, measure, tuple(run_metrics), aggregate
    )
