"""A mixture of transition buffers that draws each minibatch whole from one member, chosen by
weight.

WMAR's replay for model-free agents (ARROW's SAC arm): a short FIFO of recent transitions mixed
with a long-term reservoir. ``add`` feeds every member, so each keeps its own view of the same
stream; data one member rejects reaches none. (Sequences have both stores in one
:class:`~agents.buffers.SequenceBuffer`, which stores a chunk both hold once.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from agents.buffers import kernels
from agents.buffers.base import check_positive_int, check_seed


@runtime_checkable
class ReplayMember(Protocol):
    """What a member of a :class:`MixedReplay` provides: the numpy buffers
    (:class:`~agents.buffers.base.Buffer`) do."""

    def __len__(self) -> int: ...

    def sample(self, batch_size: int, **options: Any) -> Any: ...

    def _prepare_add(self, *args: Any, **kwargs: Any) -> Any: ...

    def _commit_add(self, prepared: Any) -> None: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


class MixedReplay:
    """Members and weights: each ``sample`` picks member ``i`` with probability proportional
    to ``weights[i]`` among the members holding at least ``batch_size`` items.

    Args:
        members: the buffers (for ``add``, all must take the same arguments).
        weights: non-negative numbers, one per member, not all zero.
        seed: seeds the choice of member.
    """

    def __init__(
        self, members: Sequence[ReplayMember], weights: Sequence[float], *, seed: int = 0
    ) -> None:
        members = list(members)
        if not members or not all(isinstance(member, ReplayMember) for member in members):
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
        self.last_member: int | None = None  # the member the latest sample came from
        self._key = kernels.stream_key(self.seed, kernels.MIXTURE_STREAM)

    def __len__(self) -> int:
        """Items of the largest member (a batch of up to this many can be drawn)."""
        return max(len(member) for member in self.members)

    def __repr__(self) -> str:
        return f"MixedReplay({self.members!r}, weights={self.weights.tolist()})"

    def add(self, *args: Any, **kwargs: Any) -> None:
        """Add the same data to every member, or, if any member rejects it, to none."""
        # Every member checks the input before any stores it: a later member's error (a batch
        # not of its num_envs) must not leave earlier ones ahead.
        prepared = [member._prepare_add(*args, **kwargs) for member in self.members]
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

    def sample(self, batch_size: int, **options: Any) -> Any:
        """A minibatch from one member, as that member gives it (``options`` passed on, e.g.
        ``device`` for the numpy buffers); :attr:`last_member` says which member.

        Args:
            batch_size: items to draw.
        """
        member = self.choose_member(batch_size)
        batch = self.members[member].sample(batch_size, **options)
        self.last_member = member
        return batch

    def state_dict(self) -> dict[str, Any]:
        """The member choice's seed and counter, and every member's state_dict."""
        return {
            "seed": self.seed,
            "draws": self.draws,
            "members": [member.state_dict() for member in self.members],
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` into a mixture of members built alike (the member choice
        continues the saved one, whatever this mixture's seed)."""
        if len(state["members"]) != len(self.members):
            raise ValueError(
                f"state: {len(state['members'])} members; this MixedReplay has {len(self.members)}"
            )
        for member, member_state in zip(self.members, state["members"], strict=True):
            member.load_state_dict(member_state)
        self.seed = check_seed(state["seed"])
        self._key = kernels.stream_key(self.seed, kernels.MIXTURE_STREAM)
        self.draws = int(state["draws"])
