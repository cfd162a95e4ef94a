"""Sweep throughput: each job of a joblib sweep against a lone job, with ``threads=auto`` (each
job its share of the cores) and with every job using every core (what a sweep did before).

Runs ``envsuite-train`` itself, in subprocesses: PPO through CartPole and Acrobot, no report,
no tensorboard, evaluation only at the block ends. A job's rate is its global steps over its
training time (the last ``metrics.jsonl`` line's ``elapsed_seconds``); the ratio is a job's
rate over the lone job's with ``threads=auto`` (1.0: the sweep's jobs do not slow each other).
A lone job with one thread is timed too (``--settings fixed``, a default): a small MLP may run
faster on one thread than on two.

Run: ``python benchmarks/sweep_threads.py`` (about three minutes on two cores); ``--help`` for
the options.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from agents.training.settings import available_cores


def job_rate(run_dir: Path) -> float:
    """Global steps per second of training of the run in ``run_dir``."""
    last = json.loads((run_dir / "metrics.jsonl").read_text().splitlines()[-1])
    return last["global_step"] / last["elapsed_seconds"]


def train(arguments: list[str], cwd: Path) -> None:
    command = [sys.executable, "-m", "agents.train", *arguments]
    completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{completed.stdout}{completed.stderr}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps-per-task", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=2, help="parallel jobs of the sweep")
    parser.add_argument(
        "--settings",
        nargs="+",
        choices=("auto", "fixed"),
        default=["auto", "fixed"],
        help="thread settings to run: auto (threads=auto), fixed (1 thread for the lone job, "
        "one per core for each of the sweep's jobs)",
    )
    options = parser.parse_args()
    if "auto" not in options.settings:
        parser.error("--settings: include auto, the lone job the ratios are taken against")
    settings = [setting for setting in ("auto", "fixed") if setting in options.settings]

    cores = available_cores()
    lone_threads = {"auto": "auto", "fixed": "1"}
    sweep_threads = {"auto": "auto", "fixed": str(cores)}
    steps = options.steps_per_task
    common = [
        "algorithm=ppo",
        "sequence=ClassicCartPoleAcrobot",
        f"sequence_overrides.steps_per_task={steps}",
        "device=cpu",
        f"eval.every={2 * steps}",
        "eval.episodes=1",
        f"checkpoint.every={2 * steps}",
        "logging.tensorboard=false",
        "logging.progress_bar=false",
        "report.enabled=false",
    ]
    seeds = ",".join(str(seed) for seed in range(options.jobs))
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        rows = []
        for threads in (lone_threads[setting] for setting in settings):
            train([*common, f"threads={threads}", f"hydra.run.dir={root / threads}"], root)
            rows.append(("lone job", threads, job_rate(root / threads)))
        lone = rows[0][2]
        for threads in (sweep_threads[setting] for setting in settings):
            sweep = root / f"sweep_{threads}"
            train(
                [
                    "-m",
                    f"seed={seeds}",
                    *common,
                    f"threads={threads}",
                    f"hydra.launcher.n_jobs={options.jobs}",
                    f"hydra.sweep.dir={sweep}",
                ],
                root,
            )
            for index, job in enumerate(sorted(sweep.glob("*/*"))):
                rate = job_rate(job)
                rows.append((f"sweep job {index}", threads, rate))
    print(
        f"PPO on CartPole/Acrobot, {2 * steps} steps per job, {cores} cores; threads=auto gives "
        f"a lone job {cores} threads, each of {options.jobs} parallel jobs "
        f"{max(1, cores // options.jobs)}"
    )
    print(f"{'run':<32} {'threads':>7} {'steps/s':>9} {'vs lone (auto)':>15}")
    for name, threads, rate in rows:
        print(f"{name:<32} {threads:>7} {rate:>9.0f} {rate / lone:>14.2f}x")


if __name__ == "__main__":
    main()
