"""Each task's evaluation success at every evaluation round, mean over runs with a bootstrap 95%
CI: the tables of docs/hcam.md's "Reinforcement learning on a CPU" section.

    python docs/hcam/success.py multirun/DATE/TIME/hcam/* multirun/DATE/TIME/memory_lstm/*

Runs are grouped by the folder above them (the agent's, in a multirun); each row names the runs
behind it by seed. Tasks that report no success are left out.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from envsuite.evaluation import load_run
from envsuite.metrics.aggregate import aggregate_runs


def success_rates(run_dirs: list[Path]) -> dict[tuple[str, int], dict[int, float]]:
    """(task, evaluation step) -> seed -> the run's success rate there."""
    rates: dict[tuple[str, int], dict[int, float]] = {}
    for run_dir in run_dirs:
        table = load_run(run_dir).table
        if not table.has_success:
            continue
        for task, name in enumerate(table.task_names):
            for step in np.unique(table.eval_step):
                rounds = (table.evaluated_task == task) & (table.eval_step == step)
                values = table.success[rounds]
                values = values[~np.isnan(values)]
                if len(values):
                    seeds = rates.setdefault((name, int(step)), {})
                    seeds[int(table.seed[rounds][0])] = float(values.mean())
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run directories")
    arguments = parser.parse_args()
    groups: dict[str, list[Path]] = {}
    for run_dir in arguments.runs:
        groups.setdefault(run_dir.parent.name, []).append(run_dir)
    for group, run_dirs in groups.items():
        for (task, step), by_seed in sorted(success_rates(run_dirs).items()):
            values = np.array([by_seed[seed] for seed in sorted(by_seed)])
            mean = aggregate_runs(values[:, None], aggregates=("mean",))["mean"]
            seeds = ", ".join(f"seed {seed}: {by_seed[seed]:.2f}" for seed in sorted(by_seed))
            print(
                f"{group:12s} {task:28s} step {step:7d}: {mean.value:.2f} "
                f"[{mean.low:.2f}, {mean.high:.2f}]  ({seeds})"
            )


if __name__ == "__main__":
    main()
