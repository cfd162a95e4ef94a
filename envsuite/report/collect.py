"""Load run directories of one sequence and compute every metric per run and over runs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from envsuite.evaluation.store import Run, RunDirectoryError, load_run
from envsuite.metrics.aggregate import Estimate, aggregate_runs
from envsuite.metrics.readings import DEFAULT_READINGS, Readings
from envsuite.metrics.rounds import BEFORE_TRAINING, Rounds
from envsuite.metrics.summary import (
    METRICS,
    REFERENCE_METRICS,
    per_block,
    per_task,
    summarize,
)

# Said by reports of runs without block-end rounds, whose block metrics are left out.
BLOCKLESS_NOTE = (
    "The runs were not evaluated at their block ends (a multi-task run's many short blocks): "
    "only the final performance is measured."
)


@dataclass(frozen=True)
class RunMetrics:
    run: Run
    rounds: Rounds
    summary: dict[str, float]
    per_task: dict[str, list[float]]
    # Continual World's metrics per training block; None without block-end rounds.
    per_block: dict[str, list] | None


@dataclass(frozen=True)
class Report:
    """Every run's metrics, each metric's mean over runs with a bootstrap 95% CI, and the IQM
    of the final per-task performance over runs x tasks, under ``readings``."""

    sequence_id: str
    task_names: tuple[str, ...]
    measure: str
    readings: Readings
    runs: tuple[RunMetrics, ...]
    aggregate: dict[str, Estimate | None]
    final_performance: dict[str, Estimate]
    # Whether single-task reference curves were given (the reference metrics need them).
    references: bool = False

    @property
    def block_end_rounds(self) -> bool:
        """Whether the runs were evaluated at their block ends (all or none of them are)."""
        return self.runs[0].run.info.block_end_rounds

    def missing_reason(self, name: str) -> str:
        """Why metric ``name`` has no value for these runs, in a few words for a table cell."""
        if not self.block_end_rounds and name != "average_performance":
            return "needs block-end rounds"
        if name in REFERENCE_METRICS and not self.references:
            return "needs --references"
        if name == "forward_transfer_gem" and all(
            metrics.rounds.trained_task[0] != BEFORE_TRAINING for metrics in self.runs
        ):
            return "needs a round before training"
        return "undefined here (docs/metrics.md)"

    def per_task_estimates(self, name: str) -> list[Estimate | None]:
        """Per task, the mean over runs of per-task metric ``name`` with its 95% CI; None for a
        task no run has a value for."""
        values = np.array([metrics.per_task[name] for metrics in self.runs])
        estimates: list[Estimate | None] = []
        for column in values.T:
            finite = column[np.isfinite(column)]
            estimates.append(
                aggregate_runs(finite[:, None], aggregates=("mean",))["mean"]
                if finite.size
                else None
            )
        return estimates

    def min_accuracy_note(self) -> str | None:
        """Why min-ACC may sit far above a task's low return: it leaves the last block's task
        out. None where min-ACC is not reported."""
        if not self.block_end_rounds or self.aggregate["min_accuracy"] is None:
            return None
        last = self.task_names[self.runs[0].rounds.blocks()[-1].task]
        return (
            f"min_accuracy leaves out {last}, the task of the last block: no later task is "
            "trained after its last training to open a stability gap in it (the stability-gap "
            "paper's definition, docs/metrics.md). Its own lowest value after training is in "
            "the per-task table below."
        )


def load_scores(path: str | Path, task_names: Sequence[str]) -> tuple[dict, dict]:
    """Read ``{task name: {"random": r, "reference": s}}`` (JSON) into per-index score maps."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        random_scores = {task_names.index(name): float(data[name]["random"]) for name in data}
        reference = {task_names.index(name): float(data[name]["reference"]) for name in data}
    except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise RunDirectoryError(
            f"{path}: scores must be JSON mapping each of {list(task_names)} to "
            f'{{"random": number, "reference": number}} ({error!r})'
        ) from None
    missing = [name for index, name in enumerate(task_names) if index not in random_scores]
    if missing:
        raise RunDirectoryError(f"{path}: no scores for tasks {missing}")
    return random_scores, reference


def load_references(path: str | Path, task_names: Sequence[str]) -> dict[int, tuple]:
    """Read single-task reference curves: JSON ``{task: {"steps": [...], "performance": [...]}}``.

    The curves are in the report's measure; tasks left out get no reference-based metric.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        curves = {
            task_names.index(name): (
                np.asarray(curve["steps"], dtype=float),
                np.asarray(curve["performance"], dtype=float),
            )
            for name, curve in data.items()
        }
    except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise RunDirectoryError(
            f"{path}: references must be JSON mapping tasks of {list(task_names)} to "
            f'{{"steps": [...], "performance": [...]}} ({error!r})'
        ) from None
    for task, (steps, performance) in curves.items():
        if steps.shape != performance.shape or steps.size == 0 or np.any(np.diff(steps) <= 0):
            raise RunDirectoryError(
                f"{path}: {task_names[task]!r}: steps must increase and match performance"
            )
    return curves


def collect(
    run_dirs: Sequence[str | Path],
    measure: str = "auto",
    scores: str | Path | None = None,
    references: str | Path | None = None,
    readings: Readings = DEFAULT_READINGS,
) -> Report:
    """Load runs of one sequence; :class:`RunDirectoryError` if they are of several.

    ``measure`` is ``auto`` (success where every run's tasks report it, else normalised
    returns when ``scores`` is given, else return), ``success``, ``return`` or
    ``normalized_return``. ``scores`` is a JSON file of random and reference scores per task;
    ``references`` one of single-task learning curves (see :func:`load_references`), which
    Continual World's forward transfer and L2M's relative performance and sample efficiency
    need. ``readings`` picks each source's reading and the windowed-forgetting window.
    """
    if not run_dirs:
        raise RunDirectoryError("no run directory given")
    resolved = [Path(run_dir).resolve() for run_dir in run_dirs]
    if len(set(resolved)) != len(resolved):
        raise RunDirectoryError("a run directory is given twice; each run counts once")
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
        if run.info.block_end_rounds != first.info.block_end_rounds:
            raise RunDirectoryError(
                f"{run.directory} and {first.directory}: one was evaluated at every block end, "
                "the other not; report them apart"
            )
    seeds = [run.info.seed for run in runs]
    if len(set(seeds)) != len(seeds):
        raise RunDirectoryError(
            f"runs share a seed ({seeds}): a repeated run would count twice in the intervals"
        )
    random_scores, reference_scores = (
        load_scores(scores, first.info.task_names) if scores is not None else (None, None)
    )
    if measure == "auto":
        if all(run.table.has_success for run in runs):
            measure = "success"
        else:
            measure = "return" if scores is None else "normalized_return"
    curves = load_references(references, first.info.task_names) if references else None
    run_metrics = []
    for run in runs:
        try:
            _, values = run.table.measure_values(measure, random_scores, reference_scores)
            rounds = run.table.rounds(values)
            block_metrics = run.info.block_end_rounds
            summary = summarize(rounds, curves, readings, block_metrics)
        except ValueError as error:
            raise RunDirectoryError(f"{run.directory}: {error}") from None
        run_metrics.append(
            RunMetrics(
                run,
                rounds,
                summary,
                per_task(rounds, readings, block_metrics),
                per_block(rounds, curves, readings) if block_metrics else None,
            )
        )
    aggregate = {}
    for name in METRICS:
        values = np.array([metrics.summary[name] for metrics in run_metrics])
        finite = values[np.isfinite(values)]
        aggregate[name] = (
            aggregate_runs(finite[:, None], aggregates=("mean",))["mean"] if finite.size else None
        )
    final = np.array([metrics.per_task["final_performance"] for metrics in run_metrics])
    return Report(
        first.info.sequence_id,
        first.info.task_names,
        measure,
        readings,
        tuple(run_metrics),
        aggregate,
        aggregate_runs(final),
        references=curves is not None,
    )
