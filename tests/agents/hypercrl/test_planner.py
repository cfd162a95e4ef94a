"""The sampling planners against costs whose optimum is known."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import Tensor

from agents.hypercrl.planner import Planner, PlannerConfig, PlanningMethod


def integrator(observations: Tensor, actions: Tensor) -> Tensor:
    """A point moved by its action."""
    return observations + actions


def distance_to(goal: Tensor):
    """Reward: minus the squared distance of the next point to ``goal``."""

    def reward(observations: Tensor, actions: Tensor, following: Tensor) -> Tensor:
        return -(following - goal).square().sum(-1)

    return reward


def clock(observations: Tensor, actions: Tensor) -> Tensor:
    """The observation is the step count."""
    return observations + 1


def follow(targets: Tensor):
    """Reward: minus the squared distance of each step's action to that step's target."""

    def reward(observations: Tensor, actions: Tensor, following: Tensor) -> Tensor:
        return -(actions - targets[observations[:, 0].long()]).square().sum(-1)

    return reward


TARGETS = torch.tensor([[1.0, -1.0], [-1.6, 0.2], [0.4, 1.8]])


@pytest.mark.parametrize(
    ("config", "tolerance"),
    [
        (PlannerConfig(horizon=3, samples=500, elites=20), 0.03),
        (
            PlannerConfig(
                method=PlanningMethod.mppi,
                horizon=3,
                samples=500,
                iterations=10,
                noise=0.2,
                temperature=0.1,
            ),
            0.1,
        ),
    ],
    ids=["cem", "mppi"],
)
def test_the_planner_finds_the_optimum_of_a_known_quadratic_cost(config, tolerance) -> None:
    """Cost: each step's squared distance of its action to that step's target, in bounds of
    [-2, 2]; the optimal first action is the first target for every env."""
    planner = Planner(config, np.full(2, -2.0), np.full(2, 2.0), seed=0)
    actions = planner.plan(torch.zeros(2, 1), clock, follow(TARGETS))
    torch.testing.assert_close(actions, TARGETS[[0, 0]], atol=tolerance, rtol=0)
    # The rollout scores each step of a sequence against its own step's target.
    optimum = (TARGETS / 2)[None, None]  # [1, 1, H, A], normalised
    assert planner.returns(torch.zeros(1, 1), optimum, clock, follow(TARGETS)).item() == 0.0
    shifted = optimum.roll(1, dims=2)
    assert planner.returns(torch.zeros(1, 1), shifted, clock, follow(TARGETS)).item() < -1.0


def test_each_env_plans_from_its_own_observation() -> None:
    goal = torch.tensor([0.7, -1.2])
    planner = Planner(PlannerConfig(horizon=1, samples=500), np.full(2, -2.0), np.full(2, 2.0), 0)
    starts = torch.tensor([[0.0, 0.0], [1.0, -1.0], [-0.5, 0.5]])
    actions = planner.plan(starts, integrator, distance_to(goal))
    torch.testing.assert_close(actions, goal - starts, atol=1e-3, rtol=0)


def test_an_optimum_beyond_the_bounds_gives_the_nearest_bound() -> None:
    planner = Planner(
        PlannerConfig(horizon=2, samples=200, elites=20), np.array([-1.0]), np.array([0.5]), seed=0
    )
    action = planner.plan(torch.zeros(1, 1), integrator, distance_to(torch.tensor([3.0])))
    assert action.item() == pytest.approx(0.5, abs=1e-6)


def test_batched_returns_equal_rolling_each_sequence_out_alone() -> None:
    generator = torch.Generator().manual_seed(0)
    weights = torch.randn(3, 3, generator=generator)

    def dynamics(observations: Tensor, actions: Tensor) -> Tensor:
        return torch.tanh(observations @ weights[:2, :2] + actions @ weights[2:, :2])

    def reward(observations: Tensor, actions: Tensor, following: Tensor) -> Tensor:
        return following[:, 0] - observations[:, 1] * actions[:, 0]

    low, high = np.array([-2.0]), np.array([1.0])
    planner = Planner(PlannerConfig(horizon=4, samples=5, elites=2), low, high, seed=0)
    observations = torch.randn(3, 2, generator=generator)
    sequences = torch.rand(3, 5, 4, 1, generator=generator) * 2 - 1
    batched = planner.returns(observations, sequences, dynamics, reward)
    for env in range(3):
        for sample in range(5):
            state, total = observations[env : env + 1], 0.0
            for step in range(4):
                action = (1.5 * sequences[env, sample, step] - 0.5)[None]  # [-1, 1] -> [-2, 1]
                following = dynamics(state, action)
                total += float(reward(state, action, following))
                state = following
            assert batched[env, sample].item() == pytest.approx(total, abs=1e-5)


@pytest.mark.parametrize("method", ["cem", "mppi"])
def test_a_seed_fixes_the_plan(method: str) -> None:
    config = PlannerConfig(method=method, horizon=3, samples=50, elites=5, iterations=2)
    bounds = np.full(2, -1.0), np.full(2, 1.0)
    reward = distance_to(torch.tensor([0.3, 0.3]))
    plans = [
        Planner(config, *bounds, seed=seed).plan(torch.zeros(2, 2), integrator, reward)
        for seed in (0, 0, 1)
    ]
    torch.testing.assert_close(plans[0], plans[1], rtol=0, atol=0)
    assert not torch.equal(plans[0], plans[2])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"horizon": 0}, "horizon"),
        ({"samples": 10, "elites": 11}, "elites"),
        ({"noise": 0.0}, "noise"),
        ({"temperature": -1.0}, "temperature"),
        ({"horizon": 2.5}, "horizon"),
        ({"samples": True}, "samples"),
    ],
)
def test_a_bad_planner_size_is_a_clear_error(change, field) -> None:
    with pytest.raises(ValueError, match=f"^{field}:"):
        Planner(PlannerConfig(**change), np.zeros(1) - 1, np.ones(1), seed=0)


def test_unbounded_actions_are_refused() -> None:
    with pytest.raises(ValueError, match="action bounds"):
        Planner(PlannerConfig(), np.array([-np.inf]), np.array([np.inf]), seed=0)


def test_the_method_may_be_named_by_a_string_and_a_wrong_name_is_refused() -> None:
    assert PlannerConfig(method="mppi").method is PlanningMethod.mppi
    with pytest.raises(ValueError, match=r"^method: one of \['cem', 'mppi'\], got 'cme'"):
        PlannerConfig(method="cme")


@pytest.mark.parametrize("method", ["cem", "mppi"])
def test_sequences_whose_return_is_nan_count_as_the_worst(method: str) -> None:
    def reward(observations: Tensor, actions: Tensor, following: Tensor) -> Tensor:
        # The model "blows up" for large actions; otherwise the larger the better.
        return torch.where(actions[:, 0] > 0.5, torch.nan, actions[:, 0])

    config = PlannerConfig(
        method=method, horizon=2, samples=200, elites=10, noise=0.5, temperature=0.05
    )
    action = Planner(config, np.array([-1.0]), np.array([1.0]), seed=0).plan(
        torch.zeros(3, 1), integrator, reward
    )
    assert not action.isnan().any()
    assert (action <= 0.5).all()
    assert (action > 0.0).all()


def test_observations_must_be_a_batch_and_are_cast_to_the_planners_dtype() -> None:
    planner = Planner(
        PlannerConfig(horizon=2, samples=20, elites=4), np.full(2, -1.0), np.ones(2), 0
    )
    goal = torch.tensor([0.3, 0.3])
    with pytest.raises(ValueError, match=r"observations: must be \[envs, size\], got shape \(2,\)"):
        planner.plan(torch.zeros(2), integrator, distance_to(goal))
    action = planner.plan(torch.zeros(1, 2, dtype=torch.float64), integrator, distance_to(goal))
    assert action.dtype == torch.float32
