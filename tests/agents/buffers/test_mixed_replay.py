"""MixedReplay: each minibatch comes whole from one member, chosen by weight."""

from __future__ import annotations

import io

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

from agents.buffers import FieldSpec, MixedReplay, ReservoirBuffer, RingBuffer, SequenceBuffer


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
    ring = RingBuffer(10, SERIAL_OBSERVATION, SMALL_ACTION)
    sequence = SequenceBuffer(
        16, SERIAL_OBSERVATION, SMALL_ACTION, num_envs=1, sequence_length=2, chunk_length=4
    )
    mix = MixedReplay([ring, sequence], [0.5, 0.5])
    mix.add(**serial_transitions(0, 1))  # observation 0, next observation 1
    before = [snapshot(member.state_dict()) for member in mix.members]
    with pytest.raises(ValueError, match="num_envs=1 rows"):
        mix.add(**serial_transitions(1, 2))  # two transitions for a single stream
    for member, arrays in zip(mix.members, before, strict=True):
        after = snapshot(member.state_dict())
        assert after.keys() == arrays.keys()
        for name, value in arrays.items():
            np.testing.assert_array_equal(after[name], value, err_msg=name)
    assert (len(ring), sequence.steps_added) == (1, 2)
    mix.add(**serial_transitions(1, 1))
    assert (len(ring), sequence.steps_added) == (2, 3)


def wmar_sequence_mix(seed: int = 0) -> MixedReplay:
    """WMAR's replay: a FIFO and a long-term reservoir of sequences, a coin per minibatch."""
    observation, action = FieldSpec((2,), np.uint8), FieldSpec((1,), np.float32)
    arguments = {"num_envs": 2, "sequence_length": 3, "chunk_length": 6}
    short = SequenceBuffer(18, observation, action, placement="fifo", seed=1, **arguments)
    long_term = SequenceBuffer(60, observation, action, placement="reservoir", seed=2, **arguments)
    return MixedReplay([short, long_term], [0.5, 0.5], seed=seed)


def add_counting_steps(mix: MixedReplay, start: int, adds: int) -> None:
    """Two envs counting steps (mod 256) in their observation, never ending an episode."""
    for step in range(start, start + adds):
        observation = np.array([[env, step % 256] for env in (0, 1)], np.uint8)
        mix.add(
            observation,
            np.zeros((2, 1), np.float32),
            np.zeros(2, np.float32),
            observation + np.array([0, 1], np.uint8),
            np.zeros(2, bool),
            np.zeros(2, bool),
        )


def test_a_mix_of_sequence_buffers_samples_both_and_round_trips_its_state():
    mix = wmar_sequence_mix()
    add_counting_steps(mix, 0, 40)
    newest_first_steps = {0: [], 1: []}
    for _ in range(200):
        batch = mix.sample(4)
        assert batch["observation"].shape == (4, 3, 2)
        newest_first_steps[mix.last_member].append(int(batch["observation"][:, 0, 1].min()))
    assert len(newest_first_steps[0]) > 50
    assert len(newest_first_steps[1]) > 50
    # The FIFO holds three chunks, the newest steps; the reservoir older ones too.
    assert min(newest_first_steps[0]) >= 20
    assert min(newest_first_steps[1]) < 20
    file = io.BytesIO()
    torch.save(mix.state_dict(), file)
    file.seek(0)
    restored = wmar_sequence_mix(seed=5)
    restored.load_state_dict(torch.load(file, weights_only=True))
    add_counting_steps(mix, 40, 10)
    add_counting_steps(restored, 40, 10)
    for _ in range(20):
        first, second = mix.sample(4), restored.sample(4)
        assert mix.last_member == restored.last_member
        for name in first:
            assert torch.equal(first[name], second[name])


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
