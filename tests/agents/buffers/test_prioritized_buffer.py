"""PrioritizedBuffer: sampling follows priorities, importance weights, priority updates."""

from __future__ import annotations

import numpy as np
import pytest
from buffer_helpers import (
    SERIAL_OBSERVATION,
    SMALL_ACTION,
    chi_squared,
    chi_squared_critical,
    serial_transitions,
)

from agents.buffers import PrioritizedBuffer


def filled_buffer(capacity=8, alpha=1.0, beta=1.0, seed=0) -> PrioritizedBuffer:
    buffer = PrioritizedBuffer(
        capacity, SERIAL_OBSERVATION, SMALL_ACTION, alpha=alpha, beta=beta, seed=seed
    )
    buffer.add(**serial_transitions(0, capacity))
    return buffer


@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_sampling_frequencies_follow_priorities(alpha):
    buffer = filled_buffer(alpha=alpha)
    priorities = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 20.0])
    buffer.update_priorities(np.arange(8), priorities)
    draws = np.concatenate([buffer.sample(8).indices for _ in range(5000)])
    observed = np.bincount(draws, minlength=8)
    probabilities = priorities**alpha / (priorities**alpha).sum()
    assert chi_squared(observed, probabilities * draws.size) < chi_squared_critical(7)


def test_a_sampler_ignoring_priorities_fails_the_same_test():
    # The chi-squared check has power: uniform draws are far outside its bound.
    priorities = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 20.0])
    uniform = np.random.default_rng(0).integers(0, 8, size=40000)
    observed = np.bincount(uniform, minlength=8)
    expected = priorities / priorities.sum() * uniform.size
    assert chi_squared(observed, expected) > chi_squared_critical(7)


def test_importance_weights_and_batch_fields():
    buffer = filled_buffer(beta=0.5)
    priorities = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 9.0])
    buffer.update_priorities(np.arange(8), priorities)
    batch = buffer.sample(8)
    probabilities = priorities[batch.indices] / priorities.sum()
    weights = (8 * probabilities) ** -0.5
    np.testing.assert_allclose(batch.weights, weights / weights.max(), rtol=1e-6)
    assert batch.weights.dtype == np.float32
    np.testing.assert_array_equal(batch["observation"][:, 0], batch.indices)
    torch_batch = buffer.sample(4, device="cpu")
    assert torch_batch.weights.shape == (4,)


def test_new_items_get_the_largest_priority_so_far():
    buffer = PrioritizedBuffer(8, SERIAL_OBSERVATION, SMALL_ACTION, alpha=1.0)
    buffer.add(**serial_transitions(0, 4))
    np.testing.assert_array_equal(buffer.tree.leaves[:4], 1.0)
    buffer.update_priorities(np.array([0, 1]), np.array([5.0, 0.5]))
    buffer.add(**serial_transitions(4, 2))
    np.testing.assert_array_equal(buffer.tree.leaves[:6], [5.0, 0.5, 1.0, 1.0, 5.0, 5.0])
    assert buffer.tree.total == pytest.approx(17.5)
    # Unfilled rows have no priority and are never drawn.
    assert set(np.concatenate([buffer.sample(6).indices for _ in range(200)])) <= set(range(6))


def test_overwritten_rows_take_the_new_items_priority():
    buffer = filled_buffer(capacity=4, alpha=1.0)
    buffer.update_priorities(np.arange(4), np.array([0.1, 0.1, 0.1, 0.1]))
    buffer.add(**serial_transitions(4, 1))
    np.testing.assert_allclose(buffer.tree.leaves, [1.0, 0.1, 0.1, 0.1])


def test_bad_arguments_raise_clear_errors():
    buffer = filled_buffer()
    with pytest.raises(ValueError, match="priorities must be finite and > 0"):
        buffer.update_priorities(np.array([0]), np.array([0.0]))
    with pytest.raises(ValueError, match="priorities must be finite and > 0"):
        buffer.update_priorities(np.array([0]), np.array([np.inf]))
    with pytest.raises(ValueError, match=r"indices must be integers in \[0, 8\)"):
        buffer.update_priorities(np.array([8]), np.array([1.0]))
    with pytest.raises(ValueError, match=r"indices must be integers in \[0, 8\)"):
        buffer.update_priorities(np.array([0.5]), np.array([1.0]))
    with pytest.raises(ValueError, match="1-D and of equal length"):
        buffer.update_priorities(np.array([0, 1]), np.array([1.0]))
    with pytest.raises(ValueError, match=r"alpha must be a number in \[0, 1\]"):
        PrioritizedBuffer(4, SERIAL_OBSERVATION, SMALL_ACTION, alpha=1.5)
    with pytest.raises(ValueError, match=r"beta must be a number in \[0, 1\]"):
        buffer.beta = -0.1
    buffer.beta = 0.9
    assert buffer.beta == 0.9


def test_numpy_scalars_are_valid_exponents():
    # e.g. a beta schedule from np.linspace(0.4, 1.0, steps, dtype=np.float32)
    buffer = PrioritizedBuffer(
        4, SERIAL_OBSERVATION, SMALL_ACTION, alpha=np.float32(0.5), beta=np.float64(0.25)
    )
    buffer.beta = np.linspace(0.4, 1.0, 5, dtype=np.float32)[1]
    assert buffer.beta == pytest.approx(0.55)
    assert type(buffer.alpha) is float
    assert type(buffer.beta) is float  # the config stays JSON-able
    for value in (True, np.bool_(True), np.float32("nan"), np.float32(1.5), "0.5"):
        with pytest.raises(ValueError, match=r"beta must be a number in \[0, 1\]"):
            buffer.beta = value
