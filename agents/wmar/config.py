"""The config of WMAR (``envsuite-train agent=wmar size=S``): DreamerV3's, with the replay of two
stores. The dataclass keeps DreamerV3's defaults for everything else; ``experiment=wmar_paper``
sets the paper's (minibatches of 16 x 32, Adam at 1e-4 throughout)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from agents.common.protocol import AgentConfigError
from agents.dreamer.config import DreamerConfig

if TYPE_CHECKING:
    from agents.wmar.agent import WMARAgent

# WMAR's stores hold 512 sequences of 512 steps each, sampled in windows of 32. Our chunks
# repeat the last sequence_length - 1 steps of the one before (so that every window lies in one
# chunk) and capacities count distinct steps: 512 chunks of 512 steps with windows of 32 hold
# 512 * 481.
PAPER_CHUNK_LENGTH = 512
PAPER_SEQUENCE_LENGTH = 32
PAPER_STORE_STEPS = 512 * (PAPER_CHUNK_LENGTH - (PAPER_SEQUENCE_LENGTH - 1))


class Mixing(Enum):
    """How the two stores share a minibatch (``agent.mixing=``)."""

    per_update = "per_update"
    """Each update's minibatch comes whole from one store (the paper's code)."""
    per_sample = "per_sample"
    """Each window of a minibatch comes from the long-term store with the same chance."""


@dataclass
class WMARConfig(DreamerConfig):
    """WMAR: DreamerV3 whose replay is a recent FIFO (``replay_capacity`` steps) and a long-term
    store that keeps a uniform sample of every sequence seen (``long_term_capacity``). Every
    full sequence is offered to the long-term store; a sequence both stores hold is stored
    once."""

    name: str = "wmar"
    sequence_length: int = PAPER_SEQUENCE_LENGTH
    """Steps per window (WMAR: 32)."""
    replay_capacity: int = PAPER_STORE_STEPS
    """Steps the recent (FIFO) store holds."""
    long_term_capacity: int = PAPER_STORE_STEPS
    """Steps the long-term (distribution-matching) store holds."""
    chunk_length: int | None = PAPER_CHUNK_LENGTH
    """Steps per stored sequence: the unit the long-term store keeps or drops (WMAR: 512)."""
    long_term_share: float = 0.5
    """The chance that a minibatch (``per_update``) or a window (``per_sample``) comes from the
    long-term store, once that holds a minibatch's worth of windows."""
    mixing: Mixing = Mixing.per_update
    """Whole minibatches from one store (the paper's code) or windows mixed within one."""

    def agent_class(self) -> type[WMARAgent]:
        from agents.wmar.agent import WMARAgent

        return WMARAgent

    def check(self) -> None:
        super().check()
        if self.long_term_capacity < 0:
            raise AgentConfigError(
                f"agent.long_term_capacity: must be 0 or more, got {self.long_term_capacity}"
            )
        if not 0 <= self.long_term_share <= 1:
            raise AgentConfigError(
                f"agent.long_term_share: must lie in [0, 1], got {self.long_term_share}"
            )

    def label(self) -> str:
        return f"wmar_{self.size.value}"
