"""Every agent config of ``envsuite-train`` trains end to end on a tiny budget and leaves a
report; composed through hydra's compose API on the shipped configs, run in this process."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
import yaml
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from train_helpers import BASELINES, cartpoles, pendulums, run_overrides, write_sequence

from agents.training.checkpoints import (
    BLOCKS_FOLDER,
    checkpoint_path,
    latest_checkpoint,
    load_checkpoint,
)
from agents.training.command import run
from agents.training.config import register_configs
from agents.training.settings import read_settings
from envsuite.data import data_path
from envsuite.evaluation import load_run

register_configs()  # the structured config that compose() reads
STEPS_PER_TASK = 150
WITH_TENSORBOARD = ("ppo", "sac_ewc", "dqn_replay")
# Tiny budgets: the point is that every config runs through, not that it learns.
TINY_HYPERPARAMETERS = {
    "ppo": {"n_steps": 64, "batch_size": 32, "n_epochs": 1},
    "sac": {"learning_starts": 50, "batch_size": 32, "buffer_size": 1000},
    "dqn": {"learning_starts": 50, "batch_size": 32, "buffer_size": 1000},
}


def _write_sequences(folder: Path) -> dict[str, Path]:
    """Two-task sequences: CartPole twice (Discrete actions), Pendulum twice (Box actions)."""
    return {
        "discrete": write_sequence(
            folder / "test" / "discrete.yaml", cartpoles("TrainTestCartPoles", STEPS_PER_TASK)
        ),
        "box": write_sequence(
            folder / "test" / "box.yaml", pendulums("TrainTestPendulums", STEPS_PER_TASK)
        ),
    }


@pytest.mark.slow
@pytest.mark.parametrize("agent_name", BASELINES)
def test_every_agent_config_trains_and_reports(agent_name: str, tmp_path: Path) -> None:
    algorithm, _, rest = agent_name.partition("_")
    agent = {
        "algorithm": algorithm,
        "method": rest if rest in ("ewc", "l2", "replay") else "finetune",
        "mode": rest if rest in ("multitask", "single_task") else "continual",
    }
    sequences = _write_sequences(tmp_path)
    sequence = sequences["box" if agent["algorithm"] == "sac" else "discrete"]
    overrides = run_overrides(
        agent_name,
        sequence,
        STEPS_PER_TASK,
        "checkpoint.every=100",
        "logging.every=50",
        "mode.blocks_per_task=5" if agent["mode"] == "multitask" else "seed=0",
        # Tensorboard's performance-matrix figure costs more than these runs' training.
        f"logging.tensorboard={agent_name in WITH_TENSORBOARD}",
        # Videos of every second round (0 and 2 of 0, 150, 300) where tensorboard is on.
        f"eval.video_every={2 if agent_name in WITH_TENSORBOARD else 0}",
        *_tiny_hyperparameters(agent["algorithm"]),
    )
    if agent["method"] == "ewc":
        overrides.append("agent.method_options.fisher_samples=32")
    run_dir = tmp_path / "run"
    with initialize_config_dir(config_dir=str(data_path("configs")), version_base="1.3"):
        run(compose(config_name="config", overrides=overrides), run_dir, overrides)

    total_steps = 2 * STEPS_PER_TASK
    assert (run_dir / "report" / "metrics.json").is_file()
    assert (run_dir / "report" / "report.html").is_file()
    loaded = load_run(run_dir)  # complete: evaluated up to the schedule's end, every round whole
    assert int(loaded.table.eval_step.max()) == total_steps
    final = latest_checkpoint(run_dir)
    assert final is not None
    assert load_checkpoint(final)["global_step"] == total_steps
    saved = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert saved["agent"]["algorithm"] == agent["algorithm"]
    assert saved["agent"]["method"] == agent["method"]
    assert saved["mode"]["name"] == agent["mode"]
    metrics = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert metrics[-1]["global_step"] == total_steps
    if agent_name in WITH_TENSORBOARD:
        events = EventAccumulator(str(run_dir), size_guidance={"images": 0})
        events.Reload()
        tags = events.Tags()["scalars"]
        assert any(tag.startswith("eval/") for tag in tags), "no evaluation events"
        # SB3's own losses reach the run's writer through the agent's update().
        assert any(tag.startswith("agent/train/") for tag in tags), tags
        videos = sorted(path.relative_to(run_dir / "videos") for path in run_dir.glob("videos/*/*"))
        tasks = sorted({path.parts[0] for path in videos})
        assert len(tasks) == 2, videos
        assert videos == [
            Path(task) / f"step_{step:09d}.gif" for task in tasks for step in (0, total_steps)
        ]
        task_tag = f"eval/{tasks[0]}/video"
        assert [event.step for event in events.Images(task_tag)] == [0, total_steps]
    if agent["mode"] == "multitask":
        assert len(loaded.info.blocks) > 2, "multi-task runs interleave the tasks"
        # Rounds and checkpoints every eval.every and checkpoint.every steps and at the end,
        # not at each of the many short blocks' ends.
        rounds = sorted(set(loaded.table.eval_step.tolist()))
        assert rounds == [0, STEPS_PER_TASK, total_steps]
        # The newest checkpoint.keep=2 full checkpoints, and no block-end snapshots.
        assert sorted(path.name for path in final.parent.iterdir()) == [
            checkpoint_path(run_dir, 200).name,
            final.name,
        ]
        # Without block-end rounds the report gives the final performance alone.
        assert loaded.info.block_end_rounds is False
        report = json.loads((run_dir / "report" / "metrics.json").read_text())
        assert [name for name, value in report["aggregate"].items() if value is not None] == [
            "average_performance"
        ]
        assert not (run_dir / "report" / "matrix.png").exists()
    else:
        # A snapshot without replay at each block end (the last one included), kept for analysis.
        blocks = sorted((run_dir / BLOCKS_FOLDER).iterdir())
        assert [load_checkpoint(path)["global_step"] for path in blocks] == [
            STEPS_PER_TASK,
            total_steps,
        ]
        assert all(load_checkpoint(path)["agent"]["replay"] is None for path in blocks)
    if agent["mode"] == "single_task":
        references = json.loads((run_dir / "references.json").read_text())
        assert set(references) == {"cartpole", "cartpole-sutton"} or set(references) == {
            "pendulum-g5",
            "pendulum-g15",
        }
        for curve in references.values():
            # From untrained (the round at step 0) to the end of the task's own training.
            assert curve["steps"][0] == 0
            assert curve["steps"][-1] == STEPS_PER_TASK
            assert len(curve["steps"]) == len(curve["performance"])
    torch.set_num_threads(1)  # a run may not leave torch's thread count raised for the next


@pytest.mark.parametrize(
    "experiment",
    sorted(path.stem for path in (data_path("configs") / "experiment").glob("*.yaml")),
)
def test_every_named_experiment_composes_into_valid_settings(experiment: str) -> None:
    with initialize_config_dir(config_dir=str(data_path("configs")), version_base="1.3"):
        config = compose(config_name="config", overrides=[f"experiment={experiment}"])
    settings = read_settings(OmegaConf.to_container(config, resolve=True, enum_to_str=True))
    # What the file sets reaches the settings.
    written = yaml.safe_load(
        (data_path("configs") / "experiment" / f"{experiment}.yaml").read_text()
    )
    steps = written.get("sequence_overrides", {}).get("steps_per_task")
    if steps is not None:
        assert settings.sequence.steps_per_task == steps
    for key, value in written.get("agent", {}).items():
        assert getattr(settings.agent, key) == value, key


def test_sequence_overrides_from_the_command_line_reach_the_sequence() -> None:
    with initialize_config_dir(config_dir=str(data_path("configs")), version_base="1.3"):
        config = compose(
            config_name="config",
            overrides=[
                "agent=dreamerv3",
                "sequence=MinigamesCross",
                # `+`: task_kwargs is an open mapping, whose keys hydra adds, not overrides.
                "+sequence_overrides.task_kwargs.obs_mode=pixels",
                "+sequence_overrides.task_kwargs.max_episode_steps=50",
                "sequence_overrides.steps_per_task=200",
            ],
        )
    settings = read_settings(OmegaConf.to_container(config, resolve=True, enum_to_str=True))
    assert settings.sequence.steps_per_task == 200
    for task in settings.sequence.tasks:
        assert task.kwargs == {"obs_mode": "pixels", "max_episode_steps": 50}


def _tiny_hyperparameters(algorithm: str) -> list[str]:
    # `+`: the hyperparameters are SB3's open set of constructor arguments, not config keys.
    return [
        f"+agent.hyperparameters.{key}={value}"
        for key, value in TINY_HYPERPARAMETERS[algorithm].items()
    ]


def _short_ppo_run(sequence: Path, *more: str) -> list[str]:
    """The overrides of a short PPO run with no report."""
    return run_overrides(
        "ppo",
        sequence,
        STEPS_PER_TASK,
        "report.enabled=false",
        *more,
        *_tiny_hyperparameters("ppo"),
    )


def test_ppo_trains_on_four_envs_on_one_clock(tmp_path: Path) -> None:
    sequence = _write_sequences(tmp_path)["discrete"]
    overrides = _short_ppo_run(
        sequence, "agent.num_envs=4", "checkpoint.every=100", "logging.tensorboard=false"
    )
    run_dir = tmp_path / "run"
    with initialize_config_dir(config_dir=str(data_path("configs")), version_base="1.3"):
        run(compose(config_name="config", overrides=overrides), run_dir, overrides)
    # Steps of 4 env steps: the block end and period at 150 are reached at 152, the end at 300.
    loaded = load_run(run_dir)
    assert sorted(set(loaded.table.eval_step.tolist())) == [0, 152, 300]
    assert load_checkpoint(latest_checkpoint(run_dir))["global_step"] == 300
    # checkpoint.every=100 is reached at 100 and 200 (keep=2 leaves the newest two).
    kept = sorted(path.name for path in (run_dir / "checkpoints").glob("*.pt"))
    assert kept == [checkpoint_path(run_dir, 200).name, checkpoint_path(run_dir, 300).name]
    blocks = sorted(path.name for path in (run_dir / BLOCKS_FOLDER).glob("*.pt"))
    assert blocks == [checkpoint_path(run_dir, 152).name, checkpoint_path(run_dir, 300).name]


def test_a_run_interrupted_before_its_first_checkpoint_restarts_from_step_zero(
    tmp_path: Path,
) -> None:
    sequence = _write_sequences(tmp_path)["discrete"]
    overrides = _short_ppo_run(sequence, "logging.tensorboard=false")
    run_dir = tmp_path / "run"
    with initialize_config_dir(config_dir=str(data_path("configs")), version_base="1.3"):
        run(compose(config_name="config", overrides=overrides), run_dir, overrides)
        # What a run killed before its first checkpoint leaves: its config, some results.
        shutil.rmtree(run_dir / "checkpoints")
        # The run's command line repeated (hydra refuses a `+key` given twice) with changes to
        # what a resume may change: how the run reports itself, and its device.
        resume = [f"resume={run_dir}", *overrides, "report.enabled=true", "device=auto"]
        run(compose(config_name="config", overrides=resume), run_dir, resume)

    loaded = load_run(run_dir)  # would refuse the first run's rounds recorded twice
    assert sorted(set(loaded.table.eval_step.tolist())) == [0, STEPS_PER_TASK, 2 * STEPS_PER_TASK]
    assert load_checkpoint(latest_checkpoint(run_dir))["global_step"] == 2 * STEPS_PER_TASK
    metrics = [json.loads(line)["global_step"] for line in (run_dir / "metrics.jsonl").open()]
    # logging.every (1000) exceeds the run: its one line comes at the end.
    assert metrics == [2 * STEPS_PER_TASK]
    assert (run_dir / "report" / "metrics.json").is_file()


def test_a_resume_refused_by_the_results_store_leaves_the_run_as_it_was(tmp_path: Path) -> None:
    sequence = _write_sequences(tmp_path)["discrete"]
    overrides = _short_ppo_run(sequence)
    run_dir = tmp_path / "run"
    with initialize_config_dir(config_dir=str(data_path("configs")), version_base="1.3"):
        run(compose(config_name="config", overrides=overrides), run_dir, overrides)
        # The sequence file changed under the run: its results describe other tasks.
        fields = yaml.safe_load(sequence.read_text())
        fields["tasks"][1]["name"] = "renamed"
        write_sequence(sequence, fields)
        before = {path: path.stat().st_mtime_ns for path in run_dir.rglob("*")}
        resume = [f"resume={run_dir}"]
        with pytest.raises(SystemExit) as exit_info:
            run(compose(config_name="config", overrides=resume), run_dir, resume)
    assert exit_info.value.code == 2
    assert {path: path.stat().st_mtime_ns for path in run_dir.rglob("*")} == before
