"""Save/load: round trips restore contents and randomness; any damaged byte is detected."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest
from buffer_helpers import SERIAL_OBSERVATION, SMALL_ACTION, serial_transitions

from agents.buffers import (
    Buffer,
    BufferFileError,
    FieldSpec,
    MixedReplay,
    PrioritizedBuffer,
    ReservoirBuffer,
    RingBuffer,
    SequenceBuffer,
    load_buffer,
)

Fields = Mapping[str, FieldSpec] | None
# Not in alphabetical order: a file must keep the order the buffer was built with, which is
# the order of its arrays.
UNSORTED_EXTRA_FIELDS = {"z_task": FieldSpec((), np.int16), "a_flag": FieldSpec((), np.bool_)}


def extra_values(extra_fields: Fields, serial: np.ndarray) -> dict[str, np.ndarray]:
    """Values of ``extra_fields`` that differ between transitions (none without such fields)."""
    return {
        name: (serial % (3 + index)).astype(spec.dtype)
        for index, (name, spec) in enumerate((extra_fields or {}).items())
    }


def add_serial(buffer: Buffer, start: int, count: int, extra_fields: Fields) -> None:
    """Add transitions ``start ..`` with values for every extra field."""
    serial = np.arange(start, start + count)
    buffer.add(**serial_transitions(start, count), **extra_values(extra_fields, serial))


def ring(extra_fields: Fields = None):
    buffer = RingBuffer(16, SERIAL_OBSERVATION, SMALL_ACTION, extra_fields=extra_fields, seed=3)
    add_serial(buffer, 0, 21, extra_fields)
    buffer.sample(4)
    return buffer


def reservoir(extra_fields: Fields = None):
    buffer = ReservoirBuffer(
        16, SERIAL_OBSERVATION, SMALL_ACTION, extra_fields=extra_fields, seed=4
    )
    add_serial(buffer, 0, 50, extra_fields)
    return buffer


def prioritized(extra_fields: Fields = None):
    buffer = PrioritizedBuffer(
        16, SERIAL_OBSERVATION, SMALL_ACTION, alpha=0.7, beta=0.5, extra_fields=extra_fields
    )
    add_serial(buffer, 0, 12, extra_fields)
    buffer.update_priorities(np.arange(12), np.linspace(0.5, 3.0, 12))
    return buffer


def sequence(extra_fields: Fields = None, placement="fifo"):
    buffer = SequenceBuffer(
        48,
        SERIAL_OBSERVATION,
        SMALL_ACTION,
        num_envs=2,
        sequence_length=3,
        chunk_length=6,
        placement=placement,
        extra_fields=extra_fields,
        seed=5,
    )
    observation = np.zeros((2, 2), dtype=np.int64)
    for step in range(30):
        next_observation = observation + np.array([[1, 0], [1, 1]])
        ends = np.array([step % 9 == 8, False])
        buffer.add(
            observation,
            np.ones((2, 1)),
            np.ones(2),
            next_observation,
            ends,
            np.zeros(2, bool),
            **extra_values(extra_fields, np.array([step, step + 1])),
        )
        observation = np.where(ends[:, None], 0, next_observation)
    return buffer


def mixed(extra_fields: Fields = None):
    return MixedReplay([ring(extra_fields), reservoir(extra_fields)], [0.25, 0.75], seed=6)


BUILDERS = {
    "ring": ring,
    "reservoir": reservoir,
    "prioritized": prioritized,
    "sequence-fifo": sequence,
    "sequence-reservoir": lambda extra_fields=None: sequence(extra_fields, "reservoir"),
    "mixed": mixed,
}


def assert_same_arrays(first, second):
    first_arrays, second_arrays = first.persistent_arrays(), second.persistent_arrays()
    assert list(first_arrays) == list(second_arrays)
    for name, array in first_arrays.items():
        np.testing.assert_array_equal(array, second_arrays[name], err_msg=name)


@pytest.mark.parametrize("name", list(BUILDERS))
def test_round_trip_restores_contents_counters_and_sampling(name, tmp_path):
    original = BUILDERS[name]()
    path = tmp_path / "buffer.bin"
    original.save(path)
    restored = type(original).load(path)
    assert type(restored) is type(original)
    assert_same_arrays(original, restored)
    assert restored.state() == original.state()
    assert restored.config() == original.config()
    assert len(restored) == len(original)
    # The randomness continues where it stopped: both draw the same next batches.
    for _ in range(3):
        expected, actual = original.sample(4), restored.sample(4)
        np.testing.assert_array_equal(expected.indices, actual.indices)
        assert expected.member == actual.member
    assert type(load_buffer(path)) is type(original)


def transition_members(buffer: Buffer) -> list[Buffer]:
    """``buffer``, or the members of a MixedReplay."""
    return list(buffer.members) if isinstance(buffer, MixedReplay) else [buffer]


@pytest.mark.parametrize("name", list(BUILDERS))
def test_extra_fields_out_of_alphabetical_order_survive_a_round_trip(name, tmp_path):
    original = BUILDERS[name](UNSORTED_EXTRA_FIELDS)
    path = tmp_path / "buffer.bin"
    original.save(path)
    restored = load_buffer(path)
    for member in transition_members(restored):
        assert member.extra_field_names == ("z_task", "a_flag")
        assert list(member.fields)[-2:] == ["z_task", "a_flag"]
    assert_same_arrays(original, restored)
    assert restored.config() == original.config()
    assert restored.state() == original.state()
    expected, actual = original.sample(4), restored.sample(4)
    for field in UNSORTED_EXTRA_FIELDS:
        np.testing.assert_array_equal(expected[field], actual[field])


def test_configs_holding_extra_fields_as_a_mapping_still_build():
    # Files written before extra_fields became a list of pairs hold a mapping (sorted by name,
    # so those that loaded at all had their fields in that order).
    config = ring(UNSORTED_EXTRA_FIELDS).config()
    config["extra_fields"] = {name: spec for name, spec in reversed(config["extra_fields"])}
    rebuilt = RingBuffer.from_config(config)
    assert rebuilt.extra_field_names == ("a_flag", "z_task")
    assert rebuilt.fields["z_task"] == UNSORTED_EXTRA_FIELDS["z_task"]


def test_loaded_buffers_keep_adding(tmp_path):
    original = sequence()
    original.save(tmp_path / "sequence.bin")
    restored = SequenceBuffer.load(tmp_path / "sequence.bin")
    # Continue both streams with the same transitions: their states must agree afterwards.
    last = original.storage.arrays["observation"][
        original.env_slot * original.chunk_length + original.env_position - 1
    ]
    for buffer in (original, restored):
        buffer.add(
            last, np.ones((2, 1)), np.ones(2), last + 1, np.zeros(2, bool), np.zeros(2, bool)
        )
    assert_same_arrays(original, restored)


def test_every_flipped_byte_is_detected(tmp_path):
    path = tmp_path / "ring.bin"
    RingBuffer(2, SERIAL_OBSERVATION, SMALL_ACTION).save(path)
    data = path.read_bytes()
    damaged = tmp_path / "damaged.bin"
    for position in range(len(data)):
        corrupted = bytearray(data)
        corrupted[position] ^= 0x5A
        damaged.write_bytes(bytes(corrupted))
        with pytest.raises(BufferFileError):
            RingBuffer.load(damaged)


def test_flipped_data_bytes_in_a_larger_buffer_are_reported_as_corruption(tmp_path):
    path = tmp_path / "ring.bin"
    ring().save(path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(BufferFileError, match="corrupted: the data does not match its checksum"):
        RingBuffer.load(path)


def test_truncated_files_are_detected(tmp_path):
    path = tmp_path / "ring.bin"
    ring().save(path)
    data = path.read_bytes()
    truncated = tmp_path / "truncated.bin"
    for length in [0, 5, 20, *range(30, len(data), 97), len(data) - 1]:
        truncated.write_bytes(data[:length])
        with pytest.raises(BufferFileError, match=r"truncated|corrupted"):
            RingBuffer.load(truncated)
    truncated.write_bytes(data + b"\0")
    with pytest.raises(BufferFileError, match="unexpected bytes after the data"):
        RingBuffer.load(truncated)


def test_wrong_kind_and_foreign_files(tmp_path):
    path = tmp_path / "reservoir.bin"
    reservoir().save(path)
    with pytest.raises(BufferFileError, match="holds a ReservoirBuffer, not a RingBuffer"):
        RingBuffer.load(path)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, x=np.zeros(3))
    with pytest.raises(BufferFileError, match="not a buffer file"):
        load_buffer(foreign)
    with pytest.raises(FileNotFoundError):
        load_buffer(Path(tmp_path / "missing.bin"))
