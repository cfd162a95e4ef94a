"""``envsuite-train agent=hcam`` (and its two presets) end to end on a tiny two-level Ballet:
training, evaluation with the state carried, the report, the attention images, a resume."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from train_helpers import write_sequence

from agents.training.checkpoints import latest_checkpoint, load_checkpoint
from agents.training.command import run
from agents.training.config import register_configs
from agents.training.settings import read_settings
from envsuite.data import data_path
from envsuite.evaluation import load_run

register_configs()
STEPS_PER_TASK = 96
TINY = [
    "agent.width=16",
    "agent.heads=2",
    "agent.window=4",
    "agent.chunk_size=4",
    "agent.num_envs=4",
    "agent.rollout_length=16",
    "agent.minibatches=2",
]


def _ballets(folder: Path) -> Path:
    """Two short Ballet levels (32 steps of show, at most 6 to act), in full view."""
    levels = [{"dancers": 2, "delay": 0}, {"dancers": 4, "delay": 0}]
    return write_sequence(
        folder / "ballets.yaml",
        {
            "name": "TestBallets",
            "version": 0,
            "steps_per_task": STEPS_PER_TASK,
            "tasks": [
                {
                    "id": "envsuite/Ballet-v0",
                    "name": f"ballet-{level['dancers']}",
                    "kwargs": {"view": "full", "act_steps": 6, **level},
                }
                for level in levels
            ],
        },
    )


def _train(overrides: list[str], run_dir: Path) -> None:
    with initialize_config_dir(config_dir=str(data_path("configs")), version_base="1.3"):
        run(compose(config_name="config", overrides=overrides), run_dir, overrides)


def test_hcam_trains_evaluates_reports_and_resumes(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    overrides = [
        "agent=hcam",
        *TINY,
        f"sequence={_ballets(tmp_path)}",
        "device=cpu",
        "threads=1",
        f"eval.every={STEPS_PER_TASK}",
        "eval.episodes=2",
        "checkpoint.every=48",
        "logging.progress_bar=false",
    ]
    _train(overrides, run_dir)
    total = 2 * STEPS_PER_TASK
    loaded = load_run(run_dir)
    assert int(loaded.table.eval_step.max()) == total
    assert (run_dir / "report" / "metrics.json").is_file()
    events = EventAccumulator(str(run_dir), size_guidance={"images": 0})
    events.Reload()
    tags = {f"eval/ballet-{dancers}/memory_attention" for dancers in (2, 4)}
    assert tags <= set(events.Tags()["images"])
    # One image per task and round, at the round's step.
    for tag in tags:
        assert [image.step for image in events.Images(tag)] == [0, STEPS_PER_TASK, total]
    assert "agent/approximate_kl" in events.Tags()["scalars"]
    final = latest_checkpoint(run_dir)
    assert final is not None
    assert load_checkpoint(final)["global_step"] == total

    # Resuming a finished run trains no further and keeps its results.
    _train([*overrides, f"resume={run_dir}"], run_dir)
    assert int(load_run(run_dir).table.eval_step.max()) == total
    torch.set_num_threads(1)


@pytest.mark.parametrize(
    ("name", "core", "width"),
    [
        ("hcam", "hcam", 64),
        ("memory_transformer", "transformer", 80),
        ("memory_window", "window", 80),
        ("memory_lstm", "lstm", 80),
    ],
)
def test_the_agent_names_compose_with_their_cores(name: str, core: str, width: int) -> None:
    with initialize_config_dir(config_dir=str(data_path("configs")), version_base="1.3"):
        config = compose(config_name="config", overrides=[f"agent={name}"])
    settings = read_settings(OmegaConf.to_container(config, resolve=True, enum_to_str=True))
    spec = settings.agent.core_spec()
    assert (settings.agent.name, spec.kind.value, spec.width) == (name, core, width)
