"""Your own agent in ``envsuite-train``: ``agent=custom agent.target=my_module:make_agent``.

The target is any callable (a class, a function) taking the :class:`AgentContext` and the
config's ``options`` as keyword arguments, and returning an :class:`agents.common.Agent`.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import MISSING

from agents.common.protocol import (
    AGENT_METHODS,
    Agent,
    AgentConfig,
    AgentConfigError,
    AgentContext,
)


class AgentTargetError(AgentConfigError):
    """``agent.target`` cannot be imported or does not name a callable."""


@dataclass
class CustomAgentConfig(AgentConfig):
    """An agent of your own, trained through the same loop as the shipped ones.

    ``envsuite-train agent=custom agent.target=my_agents:ReinforceAgent
    +agent.options.learning_rate=0.01`` calls ``ReinforceAgent(context, learning_rate=0.01)``.
    """

    name: str = "custom"
    """The ``agent=`` option."""
    target: str = MISSING
    """``module:callable``; the module is imported from the Python path or, failing that, the
    directory ``envsuite-train`` was launched from."""
    options: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments of the target."""

    def build(self, context: AgentContext) -> Agent:
        target = load_target(self.target)
        try:
            inspect.signature(target).bind(context, **self.options)
        except TypeError as error:
            raise AgentTargetError(
                f"agent.options: {self.target} cannot be called with the context and "
                f"{dict(self.options)}: {error}"
            ) from None
        except ValueError:  # no signature to read (a builtin): the call will tell
            pass
        agent = target(context, **self.options)
        missing = [name for name in AGENT_METHODS if not callable(getattr(agent, name, None))]
        if missing:
            if callable(getattr(agent, "close", None)):
                agent.close()
            raise AgentTargetError(
                f"agent.target: {self.target} made a {type(agent).__name__}, which lacks "
                f"{missing} of the agent protocol (agents.common.Agent)"
            )
        return agent

    def label(self) -> str:
        return self.target.rpartition(":")[2] or self.name


def load_target(target: str) -> Any:
    """The callable ``module:name`` names."""
    module_name, colon, attribute = target.partition(":")
    if not colon or not module_name or not attribute:
        raise AgentTargetError(
            f"agent.target: {target!r} is not of the form 'module:callable' "
            "(e.g. my_agents:ReinforceAgent)"
        )
    launch_dir = str(Path.cwd())
    if launch_dir not in sys.path:  # the console script's path lacks it, `python -m`'s has it
        sys.path.append(launch_dir)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            raise AgentTargetError(
                f"agent.target: no module {error.name!r} on the Python path or in {launch_dir}"
            ) from None
        raise AgentTargetError(f"agent.target: cannot import {module_name!r}: {error}") from None
    found = getattr(module, attribute, None)
    if not callable(found):
        raise AgentTargetError(
            f"agent.target: module {module_name!r} has no callable {attribute!r}"
        )
    return found
