"""Report figures: per-task curves with task blocks shaded, the matrix, the stability gap.

Built on ``matplotlib.figure.Figure`` (no pyplot), so no global backend is touched.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from envsuite.metrics.rounds import Rounds

COLORS = [f"C{index}" for index in range(10)]


def label(name: str) -> str:
    """A task name as matplotlib text: ``$`` would start mathtext, a leading ``_`` hides it."""
    name = name.replace("$", r"\$")
    return " " + name if name.startswith("_") else name


def _shade_blocks(axes, blocks: Sequence[tuple[int, int]]) -> None:
    start = 0
    for task, steps in blocks:
        axes.axvspan(start, start + steps, color=COLORS[task % 10], alpha=0.08, linewidth=0)
        axes.axvline(start, color="0.6", linewidth=0.6)
        start += steps


def _task_curves_figure(
    curves: Sequence[tuple[str, Sequence[tuple[np.ndarray, np.ndarray]]]],
    blocks: Sequence[tuple[int, int]],
    measure: str,
    title: str,
) -> Figure:
    """Per task (name and one ``(steps, values)`` curve per run), each run faintly and the mean
    over runs where they share their steps, over the blocks shaded."""
    figure = Figure(figsize=(9, 4.2), layout="constrained")
    axes = figure.add_subplot()
    _shade_blocks(axes, blocks)
    for task, (name, runs) in enumerate(curves):
        if not runs:
            continue
        color = COLORS[task % 10]
        same_steps = all(np.array_equal(steps, runs[0][0]) for steps, _ in runs)
        for index, (steps, values) in enumerate(runs if len(runs) > 1 else []):
            # Without a mean line (runs evaluated at different steps) the faint lines carry
            # the task's legend entry.
            name_here = label(name) if index == 0 and not same_steps else None
            axes.plot(steps, values, color=color, alpha=0.25, linewidth=0.8, label=name_here)
        if same_steps:
            mean = np.mean([values for _, values in runs], axis=0)
            axes.plot(runs[0][0], mean, color=color, linewidth=2, label=label(name), marker=".")
    axes.set_xlabel("training steps (shading: the task being trained)")
    axes.set_ylabel(measure)
    axes.set_title(title)
    axes.legend(loc="best", fontsize="small")
    return figure


def curves_figure(
    runs: Sequence[Rounds], blocks: Sequence[tuple[int, int]], measure: str
) -> Figure:
    """Every task's performance over training; the mean over runs, each run faintly."""
    curves = [
        (name, [(run.steps, run.performance[:, task]) for run in runs])
        for task, name in enumerate(runs[0].task_names)
    ]
    title = f"per-task {measure} during training ({len(runs)} run(s))"
    return _task_curves_figure(curves, blocks, measure, title)


def measure_figure(
    runs: Sequence[Sequence[dict]],
    blocks: Sequence[tuple[int, int]],
    task_names: Sequence[str],
    measure: str,
) -> Figure:
    """An agent's own measure of every task over training (its records in ``results.jsonl``,
    one list per run); the mean over runs where they measured at the same steps, each run
    faintly."""
    curves = []
    for task, name in enumerate(task_names):
        task_runs = []
        for records in runs:
            own = np.array(
                sorted(
                    (record["eval_step"], record["value"])
                    for record in records
                    if record["measure"] == measure and record["evaluated_task"] == task
                ),
                dtype=float,
            )
            if len(own):
                task_runs.append((own[:, 0], own[:, 1]))
        curves.append((name, task_runs))
    title = f"the agent's {measure} per task ({len(runs)} run(s))"
    return _task_curves_figure(curves, blocks, measure, title)


def matrix_figure(
    matrix: np.ndarray,
    task_names: Sequence[str],
    measure: str,
    block_tasks: Sequence[int] | None = None,
) -> Figure:
    """Heatmap of ``R[b, j]``: task ``j`` (columns) at the end of block ``b`` (rows).

    ``block_tasks[b]`` is the task trained in block ``b``; each row names it, as a block's
    index alone does not say which task was just learned. Without it rows give the index only.
    """
    rows, columns = matrix.shape
    if block_tasks is not None and len(block_tasks) != rows:
        raise ValueError(f"{rows} matrix rows but {len(block_tasks)} block tasks")
    figure = Figure(figsize=(max(4.5, 1.2 + 0.9 * columns), 1.0 + 0.6 * rows), layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(matrix, cmap="viridis", aspect="auto")
    figure.colorbar(image, ax=axes, label=measure)
    axes.set_xticks(
        range(columns), labels=[label(name) for name in task_names], rotation=30, ha="right"
    )
    axes.set_yticks(
        range(rows),
        labels=[
            f"after block {row}"
            + ("" if block_tasks is None else f" ({label(task_names[block_tasks[row]])})")
            for row in range(rows)
        ],
    )
    for row in range(rows):
        for column in range(columns):
            value = matrix[row, column]
            axes.text(
                column,
                row,
                f"{value:.2f}",
                ha="center",
                va="center",
                fontsize=8,
                color="white" if value < np.nanmean(matrix) else "black",
            )
    axes.set_title(f"performance matrix ({measure})")
    return figure


# Panels of the stability figure at most: 20 (CW20's 19 switches) in rows of four stay legible.
MAX_SWITCHES = 20
SWITCH_COLUMNS = 4


def stability_figure(
    rounds: Rounds,
    blocks: Sequence[tuple[int, int]],
    measure: str,
    max_switches: int = MAX_SWITCHES,
) -> Figure:
    """Close-ups around every task switch: earlier tasks' performance as a new one starts.

    A dip right after a switch that recovers later is the stability gap. Each panel draws the
    tasks trained before its switch (solid) and the task starting there if it is new (dotted),
    so the first switch shows its one earlier task beside the newcomer. Panels share one
    y-scale, so dips compare across switches. Past ``max_switches`` only the first are drawn,
    and the title says so.
    """
    all_starts = np.cumsum([steps for _, steps in blocks])[:-1]
    starts = all_starts[:max_switches]
    if len(starts) == 0:
        figure = Figure(figsize=(4, 3.4), layout="constrained")
        figure.text(0.5, 0.5, "one block only: no task switch", ha="center")
        return figure
    # As few rows as SWITCH_COLUMNS allows, filled evenly (5 switches: 3 + 2, not 4 + 1).
    rows = -(-len(starts) // SWITCH_COLUMNS)
    columns = -(-len(starts) // rows)
    figure = Figure(figsize=(4 * columns, 0.6 + 3.2 * rows), layout="constrained")
    grid = figure.subplots(rows, columns, sharey=True, squeeze=False)
    for axes in grid.flat[len(starts) :]:
        axes.set_visible(False)
    half_window = min(steps for _, steps in blocks) / 2
    for index, start in enumerate(starts):
        axes = grid.flat[index]
        near = (rounds.steps >= start - half_window) & (rounds.steps <= start + half_window)
        earlier = {task for task, _ in blocks[: index + 1]}
        incoming = blocks[index + 1][0]
        for task in sorted(earlier | {incoming}):
            new = task not in earlier
            axes.plot(
                rounds.steps[near],
                rounds.performance[near, task],
                marker=".",
                linestyle=":" if new else "-",
                color=COLORS[task % 10],
                label=label(rounds.task_names[task]) + (" (starts)" if new else ""),
            )
        axes.axvline(start, color="black", linestyle="--", linewidth=0.8)
        previous = label(rounds.task_names[blocks[index][0]])
        axes.set_title(
            f"switch {index + 1}: {previous} \u2192 {label(rounds.task_names[incoming])}\n"
            f"at step {start}",
            fontsize="medium",
        )
        axes.set_xlabel("training steps")
        # Few ticks: step counts are wide numbers and would run into each other.
        axes.xaxis.set_major_locator(MaxNLocator(4))
        if index % columns == 0:
            axes.set_ylabel(measure)
        axes.legend(fontsize="x-small")
    shown = (
        f"all {len(all_starts)} task switches"
        if len(starts) == len(all_starts)
        else f"the first {len(starts)} of {len(all_starts)} task switches (more are not legible)"
    )
    figure.suptitle(
        f"{measure} around {shown}; one y-scale. Solid: tasks trained before the switch; "
        "dotted: a task starting there",
        fontsize="medium",
    )
    return figure
