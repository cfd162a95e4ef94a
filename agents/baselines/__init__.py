"""Stable-Baselines3 baselines (PPO, SAC, DQN) with continual-learning methods: fine-tuning,
EWC, L2 and reservoir replay; task boundaries come from ``info["task_switched"]``.

The names load on first use (PEP 562): the config alone (what ``envsuite-train`` composes
before it trains) does not pull in SB3 and torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agents.baselines.agent import ALGORITHMS, METHODS, ContinualAgent, build_agent
    from agents.baselines.config import Algorithm, BaselinesConfig, Method, MethodOptions
    from agents.baselines.regularization import AnchorRegularizer, RecentStates

_MODULE_OF = {
    "ALGORITHMS": "agents.baselines.agent",
    "METHODS": "agents.baselines.agent",
    "ContinualAgent": "agents.baselines.agent",
    "build_agent": "agents.baselines.agent",
    "Algorithm": "agents.baselines.config",
    "BaselinesConfig": "agents.baselines.config",
    "Method": "agents.baselines.config",
    "MethodOptions": "agents.baselines.config",
    "AnchorRegularizer": "agents.baselines.regularization",
    "RecentStates": "agents.baselines.regularization",
}
__all__ = [
    "ALGORITHMS",
    "METHODS",
    "Algorithm",
    "AnchorRegularizer",
    "BaselinesConfig",
    "ContinualAgent",
    "Method",
    "MethodOptions",
    "RecentStates",
    "build_agent",
]


def __getattr__(name: str) -> Any:
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_MODULE_OF[name]), name)
