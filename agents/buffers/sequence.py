"""Sequence replay for world models and recurrent agents (DreamerV3, WMAR): windows of
consecutive steps, stored once in torch tensors and sampled straight onto the training device.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from gymnasium import spaces

from agents.buffers.base import check_positive_int, check_seed
from agents.buffers.fields import FLAG_DTYPE, REWARD_DTYPE, FieldLike, FieldSpec, as_field
from agents.buffers.memory import check_fits

PLACEMENTS = ("fifo", "reservoir")
# Storage goes on the GPU only if it leaves this share of the free memory to the networks,
# their optimisers and activations; otherwise it stays in pinned host memory.
GPU_HEADROOM = 0.25
STEP_FLAGS = ("is_first", "terminated", "truncated")
# The index arrays of the bookkeeping, saved by name.
INDEX_ARRAYS = ("filled", "started", "env_chunk", "env_position", "episode_open")
STATE_KEYS = ("config", "storage", *INDEX_ARRAYS, "counters", "rng")


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
    """Per-env streams of steps, sampled as windows of ``sequence_length`` consecutive steps.

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
    chunk. ``placement`` chooses what happens to chunks: ``"fifo"`` keeps the newest (each env
    writes its chunk in place, sampleable as soon as a window is complete; a new chunk replaces
    the earliest-started chunk no env is writing), ``"reservoir"`` keeps a uniform sample of all
    full chunks ever written (algorithm R over chunks; an env fills a staging chunk of its own,
    offered when full).

    Storage is one tensor per field, uint8 images as uint8, on ``device`` when it is a CUDA
    device with room (:func:`storage_placement`), else in host memory (pinned if CUDA is
    available). Discrete actions are stored as one integer, shape ``(1,)``; an ``(num_envs,)``
    array of indices is accepted for them.

    Args:
        capacity: distinct steps held at most (rounded down to whole chunks; the steps a chunk
            repeats from its env's previous chunk do not count).
        observation: a field spec or gymnasium space; a ``Dict`` space (or a mapping of specs)
            stores one field per key, and ``add`` and ``sample`` take and give a dict.
        action: field spec or gymnasium space of actions.
        num_envs: streams; ``add`` takes exactly one transition per env.
        sequence_length: steps per sampled window (at least 2).
        chunk_length: steps per chunk (default ``4 * sequence_length``), at least
            ``sequence_length``; the repeated steps cost ``(sequence_length - 1) /
            chunk_length`` extra memory.
        placement: ``"fifo"`` or ``"reservoir"``.
        device: where samples are returned.
        seed: seeds every random choice (sampling and reservoir placement).
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
        placement: str = "fifo",
        device: str | torch.device = "cpu",
        seed: int = 0,
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
        # Capacity counts distinct steps: a chunk holds chunk_length - (sequence_length - 1)
        # new ones after the steps it repeats from its env's previous chunk.
        new_steps = self.chunk_length - (self.sequence_length - 1)
        self.slots = self.capacity // new_steps
        # A FIFO env writes in place, so each needs a slot of its own and one must stay free.
        minimum_slots = 1 if placement == "reservoir" else self.num_envs + 1
        if self.slots < minimum_slots:
            raise ValueError(
                f"capacity={capacity} holds {self.slots} chunks of {new_steps} new steps "
                f"(chunk_length={self.chunk_length}); {placement} placement with num_envs="
                f"{self.num_envs} needs at least {minimum_slots}: raise capacity to at least "
                f"{minimum_slots * new_steps} or lower chunk_length"
            )
        self.seed = check_seed(seed)
        self.device = self._check_device(device)
        self.fields = {
            **observation_fields(observation),
            "action": as_field("action", action),
            "reward": FieldSpec((), REWARD_DTYPE),
            **{flag: FieldSpec((), FLAG_DTYPE) for flag in STEP_FLAGS},
        }
        self.dict_observation = "observation" not in self.fields
        # Reservoir: chunks 0 .. num_envs - 1 are the envs' staging chunks, never sampled; kept
        # chunks follow, so the rows in use are always a prefix (state_dict saves only those).
        self._staging = self.num_envs if placement == "reservoir" else 0
        rows = (self._staging + self.slots) * self.chunk_length
        needed = {name: rows * spec.item_bytes for name, spec in self.fields.items()}
        self.storage_device, pinned = storage_placement(self.device, sum(needed.values()))
        if check_memory and self.storage_device.type == "cpu":
            check_fits(f"SequenceBuffer(capacity={self.capacity})", self.capacity, needed)
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
        chunks = self._staging + self.slots
        self._filled = np.zeros(chunks, dtype=np.int64)  # steps written per chunk
        self._started = np.full(chunks, -1, dtype=np.int64)  # FIFO age: when a chunk began
        self._env_chunk = np.full(self.num_envs, -1, dtype=np.int64)
        self._env_position = np.zeros(self.num_envs, dtype=np.int64)
        self._episode_open = np.zeros(self.num_envs, dtype=np.bool_)
        self._counters = {"steps_added": 0, "chunks_started": 0, "chunks_offered": 0}
        self._rng = np.random.default_rng(self.seed)
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
        """Windows a sample draws from."""
        return int(self._windows().sum())

    @property
    def steps_added(self) -> int:
        """Steps ever stored, first steps of episodes included."""
        return self._counters["steps_added"]

    def __repr__(self) -> str:
        return (
            f"SequenceBuffer(capacity={self.capacity}, placement={self.placement!r}, "
            f"storage_device={str(self.storage_device)!r}, windows={len(self)})"
        )

    def add(
        self,
        observation: Any,
        action: Any,
        reward: Any,
        next_observation: Any,
        terminated: Any,
        truncated: Any,
    ) -> None:
        """Store one transition per env (row ``i`` belongs to env ``i``): arrays or tensors."""
        self._commit_add(
            self._prepare_add(observation, action, reward, next_observation, terminated, truncated)
        )

    def _prepare_add(
        self,
        observation: Any,
        action: Any,
        reward: Any,
        next_observation: Any,
        terminated: Any,
        truncated: Any,
    ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], np.ndarray]:
        """The checked transition as tensors on the storage device: the fields of a first step
        (the observation), those of the next step, and which envs' episodes it ends. Stores
        nothing, so that a :class:`MixedReplay` can check every member before any stores."""
        first = self._checked(self._observation_values("observation", observation))
        step = self._checked(
            {
                **self._observation_values("next_observation", next_observation),
                "action": ("action", action),
                "reward": ("reward", reward),
                "terminated": ("terminated", terminated),
                "truncated": ("truncated", truncated),
            }
        )
        # From the inputs, which are usually on the host: no wait for the device.
        ends = (step["terminated"] | step["truncated"]).cpu().numpy()
        return self._to_storage(first), self._to_storage(step), ends

    def _observation_values(self, argument: str, value: Any) -> dict[str, tuple[str, Any]]:
        """The observation argument's values by field, each with its name for errors."""
        if not self.dict_observation:
            return {"observation": (argument, value)}
        keys = [name.removeprefix("observation/") for name in self.fields if "/" in name]
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

    def _commit_add(
        self, prepared: tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], np.ndarray]
    ) -> None:
        """Store a transition from :meth:`_prepare_add`: the first steps of new episodes, then
        every env's next step."""
        first, step, ends = prepared
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

    def _write(self, envs: np.ndarray, values: dict[str, torch.Tensor]) -> None:
        """Append one step to each env of ``envs`` (``values`` rows in that order)."""
        full = envs[(self._env_chunk[envs] < 0) | (self._env_position[envs] == self.chunk_length)]
        if full.size:
            if self.placement == "fifo":
                self._start_fifo_chunks(full)
            else:
                self._offer_reservoir_chunks(full)
        rows = self._env_chunk[envs] * self.chunk_length + self._env_position[envs]
        index = torch.from_numpy(rows).to(self.storage_device)
        for name, value in values.items():
            self._storage[name][index] = value
        self._env_position[envs] += 1
        self._filled[self._env_chunk[envs]] = self._env_position[envs]
        self._counters["steps_added"] += len(envs)

    def _copy_rows(self, destination: np.ndarray, source: np.ndarray) -> None:
        """Copy storage rows ``source`` to ``destination`` in every field (reads before writes)."""
        source_index = torch.from_numpy(source.reshape(-1)).to(self.storage_device)
        destination_index = torch.from_numpy(destination.reshape(-1)).to(self.storage_device)
        for tensor in self._storage.values():
            tensor[destination_index] = tensor[source_index]

    def _tail_rows(self, chunks: np.ndarray) -> np.ndarray:
        """Rows of the last ``sequence_length - 1`` steps of each of ``chunks``."""
        start = (chunks + 1) * self.chunk_length - len(self._tail)
        return start[:, None] + self._tail

    def _start_fifo_chunks(self, envs: np.ndarray) -> None:
        """Give each of ``envs`` a new chunk in place of the earliest-started ones no other env
        is writing, opened with the tail of the env's previous chunk."""
        others = np.setdiff1d(np.arange(self.num_envs), envs)
        age = self._started.copy()
        age[self._env_chunk[others][self._env_chunk[others] >= 0]] = np.iinfo(np.int64).max
        new_chunks = np.argsort(age, kind="stable")[: len(envs)]
        old_chunks = self._env_chunk[envs]
        continuing = old_chunks >= 0
        # The tails are read before any new chunk is written: a new chunk may be an old one.
        self._copy_rows(
            new_chunks[continuing][:, None] * self.chunk_length + self._tail,
            self._tail_rows(old_chunks[continuing]),
        )
        started = self._counters["chunks_started"]
        self._started[new_chunks] = started + np.arange(len(envs))
        self._counters["chunks_started"] = started + len(envs)
        self._env_chunk[envs] = new_chunks
        self._env_position[envs] = np.where(continuing, len(self._tail), 0)
        self._filled[new_chunks] = self._env_position[envs]

    def _offer_reservoir_chunks(self, envs: np.ndarray) -> None:
        """Offer the envs' full staging chunks to the reservoir, in env order (algorithm R),
        then open each staging chunk again with its tail; a first add just takes it."""
        new = envs[self._env_chunk[envs] < 0]
        self._env_chunk[new] = new
        full = envs[self._env_chunk[envs] >= 0]
        full = full[self._env_position[full] == self.chunk_length]
        if not full.size:
            return
        offered = self._counters["chunks_offered"] + np.arange(1, len(full) + 1)
        slots = np.where(offered <= self.slots, offered - 1, self._rng.integers(0, offered))
        kept = slots < self.slots
        slots, sources = slots[kept], full[kept]
        # Where two offers land on one slot, the later one replaces the earlier, as in turn.
        _, last = np.unique(slots[::-1], return_index=True)
        slots, sources = slots[::-1][last], sources[::-1][last]
        chunk_rows = np.arange(self.chunk_length)
        targets = self._staging + slots
        self._copy_rows(
            targets[:, None] * self.chunk_length + chunk_rows,
            sources[:, None] * self.chunk_length + chunk_rows,
        )
        self._filled[targets] = self.chunk_length
        self._counters["chunks_offered"] = int(offered[-1])
        self._copy_rows(full[:, None] * self.chunk_length + self._tail, self._tail_rows(full))
        self._env_position[full] = len(self._tail)

    def _windows(self) -> np.ndarray:
        """Complete windows per sampleable chunk (staging chunks excluded)."""
        return np.maximum(self._filled[self._staging :] - len(self._tail), 0)

    def sample(self, batch_size: int) -> dict[str, Any]:
        """Windows drawn uniformly with replacement, as tensors ``(batch_size, sequence_length,
        ...)`` on ``device`` in the stored dtypes.

        Keys: ``observation`` (a dict by key for Dict observations), ``action``, ``reward``,
        ``is_first``, ``terminated``, ``truncated``.

        Args:
            batch_size: windows to draw, at most ``len(self)``.
        """
        batch_size = check_positive_int("batch_size", batch_size)
        windows = self._windows()
        ends = np.cumsum(windows)
        available = int(ends[-1])
        if batch_size > available:
            raise ValueError(
                f"sample: batch_size={batch_size} is more than the {available} windows this "
                "SequenceBuffer holds; add more first or sample fewer"
            )
        draws = self._rng.integers(0, available, size=batch_size)
        chunks = np.searchsorted(ends, draws, side="right")
        starts = (self._staging + chunks) * self.chunk_length + draws - (ends - windows)[chunks]
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

    def _gather(self, tensor: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        if not self._pinned:
            return tensor.index_select(0, index)
        # Gathered into pinned memory so that the copy to the GPU runs asynchronously.
        staged = torch.empty((len(index), *tensor.shape[1:]), dtype=tensor.dtype, pin_memory=True)
        torch.index_select(tensor, 0, index, out=staged)
        return staged.to(self.device, non_blocking=True)

    def config(self) -> dict[str, Any]:
        """What ``load_state_dict`` requires to match: the arguments that shape the storage."""
        return {
            "capacity": self.capacity,
            "num_envs": self.num_envs,
            "sequence_length": self.sequence_length,
            "chunk_length": self.chunk_length,
            "placement": self.placement,
            "fields": {
                name: [list(spec.shape), spec.dtype.str] for name, spec in self.fields.items()
            },
        }

    def _rows_in_use(self) -> int:
        if self.placement == "fifo":
            chunks = min(self._counters["chunks_started"], self.slots)
        else:
            chunks = self._staging + min(self._counters["chunks_offered"], self.slots)
        return chunks * self.chunk_length

    def state_dict(self) -> dict[str, Any]:
        """Tensors, numbers and strings for ``torch.save`` (loadable with ``weights_only=True``).

        The rows in use of each field, as tensors that view the buffer's host memory (no copy;
        their storage is exactly those rows, so a save writes no more), or host copies of them
        where the storage is on the GPU. The index arrays, counters and RNG state are copies.
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
        previous_counters = self._counters
        self._counters = {name: int(state["counters"][name]) for name in previous_counters}
        rows = self._rows_in_use()
        if any(len(state["storage"][name]) != rows for name in self._storage):
            self._counters = previous_counters
            raise ValueError(f"state: its storage does not hold the {rows} rows its counters use")
        for name, tensor in self._storage.items():
            tensor[:rows].copy_(state["storage"][name])
        for name in INDEX_ARRAYS:
            getattr(self, f"_{name}")[:] = state[name].numpy()
        self._rng.bit_generator.state = state["rng"]

    def end_episodes(self) -> None:
        """Start every env's stream afresh: the next ``add`` stores its ``observation`` as an
        episode's first step. For a resumed run, whose envs reset where the saved streams were
        in mid-episode (a window must not join the old episode to the new one)."""
        self._episode_open[:] = False
