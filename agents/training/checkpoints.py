"""Checkpoints of a training run: written atomically, read with ``torch.load(weights_only=True)``.

A checkpoint is one ``torch.save`` of the agent's ``state_dict()`` (model, optimiser, counters,
method state, replay buffer if asked), the global RNG states and the global step.
"""

from __future__ import annotations

import os
import pickle
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agents.common.protocol import Agent
from envsuite.core.schedule import reaches_multiple

CHECKPOINT_FORMAT = 1
CHECKPOINT_FOLDER = "checkpoints"
# Snapshots without the replay buffer at block ends, for analysis; a resume never reads them.
BLOCKS_FOLDER = f"{CHECKPOINT_FOLDER}/blocks"
_CHECKPOINT_NAME = re.compile(r"^step_(\d+)\.pt$")


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


def capture_state(agent: Agent, global_step: int, include_replay: bool) -> dict[str, Any]:
    """Everything a resumed run needs to continue where this one stands: the agent's
    ``state_dict``, the global RNG states and the global step."""
    return {
        "format": CHECKPOINT_FORMAT,
        "global_step": int(global_step),
        "agent": agent.state_dict(include_replay),
        "rng": capture_rng(),
    }


def restore_state(agent: Agent, state: dict[str, Any]) -> None:
    """Put a checkpoint's state into a freshly built agent of the same config."""
    try:
        agent.load_state_dict(state["agent"])
    except (KeyError, ValueError, RuntimeError) as error:
        raise CheckpointError(f"the checkpoint does not fit this agent: {error}") from None
    restore_rng(state["rng"])


def capture_rng() -> dict[str, Any]:
    python_version, python_state, gauss = random.getstate()
    numpy_state = np.random.get_state(legacy=False)
    return {
        "python": [python_version, list(python_state), gauss],
        "numpy": {
            "key": torch.from_numpy(numpy_state["state"]["key"].astype(np.int64)),
            "pos": int(numpy_state["state"]["pos"]),
            "has_gauss": int(numpy_state["has_gauss"]),
            "gauss": float(numpy_state["gauss"]),
        },
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def restore_rng(rng: dict[str, Any]) -> None:
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


def drop_checkpoints_after(run_dir: Path, global_step: int) -> None:
    """Set aside what lies past ``global_step``, where a run resumes: full checkpoints that did
    not load are renamed ``*.pt.unreadable`` (kept for a look, out of ``keep``'s count), block
    snapshots are removed (the resumed run writes them again)."""
    for folder in (run_dir / CHECKPOINT_FOLDER, run_dir / BLOCKS_FOLDER):
        for path in folder.glob("step_*.pt") if folder.is_dir() else []:
            match = _CHECKPOINT_NAME.match(path.name)
            if not match or int(match[1]) <= global_step:
                continue
            if folder.name == CHECKPOINT_FOLDER:
                path.rename(path.with_name(path.name + ".unreadable"))
            else:
                path.unlink()


class Checkpointer:
    """Saves the run's checkpoints: every ``every`` global steps, at each block end (unless
    ``at_block_ends`` is off) and at the agent's last step.

    Two kinds: full checkpoints (``checkpoints/step_*.pt``: the agent with its replay buffer if
    ``include_replay``, the RNGs), of which the newest ``keep`` stay and from which a run
    resumes; and at every block end (the agent's last step included) a snapshot without the
    replay buffer (``checkpoints/blocks/step_*.pt``: weights, optimisers, method state) that
    stays, for analysing the agent as it was after each block.

    Args:
        run_dir: the run directory.
        every: the period in global steps.
        keep: how many full checkpoints to keep (at least one).
        include_replay: full checkpoints hold the replay buffer of agents that have one.
        at_block_ends: save at every block end; off for a multi-task run's hundreds of short
            blocks.
    """

    def __init__(
        self, run_dir: Path, every: int, keep: int, include_replay: bool, at_block_ends: bool
    ) -> None:
        self.run_dir = run_dir
        self.every = every
        self.keep = keep
        self.include_replay = include_replay
        self.at_block_ends = at_block_ends

    def after_step(
        self, agent: Agent, previous_step: int, global_step: int, block_end: bool, last: bool
    ) -> None:
        """Save what the step from ``previous_step`` to ``global_step`` calls for."""
        # The agent's last step ends its last block.
        block_end = (block_end or last) and self.at_block_ends
        if block_end or last or reaches_multiple(previous_step, global_step, self.every):
            self.save(agent, global_step)
        if block_end:
            save_checkpoint(
                self.run_dir / BLOCKS_FOLDER / checkpoint_path(Path(), global_step).name,
                capture_state(agent, global_step, include_replay=False),
            )

    def save(self, agent: Agent, global_step: int) -> Path:
        """A full checkpoint at ``global_step``; older ones beyond the newest ``keep`` go."""
        path = checkpoint_path(self.run_dir, global_step)
        save_checkpoint(path, capture_state(agent, global_step, self.include_replay))
        for older in checkpoints_newest_first(self.run_dir)[self.keep :]:
            older.unlink(missing_ok=True)
        # What a crash during a save leaves, here and among the block snapshots.
        for partial in [*path.parent.glob("*.pt.tmp"), *path.parent.glob("blocks/*.pt.tmp")]:
            partial.unlink(missing_ok=True)
        return path
