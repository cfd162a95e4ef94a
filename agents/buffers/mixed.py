"""A mixture of buffers that draws each minibatch whole from one member, chosen by weight.

WMAR's replay: a short FIFO of recent experience mixed with a long-term reservoir. ``add``
feeds every member, so each keeps its own view of the same stream; data one member rejects
reaches none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from agents.buffers import kernels
from agents.buffers.base import BUFFER_KINDS, Buffer, check_positive_int, check_seed
from agents.buffers.batch import Batch, check_sample_options


class MixedReplay(Buffer):
    """Members and weights: each ``sample`` picks member ``i`` with probability proportional
    to ``weights[i]`` among the members holding at least ``batch_size`` items.

    Args:
        members: the buffers (for ``add``, all must take the same arguments).
        weights: non-negative numbers, one per member, not all zero.
        seed: seeds the choice of member.
    """

    kind = "mixed"

    def __init__(
        self,
        members: Sequence[Buffer],
        weights: Sequence[float],
        *,
        seed: int = 0,
        check_memory: bool = True,  # members checked their own memory when they were built
    ) -> None:
        members = list(members)
        if not members or not all(isinstance(member, Buffer) for member in members):
            raise ValueError(f"members must be a non-empty list of buffers, got {members!r}")
        weights_array = np.asarray(weights, dtype=np.float64)
        if weights_array.shape != (len(members),):
            raise ValueError(
                f"weights must hold one number per member ({len(members)}), got {weights!r}"
            )
        if not np.all(np.isfinite(weights_array)) or np.any(weights_array < 0):
            raise ValueError(f"weights must be finite and non-negative, got {weights!r}")
        if weights_array.sum() <= 0:
            raise ValueError(f"weights must not all be zero, got {weights!r}")
        self.members = members
        self.weights = weights_array
        self.seed = check_seed(seed)
        self.draws = 0
        self._key = kernels.stream_key(self.seed, kernels.MIXTURE_STREAM)

    def __len__(self) -> int:
        """Items of the largest member (a batch of up to this many can be drawn)."""
        return max(len(member) for member in self.members)

    def __repr__(self) -> str:
        return f"MixedReplay({self.members!r}, weights={self.weights.tolist()})"

    def add(self, *args: Any, **kwargs: Any) -> None:
        """Add the same data to every member, or, if any member rejects it, to none."""
        self._commit_add(self._prepare_add(*args, **kwargs))

    def _prepare_add(self, *args: Any, **kwargs: Any) -> list[Any]:
        # Every member checks the input before any stores it: a later member's error (a broken
        # SequenceBuffer stream, a batch not of its num_envs) must not leave earlier ones ahead.
        return [member._prepare_add(*args, **kwargs) for member in self.members]

    def _commit_add(self, prepared: list[Any]) -> None:
        for member, member_prepared in zip(self.members, prepared, strict=True):
            member._commit_add(member_prepared)

    def choose_member(self, batch_size: int) -> int:
        """Index of the member the next minibatch of ``batch_size`` comes from."""
        batch_size = check_positive_int("batch_size", batch_size)
        ready = np.array([len(member) >= batch_size for member in self.members])
        weights = np.where(ready, self.weights, 0.0)
        if weights.sum() <= 0:
            sizes = [len(member) for member in self.members]
            raise ValueError(
                f"sample: no member with a positive weight holds batch_size={batch_size} items "
                f"(member sizes {sizes}, weights {self.weights.tolist()})"
            )
        # One uniform draw against the cumulative weights.
        target = kernels.uniform(self._key, self.draws) * weights.sum()
        self.draws += 1
        return int(min(np.searchsorted(np.cumsum(weights), target, side="right"), len(weights) - 1))

    def sample(
        self,
        batch_size: int,
        *,
        device: str | torch.device | None = None,
        pin_memory: bool = False,
        dtypes: Mapping[str, torch.dtype] | None = None,
    ) -> Batch:
        """A minibatch from one member; ``Batch.member`` says which."""
        check_sample_options(device, pin_memory, dtypes)  # before a member is drawn
        member = self.choose_member(batch_size)
        batch = self.members[member].sample(
            batch_size, device=device, pin_memory=pin_memory, dtypes=dtypes
        )
        return batch.with_member(member)

    def config(self) -> dict[str, Any]:
        return {
            "members": [
                {"kind": member.kind, "config": member.config()} for member in self.members
            ],
            "weights": self.weights.tolist(),
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any], check_memory: bool = True) -> Buffer:
        members = [
            BUFFER_KINDS[member["kind"]].from_config(member["config"], check_memory)
            for member in config["members"]
        ]
        return cls(members, config["weights"], seed=config["seed"])

    def state(self) -> dict[str, Any]:
        return {"draws": self.draws, "members": [member.state() for member in self.members]}

    def restore_state(self, state: Mapping[str, Any]) -> None:
        self.draws = int(state["draws"])
        for member, member_state in zip(self.members, state["members"], strict=True):
            member.restore_state(member_state)

    def saved_rows(self, name: str) -> int | None:
        member, member_name = name.split("/", 1)
        return self.members[int(member.removeprefix("member"))].saved_rows(member_name)

    def persistent_arrays(self) -> dict[str, np.ndarray]:
        return {
            f"member{index}/{name}": array
            for index, member in enumerate(self.members)
            for name, array in member.persistent_arrays().items()
        }
