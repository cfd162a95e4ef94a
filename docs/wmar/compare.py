"""WMAR against its ablation of equal memory on one sequence: the tables and the figure of
docs/wmar.md's experiments.

    python docs/wmar/compare.py --wmar RUN_DIR... --fifo RUN_DIR... --out FIGURE.png

Each arm's runs (several seeds) go through ``envsuite report``'s own collection
(``envsuite.report.collect``), so the metrics are the report's. Printed per task, mean over
seeds with a bootstrap 95% CI: Continual World forgetting (the task's performance at the end of
its first block minus at the end of the run, under the report's default reading), windowed
forgetting, the final performance, and the held-out
world-model loss at the end of the task's block, at the end of the run, and their ratio (above
1: the world model forgot the task). The figure shows task 1's return and held-out loss over
training, both arms, with each arm's seeds faint behind its mean.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from envsuite.metrics.aggregate import Estimate, aggregate_runs
from envsuite.report.collect import Report, collect

MEASURE = "world_model_loss"
QUANTITIES = (
    "forgetting",
    "windowed_forgetting",
    "final_return",
    "loss_block_end",
    "loss_end",
    "loss_ratio",
)


def mean_ci(values: Sequence[float]) -> Estimate | None:
    """The mean over runs with its bootstrap 95% CI; None when no run has a finite value."""
    finite = np.array([value for value in values if value is not None and np.isfinite(value)])
    if finite.size == 0:
        return None
    return aggregate_runs(finite[:, None], aggregates=("mean",))["mean"]


def first_block_ends(report: Report) -> list[int]:
    """Per task index, the global step at which the task's first block ends."""
    ends, step = {}, 0
    for task, steps in report.runs[0].run.info.blocks:
        step += steps
        ends.setdefault(task, step)
    return [ends[task] for task in range(len(report.task_names))]


def switches(report: Report) -> np.ndarray:
    """The global steps at which one block ends and the next begins."""
    return np.cumsum([steps for _, steps in report.runs[0].run.info.blocks])[:-1]


def held_out_loss(records: Sequence[dict], task: int, step: int) -> float | None:
    """The task's held-out loss at the last round at or before ``step``."""
    before = [
        (record["eval_step"], record["value"])
        for record in records
        if record["measure"] == MEASURE
        and record["evaluated_task"] == task
        and record["eval_step"] <= step
    ]
    return max(before)[1] if before else None


def task_rows(report: Report) -> dict[str, list[list[float | None]]]:
    """Per quantity, per run, per task."""
    ends, last = first_block_ends(report), sum(steps for _, steps in report.runs[0].run.info.blocks)
    rows: dict[str, list[list[float | None]]] = {quantity: [] for quantity in QUANTITIES}
    for metrics in report.runs:
        if metrics.per_block is None:
            raise SystemExit(f"{metrics.run.directory}: no block-end rounds to measure forgetting")
        records = metrics.run.measures
        at_end = [held_out_loss(records, task, ends[task]) for task in range(len(ends))]
        final = [held_out_loss(records, task, last) for task in range(len(ends))]
        # Per block, in the order played: each task's first block's value, by task index.
        by_task: dict[int, float | None] = {}
        for block, value in zip(
            metrics.rounds.blocks(), metrics.per_block["forgetting"], strict=True
        ):
            by_task.setdefault(block.task, value)
        rows["forgetting"].append([by_task.get(task) for task in range(len(ends))])
        rows["windowed_forgetting"].append(metrics.per_task["windowed_forgetting"])
        rows["final_return"].append(metrics.per_task["final_performance"])
        rows["loss_block_end"].append(at_end)
        rows["loss_end"].append(final)
        rows["loss_ratio"].append(
            [
                None if start is None or end is None else end / start
                for start, end in zip(at_end, final, strict=True)
            ]
        )
    return rows


def print_table(arms: dict[str, Report]) -> None:
    names = next(iter(arms.values())).task_names
    arm_rows = {arm: task_rows(report) for arm, report in arms.items()}
    for quantity in QUANTITIES:
        print(f"\n{quantity} (mean over seeds [95% CI])")
        print(f"| task | {' | '.join(arms)} |")
        print(f"|---|{'---:|' * len(arms)}")
        rows = {arm: arm_rows[arm][quantity] for arm in arms}
        for task, name in enumerate(names):
            cells = []
            for arm in arms:
                estimate = mean_ci([run[task] for run in rows[arm]])
                cells.append(
                    "-"
                    if estimate is None
                    else f"{estimate.value:.2f} [{estimate.low:.2f}, {estimate.high:.2f}]"
                )
            print(f"| {name} | {' | '.join(cells)} |")


def figure(arms: dict[str, Report], task: int, out: Path) -> None:
    report = next(iter(arms.values()))
    fig, (returns_axes, loss_axes) = plt.subplots(1, 2, figsize=(11, 3.8))
    colours = dict(zip(arms, ("tab:blue", "tab:orange", "tab:green"), strict=False))
    for arm, arm_report in arms.items():
        curves = []
        for metrics in arm_report.runs:
            rounds = metrics.rounds
            curves.append((np.asarray(rounds.steps), np.asarray(rounds.performance)[:, task]))
        _plot(returns_axes, curves, colours[arm], arm)
        losses = []
        for metrics in arm_report.runs:
            own = sorted(
                (record["eval_step"], record["value"])
                for record in metrics.run.measures
                if record["measure"] == MEASURE and record["evaluated_task"] == task
            )
            losses.append((np.array([s for s, _ in own]), np.array([v for _, v in own])))
        _plot(loss_axes, losses, colours[arm], arm)
    for axes in (returns_axes, loss_axes):
        for step in switches(report):
            axes.axvline(step, color="grey", linewidth=0.8, linestyle="--")
        axes.set_xlabel("global step")
    name = report.task_names[task]
    returns_axes.set_title(f"{name}: {report.measure} (mean of a round's episodes)")
    loss_axes.set_title(f"{name}: held-out world-model loss")
    loss_axes.set_yscale("log")
    returns_axes.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"\nwrote {out}")


def _plot(axes, curves: list[tuple[np.ndarray, np.ndarray]], colour: str, label: str) -> None:
    for steps, values in curves:
        axes.plot(steps, values, color=colour, alpha=0.25, linewidth=0.8)
    shared = curves[0][0]
    if all(np.array_equal(steps, shared) for steps, _ in curves):
        axes.plot(
            shared, np.mean([values for _, values in curves], axis=0), color=colour, label=label
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wmar", nargs="+", type=Path, required=True, help="WMAR run dirs")
    parser.add_argument("--fifo", nargs="+", type=Path, required=True, help="ablation run dirs")
    parser.add_argument("--task", type=int, default=0, help="the task the figure shows")
    parser.add_argument("--out", type=Path, required=True, help="the figure's path (.png)")
    arguments = parser.parse_args()
    arms = {"WMAR": collect(arguments.wmar), "DreamerV3 FIFO": collect(arguments.fifo)}
    wmar, fifo = arms.values()
    if (wmar.sequence_id, wmar.task_names, wmar.runs[0].run.info.blocks) != (
        fifo.sequence_id,
        fifo.task_names,
        fifo.runs[0].run.info.blocks,
    ):
        raise SystemExit(
            f"--wmar ran {wmar.sequence_id} and --fifo {fifo.sequence_id}, or with other tasks or "
            "schedules: compare runs of one sequence and schedule"
        )
    if not 0 <= arguments.task < len(wmar.task_names):
        raise SystemExit(
            f"--task: must be a task index in [0, {len(wmar.task_names)}), got {arguments.task}"
        )
    print_table(arms)
    figure(arms, arguments.task, arguments.out)


if __name__ == "__main__":
    main()
