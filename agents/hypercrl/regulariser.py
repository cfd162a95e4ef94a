"""HyperCRL's continual-learning step: learn the current task while the hypernetwork's outputs for
the old tasks' embeddings stay where they were.

Before a new task the outputs ``h*(e_j)`` for every old embedding are stored. Each step then
takes the task loss on the current task's data alone, steps the current embedding on it, and
adds ``beta * mean_j ||h(e_j, Θ + ΔΘ) - h*(e_j)||²`` to the shared parameters' loss, where ``ΔΘ``
is the step the optimiser is about to take on the task loss (the look-ahead of von Oswald et al.,
"Continual learning with hypernetworks", 2020): the regulariser pulls against where Θ is going,
not where it is.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from agents.hypercrl.hypernet import Hypernetwork


def adam_lookahead(optimizer: torch.optim.Adam) -> dict[nn.Parameter, Tensor]:
    """The change the next ``optimizer.step()`` would make to each parameter with a gradient,
    from the gradients and moment estimates as they are, without taking it (detached)."""
    steps: dict[nn.Parameter, Tensor] = {}
    for group in optimizer.param_groups:
        if group["weight_decay"] or group["amsgrad"] or group["maximize"]:
            raise ValueError(
                "optimizer: the look-ahead follows plain Adam (no weight_decay, amsgrad or "
                "maximize)"
            )
        first_decay, second_decay = group["betas"]
        for parameter in group["params"]:
            if parameter.grad is None:
                continue
            gradient = parameter.grad.detach()
            state = optimizer.state.get(parameter, {})
            step = float(state["step"]) + 1 if state else 1.0
            first = torch.zeros_like(gradient) if not state else state["exp_avg"]
            second = torch.zeros_like(gradient) if not state else state["exp_avg_sq"]
            first = first.lerp(gradient, 1 - first_decay)
            second = second * second_decay + (1 - second_decay) * gradient.square()
            denominator = (second.sqrt() / (1 - second_decay**step) ** 0.5).add(group["eps"])
            steps[parameter] = -group["lr"] / (1 - first_decay**step) * first / denominator
    return steps


def stored_outputs(hypernet: Hypernetwork) -> list[Tensor]:
    """``h*(e_j)`` for every task with an embedding, detached: the targets of the regulariser
    once a new task begins."""
    with torch.no_grad():
        return [hypernet(task) for task in range(hypernet.tasks)]


def output_regulariser(
    hypernet: Hypernetwork, stored: list[Tensor], lookahead: dict[nn.Parameter, Tensor] | None
) -> Tensor:
    """``mean_j ||h(e_j, Θ + ΔΘ) - h*(e_j)||²`` over the stored tasks ``j`` (``ΔΘ``: the
    ``lookahead`` step, or none)."""
    if not stored:
        raise ValueError("stored: the regulariser needs the outputs of at least one old task")
    shared = {
        name: parameter + lookahead[parameter]
        for name, parameter in hypernet.named_parameters()
        if lookahead is not None and parameter in lookahead
    }
    return torch.stack(
        [
            (hypernet.forward_with(task, shared) - target).square().sum()
            for task, target in enumerate(stored)
        ]
    ).mean()


def regularised_step(
    hypernet: Hypernetwork,
    task_loss: Tensor,
    stored: list[Tensor],
    shared_optimizer: torch.optim.Adam,
    embedding_optimizer: torch.optim.Optimizer,
    beta: float,
    look_ahead: bool = True,
    clip: float = 5.0,
) -> Tensor | None:
    """One step of HyperCRL on a task loss: the current embedding steps on the task loss; the
    shared parameters on it plus ``beta`` times the output regulariser of the ``stored`` old
    tasks (none before the second task, or at ``beta = 0``); gradient norms clipped to ``clip``.
    Returns the regulariser's value, if it was taken."""
    shared_optimizer.zero_grad()
    embedding_optimizer.zero_grad()
    task_loss.backward()
    for group in embedding_optimizer.param_groups:
        nn.utils.clip_grad_norm_(group["params"], clip)
    embedding_optimizer.step()
    regulariser = None
    if stored and beta > 0:
        lookahead = adam_lookahead(shared_optimizer) if look_ahead else None
        regulariser = output_regulariser(hypernet, stored, lookahead)
        (beta * regulariser).backward()
    nn.utils.clip_grad_norm_(hypernet.shared_parameters(), clip)
    shared_optimizer.step()
    return None if regulariser is None else regulariser.detach()
