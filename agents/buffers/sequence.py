"""Sequence replay for world models and recurrent agents: windows of consecutive steps.

Streams from ``num_envs`` envs are stored once per step (images are not duplicated as next
observations); a window may cross an episode boundary, where its ``is_first`` flag is set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from agents.buffers import kernels, streams
from agents.buffers.base import (
    Buffer,
    check_positive_int,
    check_seed,
    decode_field_arguments,
    field_arguments,
    finish_batch,
)
from agents.buffers.batch import Batch
from agents.buffers.fields import FieldLike, step_fields, transition_fields
from agents.buffers.memory import check_fits, storage_bytes
from agents.buffers.storage import BatchChecker, Storage, byte_rows, check_field_names

PLACEMENTS = ("fifo", "reservoir")


class SequenceBuffer(Buffer):
    """Per-env streams of steps, sampled as windows of ``sequence_length`` consecutive steps.

    Step ``t`` of a stream holds the observation, the action and reward that led to it, and
    flags: ``is_first`` (the observation starts an episode: the reset flag), ``terminated`` and
    ``truncated`` (it ends one). The first step of an episode has zero action and reward.
    ``add`` takes transitions, one per env, like the other buffers: an env's ``observation``
    must be the ``next_observation`` it gave last time unless its episode ended then (checked
    unless ``check_stream=False``). With gymnasium's default next-step autoreset, leave out the
    transition an env makes while it resets.

    Steps are stored in chunks of ``chunk_length``; each new chunk repeats the last
    ``sequence_length - 1`` steps of its env's previous chunk so that every window lies in one
    chunk. ``placement`` chooses what happens to chunks: ``"fifo"`` keeps the newest (a ring of
    chunks, written in place, sampleable as soon as written), ``"reservoir"`` keeps a uniform
    sample of all full chunks ever written (algorithm R at the chunk level; a chunk becomes
    sampleable when full and kept). ``chunk_length == sequence_length`` makes that the window
    level.

    Args:
        capacity: steps held at most (rounded down to whole chunks).
        observation, action: field specs or gymnasium spaces.
        num_envs: streams; ``add`` takes exactly one transition per env.
        sequence_length: steps per sampled window (at least 2).
        chunk_length: steps per chunk (default ``4 * sequence_length``), at least
            ``sequence_length``; the repeated steps cost ``(sequence_length - 1) /
            chunk_length`` extra memory.
        placement: ``"fifo"`` or ``"reservoir"``.
        extra_fields: more named fields stored with every step (zeros on first steps).
        seed: seeds every random choice.
        check_stream: verify that observations continue their env's stream.
        check_memory: raise :class:`BufferMemoryError` before allocating if it would not fit.
    """

    kind = "sequence"

    def __init__(
        self,
        capacity: int,
        observation: FieldLike,
        action: FieldLike,
        *,
        num_envs: int,
        sequence_length: int,
        chunk_length: int | None = None,
        placement: str = "fifo",
        extra_fields: Mapping[str, FieldLike] | None = None,
        seed: int = 0,
        check_stream: bool = True,
        check_memory: bool = True,
    ) -> None:
        self.capacity = check_positive_int("capacity", capacity)
        self.num_envs = check_positive_int("num_envs", num_envs)
        self.sequence_length = check_positive_int("sequence_length", sequence_length)
        if self.sequence_length < 2:
            raise ValueError(f"sequence_length must be at least 2, got {sequence_length}")
        chunk_length = 4 * self.sequence_length if chunk_length is None else chunk_length
        self.chunk_length = check_positive_int("chunk_length", chunk_length)
        if self.chunk_length < self.sequence_length:
            raise ValueError(
                f"chunk_length must be at least sequence_length={self.sequence_length}, "
                f"got {chunk_length}"
            )
        if placement not in PLACEMENTS:
            raise ValueError(f"placement must be one of {PLACEMENTS}, got {placement!r}")
        self.placement = placement
        self.reservoir = placement == "reservoir"
        self.slots = self.capacity // self.chunk_length
        # A FIFO env writes in place, so each needs a slot of its own and one must stay free.
        minimum_slots = 1 if self.reservoir else self.num_envs + 1
        if self.slots < minimum_slots:
            raise ValueError(
                f"capacity={capacity} holds {self.slots} chunks of chunk_length="
                f"{self.chunk_length}; {placement} placement with num_envs={self.num_envs} "
                f"needs at least {minimum_slots}: raise capacity to at least "
                f"{minimum_slots * self.chunk_length} or lower chunk_length"
            )
        self.seed = check_seed(seed)
        self.check_stream = bool(check_stream)
        self.fields = step_fields(observation, action, extra_fields)
        self.extra_field_names = tuple(extra_fields or ())
        # What add() accepts: a transition per env.
        self._checker = BatchChecker(
            transition_fields(
                self.fields["observation"],
                self.fields["action"],
                {name: self.fields[name] for name in self.extra_field_names},
            )
        )
        staging_slots = self.num_envs if self.reservoir else 0
        self._rows = (self.slots + staging_slots) * self.chunk_length
        if check_memory:
            check_fits(
                f"SequenceBuffer(capacity={self.capacity}, chunk_length={self.chunk_length})",
                self.capacity,
                self.memory_needed(),
            )
        self.storage = Storage(self.fields, self._rows)
        self.filled = np.zeros(self.slots + staging_slots, dtype=np.int64)
        self.slot_owner = np.full(self.slots, -1, dtype=np.int64)
        self.env_slot = np.full(self.num_envs, -1, dtype=np.int64)
        self.env_position = np.zeros(self.num_envs, dtype=np.int64)
        self.episode_open = np.zeros(self.num_envs, dtype=np.bool_)
        self.counters = np.zeros(streams.COUNTER_COUNT, dtype=np.int64)
        self._geometry = np.array(
            [self.chunk_length, self.sequence_length, self.slots], dtype=np.int64
        )
        self.draws = 0
        self._sample_key = kernels.stream_key(self.seed, kernels.SAMPLE_STREAM)
        self._reservoir_key = kernels.stream_key(self.seed, kernels.RESERVOIR_STREAM)

    def memory_needed(self) -> dict[str, int]:
        """Bytes this buffer allocates, per field (the index arrays are negligible)."""
        return storage_bytes(self.fields, self._rows)

    def __len__(self) -> int:
        return int(self.counters[streams.WINDOWS])

    @property
    def steps_added(self) -> int:
        """Steps ever appended, first steps of episodes included."""
        return int(self.counters[streams.STEPS])

    def __repr__(self) -> str:
        return (
            f"SequenceBuffer(capacity={self.capacity}, placement={self.placement!r}, "
            f"windows={len(self)})"
        )

    def _kernel_views(self) -> tuple[np.ndarray, ...]:
        order = streams.KERNEL_FIELD_ORDER + self.extra_field_names
        return tuple(self.storage.byte_view(name) for name in order)

    def add(
        self,
        observation: Any,
        action: Any,
        reward: Any,
        next_observation: Any,
        terminated: Any,
        truncated: Any,
        **extra_fields: Any,
    ) -> None:
        """Append one transition per env (row ``i`` belongs to env ``i``) to the streams."""
        batch = self._check_batch(
            observation, action, reward, next_observation, terminated, truncated, **extra_fields
        )
        # The append kernel checks the streams itself: one kernel call per add, not two.
        self._append(batch, check_stream=self.check_stream)

    def _prepare_add(self, *args: Any, **kwargs: Any) -> dict[str, np.ndarray]:
        """The checked arrays by field, once the streams are checked too."""
        batch = self._check_batch(*args, **kwargs)
        if self.check_stream:
            self._raise_if_broken(
                streams.first_broken_env(
                    self.storage.byte_view("observation"),
                    byte_rows(batch["observation"]),
                    self.env_slot,
                    self.env_position,
                    self.episode_open,
                    self.chunk_length,
                )
            )
        return batch

    def _commit_add(self, prepared: dict[str, np.ndarray]) -> None:
        self._append(prepared, check_stream=False)  # _prepare_add checked the streams

    def _check_batch(
        self,
        observation: Any,
        action: Any,
        reward: Any,
        next_observation: Any,
        terminated: Any,
        truncated: Any,
        **extra_fields: Any,
    ) -> dict[str, np.ndarray]:
        """The checked arrays of one transition per env, by field."""
        if extra_fields.keys() != set(self.extra_field_names):
            check_field_names(extra_fields, self.extra_field_names, "add: extra fields")
        values = [observation, action, reward, next_observation, terminated, truncated]
        values += [extra_fields[name] for name in self.extra_field_names]
        count, batch = self._checker.check(values)
        if count != self.num_envs:
            raise ValueError(
                f"add: this SequenceBuffer has num_envs={self.num_envs} streams and takes one "
                f"transition per env, got a batch of {count}"
            )
        return batch

    def _append(self, batch: dict[str, np.ndarray], check_stream: bool) -> None:
        """Append a checked batch to the streams; with ``check_stream``, first check that it
        continues them (and write nothing if not)."""
        transition_values = tuple(
            byte_rows(batch[name])
            for name in streams.KERNEL_FIELD_ORDER[2:] + self.extra_field_names
        )
        broken_env = streams.append_transitions(
            self._kernel_views(),
            byte_rows(batch["observation"]),
            byte_rows(batch["next_observation"]),
            transition_values,
            batch["terminated"] | batch["truncated"],
            self.filled,
            self.env_slot,
            self.env_position,
            self.episode_open,
            self.slot_owner,
            self.counters,
            self._geometry,
            self.reservoir,
            self._reservoir_key,
            check_stream,
        )
        self._raise_if_broken(broken_env)

    @staticmethod
    def _raise_if_broken(broken_env: int) -> None:
        """The error for an env whose observation does not continue its stream (-1: none)."""
        if broken_env >= 0:
            raise ValueError(
                f"add: observation[{broken_env}] is not the next_observation env {broken_env} "
                "gave at its previous add, and that episode did not end: pass each env's "
                "transitions in order, one row per env, and end episodes with terminated or "
                "truncated (nothing was added)"
            )

    def sample(
        self,
        batch_size: int,
        *,
        device: str | torch.device | None = None,
        pin_memory: bool = False,
        dtypes: Mapping[str, torch.dtype] | None = None,
    ) -> Batch:
        """Windows ``(batch_size, sequence_length, ...)`` of every step field.

        ``Batch.indices`` holds the storage row of each window's first step.
        """
        batch_size, device = self._check_sample_request(batch_size, device, pin_memory, dtypes)
        starts = np.empty(batch_size, dtype=np.int64)
        self.draws = int(
            streams.sample_windows(
                self.filled,
                int(self.counters[streams.USED_SLOTS]),
                self.chunk_length,
                self.sequence_length,
                self._sample_key,
                self.draws,
                starts,
            )
        )
        rows = (starts[:, None] + np.arange(self.sequence_length)).reshape(-1)
        data = {
            name: array.reshape(batch_size, self.sequence_length, *array.shape[1:])
            for name, array in self.storage.read(rows).items()
        }
        return finish_batch(data, starts, None, device, pin_memory, dtypes)

    def config(self) -> dict[str, Any]:
        return {
            "capacity": self.capacity,
            **field_arguments(self.fields, self.extra_field_names),
            "num_envs": self.num_envs,
            "sequence_length": self.sequence_length,
            "chunk_length": self.chunk_length,
            "placement": self.placement,
            "seed": self.seed,
            "check_stream": self.check_stream,
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any], check_memory: bool = True) -> Buffer:
        return cls(**decode_field_arguments(config), check_memory=check_memory)

    def state(self) -> dict[str, Any]:
        return {"draws": self.draws}

    def restore_state(self, state: Mapping[str, Any]) -> None:
        self.draws = int(state["draws"])

    def persistent_arrays(self) -> dict[str, np.ndarray]:
        return {
            **{f"field/{name}": array for name, array in self.storage.arrays.items()},
            "filled": self.filled,
            "slot_owner": self.slot_owner,
            "env_slot": self.env_slot,
            "env_position": self.env_position,
            "episode_open": self.episode_open,
            "counters": self.counters,
        }
