"""EWC and L2: the penalty, its gradient through the optimizer hook, the Fisher, and the
method state's round trip through torch.save / torch.load(weights_only=True)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from train_helpers import cartpoles, clocked, train_for, write_sequence

from agents.baselines import build_agent
from agents.baselines.fisher import diagonal_fisher, per_sample_log_likelihood
from agents.common import AgentContext
from envsuite import make_sequence

pytestmark = pytest.mark.slow

# Plain SGD with learning rate 1: a step moves each parameter by exactly minus its gradient.
SGD_HYPERPARAMETERS = {
    "learning_rate": 1.0,
    "n_steps": 32,
    "batch_size": 32,
    "policy_kwargs": {"net_arch": [16], "optimizer_class": torch.optim.SGD, "optimizer_kwargs": {}},
}


def cartpole_agent(method: str, **method_options):
    return build_agent(
        "ppo",
        method,
        AgentContext.of_env(gym.make("CartPole-v1"), total_steps=96, seed=0, device="cpu"),
        hyperparameters=SGD_HYPERPARAMETERS,
        method_options={"strength": 3.0, **method_options} if method in ("ewc", "l2") else {},
    )


def cartpole_states(count: int, seed: int = 0, scale: float = 1.0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(count, 4, generator=generator) * scale


def move_parameters(agent, direction: dict[str, torch.Tensor], distance: float) -> None:
    """Set every regularised parameter to its anchor plus ``distance * direction``."""
    regularizer = agent.regularizer
    with torch.no_grad():
        for name, parameter in regularizer.regularized_parameters().items():
            parameter.copy_(regularizer.anchors[name] + distance * direction[name])


def random_direction(agent) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    return {
        name: torch.randn(parameter.shape, generator=generator)
        for name, parameter in agent.regularizer.regularized_parameters().items()
    }


def test_ewc_penalty_is_zero_at_the_anchor_and_grows_quadratically_weighted_by_fisher():
    agent = cartpole_agent("ewc", fisher_samples=256)
    regularizer = agent.regularizer
    assert agent.penalty() == 0.0  # no boundary yet: no anchor
    regularizer.on_task_boundary(cartpole_states(256), None)
    assert agent.penalty() == 0.0
    direction = random_direction(agent)
    penalties = []
    for distance in (0.01, 0.02, 0.04):
        move_parameters(agent, direction, distance)
        penalties.append(agent.penalty())
        expected = (
            3.0
            / 2
            * sum(
                (regularizer.importances[name] * (distance * direction[name]) ** 2).sum()
                for name in direction
            )
        )
        assert agent.penalty() == pytest.approx(float(expected), rel=1e-5)
    assert penalties[0] > 0
    assert penalties[1] == pytest.approx(4 * penalties[0], rel=1e-4)
    assert penalties[2] == pytest.approx(16 * penalties[0], rel=1e-4)


def test_the_optimizer_step_adds_strength_times_fisher_times_distance():
    agent = cartpole_agent("ewc", fisher_samples=256)
    regularizer = agent.regularizer
    regularizer.on_task_boundary(cartpole_states(256), None)
    move_parameters(agent, random_direction(agent), 0.05)
    parameters = regularizer.regularized_parameters()
    before = {name: parameter.detach().clone() for name, parameter in parameters.items()}
    # The penalty's autograd gradient, computed independently of the hook.
    penalty = sum(
        3.0 / 2 * (regularizer.importances[name] * (p - regularizer.anchors[name]) ** 2).sum()
        for name, p in parameters.items()
    )
    gradients = torch.autograd.grad(penalty, list(parameters.values()))
    autograd = dict(zip(parameters, gradients, strict=True))
    optimizer = agent.model.policy.optimizer
    optimizer.zero_grad()
    optimizer.step()  # no task loss: the step is the penalty's gradient alone
    for name, parameter in parameters.items():
        expected = 3.0 * regularizer.importances[name] * (before[name] - regularizer.anchors[name])
        torch.testing.assert_close(before[name] - parameter.detach(), expected)
        torch.testing.assert_close(expected, autograd[name])
    # The critic is not regularised by default: its parameters did not move.
    value_weight = dict(agent.model.policy.named_parameters())["value_net.weight"]
    assert "value_net.weight" not in parameters
    assert value_weight.grad is None


def test_l2_is_ewc_with_unit_importances_that_add_up_over_boundaries():
    agent = cartpole_agent("l2")
    regularizer = agent.regularizer
    regularizer.on_task_boundary(None, None)
    assert all(torch.equal(f, torch.ones_like(f)) for f in regularizer.importances.values())
    direction = random_direction(agent)
    move_parameters(agent, direction, 0.1)
    squared_distance = sum(float((0.1 * d).pow(2).sum()) for d in direction.values())
    assert agent.penalty() == pytest.approx(3.0 / 2 * squared_distance, rel=1e-5)
    regularizer.on_task_boundary(None, None)  # anchors move here; importances become 2
    assert agent.penalty() == 0.0
    assert all(torch.equal(f, torch.full_like(f, 2.0)) for f in regularizer.importances.values())
    assert regularizer.boundaries == [0, 0]


def test_fisher_is_non_negative_zero_where_unused_and_changes_with_the_data():
    agent = cartpole_agent("ewc", regularize_critic=True)
    model = agent.model
    parameters = agent.regularizer.regularized_parameters()
    states = cartpole_states(256)
    states[:, 2] = 0.0  # the policy never sees input 2: the weights reading it learn nothing
    torch.manual_seed(0)
    fisher = diagonal_fisher(model, states, None, parameters, include_critic=True)
    assert all((f >= 0).all() for f in fisher.values())
    first_layer = fisher["mlp_extractor.policy_net.0.weight"]
    assert (first_layer[:, 2] == 0).all()
    assert (first_layer[:, [0, 1, 3]] > 0).all()
    assert fisher["value_net.weight"].sum() > 0  # the critic's, as asked
    # Without the critic its parameters get nothing from the policy's likelihood.
    torch.manual_seed(0)
    actor_only = diagonal_fisher(model, states, None, parameters, include_critic=False)
    assert (actor_only["value_net.weight"] == 0).all()
    assert (actor_only["mlp_extractor.value_net.0.weight"] == 0).all()
    # Other states, other importances.
    torch.manual_seed(0)
    other = diagonal_fisher(model, cartpole_states(256, seed=5, scale=3.0), None, parameters, True)
    assert not torch.allclose(other["mlp_extractor.policy_net.0.weight"], first_layer)


def test_batched_per_sample_gradients_equal_a_plain_loop():
    agent = build_agent(
        "dqn",
        "ewc",
        AgentContext.of_env(gym.make("CartPole-v1"), total_steps=100, seed=0, device="cpu"),
        hyperparameters={"policy_kwargs": {"net_arch": [8]}},
    )
    model = agent.model
    parameters = agent.regularizer.regularized_parameters()
    states = cartpole_states(40)  # more than one chunk of per-sample gradients
    actions = torch.randint(0, 2, (40,)).float()
    fisher = diagonal_fisher(model, states, actions, parameters, include_critic=False)
    expected = {name: torch.zeros_like(p) for name, p in parameters.items()}
    for row in range(40):
        value = per_sample_log_likelihood(
            model, states[row : row + 1], actions[row : row + 1], False
        )
        gradients = torch.autograd.grad(value.sum(), list(parameters.values()))
        for name, gradient in zip(parameters, gradients, strict=True):
            expected[name] += gradient.pow(2) / 40
    for name in parameters:
        torch.testing.assert_close(fisher[name], expected[name])


def test_method_state_round_trips_through_torch_save_with_weights_only(tmp_path):
    # Two CartPole tasks of 48 steps: a boundary at 48 anchors, the rest fills the recent-state
    # memory.
    sequence = make_sequence(
        str(write_sequence(tmp_path / "cartpoles.yaml", cartpoles("RegularizedCartPoles", 48)))
    )

    def sequence_agent():
        return build_agent(
            "ppo",
            "ewc",
            AgentContext.of_env(sequence.make_env(), total_steps=96, seed=0, device="cpu"),
            hyperparameters=SGD_HYPERPARAMETERS,
            method_options={"strength": 3.0, "fisher_samples": 64},
        )

    agent = sequence_agent()
    train_for(agent, sequence.make_env, 96)
    torch.save(agent.method_state(), tmp_path / "method.pt")
    state = torch.load(tmp_path / "method.pt", weights_only=True)

    restored = sequence_agent()
    restored.model.set_parameters(agent.model.get_parameters())
    restored.load_method_state(state)
    assert restored.penalty() > 0
    assert restored.penalty() == agent.penalty()  # exactly
    assert restored.regularizer.boundaries == agent.regularizer.boundaries == [48]
    # The remembered states come back too, so the next boundary's Fisher is the same.
    original_states, _ = agent.recent.experience(agent.model)
    restored_states, _ = restored.recent.experience(restored.model)
    assert len(original_states) == 48
    torch.testing.assert_close(original_states, restored_states)

    with pytest.raises(ValueError, match="method 'finetune' keeps no state"):
        cartpole_agent("finetune").load_method_state(state)
    with pytest.raises(ValueError, match="expected the keys"):
        restored.load_method_state({"anchors": {}})
    wrong = {**state, "anchors": {"log_std": torch.zeros(1)}}
    with pytest.raises(ValueError, match="that this model does not regularise"):
        restored.load_method_state(wrong)


def test_recent_states_are_bounded_by_fisher_samples():
    agent = build_agent(
        "dqn",
        "ewc",
        AgentContext.of_env(gym.make("CartPole-v1"), total_steps=120, seed=0, device="cpu"),
        hyperparameters={"learning_starts": 1000, "policy_kwargs": {"net_arch": [8]}},
        method_options={"fisher_samples": 50},
    )
    train_for(agent, clocked(lambda: gym.make("CartPole-v1"), 120), 120)
    observations, actions = agent.recent.experience(agent.model)
    assert observations.shape == (50, 4)
    assert actions.shape == (50,)  # Discrete: one action index per state
    assert set(np.unique(actions.numpy())) <= {0.0, 1.0}
