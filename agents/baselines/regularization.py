"""EWC and L2 for SB3 models: anchor the parameters at each task boundary and pull them back
with a quadratic penalty whose gradient an optimizer step pre-hook adds to the task's gradient.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from torch.utils.hooks import RemovableHandle

from agents.baselines import fisher

IMPORTANCES = ("fisher", "uniform")


class AnchorRegularizer:
    """The penalty ``strength / 2 * sum_i F_i * (theta_i - anchor_i) ** 2`` on an SB3 model.

    At every task boundary (:meth:`on_task_boundary`) the anchor moves to the current parameters
    and the importances ``F`` grow by the ending task's: its diagonal Fisher information on the
    recent experience (``importance="fisher"``: EWC) or one (``"uniform"``: L2). Importances add
    up over tasks, as in Continual World, so L2's weight is the number of boundaries seen. Before
    the first boundary there is no penalty.

    Regularised networks: the actor (everything the action choice depends on; for DQN the whole
    Q-network, which is its policy) and, with ``regularize_critic``, the critic too. Continual
    World regularises only the actor by default (``regularize_critic=False``): a critic anchored
    to the old task's values must still learn the new task's, and its old values are rebuilt
    from the old actor whenever that task is trained again.

    The penalty acts through ``torch.optim.Optimizer.register_step_pre_hook`` on the model's
    optimizers: just before each step the hook adds ``strength * F * (theta - anchor)`` to
    ``p.grad``, so SB3's train loops stay as they are. SB3 clips the gradient norm (PPO's and
    DQN's ``max_grad_norm``) before calling ``step()``, so the penalty's gradient is neither
    clipped nor counted in the norm: clipping a large task gradient does not weaken the pull
    back to the anchor, while a very large ``strength`` can move parameters further per step
    than ``max_grad_norm`` alone would allow (Adam normalises each coordinate's step, which
    bounds that). SAC does not clip.

    Args:
        model: a PPO, SAC or DQN model.
        importance: ``"fisher"`` (EWC) or ``"uniform"`` (L2).
        strength: the penalty's weight (Continual World's ``cl_reg_coef`` ``c`` is
            ``strength = 2 * c`` here, whose penalty has no 1/2).
        regularize_critic: regularise the critic as well as the actor.
        fisher_samples: the most recent states (over all envs) the Fisher is estimated from.
        seed: seeds the action samples and probes of each Fisher estimate.
    """

    def __init__(
        self,
        model: BaseAlgorithm,
        importance: str,
        strength: float,
        regularize_critic: bool = False,
        fisher_samples: int = 2048,
        seed: int = 0,
    ) -> None:
        if importance not in IMPORTANCES:
            raise ValueError(f"importance must be one of {IMPORTANCES}, got {importance!r}")
        self.model = model
        self.importance = importance
        self.strength = float(strength)
        self.regularize_critic = regularize_critic
        self.fisher_samples = fisher_samples
        self.seed = seed
        self.anchors: dict[str, torch.Tensor] = {}
        self.importances: dict[str, torch.Tensor] = {}
        self.boundaries: list[int] = []  # model.num_timesteps at each boundary
        self._hooks: dict[int, RemovableHandle] = {}
        self._parameters: dict[str, torch.nn.Parameter] = {}
        self.attach()

    def regularized_parameters(self) -> dict[str, torch.nn.Parameter]:
        """The regularised parameters of the model's current policy, by name."""
        actor, critic = fisher.parameter_groups(self.model)
        return {**actor, **critic} if self.regularize_critic else actor

    def attach(self) -> None:
        """Hook the model's current optimizers (again, if SB3 or a loader replaced them)."""
        self._parameters = self.regularized_parameters()
        for optimizer in fisher.optimizers(self.model):
            if id(optimizer) not in self._hooks:
                self._hooks[id(optimizer)] = optimizer.register_step_pre_hook(self._add_gradient)

    def detach(self) -> None:
        """Remove the hooks: the optimizers step without the penalty."""
        for handle in self._hooks.values():
            handle.remove()
        self._hooks.clear()

    def penalty(self) -> torch.Tensor:
        """``strength / 2 * sum F * (theta - anchor) ** 2`` (zero before the first boundary)."""
        total = torch.zeros((), device=self.model.device)
        for name, anchor in self.anchors.items():
            distance = self._parameters[name].detach() - anchor
            total = total + (self.importances[name] * distance.pow(2)).sum()
        return self.strength / 2 * total

    def penalty_gradient(self, name: str) -> torch.Tensor:
        """The penalty's gradient for parameter ``name``: ``strength * F * (theta - anchor)``."""
        distance = self._parameters[name].detach() - self.anchors[name]
        return self.strength * self.importances[name] * distance

    @torch.no_grad()
    def _add_gradient(self, optimizer: torch.optim.Optimizer, *_: Any) -> None:
        if not self.anchors:
            return
        in_optimizer = {id(p) for group in optimizer.param_groups for p in group["params"]}
        for name, parameter in self._parameters.items():
            if id(parameter) not in in_optimizer:
                continue
            gradient = self.penalty_gradient(name)
            if parameter.grad is None:
                parameter.grad = gradient
            else:
                parameter.grad.add_(gradient)

    def on_task_boundary(
        self,
        observations: torch.Tensor | dict[str, torch.Tensor] | None,
        actions: torch.Tensor | None,
    ) -> None:
        """Anchor the parameters here and add the ending task's importances.

        ``observations`` and ``actions`` are the recent experience of the ending task (one row
        per state); the uniform importances of L2 ignore them.
        """
        self.attach()
        if self.importance == "fisher":
            if observations is None:
                raise ValueError("EWC needs observations of the ending task at a boundary")
            # Its own random stream: estimating the Fisher leaves training's randomness alone,
            # and a resumed run draws the same samples at the same boundary.
            devices = [self.model.device] if self.model.device.type == "cuda" else []
            with torch.random.fork_rng(devices=devices):
                torch.manual_seed(self.seed * 1_000_003 + len(self.boundaries))
                new = fisher.diagonal_fisher(
                    self.model, observations, actions, self._parameters, self.regularize_critic
                )
        else:
            new = {name: torch.ones_like(p) for name, p in self._parameters.items()}
        for name, parameter in self._parameters.items():
            previous = self.importances.get(name)
            self.importances[name] = new[name] if previous is None else previous + new[name]
            self.anchors[name] = parameter.detach().clone()
        self.boundaries.append(int(self.model.num_timesteps))

    def state(self) -> dict[str, Any]:
        """Anchors, importances and boundaries: tensors and numbers only."""
        return {
            "anchors": {name: tensor.cpu() for name, tensor in self.anchors.items()},
            "importances": {name: tensor.cpu() for name, tensor in self.importances.items()},
            "boundaries": list(self.boundaries),
        }

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state`, on the model's device."""
        self.attach()
        anchors, importances = dict(state["anchors"]), dict(state["importances"])
        if anchors and set(anchors) != set(self._parameters):
            raise ValueError(
                "method state: its anchors are for parameters "
                f"{sorted(set(anchors) ^ set(self._parameters))} that this model does not "
                "regularise (or the reverse); was it saved by another algorithm, network or "
                "regularize_critic setting?"
            )
        device = self.model.device
        for name, tensor in anchors.items():
            if tensor.shape != self._parameters[name].shape:
                raise ValueError(
                    f"method state: anchor {name!r} has shape {tuple(tensor.shape)}, "
                    f"the model's parameter {tuple(self._parameters[name].shape)}"
                )
        self.anchors = {name: tensor.to(device) for name, tensor in anchors.items()}
        self.importances = {name: tensor.to(device) for name, tensor in importances.items()}
        self.boundaries = [int(step) for step in state["boundaries"]]


class RecentStates:
    """The most recent ``capacity`` states (one row per env and step) and their actions as the
    critic sees them: the experience EWC estimates the ending task's Fisher from.

    Kept apart from SB3's buffers: at a boundary in the middle of a PPO rollout the rollout
    buffer holds only the steps since the rollout began (none right after one ended), and a
    reservoir or other replay buffer does not hold "the latest" transitions at known rows. The
    agent empties it at each boundary, so it holds only the ending task's states. Task ids are
    not used: the methods run in task-agnostic mode.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.steps: deque[tuple[Any, np.ndarray | None]] = deque()

    def add(self, observations: Any, actions: np.ndarray | None) -> None:
        """Remember one step's batch of states (copied: the loop reuses its arrays)."""
        self.steps.append((_copy(observations), None if actions is None else np.array(actions)))
        while len(self.steps) * _rows(observations) > self.capacity:
            self.steps.popleft()

    def clear(self) -> None:
        self.steps.clear()

    def experience(
        self, model: BaseAlgorithm
    ) -> tuple[torch.Tensor | dict[str, torch.Tensor] | None, torch.Tensor | None]:
        """The remembered states as ``model``'s policy takes them (one row each), and their
        actions (``None`` where none were kept)."""
        if not self.steps:
            return None, None
        observations = _concatenate([observation for observation, _ in self.steps])
        observations_tensor, _ = model.policy.obs_to_tensor(observations)
        actions = [action for _, action in self.steps]
        if actions[0] is None:
            return observations_tensor, None
        actions_tensor = torch.as_tensor(np.concatenate(actions), device=model.device)
        return observations_tensor, actions_tensor.float()

    def state(self) -> dict[str, Any]:
        """The remembered states (so a resumed run estimates the same Fisher): tensors only."""
        steps = list(self.steps)
        if not steps:
            return {"steps": 0}
        observations = [observation for observation, _ in steps]
        state: dict[str, Any] = {"steps": len(steps)}
        if isinstance(observations[0], dict):
            state["observations"] = {
                key: torch.from_numpy(np.stack([o[key] for o in observations]))
                for key in observations[0]
            }
        else:
            state["observations"] = torch.from_numpy(np.stack(observations))
        if steps[0][1] is not None:
            state["actions"] = torch.from_numpy(np.stack([action for _, action in steps]))
        return state

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state`."""
        self.steps.clear()
        for step in range(int(state["steps"])):
            stored = state["observations"]
            if isinstance(stored, dict):
                observation: Any = {key: value[step].numpy() for key, value in stored.items()}
            else:
                observation = stored[step].numpy()
            action = state["actions"][step].numpy() if "actions" in state else None
            self.steps.append((observation, action))


def _rows(observations: Any) -> int:
    if isinstance(observations, dict):
        return len(next(iter(observations.values())))
    return len(observations)


def _copy(observations: Any) -> Any:
    if isinstance(observations, dict):
        return {key: np.array(value) for key, value in observations.items()}
    return np.array(observations)


def _concatenate(observations: list[Any]) -> Any:
    if isinstance(observations[0], dict):
        return {key: np.concatenate([o[key] for o in observations]) for key in observations[0]}
    return np.concatenate(observations)
