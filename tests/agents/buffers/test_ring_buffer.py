"""RingBuffer: FIFO contents, batched adds, sampling, torch output and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from buffer_helpers import (
    SERIAL_OBSERVATION,
    SMALL_ACTION,
    fill_batched_and_one_by_one,
    serial_transitions,
)
from gymnasium import spaces
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.buffers import FieldSpec, ReservoirBuffer, RingBuffer

IMAGE = FieldSpec((8, 8, 3), np.uint8)


def stored_serials(buffer: RingBuffer) -> list[int]:
    return sorted(buffer.storage.arrays["observation"][: len(buffer), 0].tolist())


@settings(max_examples=60, deadline=None)
@given(
    capacity=st.integers(1, 40),
    batch_sizes=st.lists(st.integers(0, 60), min_size=1, max_size=12),
)
def test_ring_holds_exactly_the_newest_capacity_transitions(capacity, batch_sizes):
    buffer = RingBuffer(capacity, SERIAL_OBSERVATION, SMALL_ACTION)
    added = 0
    for batch_size in batch_sizes:
        buffer.add(**serial_transitions(added, batch_size))
        added += batch_size
        newest = list(range(max(0, added - capacity), added))
        assert len(buffer) == len(newest)
        assert stored_serials(buffer) == newest


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 9), min_size=1, max_size=8))
def test_batched_add_equals_adding_one_by_one(batch_sizes):
    batched = RingBuffer(13, SERIAL_OBSERVATION, SMALL_ACTION)
    single = RingBuffer(13, SERIAL_OBSERVATION, SMALL_ACTION)
    fill_batched_and_one_by_one(batched, single, batch_sizes)
    assert batched.position == single.position


def test_sample_returns_whole_stored_transitions():
    buffer = RingBuffer(50, SERIAL_OBSERVATION, SMALL_ACTION, seed=3)
    buffer.add(**serial_transitions(0, 80))
    batch = buffer.sample(50)
    serial = batch["observation"][:, 0]
    assert set(serial.tolist()) <= set(range(30, 80))
    # Every field of an item comes from the same transition.
    np.testing.assert_array_equal(batch["action"][:, 0], serial)
    np.testing.assert_array_equal(batch["reward"], serial)
    np.testing.assert_array_equal(batch["next_observation"][:, 0], serial + 1)
    np.testing.assert_array_equal(batch["terminated"], serial % 7 == 6)
    np.testing.assert_array_equal(batch["truncated"], serial % 11 == 10)
    np.testing.assert_array_equal(
        buffer.storage.arrays["observation"][batch.indices], batch["observation"]
    )


def test_sampling_is_uniform_and_reproducible():
    first = RingBuffer(10, SERIAL_OBSERVATION, SMALL_ACTION, seed=7)
    second = RingBuffer(10, SERIAL_OBSERVATION, SMALL_ACTION, seed=7)
    other_seed = RingBuffer(10, SERIAL_OBSERVATION, SMALL_ACTION, seed=8)
    for buffer in (first, second, other_seed):
        buffer.add(**serial_transitions(0, 10))
    draws = np.concatenate([first.sample(10).indices for _ in range(2000)])
    counts = np.bincount(draws, minlength=10)
    # 20000 uniform draws over 10 rows: each count is 2000 +- 5 standard deviations.
    assert np.all(np.abs(counts - 2000) < 5 * np.sqrt(20000 * 0.1 * 0.9))
    second_draws = np.concatenate([second.sample(10).indices for _ in range(2000)])
    np.testing.assert_array_equal(draws, second_draws)
    assert not np.array_equal(first.sample(10).indices, other_seed.sample(10).indices)


def test_images_stay_uint8_and_extra_fields_are_stored():
    buffer = RingBuffer(
        16, IMAGE, spaces.Discrete(4), extra_fields={"task_index": FieldSpec((), np.int16)}
    )
    image = np.random.default_rng(0).integers(0, 256, size=(4, 8, 8, 3), dtype=np.uint8)
    buffer.add(
        image,
        np.array([[0], [1], [2], [3]]),
        np.zeros(4),
        image[::-1],
        np.zeros(4, dtype=bool),
        np.zeros(4, dtype=bool),
        task_index=np.array([5, 6, 7, 8]),
    )
    batch = buffer.sample(4)
    assert batch["observation"].dtype == np.uint8
    np.testing.assert_array_equal(batch["observation"], image[batch.indices])
    np.testing.assert_array_equal(batch["task_index"], batch.indices + 5)
    assert batch["task_index"].dtype == np.int16


def test_torch_samples_keep_dtypes_and_convert_on_request():
    buffer = RingBuffer(16, IMAGE, SMALL_ACTION)
    image = np.full((4, 8, 8, 3), 200, dtype=np.uint8)
    buffer.add(image, np.zeros((4, 1)), np.ones(4), image, np.zeros(4, bool), np.zeros(4, bool))
    batch = buffer.sample(3, device="cpu")
    assert isinstance(batch["observation"], torch.Tensor)
    assert batch["observation"].dtype == torch.uint8
    assert batch["reward"].dtype == torch.float32
    assert batch["terminated"].dtype == torch.bool
    converted = buffer.sample(3, device="cpu", dtypes={"observation": torch.float32})
    assert converted["observation"].dtype == torch.float32
    assert float(converted["observation"].max()) == 200.0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_samples_through_pinned_memory():
    buffer = RingBuffer(16, IMAGE, SMALL_ACTION)
    image = np.full((4, 8, 8, 3), 9, dtype=np.uint8)
    buffer.add(image, np.zeros((4, 1)), np.ones(4), image, np.zeros(4, bool), np.zeros(4, bool))
    batch = buffer.sample(4, device="cuda", pin_memory=True)
    assert batch["observation"].device.type == "cuda"
    assert int(batch["observation"].sum()) == 9 * 4 * 8 * 8 * 3


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error without CUDA")
def test_cuda_requests_without_cuda_raise_clear_errors():
    buffer = RingBuffer(4, SERIAL_OBSERVATION, SMALL_ACTION)
    buffer.add(**serial_transitions(0, 4))
    with pytest.raises(ValueError, match="needs CUDA"):
        buffer.sample(2, device="cuda")
    with pytest.raises(ValueError, match="pin_memory=True needs CUDA"):
        buffer.sample(2, device="cpu", pin_memory=True)


def test_sample_argument_errors():
    buffer = RingBuffer(8, SERIAL_OBSERVATION, SMALL_ACTION)
    with pytest.raises(ValueError, match="batch_size=1 is more than the 0 items"):
        buffer.sample(1)
    buffer.add(**serial_transitions(0, 5))
    with pytest.raises(ValueError, match="batch_size=6 is more than the 5 items"):
        buffer.sample(6)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="batch_size must be a positive integer"):
            buffer.sample(bad)
    with pytest.raises(ValueError, match="pin_memory=True needs a device"):
        buffer.sample(2, pin_memory=True)
    with pytest.raises(ValueError, match="dtypes converts torch tensors"):
        buffer.sample(2, dtypes={"reward": torch.float64})
    with pytest.raises(ValueError, match="dtypes: unknown fields"):
        buffer.sample(2, device="cpu", dtypes={"rewards": torch.float64})
    with pytest.raises(ValueError, match="not a torch device"):
        buffer.sample(2, device="gpu7")


def test_add_rejects_wrong_shapes_and_dtypes():
    buffer = RingBuffer(8, IMAGE, SMALL_ACTION)
    image = np.zeros((2, 8, 8, 3), dtype=np.uint8)
    good = {
        "observation": image,
        "action": np.zeros((2, 1), np.float32),
        "reward": np.zeros(2),
        "next_observation": image,
        "terminated": np.zeros(2, bool),
        "truncated": np.zeros(2, bool),
    }
    buffer.add(**good)
    cases = [
        (
            {"observation": np.zeros((2, 8, 8), np.uint8)},
            ValueError,
            r"observation: expected shape \(n, 8, 8, 3\)",
        ),
        ({"observation": image[0]}, ValueError, r"observation: expected shape"),
        (
            {"observation": image.astype(np.float32)},
            TypeError,
            "observation: dtype float32 cannot be stored",
        ),
        (
            {"observation": image.astype(np.int64) + 256},
            TypeError,
            "observation: dtype int64 cannot be stored in a field of dtype uint8",
        ),
        ({"reward": np.zeros(3)}, ValueError, r"reward: expected shape \(2,\)"),
        ({"reward": np.zeros((2, 1))}, ValueError, r"reward: expected shape \(2,\)"),
        ({"terminated": np.zeros(2)}, TypeError, "terminated: dtype float64 cannot be stored"),
        ({"action": np.zeros((2, 2))}, ValueError, r"action: expected shape \(2, 1\)"),
    ]
    for change, error, message in cases:
        with pytest.raises(error, match=message):
            buffer.add(**{**good, **change})
    with pytest.raises(ValueError, match=r"missing \[\], unexpected \['task'\]"):
        buffer.add(**good, task=np.zeros(2))
    assert len(buffer) == 2  # nothing of the rejected batches was stored


@pytest.mark.parametrize("buffer_class", [RingBuffer, ReservoirBuffer])
def test_an_empty_field_beside_full_ones_is_an_error_naming_the_field(buffer_class):
    buffer = buffer_class(10, SERIAL_OBSERVATION, SMALL_ACTION)
    transitions = serial_transitions(0, 3)
    transitions["observation"] = transitions["observation"][:0]  # the first field sets n = 0
    with pytest.raises(ValueError, match=r"action: expected shape \(0, 1\) .* got \(3, 1\)"):
        buffer.add(**transitions)
    assert len(buffer) == 0
    assert buffer.added == 0


def test_ragged_lists_are_an_error_naming_the_field():
    buffer = RingBuffer(10, SERIAL_OBSERVATION, SMALL_ACTION)
    transitions = serial_transitions(0, 2)
    transitions["next_observation"] = [[1, 0], [2]]
    with pytest.raises(ValueError, match="next_observation: cannot be made an array") as raised:
        buffer.add(**transitions)
    assert "inhomogeneous" in str(raised.value)  # numpy's reason is kept
    assert len(buffer) == 0


def test_add_accepts_lossless_casts_and_empty_batches():
    buffer = RingBuffer(8, SERIAL_OBSERVATION, SMALL_ACTION)
    transitions = serial_transitions(0, 3)
    transitions["observation"] = transitions["observation"].astype(np.int32)  # widened
    transitions["action"] = transitions["action"].astype(np.float64)  # narrowed, as rewards
    transitions["reward"] = transitions["reward"].tolist()  # float64 rewards become float32
    buffer.add(**transitions)
    buffer.add(**serial_transitions(3, 0))
    assert len(buffer) == 3
    assert buffer.storage.arrays["reward"].dtype == np.float32


def test_integers_that_fit_are_stored_in_narrower_fields():
    buffer = RingBuffer(4, IMAGE, SMALL_ACTION, extra_fields={"task": FieldSpec((), np.int8)})
    pixels = np.full((1, 8, 8, 3), 255, dtype=np.int64)
    buffer.add(pixels, [[0.0]], [0.0], pixels, [False], [False], task=[-128])
    assert buffer.storage.arrays["observation"][0].min() == 255
    assert buffer.storage.arrays["task"][0] == -128


def test_constructor_argument_errors():
    with pytest.raises(ValueError, match="capacity must be a positive integer"):
        RingBuffer(0, SERIAL_OBSERVATION, SMALL_ACTION)
    with pytest.raises(ValueError, match="seed must be an integer"):
        RingBuffer(4, SERIAL_OBSERVATION, SMALL_ACTION, seed=1.5)
    with pytest.raises(TypeError, match="observation must be a FieldSpec or a gymnasium space"):
        RingBuffer(4, (3,), SMALL_ACTION)
    with pytest.raises(TypeError, match="action: cannot store elements of Dict"):
        RingBuffer(4, SERIAL_OBSERVATION, spaces.Dict({"a": spaces.Discrete(2)}))
    with pytest.raises(ValueError, match="'reward' is a built-in field"):
        RingBuffer(4, SERIAL_OBSERVATION, SMALL_ACTION, extra_fields={"reward": SMALL_ACTION})
