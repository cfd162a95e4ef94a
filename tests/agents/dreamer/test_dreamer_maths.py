"""DreamerV3's maths, each test aimed at a bug another PyTorch port shipped."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from agents.common.observations import ObservationLayout
from agents.dreamer.agent import DreamerAgent
from agents.dreamer.behavior import ActionCoding, ActorCritic, BehaviorSettings
from agents.dreamer.config import SIZES, Size
from agents.dreamer.maths import (
    ReturnNormalizer,
    TwoHot,
    kl_losses,
    lambda_returns,
    straight_through_sample,
    symexp,
    symlog,
    two_hot,
    unimix_logits,
)
from agents.dreamer.rssm import Latent
from agents.dreamer.world_model import BINS, WorldModel

TINY = SIZES[Size.XS]


def test_symexp_inverts_symlog_over_many_magnitudes() -> None:
    x = torch.tensor([-1e6, -300.0, -2.5, -1e-3, 0.0, 1e-3, 0.7, 42.0, 1e6], dtype=torch.float64)
    torch.testing.assert_close(symexp(symlog(x)), x)
    expected = torch.tensor([1.0, -1.0])
    torch.testing.assert_close(symlog(torch.tensor([np.e - 1, 1 - np.e])), expected)


@pytest.mark.parametrize("value", [-2000.0, -3.7, -0.01, 0.0, 0.25, 1.0, 17.0, 12345.0])
def test_two_hot_encoding_decodes_to_the_value(value: float) -> None:
    bins = torch.linspace(-20, 20, BINS, dtype=torch.float64)
    encoded = two_hot(symlog(torch.tensor([value], dtype=torch.float64)), bins)
    assert encoded.sum().item() == pytest.approx(1.0)
    assert (encoded > 0).sum() <= 2
    decoded = symexp((encoded * bins).sum(-1))
    assert decoded.item() == pytest.approx(value, rel=1e-9, abs=1e-9)


def test_two_hot_targets_beyond_the_bins_go_to_the_end_bins() -> None:
    bins = torch.linspace(-20, 20, BINS)
    encoded = two_hot(torch.tensor([25.0, -31.0]), bins)
    assert encoded[0, -1] == 1.0
    assert encoded[0, :-1].sum() == 0
    assert encoded[1, 0] == 1.0
    assert encoded[1, 1:].sum() == 0


def test_a_two_hot_value_is_the_symexp_of_the_expectation_not_the_argmax() -> None:
    logits = torch.full((BINS,), -1e9)
    # Probability 0.6 on the bin at symlog 2 and 0.4 on the bin at symlog 4 (bins are 5/32 apart).
    bins = torch.linspace(-20, 20, BINS)
    low, high = int(torch.argmin((bins - 2).abs())), int(torch.argmin((bins - 4).abs()))
    logits[low], logits[high] = np.log(0.6), np.log(0.4)
    value = TwoHot(logits).mean()
    expected = symexp(0.6 * bins[low] + 0.4 * bins[high])
    assert value.item() == pytest.approx(expected.item(), rel=1e-5)
    assert value.item() != pytest.approx(symexp(bins[low]).item(), rel=1e-2)


def _latents_with_kl_per_latent(per_latent: float, latents: int = 32, classes: int = 32):
    """Posterior and prior logits whose KL is ``per_latent`` in every latent."""
    # KL between [p, 1-p] style distributions found by bisection on one class's logit.
    prior = torch.zeros(classes)
    lo, hi = 0.0, 20.0
    for _ in range(100):
        mid = (lo + hi) / 2
        posterior = torch.zeros(classes)
        posterior[0] = mid
        log_p = torch.log_softmax(posterior, -1)
        kl = (log_p.exp() * (log_p - torch.log_softmax(prior, -1))).sum()
        lo, hi = (mid, hi) if kl < per_latent else (lo, mid)
    posterior = torch.zeros(classes)
    posterior[0] = (lo + hi) / 2
    return (
        posterior.expand(1, latents, classes).clone().requires_grad_(True),
        prior.expand(1, latents, classes).clone().requires_grad_(True),
    )


def test_free_bits_clip_the_kl_summed_over_the_latents_not_each_latent() -> None:
    # 32 latents of 0.05 nats: 1.6 nats in all, above the 1-nat floor, so it counts whole.
    posterior, prior = _latents_with_kl_per_latent(0.05)
    dynamics, representation, kl = kl_losses(posterior, prior, free_nats=1.0)
    assert kl.item() == pytest.approx(1.6, rel=1e-3)
    assert dynamics.item() == pytest.approx(1.6, rel=1e-3)  # per-latent clipping would give 32
    assert representation.item() == pytest.approx(1.6, rel=1e-3)
    dynamics.sum().backward()
    assert prior.grad.abs().sum() > 0


def test_below_the_free_bits_the_kl_gives_no_gradient() -> None:
    posterior, prior = _latents_with_kl_per_latent(0.02)  # 0.64 nats in all
    dynamics, representation, _ = kl_losses(posterior, prior, free_nats=1.0)
    assert dynamics.item() == 1.0
    assert representation.item() == 1.0
    (dynamics + representation).sum().backward()
    assert prior.grad.abs().sum() == 0
    assert posterior.grad.abs().sum() == 0


def test_the_dynamics_loss_trains_the_prior_alone() -> None:
    posterior, prior = _latents_with_kl_per_latent(0.1)
    dynamics, _, _ = kl_losses(posterior, prior, free_nats=1.0)
    dynamics.sum().backward()
    assert posterior.grad is None or posterior.grad.abs().sum() == 0
    assert prior.grad.abs().sum() > 0


def test_lambda_returns_match_a_hand_computed_four_step_example() -> None:
    # Rewards and continues are predicted at the state a step arrives at (DreamerV3's
    # alignment): R_t = r_t + g c_t ((1 - l) v_{t+1} + l R_{t+1}), R_4 = v_4.
    rewards = torch.tensor([1.0, 2.0, 3.0, 4.0])
    values = torch.tensor([0.5, 1.0, 1.5, 2.0, 2.5])
    continues = torch.tensor([1.0, 1.0, 0.0, 1.0])
    returns = lambda_returns(rewards, values, continues, discount=0.9, lambda_=0.8)
    # R_3 = 4 + .9 * 2.5 = 6.25; R_2 = 3 (the episode ends); R_1 = 2 + .9 (.2 * 1.5 + .8 * 3)
    # = 4.43; R_0 = 1 + .9 (.2 * 1 + .8 * 4.43) = 4.3696.
    torch.testing.assert_close(returns, torch.tensor([4.3696, 4.43, 3.0, 6.25]))


def test_lambda_returns_refuse_misaligned_lengths() -> None:
    with pytest.raises(ValueError, match="H steps and values H \\+ 1"):
        lambda_returns(torch.zeros(4), torch.zeros(4), torch.ones(4), 0.9, 0.8)


def test_unimix_keeps_one_percent_spread_over_the_classes() -> None:
    logits = torch.tensor([[50.0, 0.0, -50.0, 0.0]])
    probs = torch.softmax(unimix_logits(logits, 0.01), -1)
    expected = 0.99 * torch.softmax(logits, -1) + 0.01 / 4
    torch.testing.assert_close(probs, expected)
    assert probs.min() >= 0.01 / 4 - 1e-7


def test_straight_through_samples_are_one_hot_with_the_probabilities_gradient() -> None:
    logits = torch.randn(5, 32, 32, requires_grad=True)
    sample = straight_through_sample(logits)
    one_hot = torch.nn.functional.one_hot(sample.detach().argmax(-1), 32).float()
    torch.testing.assert_close(sample.detach(), one_hot)  # one-hot up to rounding
    (sample * torch.arange(32.0)).sum().backward()
    assert logits.grad.abs().sum() > 0


def test_the_return_normaliser_tracks_percentiles_with_an_ema_and_a_floor_of_one() -> None:
    normalizer = ReturnNormalizer(decay=0.99)
    returns = torch.arange(101.0)  # P5 = 5, P95 = 95
    offset, scale = normalizer(returns)
    assert offset.item() == pytest.approx(0.05)
    assert scale.item() == 1.0  # 0.01 * (95 - 5) = 0.9 is below the floor
    for _ in range(2000):
        offset, scale = normalizer(returns)
    assert offset.item() == pytest.approx(5.0, rel=1e-3)
    assert scale.item() == pytest.approx(90.0, rel=1e-3)


def _heads_and_critic(seed: int = 0) -> tuple[WorldModel, ActorCritic]:
    torch.manual_seed(seed)
    layout = ObservationLayout.of_space(gym.spaces.Box(-1, 1, (6,), np.float32))
    coding = ActionCoding(gym.spaces.Discrete(3))
    model = WorldModel(layout, coding.size, TINY)
    behavior = ActorCritic(model.rssm.feature_size, coding, TINY, BehaviorSettings())
    return model, behavior


def test_reward_and_critic_heads_start_at_exactly_zero() -> None:
    model, behavior = _heads_and_critic()
    assert model.reward.out.weight.abs().sum() == 0
    assert behavior.critic.net.out.weight.abs().sum() == 0
    features = torch.randn(7, model.rssm.feature_size) * 10
    # Uniform probabilities over symmetric bins: zero up to float32 rounding of the sum.
    torch.testing.assert_close(model.reward_of(features), torch.zeros(7), atol=1e-6, rtol=0)
    torch.testing.assert_close(behavior.critic(features).mean(), torch.zeros(7), atol=1e-6, rtol=0)
    # The other output layers are not zero: only these two start silent.
    assert model.cont.out.weight.abs().sum() > 0
    assert behavior.actor.net.out.weight.abs().sum() > 0


def test_the_slow_critic_is_an_ema_of_the_critic() -> None:
    _, behavior = _heads_and_critic()
    with torch.no_grad():
        for parameter in behavior.critic.parameters():
            parameter.add_(1.0)
    before = [p.clone() for p in behavior.slow_critic.parameters()]
    fast = [p.clone() for p in behavior.critic.parameters()]
    behavior.update_slow_critic()
    for slow, old, new in zip(behavior.slow_critic.parameters(), before, fast, strict=True):
        torch.testing.assert_close(slow, 0.98 * old + 0.02 * new)
    assert not any(p.requires_grad for p in behavior.slow_critic.parameters())


class _ScaledRewardModel:
    """A world model whose imagined rewards are ``scale`` times a fixed function of the
    state: the actor's advantage must not care about ``scale`` once normalised."""

    def __init__(self, model: WorldModel, scale: float) -> None:
        self.rssm = model.rssm
        self.scale = scale
        self.direction = torch.linspace(-1, 1, model.rssm.feature_size)

    def reward_of(self, features: torch.Tensor) -> torch.Tensor:
        return self.scale * (3.0 * torch.tanh(features @ self.direction))

    def continues_of(self, features: torch.Tensor) -> torch.Tensor:
        return torch.ones(features.shape[:-1])


def _actor_gradient(reward_scale: float) -> torch.Tensor:
    model, behavior = _heads_and_critic(seed=3)
    behavior.settings = BehaviorSettings(entropy=0.0)
    behavior.return_normalizer.decay = 0.0  # the scale of this very batch's returns
    start = model.rssm.initial(64)
    start = Latent(start.deter + 0.3 * torch.randn_like(start.deter), start.stoch)
    torch.manual_seed(11)  # the same imagined actions in both runs
    actor_loss, _, metrics = behavior.losses(
        _ScaledRewardModel(model, reward_scale), start, torch.ones(64)
    )
    assert metrics["behavior/return_scale"] > 1.0  # above the floor: normalisation acts
    actor_loss.backward()
    return torch.cat([p.grad.flatten() for p in behavior.actor.parameters()])


def test_return_normalisation_is_applied_in_the_discrete_reinforce_branch() -> None:
    # NM512/dreamerv3-torch computed the normalised advantage but its REINFORCE branch used the
    # raw one: rewards x100 then gave gradients x100.
    gradient = _actor_gradient(1.0)
    scaled = _actor_gradient(100.0)
    assert gradient.abs().sum() > 0
    torch.testing.assert_close(scaled, gradient, rtol=1e-4, atol=1e-7)


def test_a_continuous_actor_learns_through_its_actions_and_its_loss_reaches_only_it() -> None:
    torch.manual_seed(0)
    layout = ObservationLayout.of_space(gym.spaces.Box(-1, 1, (6,), np.float32))
    coding = ActionCoding(gym.spaces.Box(-1, 1, (2,), np.float32))
    model = WorldModel(layout, coding.size, TINY)
    behavior = ActorCritic(model.rssm.feature_size, coding, TINY, BehaviorSettings(entropy=0.0))
    with torch.no_grad():  # rewards that depend on the state (the head starts at zero)
        model.reward.out.weight.normal_(0.0, 0.1)
    start = model.rssm.initial(16)
    start = Latent(start.deter + 0.3 * torch.randn_like(start.deter), start.stoch)
    actor_loss, _, _ = behavior.losses(model, start, torch.ones(16))
    optimizer = torch.optim.Adam(behavior.actor.parameters())
    DreamerAgent._step(optimizer, actor_loss, behavior.actor, clip=100.0)
    # Without entropy, the actor's only gradient is the one through its actions, the
    # imagined states and the rewards and values predicted there.
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in behavior.actor.parameters())
    # That loss reaches the world model and the critic, whose optimisers must not see it.
    assert all(p.grad is None for p in model.parameters())
    assert all(p.grad is None for p in behavior.critic.parameters())


def test_a_terminal_start_state_weighs_nothing_in_either_loss() -> None:
    model, behavior = _heads_and_critic()
    with torch.no_grad():
        model.reward.out.weight.normal_(0.0, 0.1)
    actor_loss, critic_loss, _ = behavior.losses(model, model.rssm.initial(8), torch.zeros(8))
    assert actor_loss.item() == 0.0
    assert critic_loss.item() == 0.0
    _, critic_loss, _ = behavior.losses(model, model.rssm.initial(8), torch.ones(8))
    assert critic_loss.item() > 0.0


def test_straight_through_samples_follow_the_probabilities() -> None:
    logits = torch.log(torch.tensor([0.1, 0.2, 0.3, 0.4])).expand(20_000, 4)
    counts = straight_through_sample(logits, torch.Generator().manual_seed(0)).sum(0)
    torch.testing.assert_close(
        counts / 20_000, torch.tensor([0.1, 0.2, 0.3, 0.4]), atol=0.01, rtol=0
    )


def test_binary_observation_parts_are_bernoulli_the_rest_symlog_regressed() -> None:
    space = gym.spaces.Dict(
        {
            "grid": gym.spaces.Box(0, 1, (2, 2), np.bool_),
            "position": gym.spaces.Box(-10, 10, (2,), np.float32),
            "one_hot": gym.spaces.Box(0, 1, (3,), np.uint8),
        }
    )
    layout = ObservationLayout.of_space(space)
    assert layout.vector_keys == ("grid", "one_hot", "position")
    assert layout.binary_size == 7
    torch.manual_seed(0)
    model = WorldModel(layout, 2, TINY)
    parts = {
        "grid": torch.tensor([[[[True, False], [False, False]]]]),
        "one_hot": torch.tensor([[[0, 1, 0]]], dtype=torch.uint8),
        "position": torch.tensor([[[3.0, -5.0]]]),
    }
    decoded = torch.cat([torch.full((7,), -4.0), torch.tensor([1.0, -1.0])])
    model.vector_decoder.forward = lambda features: decoded.expand(*features.shape[:-1], 9)
    _, _, metrics = model.loss(
        parts,
        torch.zeros(1, 1, 2),
        torch.zeros(1, 1),
        torch.ones(1, 1, dtype=torch.bool),
        torch.zeros(1, 1, dtype=torch.bool),
    )
    # Two cells are 1 (logit -4: 4.018 nats each), five are 0 (0.018 each); the floats are
    # compared in symlog space.
    bernoulli = 2 * np.log1p(np.exp(4.0)) + 5 * np.log1p(np.exp(-4.0))
    symlog_error = (1 - np.log1p(3.0)) ** 2 + (-1 + np.log1p(5.0)) ** 2
    assert metrics["world_model/vector_loss"].item() == pytest.approx(
        bernoulli + symlog_error, rel=1e-5
    )
