"""WMAR as an agent of the training loop: DreamerV3 whose replay has a recent and a long-term
store (one :class:`SequenceBuffer`), each minibatch drawn from them as the config says."""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.common.protocol import AgentContext
from agents.dreamer.agent import DreamerAgent, RunningMean
from agents.wmar.config import Mixing, WMARConfig

# Seeds the choice of store apart from the replay's own sampling, which uses the run's seed.
STORE_CHOICE_STREAM = 1


class WMARAgent(DreamerAgent):
    """DreamerV3 (:class:`DreamerAgent`) with WMAR's replay; see ``docs/wmar.md``.

    Until the long-term store holds a minibatch's worth of windows, every minibatch comes from
    the recent store. The imagination starts of the actor-critic are the minibatch's states,
    so they come from the same store, as in the paper's code.
    """

    config: WMARConfig

    def __init__(self, config: WMARConfig, context: AgentContext) -> None:
        self.store_choice = np.random.default_rng([context.seed, STORE_CHOICE_STREAM])
        # The share of each minibatch drawn from the long-term store, until the next log.
        self.long_term_drawn = RunningMean()
        super().__init__(config, context)

    def _long_term_capacity(self) -> int:
        return self.config.long_term_capacity

    def long_term_count(self) -> int:
        """How many windows of the next minibatch come from the long-term store."""
        batch_size = self.config.batch_size
        if self.replay.windows("long_term") < batch_size:
            return 0
        if self.config.mixing == Mixing.per_update:
            return batch_size if self.store_choice.random() < self.config.long_term_share else 0
        return int(self.store_choice.binomial(batch_size, self.config.long_term_share))

    def _sample_batch(self) -> dict[str, Any]:
        long_term = self.long_term_count()
        self.long_term_drawn.add(long_term / self.config.batch_size)
        return self.replay.sample(self.config.batch_size, long_term=long_term)

    def _replay_metrics(self) -> dict[str, float]:
        """DreamerV3's, and the share of windows drawn from the long-term store since the last
        logged update."""
        return {
            **super()._replay_metrics(),
            "replay/long_term_drawn": self.long_term_drawn.mean(),
        }

    def state_dict(self, include_replay: bool) -> dict[str, Any]:
        return {
            **super().state_dict(include_replay),
            "store_choice": self.store_choice.bit_generator.state,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.store_choice.bit_generator.state = state["store_choice"]
