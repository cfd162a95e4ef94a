"""What every agent shares: the protocol the training loop drives, the context an agent is built
in and the base of agent configs (``agents.common.protocol``)."""

from agents.common.protocol import (
    AGENT_METHODS,
    Agent,
    AgentConfig,
    AgentConfigError,
    AgentContext,
    AgentState,
    MeasuringAgent,
    Transition,
)

__all__ = [
    "AGENT_METHODS",
    "Agent",
    "AgentConfig",
    "AgentConfigError",
    "AgentContext",
    "AgentState",
    "MeasuringAgent",
    "Transition",
]
