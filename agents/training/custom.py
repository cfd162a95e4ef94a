"""Your own agent in ``envsuite-train``: ``agent=custom agent.target=my_module:make_agent``.

The target is any callable (a class, a function) taking the :class:`AgentContext` and the
config's ``options`` as keyword arguments, and returning an :class:`agents.common.Agent`.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import MISSING

from agents.common.protocol import Agent, AgentConfig, AgentContext


class AgentTargetError(ValueError):
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
        return load_target(self.target)(context, **self.options)

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
