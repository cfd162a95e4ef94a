"""The hypernetwork, its target MLP, the look-ahead and the output regulariser."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from agents.hypercrl.hypernet import HypernetSpec, Hypernetwork, TargetSpec, target_forward
from agents.hypercrl.regulariser import (
    adam_look_ahead,
    output_regulariser,
    regularised_step,
    stored_outputs,
)

TARGET = TargetSpec(inputs=5, outputs=3, hidden=(16, 8))


@pytest.mark.parametrize("chunk_size", [None, 50], ids=["plain", "chunked"])
def test_the_generated_weights_have_the_target_mlps_shapes_and_run_it(chunk_size) -> None:
    torch.manual_seed(0)
    hypernet = Hypernetwork(HypernetSpec(hidden=(12,), chunk_size=chunk_size), TARGET)
    hypernet.add_task()
    flat = hypernet(0)
    mlp = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3))
    assert flat.shape == (sum(p.numel() for p in mlp.parameters()),) == (TARGET.size,)
    weights = hypernet.split(flat)
    assert [tuple(w.shape) for w in weights] == [tuple(p.shape) for p in mlp.parameters()]
    with torch.no_grad():
        for parameter, weight in zip(mlp.parameters(), weights, strict=True):
            parameter.copy_(weight)
    inputs = torch.randn(7, 5)
    torch.testing.assert_close(target_forward(weights, inputs), mlp(inputs))


def test_the_chunked_hypernetwork_is_smaller_for_a_large_target() -> None:
    large = TargetSpec(inputs=12, outputs=10, hidden=(200, 200))
    plain = Hypernetwork(HypernetSpec(), large)
    chunked = Hypernetwork(HypernetSpec(hidden=(20, 20), chunk_size=2000), large)
    sizes = [sum(p.numel() for p in net.shared_parameters()) for net in (plain, chunked)]
    assert sizes[1] < sizes[0] / 10
    chunked.add_task()
    assert chunked(0).shape == (large.size,)


def test_each_task_has_its_own_embedding_and_the_old_ones_freeze() -> None:
    hypernet = Hypernetwork(HypernetSpec(hidden=(12,)), TARGET)
    assert hypernet.add_task() == 0
    assert hypernet.add_task() == 1
    assert not hypernet.embeddings[0].requires_grad
    assert hypernet.embeddings[1].requires_grad
    assert not torch.equal(hypernet(0), hypernet(1))
    with pytest.raises(IndexError, match="task: 2"):
        hypernet(2)


@pytest.mark.parametrize("lr", [1e-3, 0.05])
def test_the_lookahead_is_the_step_adam_then_takes(lr) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 2))
    unused = nn.Parameter(torch.ones(3))  # no gradient: Adam leaves it, so does the look-ahead
    groups = [
        {"params": model[0].parameters()},
        {"params": [*model[2].parameters(), unused], "lr": 3 * lr, "betas": (0.5, 0.9)},
    ]
    optimizer = torch.optim.Adam(groups, lr=lr, betas=(0.8, 0.95), eps=1e-6)
    for _ in range(4):  # the first step (no state) and later ones (moments, bias correction)
        optimizer.zero_grad()
        model(torch.randn(9, 4)).square().mean().backward()
        expected = adam_look_ahead(optimizer)
        assert unused not in expected
        before = {parameter: parameter.detach().clone() for parameter in model.parameters()}
        optimizer.step()
        for parameter in model.parameters():
            # Within a float32 rounding of the parameters: a step of lr's size, exact to 0.02%.
            torch.testing.assert_close(
                before[parameter] + expected[parameter], parameter.detach(), rtol=0, atol=2e-7
            )


def test_the_lookahead_refuses_adam_variants_it_does_not_follow() -> None:
    model = nn.Linear(2, 1)
    optimizer = torch.optim.Adam(model.parameters(), weight_decay=0.1)
    model(torch.ones(1, 2)).sum().backward()
    with pytest.raises(ValueError, match="optimizer"):
        adam_look_ahead(optimizer)


def test_the_regulariser_is_zero_at_the_stored_outputs_and_counts_the_lookahead() -> None:
    torch.manual_seed(0)
    hypernet = Hypernetwork(HypernetSpec(hidden=(12,)), TARGET)
    hypernet.add_task()
    hypernet.add_task()
    stored = stored_outputs(hypernet)
    assert output_regulariser(hypernet, stored, None).item() == 0.0
    shift = {
        parameter: torch.full_like(parameter, 0.01) for parameter in hypernet.heads[0].parameters()
    }
    shifted = output_regulariser(hypernet, stored, shift)
    assert shifted.item() > 0.0
    # Gradients reach the shared parameters through Θ + ΔΘ.
    shifted.backward()
    gradient = hypernet.heads[0].weight.grad
    assert gradient is not None
    assert gradient.abs().sum() > 0
    with pytest.raises(ValueError, match="stored"):
        output_regulariser(hypernet, [], None)


def test_the_step_regularises_at_the_lookahead_and_refuses_the_new_tasks_output() -> None:
    torch.manual_seed(0)
    hypernet = Hypernetwork(HypernetSpec(hidden=(12,)), TARGET)
    hypernet.add_task()
    shared = torch.optim.Adam(hypernet.shared_parameters(), lr=0.01)
    for _ in range(3):  # moments in Adam's state, so that the look-ahead is not sign(grad) * lr
        shared.zero_grad()
        hypernet(0).square().sum().backward()
        shared.step()
    stored = stored_outputs(hypernet)
    hypernet.add_task()
    embedding = torch.optim.Adam([hypernet.embeddings[1]], lr=0.01)

    def task_loss() -> torch.Tensor:
        return (hypernet(1) - 1.0).square().sum()

    with pytest.raises(ValueError, match="stored: outputs of the old tasks only"):
        regularised_step(
            hypernet, task_loss(), [*stored, hypernet(1).detach()], shared, embedding, 1.0
        )
    shared.zero_grad()
    task_loss().backward()
    expected = output_regulariser(hypernet, stored, adam_look_ahead(shared)).item()
    without = output_regulariser(hypernet, stored, None).item()
    taken = regularised_step(hypernet, task_loss(), stored, shared, embedding, beta=1.0)
    assert taken is not None
    assert taken.item() == pytest.approx(expected, rel=1e-5)
    assert abs(expected - without) > 1e-3 * expected


def fit_tasks(beta: float) -> tuple[float, float, float]:
    """Train task 0 on one linear map, then task 1 on another; the drift of task 0's generated
    weights and each task's error on its own map at the end."""
    torch.manual_seed(0)
    hypernet = Hypernetwork(HypernetSpec(hidden=(32, 32)), TargetSpec(2, 1, (16,)))
    maps = torch.tensor([[1.0, -2.0], [-3.0, 0.5]])

    def loss(task: int) -> torch.Tensor:
        inputs = torch.randn(64, 2)
        prediction = target_forward(hypernet.split(hypernet(task)), inputs).squeeze(-1)
        return (prediction - inputs @ maps[task]).square().mean()

    shared = torch.optim.Adam(hypernet.shared_parameters(), lr=1e-3)
    stored: list[torch.Tensor] = []
    for task in range(2):
        if task:
            stored = stored_outputs(hypernet)
        hypernet.add_task()
        embedding = torch.optim.Adam([hypernet.embeddings[task]], lr=1e-3)
        for _ in range(400):
            regularised_step(hypernet, loss(task), stored, shared, embedding, beta)
    with torch.no_grad():
        drift = (hypernet(0) - stored[0]).norm().item()
        torch.manual_seed(1)
        errors = [loss(task).item() for task in range(2)]
    return drift, *errors


def test_without_the_regulariser_task_zeros_weights_drift_and_with_it_they_stay() -> None:
    free_drift, free_error, free_new_error = fit_tasks(beta=0.0)
    held_drift, held_error, held_new_error = fit_tasks(beta=0.05)
    assert held_drift < free_drift / 4, (held_drift, free_drift)
    assert held_error < free_error / 4, (held_error, free_error)
    # Holding the old task does not stop the new one being learnt.
    assert held_new_error < 0.05, (held_new_error, free_new_error)
