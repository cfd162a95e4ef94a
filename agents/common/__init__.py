"""What every agent shares: the protocol the training loop drives (``agents.common.protocol``)."""

from agents.common.protocol import Agent, AgentState, Transition

__all__ = ["Agent", "AgentState", "Transition"]
