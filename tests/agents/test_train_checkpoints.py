"""Checkpoints round-trip the whole training state through ``torch.load(weights_only=True)``;
writes are atomic; a resumed results store drops later rounds; ``device=auto`` picks CUDA."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from train_helpers import clocked, train_for

from agents.baselines import build_agent
from agents.common import AgentContext
from agents.training.checkpoints import (
    CheckpointError,
    capture_state,
    checkpoint_path,
    checkpoints_newest_first,
    drop_checkpoints_after,
    latest_readable_checkpoint,
    load_checkpoint,
    restore_state,
    save_checkpoint,
)
from agents.training.loop import make_vector_env, train_agent
from agents.training.run_directory import config_differences
from agents.training.settings import (
    TrainingConfigError,
    available_cores,
    resolve_device,
    resolve_threads,
)
from envsuite import make_sequence
from envsuite.evaluation import RESULTS_FILE, ResultsStore, RunDirectoryError, RunInfo


def _agent(algorithm: str, method: str, sequence: str, seed: int, **hyperparameters: int):
    """A small agent on the first task of ``sequence``, and a factory of that task's env."""
    task = make_sequence(sequence, steps_per_task=100)
    agent = build_agent(
        algorithm,
        method,
        AgentContext.of_env(task.make_task_env(0), total_steps=100, seed=seed, device="cpu"),
        hyperparameters=hyperparameters,
    )
    return agent, clocked(lambda: task.make_task_env(0), 100)


def _sac_with_reservoir_replay(seed: int):
    return _agent(
        "sac",
        "replay",
        "ClassicPendulumGravity",
        seed,
        learning_starts=20,
        batch_size=16,
        buffer_size=500,
    )


def test_checkpoint_restores_model_optimiser_buffer_and_rng(tmp_path: Path) -> None:
    trained, make_env = _sac_with_reservoir_replay(seed=0)
    train_for(trained, make_env, 60)
    path = tmp_path / "checkpoints" / "step_000000060.pt"
    save_checkpoint(path, capture_state(trained, 60, include_replay=True))
    expected_draws = (np.random.rand(3), torch.rand(3))

    fresh, _ = _sac_with_reservoir_replay(seed=1)
    restore_state(fresh, load_checkpoint(path))

    for name, tensor in trained.model.policy.state_dict().items():
        torch.testing.assert_close(fresh.model.policy.state_dict()[name], tensor)
    trained_optimiser = trained.model.actor.optimizer.state_dict()["state"]
    fresh_optimiser = fresh.model.actor.optimizer.state_dict()["state"]
    assert trained_optimiser, "the optimiser has taken steps"
    assert trained_optimiser.keys() == fresh_optimiser.keys()
    for key, values in trained_optimiser.items():
        torch.testing.assert_close(fresh_optimiser[key]["exp_avg"], values["exp_avg"])
    torch.testing.assert_close(fresh.model.log_ent_coef, trained.model.log_ent_coef)
    assert fresh.model.num_timesteps == 60
    assert (
        fresh.model.action_space.np_random.bit_generator.state
        == trained.model.action_space.np_random.bit_generator.state
    )
    trained_buffer, fresh_buffer = trained.model.replay_buffer, fresh.model.replay_buffer
    assert (fresh_buffer.pos, fresh_buffer.full) == (trained_buffer.pos, trained_buffer.full)
    trained_storage, fresh_storage = trained_buffer.transitions, fresh_buffer.transitions
    assert len(fresh_storage) == len(trained_storage) == 60
    assert fresh_storage.state() == trained_storage.state()
    assert fresh_storage.seed == trained_storage.seed  # the same samples from here on
    for name, array in trained_storage.persistent_arrays().items():
        np.testing.assert_array_equal(fresh_storage.persistent_arrays()[name][:60], array[:60])
    draws = (np.random.rand(3), torch.rand(3))
    np.testing.assert_array_equal(draws[0], expected_draws[0])
    torch.testing.assert_close(draws[1], expected_draws[1])


def test_a_checkpoint_saves_the_buffers_filled_rows_as_views(tmp_path: Path) -> None:
    trained, make_env = _sac_with_reservoir_replay(seed=0)
    train_for(trained, make_env, 60)
    storage = trained.model.replay_buffer.transitions
    arrays = trained.state_dict(include_replay=True)["replay"]["transitions"]["arrays"]
    for name, array in storage.persistent_arrays().items():
        assert len(array) == 500  # the buffer's capacity...
        assert arrays[name].shape[0] == 60  # ...of which the checkpoint holds the filled rows
        assert arrays[name].data_ptr() == array.ctypes.data  # without copying them
    assert trained.state_dict(include_replay=False)["replay"] is None


def test_checkpoint_restores_a_replay_buffer_of_dict_observations(tmp_path: Path) -> None:
    def dqn_on_a_maze(seed: int):
        return _agent(
            "dqn",
            "finetune",
            "NavigationMazeLayouts",
            seed,
            learning_starts=10,
            batch_size=8,
            buffer_size=200,
        )

    trained, make_env = dqn_on_a_maze(seed=0)
    train_for(trained, make_env, 40)
    path = tmp_path / "step_000000040.pt"
    save_checkpoint(path, capture_state(trained, 40, include_replay=True))
    fresh, _ = dqn_on_a_maze(seed=1)
    restore_state(fresh, load_checkpoint(path))

    trained_buffer, fresh_buffer = trained.model.replay_buffer, fresh.model.replay_buffer
    assert fresh_buffer.pos == trained_buffer.pos == 40
    trained_sample = trained_buffer.sample(16)
    fresh_sample = fresh_buffer.sample(16)
    assert set(fresh_sample.observations) == {"image", "direction", "phase", "instruction"}
    assert trained_sample.observations["image"].any()
    for key, tensor in trained_sample.observations.items():
        torch.testing.assert_close(fresh_sample.observations[key], tensor)
    torch.testing.assert_close(fresh_sample.actions, trained_sample.actions)
    # Another algorithm's agent is refused, naming the mismatch.
    other, _ = _agent("ppo", "finetune", "NavigationMazeLayouts", 0, n_steps=16, batch_size=16)
    with pytest.raises(CheckpointError, match="does not fit this agent: agent state of dqn"):
        restore_state(other, load_checkpoint(path))
    for agent in (fresh, other):
        agent.close()


def test_a_resume_sets_aside_the_checkpoints_past_its_own(tmp_path: Path) -> None:
    for step in (100, 150, 200):
        for folder in (tmp_path / "checkpoints", tmp_path / "checkpoints" / "blocks"):
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"step_{step:09d}.pt").write_bytes(b"damaged" if step == 200 else b"")
    drop_checkpoints_after(tmp_path, 150)
    # The damaged 200 would otherwise count against checkpoint.keep and push out the 100.
    assert [path.name for path in checkpoints_newest_first(tmp_path)] == [
        "step_000000150.pt",
        "step_000000100.pt",
    ]
    assert (tmp_path / "checkpoints" / "step_000000200.pt.unreadable").read_bytes() == b"damaged"
    assert sorted(path.name for path in (tmp_path / "checkpoints" / "blocks").iterdir()) == [
        "step_000000100.pt",
        "step_000000150.pt",
    ]


def test_checkpoint_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "step_000000010.pt"
    save_checkpoint(path, {"format": 1, "global_step": 10})

    def crash_halfway(state: object, file) -> None:
        file.write(b"half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", crash_halfway)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, {"format": 1, "global_step": 20})
    assert load_checkpoint(path)["global_step"] == 10


def test_a_damaged_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "step_000000010.pt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot be read as a checkpoint"):
        load_checkpoint(path)
    torch.save({"something": "else"}, path)
    with pytest.raises(CheckpointError, match="not an envsuite-train checkpoint"):
        load_checkpoint(path)


def test_resume_falls_back_to_the_newest_readable_checkpoint(tmp_path: Path) -> None:
    assert latest_readable_checkpoint(tmp_path) == (None, [])
    save_checkpoint(checkpoint_path(tmp_path, 10), {"format": 1, "global_step": 10})
    checkpoint_path(tmp_path, 20).write_bytes(b"cut short")
    checkpoint, unreadable = latest_readable_checkpoint(tmp_path)
    assert checkpoint is not None
    assert checkpoint["global_step"] == 10
    assert len(unreadable) == 1
    assert "step_000000020.pt: cannot be read" in unreadable[0]
    checkpoint_path(tmp_path, 10).write_bytes(b"damaged too")
    with pytest.raises(CheckpointError, match=r"(?s)can be read .*to restart the run from step 0"):
        latest_readable_checkpoint(tmp_path)


def test_resumed_results_store_drops_rounds_after_the_checkpoint(tmp_path: Path) -> None:
    info = RunInfo("envsuite/Toy-v0", ("a",), ((0, 300),), 0, 100, 1, 1_000_000)
    store = ResultsStore(tmp_path, info)
    for step in (0, 100, 200):
        store.append(
            [
                {
                    "eval_step": step,
                    "trained_task": 0,
                    "evaluated_task": 0,
                    "episode": 0,
                    "return": 1.0,
                    "success": None,
                    "seed": 0,
                }
            ]
        )
    store.close()
    with (tmp_path / RESULTS_FILE).open("a") as file:
        file.write('{"eval_step": 300, "trained')  # cut short by a kill

    with pytest.raises(RunDirectoryError, match="describes another run"):
        ResultsStore(tmp_path, RunInfo("envsuite/Toy-v0", ("a",), ((0, 300),), 1, 100, 1, 0), 100)
    ResultsStore(tmp_path, info, resume_after_step=100).close()
    lines = (tmp_path / RESULTS_FILE).read_text().splitlines()
    assert [json.loads(line)["eval_step"] for line in lines] == [0, 100]
    with pytest.raises(RunDirectoryError, match="already holds results"):
        ResultsStore(tmp_path, info)


def test_device_auto_picks_cuda_whenever_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda"
    assert resolve_device("cpu") == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    with pytest.raises(TrainingConfigError, match="device: 'cuda' asked for"):
        resolve_device("cuda")
    with pytest.raises(TrainingConfigError, match=r"device: unknown value 'gpu'; allowed"):
        resolve_device("gpu")


def test_threads_auto_divides_the_cores_among_a_sweeps_parallel_jobs() -> None:
    from hydra.types import RunMode
    from omegaconf import OmegaConf

    from agents.train import _cpus_per_job

    def hydra_config(mode: RunMode, launcher: dict) -> object:
        config = OmegaConf.create({"launcher": launcher})
        config.mode = mode  # an enum, as hydra's own config holds it
        return config

    joblib = {"_target_": "hydra_plugins.hydra_joblib_launcher.JoblibLauncher", "n_jobs": 2}
    ray = {"_target_": "hydra_plugins.hydra_ray_launcher.RayLauncher"}
    cores = available_cores()
    assert _cpus_per_job(hydra_config(RunMode.RUN, joblib)) == cores
    assert _cpus_per_job(hydra_config(RunMode.MULTIRUN, joblib)) == max(1, cores // 2)
    assert _cpus_per_job(hydra_config(RunMode.MULTIRUN, {**joblib, "n_jobs": -1})) == 1
    ray["ray"] = {"remote": {"num_cpus": 3}}
    assert _cpus_per_job(hydra_config(RunMode.MULTIRUN, ray)) == 3
    assert resolve_threads("auto", 4) == 4
    assert resolve_threads(2, 4) == 2
    for bad in (0, "all", 1.5, True):
        with pytest.raises(TrainingConfigError, match="threads: must be 'auto' or a positive"):
            resolve_threads(bad, 4)


def test_config_differences_name_each_changed_key() -> None:
    saved = {"seed": 0, "agent": {"method": "ewc", "hyperparameters": {}}, "eval": {"every": 5}}
    current = {"seed": 0, "agent": {"method": "l2", "hyperparameters": {"n_steps": 64}}}
    assert config_differences(saved, current) == [
        "agent.hyperparameters.n_steps: not in the run's config, now 64",
        "agent.method: 'ewc' in the run's config, now 'l2'",
        "eval: {'every': 5} in the run's config, now absent",
    ]
    assert config_differences(saved, saved) == []


def test_sb3_scalars_reach_the_loop_and_the_console_when_verbose(capsys) -> None:
    agent, make_env = _agent(
        "ppo",
        "finetune",
        "ClassicCartPoleAcrobot",
        0,
        n_steps=32,
        batch_size=16,
        n_epochs=1,
        verbose=1,
    )
    logged: list[tuple[int, dict[str, float]]] = []

    class Recorder:
        """The monitor's part the loop calls."""

        def log_agent(self, scalars: dict[str, float], global_step: int) -> None:
            logged.append((global_step, scalars))

        def after_step(self, *arguments: object) -> None:
            pass

    env = make_vector_env(make_env)
    try:
        train_agent(agent, env, 0, 64, monitor=Recorder())
    finally:
        agent.close()
        env.close()
    assert "total_timesteps" in capsys.readouterr().out
    assert any("train/loss" in scalars for _, scalars in logged)
    assert all(isinstance(value, float) for _, scalars in logged for value in scalars.values())
