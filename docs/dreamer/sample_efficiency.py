"""Each task's return at steps of its own training, mean over the seeds of ``mode=single_task``
runs with a bootstrap 95% CI: the table of docs/dreamer.md's "Sample efficiency" section.

    python docs/dreamer/sample_efficiency.py multirun/DATE/TIME/dreamerv3_XS_single_task/*

Reads every run directory's ``references.json`` (each task's curve under its own agent).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from envsuite.metrics.aggregate import aggregate_runs


def own_curves(run_dirs: list[Path]) -> dict[str, dict[int, list[float]]]:
    """Task name -> step -> the runs' returns there."""
    curves: dict[str, dict[int, list[float]]] = {}
    for run_dir in run_dirs:
        path = run_dir / "references.json"
        if not path.is_file():
            raise SystemExit(f"{run_dir}: no references.json (is it a mode=single_task run?)")
        for task, curve in json.loads(path.read_text()).items():
            for step, value in zip(curve["steps"], curve["performance"], strict=True):
                curves.setdefault(task, {}).setdefault(step, []).append(value)
    return curves


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="mode=single_task run directories")
    arguments = parser.parse_args()
    for task, by_step in own_curves(arguments.runs).items():
        for step, values in sorted(by_step.items()):
            mean = aggregate_runs(np.array(values)[:, None], aggregates=("mean",))["mean"]
            print(
                f"{task:16s} step {step:6d}: {mean.value:7.2f} [{mean.low:.2f}, {mean.high:.2f}]"
                f"  ({len(values)} runs: {', '.join(f'{v:g}' for v in values)})"
            )


if __name__ == "__main__":
    main()
