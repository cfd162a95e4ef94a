"""The memory agents' observation encoder reads every observation kind of our families."""

from __future__ import annotations

import gymnasium as gym
import pytest
import torch

import envsuite  # noqa: F401 (registers the families)
from agents.common.observations import ObservationLayout
from agents.hcam.networks import ObservationEncoder


@pytest.mark.parametrize(
    ("env_id", "kwargs", "grids", "images"),
    [
        ("envsuite/Ballet-v0", {"view": "full"}, ("image",), False),
        ("envsuite/ObjectRecall-v0", {}, ("image",), False),
        ("envsuite/Ballet-v0", {"obs_mode": "pixels"}, (), True),
        ("envsuite/Catch-v0", {}, ("observation",), False),
        ("CartPole-v1", {}, (), False),
    ],
)
def test_the_encoder_reads_each_observation_kind(env_id, kwargs, grids, images) -> None:
    env = gym.make(env_id, **kwargs)
    layout = ObservationLayout.of_space(env.observation_space)
    encoder = ObservationEncoder(layout, 32)
    assert encoder.grid_keys == grids
    assert (encoder.image_cnn is not None) == images
    first, _ = env.reset(seed=0)
    second, *_ = env.step(env.action_space.sample())
    steps = [first, second]
    parts = {
        key: torch.stack([layout.to_tensors(step, torch.device("cpu"))[key] for step in steps])
        for key in layout.parts(first)
    }  # [T=2, ...]: a segment of one env, without its batch axis
    parts = {key: value[:, None] for key, value in parts.items()}  # [T, B=1, ...]
    encoded = encoder(parts)
    assert encoded.shape == (2, 1, 32)
    assert (encoded >= 0).all()
