"""The benchmark scripts run end to end (tiny budgets): a broken benchmark is found by make test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).parents[1] / "benchmarks"


def run_benchmark(name: str, *arguments: str) -> str:
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / name), *arguments],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return completed.stdout


def test_the_minigames_benchmark_times_both_sides_and_prints_ratios() -> None:
    tiny = ["--chunks", "1", "--num-envs", "8", "--single-steps", "50", "--batched-steps", "2"]
    out = run_benchmark("minigames.py", "--games", "Breakout", "Catch", *tiny)
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    breakout, catch = rows["Breakout"], rows["Catch"]
    # MinAtar has Breakout: both ratio columns hold a figure; it has no Catch: dashes.
    assert breakout[3].endswith(("x", "x!")), out
    assert breakout[5].endswith(("x", "x!")), out
    assert (catch[1], catch[3], catch[5]) == ("-", "-", "-"), out


def test_the_navigation_benchmark_times_both_sides_and_prints_ratios() -> None:
    tiny = ["--chunks", "1", "--num-envs", "8", "--single-steps", "50", "--batched-steps", "2"]
    out = run_benchmark("navigation.py", *tiny)
    row = next(line for line in out.splitlines() if line.startswith("FourRooms / MazeGoal"))
    cells = row.removeprefix("FourRooms / MazeGoal").split()
    assert cells[2].endswith(("x", "x!")), out
    assert cells[4].endswith(("x", "x!")), out


def test_the_manipulation_benchmark_times_both_sides_and_prints_ratios() -> None:
    out = run_benchmark("manipulation.py", "--chunks", "1", "--single-steps", "20")
    rows = {line[:30].strip(): line[30:].split() for line in out.splitlines()}
    assert rows["Push vs Meta-World push-v3"][2].endswith(("x", "x!")), out
    assert rows["Push vs raw mj_step loop"][2].endswith(("x", "x!")), out


def test_the_sweep_benchmark_compares_sweep_jobs_with_a_lone_job() -> None:
    out = run_benchmark("sweep_threads.py", "--steps-per-task", "300", "--settings", "auto")
    rows = [line.split() for line in out.splitlines() if line.startswith(("lone", "sweep"))]
    assert [row[:2] for row in rows] == [["lone", "job"]] + [["sweep", "job"]] * 2, out
    assert rows[0][-1] == "1.00x", out
    assert all(row[-1].endswith("x") and float(row[-1][:-1]) > 0 for row in rows), out


def test_the_training_loop_benchmark_times_both_sides_and_prints_a_ratio() -> None:
    out = run_benchmark("training_loop.py", "--steps", "600", "--repeats", "1")
    rates = {line[:24].strip(): float(line[24:]) for line in out.splitlines()[2:4] if line.strip()}
    assert set(rates) == {"SB3 model.learn", "agents.training loop"}, out
    assert all(rate > 0 for rate in rates.values()), out
    assert out.splitlines()[-1].startswith("loop / learn: "), out


def test_the_core_benchmark_times_the_single_and_batched_sequence_layers() -> None:
    tiny = ["--chunks", "1", "--chunk-steps", "20", "--num-envs", "8"]
    tiny += ["--batched-chunks", "1", "--batched-steps", "2", "--families", "minigames"]
    out = run_benchmark("core.py", *tiny)
    batched = out.split("ContinualVectorEnv vs task 0's own vector env")[1]
    rows = [line for line in batched.splitlines() if "bound; floor " in line]
    assert [row.split()[0] for row in rows] == [
        "envsuite/MinigamesCatchSpeed-v0",
        "envsuite/MinigamesCross-v0",
        "envsuite/MinigamesCrossPowerlaw-v0",
        "envsuite/MinigamesCrossShort-v0",
        "envsuite/MinigamesRunnerLadder-v0",
        "envsuite/MinigamesRunnerLadderShort-v0",
    ], out
    assert "vs MinAtar's single Breakout gym env" in out, out


def test_the_memory_benchmark_times_hcam_and_full_attention_and_prints_ratios() -> None:
    tiny = ["--memories", "32", "64", "--segment", "4", "--batch", "2", "--width", "16"]
    out = run_benchmark("memory.py", *tiny, "--chunk-size", "4", "--repeats", "1", "--threads", "1")
    rows = [line.split() for line in out.splitlines()[2:]]
    assert [row[0] for row in rows] == ["32", "64"], out
    assert all(float(row[1]) > 0 and float(row[2]) > 0 for row in rows), out
    assert all(row[3].endswith("x") for row in rows), out


def test_the_planner_benchmark_times_the_batched_and_the_naive_planner() -> None:
    tiny = ["--horizon", "3", "--samples", "8", "--elites", "2", "--iterations", "2"]
    out = run_benchmark("planner.py", *tiny, "--hidden", "16", "--repeats", "1", "--threads", "1")
    batched, naive, ratio = out.splitlines()[-1].split()
    assert float(batched) > 0, out
    assert float(naive) > 0, out
    assert ratio.endswith("x"), out
