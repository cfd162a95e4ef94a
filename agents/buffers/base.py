"""What the transition buffers share: sampling to numpy or torch, memory checks, state_dict.

``Buffer`` is the interface (``add``, ``sample``, ``len``, ``state_dict``); ``TransitionBuffer``
stores transitions in a :class:`~agents.buffers.storage.Storage` and leaves two decisions to its
subclasses: which rows an added item goes to, and which rows a sample reads.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import torch

from agents.buffers import kernels
from agents.buffers.batch import Batch, check_sample_options, to_device
from agents.buffers.fields import (
    FieldLike,
    FieldSpec,
    fields_from_json,
    fields_to_json,
    transition_fields,
)
from agents.buffers.memory import check_fits, storage_bytes
from agents.buffers.storage import BatchChecker, Storage, check_field_names


def check_positive_int(name: str, value: Any) -> int:
    """``value`` as an int if it is a positive integer, else a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_non_negative_int(name: str, value: Any) -> int:
    """``value`` as an int if it is an integer of at least 0, else a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be an integer of at least 0, got {value!r}")
    return int(value)


def check_seed(seed: Any) -> int:
    """``seed`` as an int, else a ValueError."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    return int(seed)


def field_arguments(
    fields: Mapping[str, FieldSpec], extra_field_names: tuple[str, ...]
) -> dict[str, Any]:
    """The ``observation``, ``action`` and ``extra_fields`` constructor arguments, JSON-able.

    ``extra_fields`` is a list of ``[name, spec]`` pairs, not a mapping: their order is the
    order of the buffer's arrays, and a JSON object's key order is not something to rely on
    (a state_dict's config is written with sorted keys).
    """
    encoded = fields_to_json(fields)
    return {
        "observation": encoded["observation"],
        "action": encoded["action"],
        "extra_fields": [[name, encoded[name]] for name in extra_field_names],
    }


def decode_field_arguments(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` with the arguments of :func:`field_arguments` turned back into FieldSpecs."""
    extra_fields = config["extra_fields"]
    return {
        **config,
        "observation": FieldSpec.from_json(config["observation"]),
        "action": FieldSpec.from_json(config["action"]),
        "extra_fields": fields_from_json(dict(extra_fields)),
    }


class Buffer(ABC):
    """A replay buffer: ``add`` batches of data, ``sample`` minibatches, ``state_dict``.

    Subclasses set ``kind`` (the name in a state_dict) and implement :meth:`config` (the
    constructor arguments, JSON-able), :meth:`state` / :meth:`restore_state` (counters) and
    :meth:`persistent_arrays` (the arrays a state_dict holds, restored in place).
    """

    kind: ClassVar[str]

    @abstractmethod
    def __len__(self) -> int:
        """Number of items a sample draws from."""

    @abstractmethod
    def sample(
        self,
        batch_size: int,
        *,
        device: str | torch.device | None = None,
        pin_memory: bool = False,
        dtypes: Mapping[str, torch.dtype] | None = None,
    ) -> Batch:
        """Draw a minibatch: numpy arrays, or torch tensors on ``device``.

        Args:
            batch_size: items to draw (with replacement); at most ``len(self)``.
            device: None for numpy arrays, else a torch device for tensors.
            pin_memory: stage through pinned host memory for a faster, asynchronous copy to a
                CUDA device.
            dtypes: torch dtypes to convert named fields to on the device, e.g.
                ``{"observation": torch.float32}``; fields keep their stored dtype otherwise.
        """

    @abstractmethod
    def _prepare_add(self, *args: Any, **kwargs: Any) -> Any:
        """Check the arguments of ``add`` and store nothing: raise what ``add`` would raise,
        else return what :meth:`_commit_add` stores.

        ``add`` is the two steps in turn; a :class:`MixedReplay` prepares every member before
        it commits any, so an input one member rejects reaches none.
        """

    @abstractmethod
    def _commit_add(self, prepared: Any) -> None:
        """Store what :meth:`_prepare_add` returned (for this buffer, in its current state)."""

    @abstractmethod
    def config(self) -> dict[str, Any]:
        """The constructor arguments, JSON-able (``type(self).from_config`` inverts it)."""

    @abstractmethod
    def state(self) -> dict[str, Any]:
        """Counters and other small state, JSON-able."""

    @abstractmethod
    def restore_state(self, state: Mapping[str, Any]) -> None:
        """Set the counters from :meth:`state` (the arrays are already restored)."""

    @abstractmethod
    def persistent_arrays(self) -> dict[str, np.ndarray]:
        """The arrays a state_dict holds, by name; loading reads into these same arrays."""

    @classmethod
    @abstractmethod
    def from_config(cls, config: Mapping[str, Any], check_memory: bool = True) -> Buffer:
        """A new, empty buffer from :meth:`config`."""

    def saved_rows(self, name: str) -> int | None:
        """How many leading rows of persistent array ``name`` hold data (``None``: all)."""
        return None

    def state_dict(self) -> dict[str, Any]:
        """The buffer as tensors and strings for a checkpoint's ``torch.save``: kind, config and
        counters as JSON, and the rows of each persistent array that hold data as a tensor
        viewing the buffer's own memory, so that saving a large buffer copies nothing."""
        arrays = {}
        for name, array in self.persistent_arrays().items():
            rows = self.saved_rows(name)
            arrays[name] = torch.from_numpy(array if rows is None else array[:rows])
        return {
            "kind": self.kind,
            "config": json.dumps(self.config(), sort_keys=True),
            "state": json.dumps(self.state(), sort_keys=True),
            "arrays": arrays,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` into this buffer, built with the same config."""
        if state["kind"] != self.kind or json.loads(state["config"]) != self.config():
            raise ValueError(
                f"buffer state of a {state['kind']!r} buffer with config {state['config']}; "
                f"this is a {self.kind!r} buffer with config {json.dumps(self.config())}"
            )
        self.restore_state(json.loads(state["state"]))
        targets = self.state_dict()["arrays"]
        if {name: tuple(t.shape) for name, t in targets.items()} != {
            name: tuple(t.shape) for name, t in state["arrays"].items()
        }:
            raise ValueError("buffer state: its arrays do not match the buffer's counters")
        for name, saved in state["arrays"].items():
            targets[name].copy_(saved)

    def _check_sample_request(
        self,
        batch_size: Any,
        device: Any,
        pin_memory: bool,
        dtypes: Mapping[str, torch.dtype] | None,
    ) -> tuple[int, torch.device | None]:
        """Checked arguments of :meth:`sample`, before anything is drawn."""
        batch_size = check_positive_int("batch_size", batch_size)
        available = len(self)
        if batch_size > available:
            raise ValueError(
                f"sample: batch_size={batch_size} is more than the {available} items this "
                f"{type(self).__name__} holds; add more first or sample fewer"
            )
        return batch_size, check_sample_options(device, pin_memory, dtypes)


def finish_batch(
    data: dict[str, np.ndarray],
    indices: np.ndarray,
    device: torch.device | None,
    pin_memory: bool,
    dtypes: Mapping[str, torch.dtype] | None,
) -> Batch:
    """A Batch of numpy arrays, or of tensors on ``device``."""
    if device is None:
        return Batch(data, indices)
    return Batch(to_device(data, device, pin_memory, dtypes), indices)


class TransitionBuffer(Buffer):
    """Transitions ``(observation, action, reward, next_observation, terminated, truncated)``.

    Args:
        capacity: transitions held at most.
        observation: the observation field (a :class:`FieldSpec` or a gymnasium space);
            images stay uint8.
        action: the action field (spec or space).
        extra_fields: more named fields stored with every transition (e.g. ``task_index``).
        seed: seeds every random choice this buffer makes.
        check_memory: raise :class:`BufferMemoryError` before allocating if the buffer would not
            fit in the memory available.
    """

    def __init__(
        self,
        capacity: int,
        observation: FieldLike,
        action: FieldLike,
        *,
        extra_fields: Mapping[str, FieldLike] | None = None,
        seed: int = 0,
        check_memory: bool = True,
    ) -> None:
        self.capacity = check_positive_int("capacity", capacity)
        self.seed = check_seed(seed)
        self.fields = transition_fields(observation, action, extra_fields)
        self.extra_field_names = tuple(extra_fields or ())
        self._extra_field_set = set(self.extra_field_names)
        if check_memory:
            check_fits(
                f"{type(self).__name__}(capacity={self.capacity})",
                self.capacity,
                self.memory_needed(),
            )
        self.storage = Storage(self.fields, self.capacity)
        self._checker = BatchChecker(self.fields)
        self.size = 0  # transitions held
        self.added = 0  # transitions ever added
        self.draws = 0  # random numbers drawn by sample so far
        self._sample_key = kernels.stream_key(self.seed, kernels.SAMPLE_STREAM)

    def memory_needed(self) -> dict[str, int]:
        """Bytes this buffer allocates, per part (the fields, and any index structure)."""
        return storage_bytes(self.fields, self.capacity)

    @property
    def nbytes(self) -> int:
        """Bytes allocated."""
        return sum(self.memory_needed().values())

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return f"{type(self).__name__}(capacity={self.capacity}, size={self.size})"

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
        """Add a batch of transitions; every argument has the batch on its first axis.

        A vector env's step gives such a batch directly (one row per env); add a single
        transition as a batch of one. ``next_observation`` is the true next observation: the
        final one where an episode ended, not the reset observation.
        """
        self._commit_add(
            self._prepare_add(
                observation,
                action,
                reward,
                next_observation,
                terminated,
                truncated,
                **extra_fields,
            )
        )

    def _prepare_add(
        self,
        observation: Any,
        action: Any,
        reward: Any,
        next_observation: Any,
        terminated: Any,
        truncated: Any,
        **extra_fields: Any,
    ) -> tuple[int, dict[str, np.ndarray]]:
        """The batch size and the checked arrays by field."""
        if extra_fields.keys() != self._extra_field_set:
            check_field_names(extra_fields, self.extra_field_names, "add: extra fields")
        values = [observation, action, reward, next_observation, terminated, truncated]
        values += [extra_fields[name] for name in self.extra_field_names]
        return self._checker.check(values)

    def _commit_add(self, prepared: tuple[int, dict[str, np.ndarray]]) -> None:
        count, batch = prepared
        if count:
            self._store(batch, count)

    @abstractmethod
    def _store(self, batch: dict[str, np.ndarray], count: int) -> None:
        """Write a checked batch of ``count`` items where they belong; update the counters."""

    def _sample_rows(self, batch_size: int) -> np.ndarray:
        """Rows to read, drawn uniformly with replacement."""
        rows = np.empty(batch_size, dtype=np.int64)
        kernels.uniform_rows(self._sample_key, self.draws, self.size, rows)
        self.draws += batch_size
        return rows

    def sample(
        self,
        batch_size: int,
        *,
        device: str | torch.device | None = None,
        pin_memory: bool = False,
        dtypes: Mapping[str, torch.dtype] | None = None,
    ) -> Batch:
        batch_size, device = self._check_sample_request(batch_size, device, pin_memory, dtypes)
        rows = self._sample_rows(batch_size)
        return finish_batch(self.storage.read(rows), rows, device, pin_memory, dtypes)

    def config(self) -> dict[str, Any]:
        return {
            "capacity": self.capacity,
            **field_arguments(self.fields, self.extra_field_names),
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any], check_memory: bool = True) -> Buffer:
        return cls(**decode_field_arguments(config), check_memory=check_memory)

    def state(self) -> dict[str, Any]:
        return {"size": self.size, "added": self.added, "draws": self.draws}

    def restore_state(self, state: Mapping[str, Any]) -> None:
        self.size = int(state["size"])
        self.added = int(state["added"])
        self.draws = int(state["draws"])

    def persistent_arrays(self) -> dict[str, np.ndarray]:
        return {f"field/{name}": array for name, array in self.storage.arrays.items()}

    def saved_rows(self, name: str) -> int | None:
        # Ring and reservoir fill rows from the first on, so the held ones lead.
        return self.size if name.startswith("field/") else None
