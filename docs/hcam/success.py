"""Each task's evaluation success at every evaluation round, mean over runs with a bootstrap 95%
CI: the tables of docs/hcam.md's "Reinforcement learning" section.

    python docs/hcam/success.py multirun/DATE/TIME/hcam/* multirun/DATE/TIME/memory_lstm/*

Runs are grouped by the folder above them (the agent's, in a multirun).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from envsuite.evaluation import load_run
from envsuite.metrics.aggregate import aggregate_runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run directories")
    arguments = parser.parse_args()
    groups: dict[str, list[Path]] = {}
    for run_dir in arguments.runs:
        groups.setdefault(run_dir.parent.name, []).append(run_dir)
    for group, run_dirs in groups.items():
        # (task, step) -> each run's success rate there
        rates: dict[tuple[str, int], list[float]] = {}
        for run_dir in run_dirs:
            table = load_run(run_dir).table
            for task, name in enumerate(table.task_names):
                for step in np.unique(table.eval_step):
                    rounds = (table.evaluated_task == task) & (table.eval_step == step)
                    rate = float(np.mean(table.success[rounds]))
                    rates.setdefault((name, int(step)), []).append(rate)
        for (task, step), values in sorted(rates.items()):
            mean = aggregate_runs(np.array(values)[:, None], aggregates=("mean",))["mean"]
            print(
                f"{group:12s} {task:28s} step {step:7d}: {mean.value:.2f} "
                f"[{mean.low:.2f}, {mean.high:.2f}]  ({', '.join(f'{v:.2f}' for v in values)})"
            )


if __name__ == "__main__":
    main()
