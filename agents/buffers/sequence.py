"""Sequence replay for world models and recurrent agents (DreamerV3, WMAR): windows of
consecutive steps, stored once in torch tensors and sampled straight onto the training device.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from gymnasium import spaces

from agents.buffers.base import check_non_negative_int, check_positive_int, check_seed
from agents.buffers.fields import (
    FLAG_DTYPE,
    REWARD_DTYPE,
    FieldLike,
    FieldSpec,
    as_field,
    with_extra_fields,
)
from agents.buffers.memory import check_fits
from agents.buffers.storage import check_field_names

STORES = ("recent", "long_term")
# The order and key of a chunk a store does not hold, and the chunk of an env writing none.
NOT_HELD = -1
# Storage goes on the GPU only if it leaves this share of the free memory to the networks,
# their optimisers and activations; otherwise it stays in pinned host memory.
GPU_HEADROOM = 0.25
STEP_FLAGS = ("is_first", "terminated", "truncated")
# The index arrays of the bookkeeping, saved by name.
INDEX_ARRAYS = (
    "filled",
    "first_new",
    "recent_order",
    "key",
    "env_chunk",
    "env_position",
    "episode_open",
)
STATE_KEYS = ("config", "storage", *INDEX_ARRAYS, "counters", "rng", "key_rng")
# Seeds the long-term store's keys apart from sampling: what it keeps must not depend on how
# many windows were drawn.
KEY_STREAM = 1


def observation_fields(observation: FieldLike | Mapping[str, FieldLike]) -> dict[str, FieldSpec]:
    """Storage fields of an observation: ``observation``, or ``observation/<key>`` per key of a
    gymnasium ``Dict`` space (or a mapping of specs)."""
    if isinstance(observation, spaces.Dict):
        observation = dict(observation.spaces)
    if isinstance(observation, Mapping):
        if not observation:
            raise ValueError("observation: a Dict observation needs at least one key")
        return {
            f"observation/{key}": as_field(f"observation[{key!r}]", value)
            for key, value in observation.items()
        }
    return {"observation": as_field("observation", observation)}


def storage_placement(device: torch.device, needed_bytes: int) -> tuple[torch.device, bool]:
    """Where storage of ``needed_bytes`` lives for samples on ``device``, and whether pinned.

    On ``device`` itself when it is a CUDA device with room to spare (see ``GPU_HEADROOM``);
    else on the host, pinned whenever CUDA is available so that samples copy asynchronously.
    """
    if device.type == "cuda":
        free_bytes, _ = torch.cuda.mem_get_info(device)
        if needed_bytes <= (1 - GPU_HEADROOM) * free_bytes:
            return device, False
    if device.type == "cpu":
        return device, False
    return torch.device("cpu"), torch.cuda.is_available()


def torch_dtype(dtype: np.dtype) -> torch.dtype:
    """The torch dtype of a numpy dtype."""
    return torch.from_numpy(np.zeros(0, dtype=dtype)).dtype


class SequenceBuffer:
    """Per-env streams of steps, sampled as windows of ``sequence_length`` consecutive steps,
    from a recent store (FIFO), a long-term store (a uniform sample of everything seen) or both.

    Step ``t`` of a stream holds the observation, the action and reward that led to it, and
    flags: ``is_first`` (the observation starts an episode: the reset flag), ``terminated`` and
    ``truncated`` (it ends one). ``add`` takes one transition per env; when an env's previous
    transition ended its episode, or at its first add, the transition's ``observation`` is
    stored first as the episode's first step (zero action and reward, ``is_first``). Otherwise
    ``observation`` is not read: the stream continues from the ``next_observation`` stored last.
    With gymnasium's default next-step autoreset, leave out the transition an env makes while
    it resets. A window may cross an episode boundary, where ``is_first`` is set.

    Steps are stored in chunks of ``chunk_length``; each new chunk repeats the last
    ``sequence_length - 1`` steps of its env's previous chunk so that every window lies in one
    chunk. Chunks belong to the stores:

    - the **recent** store (``capacity`` steps; DreamerV3's replay, WMAR's short-term buffer)
      holds the newest chunks, those being written included (sampleable as soon as a window is
      complete); a new chunk evicts the earliest-started one no env is writing;
    - the **long-term** store (``long_term_capacity`` steps; WMAR's distribution-matching
      buffer) holds a uniform sample of all full chunks ever written: each full chunk draws a
      random key and the store keeps the chunks of the largest keys (reservoir sampling, as
      WMAR's released code does it). Without a recent store, an env fills a staging chunk that
      nothing samples until it is full.

    A chunk both stores hold is stored once; its slot is reused when neither holds it.

    Storage is one tensor per field, uint8 images as uint8, on ``device`` when it is a CUDA
    device with room (:func:`storage_placement`), else in host memory (pinned if CUDA is
    available). Discrete actions are stored as one integer, shape ``(1,)``; an ``(num_envs,)``
    array of indices is accepted for them.

    Args:
        capacity: distinct steps the recent store holds at most (rounded down to whole chunks;
            the steps a chunk repeats from its env's previous chunk do not count); 0: none.
        observation: a field spec or gymnasium space; a ``Dict`` space (or a mapping of specs)
            stores one field per key, and ``add`` and ``sample`` take and give a dict.
        action: field spec or gymnasium space of actions.
        num_envs: streams; ``add`` takes exactly one transition per env.
        sequence_length: steps per sampled window (at least 2).
        chunk_length: steps per chunk (default ``4 * sequence_length``), at least
            ``sequence_length``; the repeated steps cost ``(sequence_length - 1) /
            chunk_length`` extra memory.
        long_term_capacity: distinct steps the long-term store holds at most; 0: none.
        extra_fields: more named fields stored with every step (``add`` takes them as keyword
            arguments, ``sample`` gives them by name), e.g. the task index or the global step.
        device: where samples are returned.
        seed: seeds every random choice (sampling and the long-term store's keys).
        check_memory: raise :class:`BufferMemoryError` before allocating host storage that would
            not fit.
    """

    def __init__(
        self,
        capacity: int,
        observation: FieldLike | Mapping[str, FieldLike],
        action: FieldLike,
        *,
        num_envs: int,
        sequence_length: int,
        chunk_length: int | None = None,
        long_term_capacity: int = 0,
        extra_fields: Mapping[str, FieldLike] | None = None,
        device: str | torch.device = "cpu",
        seed: int = 0,
        check_memory: bool = True,
    ) -> None:
        self.capacity = check_non_negative_int("capacity", capacity)
        self.long_term_capacity = check_non_negative_int("long_term_capacity", long_term_capacity)
        if not self.capacity and not self.long_term_capacity:
            raise ValueError("capacity and long_term_capacity: at least one must be positive")
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
        # Capacities count distinct steps: a chunk holds chunk_length - (sequence_length - 1)
        # new ones after the steps it repeats from its env's previous chunk.
        new_steps = self.chunk_length - (self.sequence_length - 1)
        self.recent_slots = self.capacity // new_steps
        self.long_term_slots = self.long_term_capacity // new_steps
        # The recent store's envs write in place, so each needs a chunk of its own and one must
        # stay free for the next chunk.
        for name, given, slots, minimum in (
            ("capacity", capacity, self.recent_slots, self.num_envs + 1),
            ("long_term_capacity", long_term_capacity, self.long_term_slots, 1),
        ):
            if given and slots < minimum:
                raise ValueError(
                    f"{name}={given} holds {slots} chunks of {new_steps} new steps "
                    f"(chunk_length={self.chunk_length}); with num_envs={self.num_envs} it "
                    f"needs at least {minimum}: raise {name} to at least "
                    f"{minimum * new_steps} or lower chunk_length"
                )
        self.seed = check_seed(seed)
        self.device = self._check_device(device)
        self.fields = with_extra_fields(
            {
                **observation_fields(observation),
                "action": as_field("action", action),
                "reward": FieldSpec((), REWARD_DTYPE),
                **{flag: FieldSpec((), FLAG_DTYPE) for flag in STEP_FLAGS},
            },
            extra_fields,
        )
        self.extra_field_names = tuple(extra_fields or ())
        self.dict_observation = "observation" not in self.fields
        # Without a recent store, every env fills a staging chunk of its own.
        staging = 0 if self.recent_slots else self.num_envs
        chunks = self.recent_slots + self.long_term_slots + staging
        rows = chunks * self.chunk_length
        needed = {name: rows * spec.item_bytes for name, spec in self.fields.items()}
        self.storage_device, pinned = storage_placement(self.device, sum(needed.values()))
        if check_memory and self.storage_device.type == "cpu":
            owner = (
                f"SequenceBuffer(capacity={self.capacity}, "
                f"long_term_capacity={self.long_term_capacity})"
            )
            check_fits(owner, self.capacity + self.long_term_capacity, needed)
        self._pinned = pinned
        self._storage = {
            name: torch.zeros(
                (rows, *spec.shape),
                dtype=torch_dtype(spec.dtype),
                device=self.storage_device,
                pin_memory=pinned,
            )
            for name, spec in self.fields.items()
        }
        # Bookkeeping stays in small host arrays: every add reads it, no device sync needed.
        self._filled = np.zeros(chunks, dtype=np.int64)  # steps written per chunk
        self._first_new = np.zeros(chunks, dtype=np.int64)  # its first step not a repeat
        self._recent_order = np.full(chunks, NOT_HELD, dtype=np.int64)  # when it began
        self._key = np.full(chunks, float(NOT_HELD), dtype=np.float64)  # long-term key
        self._env_chunk = np.full(self.num_envs, NOT_HELD, dtype=np.int64)
        self._env_position = np.zeros(self.num_envs, dtype=np.int64)
        self._episode_open = np.zeros(self.num_envs, dtype=np.bool_)
        self._counters = {
            "steps_added": 0,
            "chunks_started": 0,
            "chunks_offered": 0,
            "chunks_used": 0,  # chunks ever claimed: the rows in use are this many chunks
        }
        self._rng = np.random.default_rng(self.seed)
        self._key_rng = np.random.default_rng([self.seed, KEY_STREAM])
        self._tail = np.arange(self.sequence_length - 1)

    @staticmethod
    def _check_device(device: str | torch.device) -> torch.device:
        try:
            device = torch.device(device)
        except (RuntimeError, TypeError) as error:
            raise ValueError(f"device: {device!r} is not a torch device ({error})") from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device={str(device)!r} but CUDA is not available; use 'cpu'")
        if device.type not in ("cpu", "cuda"):
            raise ValueError(f"device must be a CPU or CUDA device, got {str(device)!r}")
        return device

    def __len__(self) -> int:
        """Windows the stores hold together (a chunk both hold counts once)."""
        return self.windows()

    def windows(self, store: str | None = None) -> int:
        """Windows a sample can draw from ``store`` (``"recent"`` or ``"long_term"``), or from
        both together (None)."""
        return int(self._windows(store).sum())

    @property
    def stores(self) -> tuple[str, ...]:
        """The stores this buffer has: ``"recent"``, ``"long_term"`` or both."""
        return tuple(
            store
            for store, slots in zip(STORES, (self.recent_slots, self.long_term_slots), strict=True)
            if slots
        )

    @property
    def steps_added(self) -> int:
        """Steps ever stored, first steps of episodes included."""
        return self._counters["steps_added"]

    def __repr__(self) -> str:
        return (
            f"SequenceBuffer(capacity={self.capacity}, long_term_capacity="
            f"{self.long_term_capacity}, storage_device={str(self.storage_device)!r}, "
            f"windows={len(self)})"
        )

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
        """Store one transition per env (row ``i`` belongs to env ``i``): arrays or tensors.
        ``extra_fields`` (those the buffer was built with) belong to the next step, and to the
        first step too where an episode starts."""
        if extra_fields.keys() != set(self.extra_field_names):
            check_field_names(extra_fields, self.extra_field_names, "add: extra fields")
        extras = {name: (name, extra_fields[name]) for name in self.extra_field_names}
        first = self._checked({**self._observation_values("observation", observation), **extras})
        step = self._checked(
            {
                **self._observation_values("next_observation", next_observation),
                "action": ("action", action),
                "reward": ("reward", reward),
                "terminated": ("terminated", terminated),
                "truncated": ("truncated", truncated),
                **extras,
            }
        )
        # From the inputs, which are usually on the host: no wait for the device.
        ends = (step["terminated"] | step["truncated"]).cpu().numpy()
        first, step = self._to_storage(first), self._to_storage(step)
        starting = np.flatnonzero(~self._episode_open)
        if starting.size:
            index = torch.from_numpy(starting).to(self.storage_device)
            first = {name: value[index] for name, value in first.items()}
            for name in ("action", "reward", "terminated", "truncated"):
                first[name] = torch.zeros_like(step[name][index])
            first["is_first"] = torch.ones_like(first["terminated"])
            self._write(starting, first)
        step["is_first"] = torch.zeros_like(step["terminated"])
        self._write(np.arange(self.num_envs), step)
        self._episode_open = ~ends

    def _observation_values(self, argument: str, value: Any) -> dict[str, tuple[str, Any]]:
        """The observation argument's values by field, each with its name for errors."""
        if not self.dict_observation:
            return {"observation": (argument, value)}
        keys = [
            name.removeprefix("observation/")
            for name in self.fields
            if name.startswith("observation/")
        ]
        if not isinstance(value, Mapping) or set(value) != set(keys):
            given = sorted(value) if isinstance(value, Mapping) else type(value).__name__
            raise ValueError(f"add: {argument} must be a dict with keys {keys}, got {given}")
        return {f"observation/{key}": (f"{argument}[{key!r}]", value[key]) for key in keys}

    def _checked(self, values: dict[str, tuple[str, Any]]) -> dict[str, torch.Tensor]:
        """Each value as a ``(num_envs, *shape)`` tensor of its field's dtype, or an error
        naming the argument."""
        checked = {}
        for field, (argument, value) in values.items():
            spec = self.fields[field]
            if isinstance(value, np.ndarray):
                value = np.ascontiguousarray(value)  # torch refuses negative strides
            tensor = torch.as_tensor(value)
            dtype = self._storage[field].dtype
            if tensor.is_floating_point() and not dtype.is_floating_point:
                raise TypeError(f"add: {argument} is {tensor.dtype}; its field stores {dtype}")
            if spec.shape == (1,) and tensor.shape == (self.num_envs,):
                tensor = tensor[:, None]  # Discrete actions given as indices
            if tuple(tensor.shape) != (self.num_envs, *spec.shape):
                raise ValueError(
                    f"add: {argument} must have shape {(self.num_envs, *spec.shape)} (num_envs="
                    f"{self.num_envs} rows of {spec.shape}), got {tuple(tensor.shape)}"
                )
            checked[field] = tensor.to(dtype)
        return checked

    def _to_storage(self, values: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {
            name: value.to(self.storage_device, non_blocking=True) for name, value in values.items()
        }

    def _write(self, envs: np.ndarray, values: dict[str, torch.Tensor]) -> None:
        """Append one step to each env of ``envs`` (``values`` rows in that order)."""
        chunk, position = self._env_chunk[envs], self._env_position[envs]
        for env in envs[(chunk == NOT_HELD) | (position == self.chunk_length)]:
            self._next_chunk(int(env))
        rows = self._env_chunk[envs] * self.chunk_length + self._env_position[envs]
        index = torch.from_numpy(rows).to(self.storage_device)
        for name, value in values.items():
            self._storage[name][index] = value
        self._env_position[envs] += 1
        self._filled[self._env_chunk[envs]] = self._env_position[envs]
        self._counters["steps_added"] += len(envs)

    def _next_chunk(self, env: int) -> None:
        """Close ``env``'s full chunk (offering it to the long-term store) and open a new one,
        which begins with the tail of the full one."""
        full = int(self._env_chunk[env])
        if full != NOT_HELD:
            self._env_chunk[env] = NOT_HELD
            if self.long_term_slots:
                self._offer_long_term(full)
        chunk = self._claim_chunk()
        if full != NOT_HELD:
            # The full chunk itself may be the one claimed (a rejected staging chunk, or one the
            # recent store just let go): the tail is read before it is written.
            tail = np.arange(self.chunk_length - len(self._tail), self.chunk_length)
            self._copy_rows(chunk * self.chunk_length + self._tail, full * self.chunk_length + tail)
        position = 0 if full == NOT_HELD else len(self._tail)
        self._env_chunk[env] = chunk
        self._env_position[env] = position
        self._filled[chunk] = position
        self._first_new[chunk] = position

    def _offer_long_term(self, chunk: int) -> None:
        """Keep ``chunk`` in the long-term store if its random key is among the largest."""
        key = self._key_rng.random()
        self._counters["chunks_offered"] += 1
        members = np.flatnonzero(self._key != NOT_HELD)
        if len(members) == self.long_term_slots:
            lowest = members[np.argmin(self._key[members])]
            if key <= self._key[lowest]:
                return
            self._key[lowest] = NOT_HELD
        self._key[chunk] = key

    def _claim_chunk(self) -> int:
        """A chunk that no store holds and no env writes, for an env to write next; with a
        recent store, it joins it in place of the earliest-started chunk no env writes."""
        writing = np.zeros(len(self._filled), dtype=np.bool_)
        writing[self._env_chunk[self._env_chunk != NOT_HELD]] = True
        if self.recent_slots:
            recent = self._recent_order != NOT_HELD
            if recent.sum() == self.recent_slots:
                order = np.where(recent & ~writing, self._recent_order, np.iinfo(np.int64).max)
                self._recent_order[np.argmin(order)] = NOT_HELD
        held = writing | (self._recent_order != NOT_HELD) | (self._key != NOT_HELD)
        chunk = int(np.argmin(held))  # the first free chunk
        if held[chunk]:  # the slot counts of __init__ always leave one
            raise RuntimeError(f"SequenceBuffer: no free chunk among {len(held)}")
        if self.recent_slots:
            self._recent_order[chunk] = self._counters["chunks_started"]
            self._counters["chunks_started"] += 1
        self._counters["chunks_used"] = max(self._counters["chunks_used"], chunk + 1)
        return chunk

    def _copy_rows(self, destination: np.ndarray, source: np.ndarray) -> None:
        """Copy storage rows ``source`` to ``destination`` in every field (reads before writes)."""
        source_index = torch.from_numpy(source.reshape(-1)).to(self.storage_device)
        destination_index = torch.from_numpy(destination.reshape(-1)).to(self.storage_device)
        for tensor in self._storage.values():
            tensor[destination_index] = tensor[source_index]

    def _members(self, store: str | None) -> np.ndarray:
        """Which chunks ``store`` holds (both stores: None)."""
        recent, long_term = self._recent_order != NOT_HELD, self._key != NOT_HELD
        if store is None:
            return recent | long_term
        if store not in STORES:
            raise ValueError(f"store must be one of {STORES} or None, got {store!r}")
        return recent if store == "recent" else long_term

    def _windows(self, store: str | None) -> np.ndarray:
        """Complete windows per chunk that ``store`` holds (0 for the others)."""
        complete = np.maximum(self._filled - len(self._tail), 0)
        return np.where(self._members(store), complete, 0)

    def sample(
        self,
        batch_size: int,
        long_term: int | None = None,
        rng: np.random.Generator | None = None,
    ) -> dict[str, Any]:
        """Windows drawn uniformly with replacement (a store holding fewer than asked gives
        some twice), ``long_term`` of them from the long-term
        store and the rest from the recent store, as tensors ``(batch_size, sequence_length,
        ...)`` on ``device`` in the stored dtypes (the long-term ones last).

        Keys: ``observation`` (a dict by key for Dict observations), ``action``, ``reward``,
        ``is_first``, ``terminated``, ``truncated``, and the extra fields.

        Args:
            batch_size: windows to draw.
            long_term: how many come from the long-term store; None: all of them when there is
                no recent store, else none.
            rng: draws the windows instead of the buffer's own generator (whose state then
                stays as it was): a fixed generator gives the same windows of the same content.
        """
        batch_size = check_positive_int("batch_size", batch_size)
        if long_term is None:
            long_term = 0 if self.recent_slots else batch_size
        if not 0 <= long_term <= batch_size:
            raise ValueError(f"sample: long_term must lie in [0, {batch_size}], got {long_term}")
        starts = np.concatenate(
            [
                self._draw_starts("recent", batch_size - long_term, rng or self._rng),
                self._draw_starts("long_term", long_term, rng or self._rng),
            ]
        )
        rows = (starts[:, None] + np.arange(self.sequence_length)).reshape(-1)
        index = torch.from_numpy(rows).to(self.storage_device)
        batch: dict[str, Any] = {}
        observation: dict[str, torch.Tensor] = {}
        for name, tensor in self._storage.items():
            window = self._gather(tensor, index)
            window = window.view(batch_size, self.sequence_length, *tensor.shape[1:])
            if name.startswith("observation/"):
                observation[name.removeprefix("observation/")] = window
            else:
                batch[name] = window
        if self.dict_observation:
            batch["observation"] = observation
        return batch

    def _draw_starts(self, store: str, count: int, rng: np.random.Generator) -> np.ndarray:
        """First rows of ``count`` windows drawn uniformly from ``store``."""
        if not count:
            return np.zeros(0, dtype=np.int64)
        windows = self._windows(store)
        ends = np.cumsum(windows)
        available = int(ends[-1])
        if not available:
            raise ValueError(
                f"sample: {count} windows from the {store} store, which holds none yet; "
                "add more first"
            )
        draws = rng.integers(0, available, size=count)
        chunks = np.searchsorted(ends, draws, side="right")
        return chunks * self.chunk_length + draws - (ends - windows)[chunks]

    def _gather(self, tensor: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        if not self._pinned:
            return tensor.index_select(0, index)
        # Gathered into pinned memory so that the copy to the GPU runs asynchronously.
        staged = torch.empty((len(index), *tensor.shape[1:]), dtype=tensor.dtype, pin_memory=True)
        torch.index_select(tensor, 0, index, out=staged)
        return staged.to(self.device, non_blocking=True)

    def stored(self, name: str, store: str | None = None) -> torch.Tensor:
        """Field ``name`` of the steps ``store`` holds (both stores: None), each once, in chunk
        order, on the storage device: e.g. the task indices whose counts give each task's share
        of a store. A chunk's first ``sequence_length - 1`` steps repeat its env's previous chunk
        and count with that chunk, not with this one."""
        if name not in self.fields:
            raise ValueError(f"stored: no field {name!r}; fields are {list(self.fields)}")
        chunks = np.flatnonzero(self._members(store))
        rows = [
            np.arange(
                chunk * self.chunk_length + self._first_new[chunk],
                chunk * self.chunk_length + self._filled[chunk],
            )
            for chunk in chunks
        ]
        index = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        return self._storage[name][torch.from_numpy(index).to(self.storage_device)]

    def config(self) -> dict[str, Any]:
        """What ``load_state_dict`` requires to match: the arguments that shape the storage."""
        return {
            "capacity": self.capacity,
            "long_term_capacity": self.long_term_capacity,
            "num_envs": self.num_envs,
            "sequence_length": self.sequence_length,
            "chunk_length": self.chunk_length,
            "fields": {
                name: [list(spec.shape), spec.dtype.str] for name, spec in self.fields.items()
            },
        }

    def _rows_in_use(self) -> int:
        return self._counters["chunks_used"] * self.chunk_length

    def state_dict(self) -> dict[str, Any]:
        """Tensors, numbers and strings for ``torch.save`` (loadable with ``weights_only=True``).

        The rows in use of each field, as tensors that view the buffer's host memory (no copy;
        their storage is exactly those rows, so a save writes no more), or host copies of them
        where the storage is on the GPU. The index arrays (the stores' members and keys
        included), counters and RNG state are copies.
        """
        rows = self._rows_in_use()
        storage = {}
        for name, tensor in self._storage.items():
            used = tensor[:rows]
            # A slice shares the whole storage, which torch.save would write in full.
            on_host = used.device.type == "cpu"
            storage[name] = torch.from_numpy(used.numpy()) if on_host else used.cpu()
        return {
            "config": self.config(),
            "storage": storage,
            **{name: torch.from_numpy(getattr(self, f"_{name}").copy()) for name in INDEX_ARRAYS},
            "counters": dict(self._counters),
            "rng": self._rng.bit_generator.state,
            "key_rng": self._key_rng.bit_generator.state,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` into this buffer, built with the same arguments (the seed
        and device may differ: the RNG state and the contents come from ``state``)."""
        if not isinstance(state, Mapping) or set(state) != set(STATE_KEYS):
            raise ValueError("state: not a SequenceBuffer state_dict (keys differ)")
        if state["config"] != self.config():
            raise ValueError(
                f"state: saved by a SequenceBuffer with {state['config']}; this one has "
                f"{self.config()}: build the buffer with the same arguments"
            )
        for name in INDEX_ARRAYS:
            if state[name].shape != getattr(self, f"_{name}").shape:
                raise ValueError(f"state: {name} has shape {tuple(state[name].shape)}")
        rows = int(state["counters"]["chunks_used"]) * self.chunk_length
        if any(len(state["storage"][name]) != rows for name in self._storage):
            raise ValueError(f"state: its storage does not hold the {rows} rows its counters use")
        self._counters = {name: int(state["counters"][name]) for name in self._counters}
        for name, tensor in self._storage.items():
            tensor[:rows].copy_(state["storage"][name])
        for name in INDEX_ARRAYS:
            getattr(self, f"_{name}")[:] = state[name].numpy()
        self._rng.bit_generator.state = state["rng"]
        self._key_rng.bit_generator.state = state["key_rng"]

    def end_episodes(self) -> None:
        """Start every env's stream afresh: the next ``add`` stores its ``observation`` as an
        episode's first step. For a resumed run, whose envs reset where the saved streams were
        in mid-episode (a window must not join the old episode to the new one)."""
        self._episode_open[:] = False
