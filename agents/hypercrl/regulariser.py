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


def adam_look_ahead(optimizer: torch.optim.Adam) -> dict[nn.Parameter, Tensor]:
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
    """``h*(e_j)`` for every task with an embedding, detached: the regulariser's targets while
    the next task trains. Call it before that task's :meth:`Hypernetwork.add_task`."""
    with torch.no_grad():
        return [hypernet(task) for task in range(hypernet.tasks)]


def output_regulariser(
    hypernet: Hypernetwork, stored: list[Tensor], look_ahead_step: dict[nn.Parameter, Tensor] | None
) -> Tensor:
    """``mean_j ||h(e_j, Θ + ΔΘ) - h*(e_j)||²`` over the stored tasks ``j`` (``ΔΘ``: the
    ``look_ahead_step``, or none)."""
    if not stored:
        raise ValueError("stored: the regulariser needs the outputs of at least one old task")
    shared = {
        name: parameter + look_ahead_step[parameter]
        for name, parameter in hypernet.named_parameters()
        if look_ahead_step is not None and parameter in look_ahead_step
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
    Returns the regulariser's value, if it was taken.

    ``beta`` weighs the regulariser against a task loss averaged over the batch. HyperCRL sums
    its loss over the batch and multiplies the regulariser by ``beta * batch size``: the same
    balance, but its clip of 5 acts on gradients a batch size larger than these.
    """
    if len(stored) >= hypernet.tasks:
        raise ValueError(
            f"stored: outputs of the old tasks only ({len(stored)} given, {hypernet.tasks} tasks "
            "with an embedding): store them before add_task() of the task being learnt"
        )
    shared_optimizer.zero_grad()
    embedding_optimizer.zero_grad()
    task_loss.backward()
    for group in embedding_optimizer.param_groups:
        nn.utils.clip_grad_norm_(group["params"], clip)
    embedding_optimizer.step()
    regulariser = None
    if stored and beta > 0:
        look_ahead_step = adam_look_ahead(shared_optimizer) if look_ahead else None
        regulariser = output_regulariser(hypernet, stored, look_ahead_step)
        (beta * regulariser).backward()
    nn.utils.clip_grad_norm_(hypernet.shared_parameters(), clip)
    shared_optimizer.step()
    return None if regulariser is None else regulariser.detach()
