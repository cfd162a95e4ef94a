"""Checkpoints of a training run: written atomically, read with ``torch.load(weights_only=True)``.

A checkpoint holds the model's parameters and optimiser states, its counters, the replay buffer
(optional), the continual-learning method's state, the RNG states and the global step.
"""

from __future__ import annotations

import json
import os
import pickle
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback

CHECKPOINT_FORMAT = 1
CHECKPOINT_FOLDER = "checkpoints"
_CHECKPOINT_NAME = re.compile(r"^step_(\d+)\.pt$")
# SB3's counters that steer schedules (learning rate, exploration, target updates, logging).
_MODEL_COUNTERS = ("num_timesteps", "_n_updates", "_episode_num", "_n_calls")


class CheckpointError(ValueError):
    """A checkpoint is missing, damaged or of another run; the message names the file."""


def checkpoint_path(run_dir: Path, global_step: int) -> Path:
    return run_dir / CHECKPOINT_FOLDER / f"step_{global_step:09d}.pt"


def checkpoints_newest_first(run_dir: Path) -> list[Path]:
    """The checkpoints of ``run_dir``, highest global step first."""
    folder = run_dir / CHECKPOINT_FOLDER
    found = [
        (int(match[1]), path)
        for path in (folder.iterdir() if folder.is_dir() else [])
        if (match := _CHECKPOINT_NAME.match(path.name))
    ]
    return [path for _, path in sorted(found, reverse=True)]


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The checkpoint with the highest global step in ``run_dir``, if any."""
    return next(iter(checkpoints_newest_first(run_dir)), None)


def latest_readable_checkpoint(run_dir: Path) -> tuple[dict[str, Any] | None, list[str]]:
    """The newest checkpoint of ``run_dir`` that loads (``None`` if it has none), and why each
    newer one did not (a damaged disk, a file copied in part): a resume falls back to an
    older checkpoint rather than failing or starting over."""
    unreadable = []
    for path in checkpoints_newest_first(run_dir):
        try:
            return load_checkpoint(path), unreadable
        except CheckpointError as error:
            unreadable.append(str(error))
    if unreadable:
        raise CheckpointError(
            f"no checkpoint of the run can be read ({'; '.join(unreadable)}); remove "
            f"{run_dir / CHECKPOINT_FOLDER} to restart the run from step 0"
        )
    return None, []


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` through a temporary file: a crash leaves the old one whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    with partial.open("wb") as file:
        torch.save(state, file)
        file.flush()
        os.fsync(file.fileno())
    os.replace(partial, path)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True``: tensors, numbers, strings and containers."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as error:
        raise CheckpointError(f"{path}: cannot be read as a checkpoint ({error})") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{path}: not an envsuite-train checkpoint of format {CHECKPOINT_FORMAT}"
        )
    return state


def capture_state(
    model: BaseAlgorithm,
    method_state: dict[str, Any],
    global_step: int,
    with_replay_buffer: bool,
) -> dict[str, Any]:
    """Everything a resumed run needs to continue where this one stands."""
    state_dict_names, variable_names = model._get_torch_save_params()
    return {
        "format": CHECKPOINT_FORMAT,
        "global_step": int(global_step),
        "model": {
            "state_dicts": {
                name: _attribute(model, name).state_dict() for name in state_dict_names
            },
            "variables": {
                name: _attribute(model, name).detach().cpu().clone() for name in variable_names
            },
            "counters": {
                name: int(getattr(model, name)) for name in _MODEL_COUNTERS if hasattr(model, name)
            },
        },
        "replay_buffer": (
            buffer_state(model.replay_buffer)
            if with_replay_buffer and getattr(model, "replay_buffer", None) is not None
            else None
        ),
        "method": method_state,
        "rng": capture_rng(model),
    }


def restore_state(
    model: BaseAlgorithm, load_method_state: Callable[[dict[str, Any]], None], state: dict
) -> None:
    """Put a checkpoint's state into a freshly built model of the same config."""
    saved = state["model"]
    state_dict_names, variable_names = model._get_torch_save_params()
    if set(saved["state_dicts"]) != set(state_dict_names):
        raise CheckpointError(
            f"checkpoint holds the state of {sorted(saved['state_dicts'])}, the model has "
            f"{sorted(state_dict_names)}: another algorithm"
        )
    for name in state_dict_names:
        _attribute(model, name).load_state_dict(saved["state_dicts"][name])
    with torch.no_grad():
        for name in variable_names:
            _attribute(model, name).copy_(saved["variables"][name])
    for name, value in saved["counters"].items():
        setattr(model, name, value)
    if state["replay_buffer"] is not None and getattr(model, "replay_buffer", None) is not None:
        restore_buffer(model.replay_buffer, state["replay_buffer"])
    load_method_state(state["method"])
    restore_rng(model, state["rng"])


def capture_rng(model: BaseAlgorithm) -> dict[str, Any]:
    python_version, python_state, gauss = random.getstate()
    numpy_state = np.random.get_state(legacy=False)
    rng: dict[str, Any] = {
        "python": [python_version, list(python_state), gauss],
        "numpy": {
            "key": torch.from_numpy(numpy_state["state"]["key"].astype(np.int64)),
            "pos": int(numpy_state["state"]["pos"]),
            "has_gauss": int(numpy_state["has_gauss"]),
            "gauss": float(numpy_state["gauss"]),
        },
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        # Random actions (SAC's warm-up, DQN's exploration) come from the action space's RNG.
        "action_space": json.dumps(model.action_space.np_random.bit_generator.state),
    }
    return rng


def restore_rng(model: BaseAlgorithm, rng: dict[str, Any]) -> None:
    python_version, python_state, gauss = rng["python"]
    random.setstate((python_version, tuple(python_state), gauss))
    numpy_state = rng["numpy"]
    np.random.set_state(
        {
            "bit_generator": "MT19937",
            "state": {
                "key": numpy_state["key"].numpy().astype(np.uint32),
                "pos": numpy_state["pos"],
            },
            "has_gauss": numpy_state["has_gauss"],
            "gauss": numpy_state["gauss"],
        }
    )
    torch.set_rng_state(rng["torch"])
    if rng["cuda"] and torch.cuda.is_available():
        # A run resumed on a machine with fewer GPUs restores the states of those it has.
        for index, cuda_state in enumerate(rng["cuda"][: torch.cuda.device_count()]):
            torch.cuda.set_rng_state(cuda_state, index)
    model.action_space.np_random.bit_generator.state = json.loads(rng["action_space"])


def buffer_state(buffer: Any) -> dict[str, Any]:
    """The filled part of a replay buffer: SB3's arrays (per key for Dict observations) and
    counters, or the arrays and counters of an ``agents.buffers`` buffer it wraps
    (``SB3ReplayBuffer.transitions``). A dict mixing per-row arrays with other values is refused
    rather than saved in part."""
    from agents.buffers.base import Buffer

    filled = buffer.buffer_size if buffer.full else buffer.pos
    state: dict[str, Any] = {"arrays": {}, "array_dicts": {}, "counters": {}, "buffers": {}}
    for name, arrays in _per_row_dicts(buffer).items():
        if not all(_is_per_row(array, buffer.buffer_size) for array in arrays.values()):
            raise CheckpointError(
                f"replay buffer field {name!r} mixes per-row arrays with other values; "
                "it cannot be checkpointed (set checkpoint.replay_buffer=false)"
            )
        state["array_dicts"][name] = {
            str(key): torch.from_numpy(array[:filled].copy()) for key, array in arrays.items()
        }
    for name, value in vars(buffer).items():
        if _is_per_row(value, buffer.buffer_size):
            state["arrays"][name] = torch.from_numpy(value[:filled].copy())
        elif isinstance(value, bool | int) and name in ("pos", "full"):
            state["counters"][name] = value
        elif isinstance(value, Buffer):
            rows = len(value)
            state["buffers"][name] = {
                "arrays": {
                    key: torch.from_numpy(array[:rows].copy())
                    for key, array in value.persistent_arrays().items()
                },
                "state": json.dumps(value.state()),
            }
    return state


def restore_buffer(buffer: Any, state: dict[str, Any]) -> None:
    for name, saved in state["arrays"].items():
        getattr(buffer, name)[: len(saved)] = saved.numpy()
    saved_dicts = state.get("array_dicts", {})
    unsaved = [name for name in _per_row_dicts(buffer) if name not in saved_dicts]
    if unsaved:
        # Checkpoints written before Dict observations were saved hold none of them.
        raise CheckpointError(
            f"checkpoint's replay buffer lacks the {unsaved} of the model's Dict observations; "
            "resume with an older envsuite, or restart the run"
        )
    for name, saved_dict in saved_dicts.items():
        arrays = getattr(buffer, name)
        if set(arrays) != set(saved_dict):
            raise CheckpointError(
                f"checkpoint's replay buffer holds {name} keys {sorted(saved_dict)}, the "
                f"model's buffer has {sorted(arrays)}: another observation space"
            )
        for key, saved in saved_dict.items():
            arrays[key][: len(saved)] = saved.numpy()
    for name, value in state["counters"].items():
        setattr(buffer, name, value)
    for name, saved in state["buffers"].items():
        inner = getattr(buffer, name)
        arrays = inner.persistent_arrays()
        for key, array in saved["arrays"].items():
            arrays[key][: len(array)] = array.numpy()
        inner.restore_state(json.loads(saved["state"]))


def _is_per_row(value: Any, buffer_size: int) -> bool:
    """An SB3 buffer array with one entry per buffer row."""
    return isinstance(value, np.ndarray) and bool(value.ndim) and len(value) == buffer_size


def _per_row_dicts(buffer: Any) -> dict[str, dict[Any, Any]]:
    """The buffer's dict fields holding per-row arrays (DictReplayBuffer's observations)."""
    return {
        name: value
        for name, value in vars(buffer).items()
        if isinstance(value, dict)
        and any(_is_per_row(array, buffer.buffer_size) for array in value.values())
    }


class CheckpointCallback(BaseCallback):
    """Saves a checkpoint every ``every`` global steps, at each block end (unless
    ``at_block_ends`` is off) and at the last step; of the periodic ones only the newest is
    kept (also across a resume), block-end ones stay.

    Args:
        run_dir: the run directory (checkpoints go to ``run_dir/checkpoints``).
        every: the period in global steps.
        stop_at: the global step where this model's training ends (the schedule's end, or a
            single-task run's task end): training stops there, after a checkpoint.
        method_state: returns the continual-learning method's state (tensors and numbers).
        with_replay_buffer: include the replay buffer of off-policy algorithms.
        block_ends: the global steps that end a block, whose checkpoints are kept.
        at_block_ends: save at every block end; off for a multi-task run's hundreds of short
            blocks, which then keeps only its newest checkpoint.
    """

    def __init__(
        self,
        run_dir: Path,
        every: int,
        stop_at: int,
        method_state: Callable[[], dict[str, Any]],
        with_replay_buffer: bool,
        block_ends: frozenset[int],
        at_block_ends: bool = True,
    ) -> None:
        super().__init__()
        self.run_dir = run_dir
        self.every = every
        self.stop_at = stop_at
        self.method_state = method_state
        self.with_replay_buffer = with_replay_buffer
        self.block_ends = block_ends if at_block_ends else frozenset()
        self.at_block_ends = at_block_ends

    def _on_step(self) -> bool:
        info = self.locals["infos"][0]
        global_step = int(info["global_step"])
        block_end = (self.at_block_ends and bool(info["task_switched"])) or (
            global_step >= self.stop_at
        )
        if block_end or global_step % self.every == 0:
            self.save(global_step)
        # Stop exactly at the end: PPO would otherwise finish its rollout past the schedule.
        return global_step < self.stop_at

    def save(self, global_step: int) -> Path:
        path = checkpoint_path(self.run_dir, global_step)
        state = capture_state(self.model, self.method_state(), global_step, self.with_replay_buffer)
        save_checkpoint(path, state)
        for older in path.parent.iterdir():
            match = _CHECKPOINT_NAME.match(older.name)
            periodic = (
                match and int(match[1]) < global_step and int(match[1]) not in self.block_ends
            )
            # A temporary file is what a crash during a save leaves behind.
            if periodic or older.name.endswith(".pt.tmp"):
                older.unlink(missing_ok=True)
        return path


def _attribute(model: BaseAlgorithm, dotted_name: str) -> Any:
    value: Any = model
    for part in dotted_name.split("."):
        value = getattr(value, part)
    return value
