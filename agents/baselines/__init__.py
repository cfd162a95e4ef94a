"""Stable-Baselines3 baselines (PPO, SAC, DQN) with continual-learning methods: fine-tuning,
EWC, L2 and reservoir replay; task boundaries come from ``info["task_switched"]``.
"""

from agents.baselines.agent import ALGORITHMS, METHODS, ContinualAgent, build_agent
from agents.baselines.config import Algorithm, BaselinesConfig, Method, MethodOptions
from agents.baselines.regularization import AnchorRegularizer, RecentStates

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
