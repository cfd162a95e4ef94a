"""MixedReplay: each minibatch comes whole from one member, chosen by weight."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from buffer_helpers import (
    SERIAL_OBSERVATION,
    SMALL_ACTION,
    chi_squared,
    chi_squared_critical,
    serial_transitions,
)

from agents.buffers import FieldSpec, MixedReplay, ReservoirBuffer, RingBuffer


def wmar_mix(weights=(1.0, 3.0), seed=0) -> MixedReplay:
    short = RingBuffer(10, SERIAL_OBSERVATION, SMALL_ACTION, seed=1)
    long_term = ReservoirBuffer(50, SERIAL_OBSERVATION, SMALL_ACTION, seed=2)
    return MixedReplay([short, long_term], weights, seed=seed)


def test_add_feeds_every_member_and_batches_come_from_one():
    mix = wmar_mix()
    mix.add(**serial_transitions(0, 200))
    assert [len(member) for member in mix.members] == [10, 50]
    assert len(mix) == 50
    for _ in range(50):
        batch = mix.sample(10)
        serial = batch["observation"][:, 0]
        if mix.last_member == 0:
            assert serial.min() >= 190  # the short FIFO holds the newest ten
        else:
            assert mix.last_member == 1
            np.testing.assert_array_equal(
                mix.members[1].storage.arrays["observation"][batch.indices], batch["observation"]
            )


def test_members_are_drawn_in_proportion_to_their_weights():
    mix = wmar_mix(weights=(1.0, 3.0))
    mix.add(**serial_transitions(0, 100))
    members = []
    for _ in range(4000):
        mix.sample(4)
        members.append(mix.last_member)
    observed = np.bincount(np.array(members), minlength=2)
    assert chi_squared(observed, np.array([1000.0, 3000.0])) < chi_squared_critical(1)


def test_members_too_small_for_the_batch_are_skipped():
    mix = wmar_mix(weights=(1.0, 1.0))
    mix.add(**serial_transitions(0, 30))  # FIFO holds 10, reservoir 30
    assert {mix.sample(20) and mix.last_member for _ in range(50)} == {1}
    with pytest.raises(ValueError, match="no member with a positive weight holds batch_size=40"):
        mix.sample(40)
    zero_weight = wmar_mix(weights=(1.0, 0.0))
    zero_weight.add(**serial_transitions(0, 30))
    with pytest.raises(ValueError, match=r"member sizes \[10, 30\]"):
        zero_weight.sample(20)


def test_the_member_choice_is_independent_of_the_members_draws():
    # Everything seeded alike, as with default seeds. Had the mixture drawn from the members'
    # sampling stream, its draw d would equal their draw d: member 0 (chosen when the draw is
    # below 1/2) would always sample a first row below size / 2, member 1 one above it.
    runs, size = 300, 100
    agreements = 0
    for seed in range(runs):
        members = [
            RingBuffer(size, SERIAL_OBSERVATION, SMALL_ACTION, seed=seed),
            ReservoirBuffer(size, SERIAL_OBSERVATION, SMALL_ACTION, seed=seed),
        ]
        mix = MixedReplay(members, [0.5, 0.5], seed=seed)
        mix.add(**serial_transitions(0, size))
        batch = mix.sample(1)
        agreements += (mix.last_member == 0) == (batch.indices[0] < size // 2)
    # Independent draws agree with probability 1/2: Binomial(300, 1/2) lies within 3.29
    # standard deviations (28.5) of 150 with probability 0.999.
    assert abs(agreements - runs / 2) < 3.29 * np.sqrt(runs / 4)


def snapshot(state: object, path: str = "") -> dict[str, np.ndarray]:
    """Copies of everything a state_dict holds, by path."""
    if isinstance(state, dict):
        return {
            name: value
            for key, item in state.items()
            for name, value in snapshot(item, f"{path}/{key}").items()
        }
    if isinstance(state, torch.Tensor):
        return {path: state.numpy().copy()}
    return {path: np.asarray(repr(state))}


def test_an_add_one_member_rejects_is_stored_in_no_member():
    wide = ReservoirBuffer(10, SERIAL_OBSERVATION, SMALL_ACTION)
    narrow = RingBuffer(10, FieldSpec((2,), np.uint8), SMALL_ACTION)  # serials up to 255
    mix = MixedReplay([wide, narrow], [0.5, 0.5])
    mix.add(**serial_transitions(0, 3))
    before = [snapshot(member.state_dict()) for member in mix.members]
    with pytest.raises(TypeError, match="integers must fit the field's range"):
        mix.add(**serial_transitions(300, 1))  # the first member takes it, the second cannot
    for member, arrays in zip(mix.members, before, strict=True):
        after = snapshot(member.state_dict())
        assert after.keys() == arrays.keys()
        for name, value in arrays.items():
            np.testing.assert_array_equal(after[name], value, err_msg=name)
    assert (len(wide), len(narrow)) == (3, 3)
    mix.add(**serial_transitions(3, 1))
    assert (len(wide), len(narrow)) == (4, 4)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ((1.0,), "one number per member"),
        ((1.0, -1.0), "finite and non-negative"),
        ((0.0, 0.0), "must not all be zero"),
        ((1.0, float("nan")), "finite and non-negative"),
    ],
)
def test_bad_weights_raise(weights, message):
    members = wmar_mix().members
    with pytest.raises(ValueError, match=message):
        MixedReplay(members, weights)


def test_members_must_be_buffers():
    with pytest.raises(ValueError, match="non-empty list of buffers"):
        MixedReplay([], [])
    with pytest.raises(ValueError, match="non-empty list of buffers"):
        MixedReplay([object()], [1.0])
