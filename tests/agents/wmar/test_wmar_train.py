"""``envsuite-train agent=wmar`` end to end at tiny sizes: a four-task sequence trained,
evaluated, its replay diagnostics and each task's held-out world-model loss logged, and the
report written with them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from envsuite.evaluation import load_run

pytestmark = pytest.mark.slow

STEPS_PER_TASK = 100
TINY_WMAR = [
    "agent=wmar",
    "size=XS",
    "agent.batch_size=4",
    "agent.sequence_length=8",
    "agent.chunk_length=16",
    "agent.replay_capacity=36",
    "agent.long_term_capacity=54",
    "agent.prefill=64",
    "agent.train_ratio=8",
    "agent.horizon=5",
    "agent.log_every=10",
    "agent.held_out_steps=30",
]


def test_wmar_trains_a_sequence_and_reports_it(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "agents.train",
            *TINY_WMAR,
            "sequence=MinigamesCatchSpeed",
            f"sequence_overrides.steps_per_task={STEPS_PER_TASK}",
            "device=cpu",
            "threads=1",
            f"eval.every={STEPS_PER_TASK}",
            "eval.episodes=2",
            "logging.progress_bar=false",
            f"hydra.run.dir={run_dir}",
        ],
        cwd=tmp_path,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    run = load_run(run_dir)
    assert len(run.info.task_names) == 4
    assert np.unique(run.table.eval_step).tolist() == [0, 100, 200, 300, 400]
    events = EventAccumulator(str(run_dir))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {
        "agent/world_model/loss",
        "agent/replay/long_term_drawn",
        "agent/replay/sampled_age",
        "agent/replay/long_term/share/catch-speed-0.3",
        "agent/replay/recent/share/catch-speed-0.9",
    } <= tags
    # By the last task the recent store holds the first task's steps no longer.
    shares = events.Scalars("agent/replay/recent/share/catch-speed-0.3")
    assert shares[-1].value == 0.0
    # Each task's held-out loss from the first round after its held-out steps came in.
    measured = {(record["eval_step"], record["evaluated_task"]) for record in run.measures}
    assert measured == {
        (step, task) for task in range(4) for step in range(100, 401, 100) if step > 100 * task
    }
    assert (run_dir / "report" / "measure_world_model_loss.png").is_file()
    metrics = json.loads((run_dir / "report" / "metrics.json").read_text())
    assert len(metrics["runs"][0]["measures"]) == len(measured)

    # docs/wmar.md's comparison script reads the same run (as both arms, here).
    script = Path(__file__).parents[3] / "docs" / "wmar" / "compare.py"
    figure = tmp_path / "compare.png"
    arms = ["--wmar", str(run_dir), "--fifo", str(run_dir)]
    compared = subprocess.run(
        [sys.executable, str(script), *arms, "--out", str(figure)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert compared.returncode == 0, compared.stdout + compared.stderr
    loss = {
        record["eval_step"]: record["value"]
        for record in run.measures
        if record["evaluated_task"] == 0
    }
    ratio = loss[400] / loss[100]  # the end of the run over the end of task 0's block
    ratios = compared.stdout.split("loss_ratio")[1]
    assert f"| catch-speed-0.3 | {ratio:.2f} [{ratio:.2f}, {ratio:.2f}] |" in ratios
    assert figure.is_file()
