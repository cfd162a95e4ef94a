"""Write a report: ``metrics.json``, PNG figures and ``report.html`` in one folder."""

from __future__ import annotations

import io
import json
import math
from dataclasses import asdict
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from rich.console import Console
from rich.table import Table

from envsuite.metrics.aggregate import Estimate
from envsuite.metrics.matrix import performance_matrix
from envsuite.metrics.summary import METRICS
from envsuite.report.collect import BLOCKLESS_NOTE, Report
from envsuite.report.html import render_html
from envsuite.report.plots import curves_figure, matrix_figure, measure_figure, stability_figure

FIGURES = {
    "curves.png": "Per-task performance during training",
    "matrix.png": "Performance matrix (first run)",
    "stability.png": "Stability gap: around the task switches (first run)",
}


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def _finite_or_none(value: float) -> float | None:
    return None if value is None or math.isnan(value) else value


def write_report(report: Report, out_dir: str | Path) -> dict[str, Path]:
    """Write the report's files into ``out_dir``; returns their paths by name."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    first = report.runs[0]
    blocks = first.run.info.blocks
    figures = {
        "curves.png": curves_figure([run.rounds for run in report.runs], blocks, report.measure),
    }
    if report.block_end_rounds:  # the matrix and the stability gap need block ends
        figures["matrix.png"] = matrix_figure(
            performance_matrix(first.rounds),
            report.task_names,
            report.measure,
            [block.task for block in first.rounds.blocks()],
        )
        figures["stability.png"] = stability_figure(first.rounds, blocks, report.measure)
    captions = dict(FIGURES)
    measured = [run.run.measures for run in report.runs]
    for measure in sorted({record["measure"] for records in measured for record in records}):
        name = f"measure_{measure}.png"
        figures[name] = measure_figure(measured, blocks, report.task_names, measure)
        captions[name] = f"The agent's own measure: {measure} per task"
    pngs = {name: _png(figure) for name, figure in figures.items()}
    paths = {}
    for name, png in pngs.items():
        paths[name] = out_dir / name
        paths[name].write_bytes(png)
    metrics = {
        "sequence_id": report.sequence_id,
        "measure": report.measure,
        "readings": report.readings.describe(),
        "task_names": list(report.task_names),
        "aggregate": {
            name: None if estimate is None else asdict(estimate)
            for name, estimate in report.aggregate.items()
        },
        "final_performance": {
            name: asdict(estimate) for name, estimate in report.final_performance.items()
        },
        "runs": [
            {
                "directory": str(run.run.directory),
                "seed": run.run.info.seed,
                "metrics": {name: _finite_or_none(value) for name, value in run.summary.items()},
                "per_task": {
                    name: [_finite_or_none(value) for value in values]
                    for name, values in run.per_task.items()
                },
                "measures": list(run.run.measures),
                "per_block": (
                    {
                        name: values if name == "task" else list(map(_finite_or_none, values))
                        for name, values in run.per_block.items()
                    }
                    if run.per_block is not None
                    else None
                ),
                "performance_matrix": (
                    [
                        [_finite_or_none(float(value)) for value in row]
                        for row in np.round(performance_matrix(run.rounds), 6)
                    ]
                    if report.block_end_rounds
                    else None
                ),
            }
            for run in report.runs
        ],
    }
    paths["metrics.json"] = out_dir / "metrics.json"
    paths["metrics.json"].write_text(json.dumps(metrics, indent=2) + "\n")
    paths["report.html"] = out_dir / "report.html"
    paths["report.html"].write_text(
        render_html(report, {captions[name]: png for name, png in pngs.items()})
    )
    return paths


def _estimate_cells(estimate: Estimate | None) -> tuple[str, str]:
    """A mean and its 95% CI as two table cells; "-" and nothing without a value."""
    if estimate is None:
        return "-", ""
    return f"{estimate.value:.3f}", f"[{estimate.low:.3f}, {estimate.high:.3f}]"


def print_report(report: Report, console: Console) -> None:
    """The metric table on the terminal: mean over runs and its 95% CI; then each task's final
    performance (and min-ACC), as an aggregate alone hides which task fails."""
    table = Table(
        title=f"{report.sequence_id}: {len(report.runs)} run(s), measure {report.measure}"
    )
    for column in ("metric", "mean", "95% CI", "better"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for name, (higher_is_better, _) in METRICS.items():
        estimate = report.aggregate[name]
        # A bare "-" reads as a bug; the CI cell says what the metric lacks.
        mean, interval = (
            _estimate_cells(estimate)
            if estimate is not None
            else ("-", report.missing_reason(name))
        )
        table.add_row(name, mean, interval, "higher" if higher_is_better else "lower")
    console.print(table)
    note = report.min_accuracy_note()
    if note is not None:
        console.print(note, highlight=False)
    tasks = Table(title=f"per task, mean over runs: final {report.measure} and min_accuracy")
    for column in ("task", f"final {report.measure}", "95% CI"):
        tasks.add_column(column, justify="left" if column == "task" else "right")
    final = report.per_task_estimates("final_performance")
    with_min = report.block_end_rounds
    if with_min:
        tasks.add_column("min_accuracy", justify="right")
        lowest = report.per_task_estimates("min_accuracy")
        last = report.runs[0].rounds.blocks()[-1].task
    for task, name in enumerate(report.task_names):
        row = [name, *_estimate_cells(final[task])]
        if with_min:
            row.append(_estimate_cells(lowest[task])[0] + (" (left out)" if task == last else ""))
        tasks.add_row(*row)
    console.print(tasks)
    readings = [
        f"{source} {entry['reading']}"
        + (f" ({entry['window']} {entry['window_unit']})" if "window" in entry else "")
        for source, entry in report.readings.describe().items()
    ]
    console.print(f"readings (docs/metrics.md): {', '.join(readings)}", highlight=False)
    if not report.block_end_rounds:
        console.print(BLOCKLESS_NOTE)
    for name, estimate in report.final_performance.items():
        console.print(
            f"final {report.measure}, {name} over runs x tasks: {estimate.value:.3f} "
            f"[{estimate.low:.3f}, {estimate.high:.3f}]"
        )
