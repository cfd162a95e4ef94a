"""Checkpoints round-trip the whole training state through ``torch.load(weights_only=True)``;
writes are atomic; a resumed results store drops later rounds; ``device=auto`` picks CUDA."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from agents.baselines import build_agent
from agents.buffers.base import Buffer
from agents.training.checkpoints import (
    CheckpointError,
    capture_state,
    checkpoint_path,
    latest_readable_checkpoint,
    load_checkpoint,
    restore_state,
    save_checkpoint,
)
from agents.training.run_directory import config_differences
from agents.training.settings import TrainingConfigError, resolve_device
from envsuite import make_sequence
from envsuite.evaluation import RESULTS_FILE, ResultsStore, RunDirectoryError, RunInfo


def _agent(algorithm: str, method: str, sequence: str, seed: int, **hyperparameters: int):
    """A small agent on the first task of ``sequence``."""
    return build_agent(
        algorithm,
        method,
        make_sequence(sequence, steps_per_task=100).make_task_env(0),
        seed=seed,
        device="cpu",
        hyperparameters=hyperparameters,
    )


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


def _inner_buffer(replay_buffer: object) -> Buffer:
    """The ``agents.buffers`` buffer behind an ``SB3ReplayBuffer``."""
    (inner,) = [value for value in vars(replay_buffer).values() if isinstance(value, Buffer)]
    return inner


def test_checkpoint_restores_model_optimiser_buffer_and_rng(tmp_path: Path) -> None:
    trained = _sac_with_reservoir_replay(seed=0)
    trained.model.learn(60)
    path = tmp_path / "checkpoints" / "step_000000060.pt"
    save_checkpoint(path, capture_state(trained.model, trained.method_state(), 60, True))
    expected_draws = (np.random.rand(3), torch.rand(3))

    fresh = _sac_with_reservoir_replay(seed=1)
    restore_state(fresh.model, fresh.load_method_state, load_checkpoint(path))

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
    trained_buffer, fresh_buffer = trained.model.replay_buffer, fresh.model.replay_buffer
    assert (fresh_buffer.pos, fresh_buffer.full) == (trained_buffer.pos, trained_buffer.full)
    trained_storage, fresh_storage = _inner_buffer(trained_buffer), _inner_buffer(fresh_buffer)
    assert len(fresh_storage) == len(trained_storage) == 60
    assert fresh_storage.state() == trained_storage.state()
    for name, array in trained_storage.persistent_arrays().items():
        np.testing.assert_array_equal(fresh_storage.persistent_arrays()[name][:60], array[:60])
    draws = (np.random.rand(3), torch.rand(3))
    np.testing.assert_array_equal(draws[0], expected_draws[0])
    torch.testing.assert_close(draws[1], expected_draws[1])


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

    trained = dqn_on_a_maze(seed=0)
    trained.model.learn(40)
    path = tmp_path / "step_000000040.pt"
    save_checkpoint(path, capture_state(trained.model, trained.method_state(), 40, True))
    fresh = dqn_on_a_maze(seed=1)
    restore_state(fresh.model, fresh.load_method_state, load_checkpoint(path))

    trained_buffer, fresh_buffer = trained.model.replay_buffer, fresh.model.replay_buffer
    assert fresh_buffer.pos == trained_buffer.pos == 40
    for field in ("observations", "next_observations"):
        trained_arrays, fresh_arrays = getattr(trained_buffer, field), getattr(fresh_buffer, field)
        assert set(fresh_arrays) == {"image", "direction", "phase", "instruction"}
        assert trained_arrays["image"][:40].any()
        assert trained_arrays["direction"][:40].any()
        for key, array in trained_arrays.items():
            np.testing.assert_array_equal(fresh_arrays[key][:40], array[:40])
    np.testing.assert_array_equal(fresh_buffer.actions[:40], trained_buffer.actions[:40])
    # A checkpoint without the observations (as written before they were saved) is refused.
    state = load_checkpoint(path)
    del state["replay_buffer"]["array_dicts"]
    with pytest.raises(CheckpointError, match=r"lacks the \['observations', 'next_observations'\]"):
        restore_state(dqn_on_a_maze(seed=2).model, fresh.load_method_state, state)


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


def test_config_differences_name_each_changed_key() -> None:
    saved = {"seed": 0, "agent": {"method": "ewc", "hyperparameters": {}}, "eval": {"every": 5}}
    current = {"seed": 0, "agent": {"method": "l2", "hyperparameters": {"n_steps": 64}}}
    assert config_differences(saved, current) == [
        "agent.hyperparameters.n_steps: not in the run's config, now 64",
        "agent.method: 'ewc' in the run's config, now 'l2'",
        "eval: {'every': 5} in the run's config, now absent",
    ]
    assert config_differences(saved, saved) == []


def test_sb3_logs_to_tensorboard_and_to_the_console_when_verbose(tmp_path: Path, capsys) -> None:
    from stable_baselines3.common.callbacks import CallbackList

    from agents.training.runs import learn_with_sb3_logs

    agent = build_agent(
        "ppo",
        "finetune",
        make_sequence("ClassicCartPoleAcrobot", steps_per_task=100).make_task_env(0),
        seed=0,
        device="cpu",
        hyperparameters={"n_steps": 32, "batch_size": 16, "n_epochs": 1, "verbose": 1},
    )
    learn_with_sb3_logs(
        agent.model, 64, CallbackList([]), resumed=False, tensorboard_dir=tmp_path / "sb3"
    )
    assert "total_timesteps" in capsys.readouterr().out
    assert list((tmp_path / "sb3").glob("events.out.tfevents.*"))
