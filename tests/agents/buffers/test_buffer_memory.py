"""Memory estimates match what is allocated; a buffer that will not fit fails before allocating."""

from __future__ import annotations

import gc
import re
import subprocess
import sys
import weakref

import numpy as np
import pytest
from gymnasium import spaces

from agents.buffers import (
    BufferMemoryError,
    FieldSpec,
    RingBuffer,
    SequenceBuffer,
    memory,
)
from agents.buffers.memory import available_memory_bytes, check_fits, format_bytes

IMAGE = FieldSpec((64, 64, 3), np.uint8)


def test_estimates_equal_the_allocated_bytes():
    ring = RingBuffer(100, IMAGE, spaces.Box(-1, 1, (4,)))
    # Two images, four float32 actions, a float32 reward and two flags per transition.
    assert ring.nbytes == ring.storage.nbytes == 100 * (2 * 12288 + 16 + 4 + 2)


def test_a_buffer_too_large_for_memory_raises_before_allocating():
    available = available_memory_bytes()
    if available is None:
        pytest.skip("this platform does not report available memory")
    capacity = available // 12288 * 4  # four times the memory in images alone
    with pytest.raises(BufferMemoryError) as raised:
        RingBuffer(capacity, IMAGE, spaces.Discrete(2))
    message = str(raised.value)
    assert f"RingBuffer(capacity={capacity}) needs" in message
    assert "observation" in message
    assert "next_observation" in message
    # Buffers an earlier test of this worker left unfilled are named between the two.
    assert re.search(
        r"is available( \(.* not yet filled\))?; lower capacity to at most about", message
    )
    assert isinstance(raised.value, MemoryError)
    # The sequence buffer's host storage is checked the same way, chunks and staging included,
    # and both of its stores named.
    with pytest.raises(
        BufferMemoryError,
        match=r"SequenceBuffer\(capacity=\d+, long_term_capacity=0\) needs",
    ):
        SequenceBuffer(
            capacity, IMAGE, spaces.Discrete(2), num_envs=4, sequence_length=8, chunk_length=32
        )
    with pytest.raises(
        BufferMemoryError,
        match=rf"SequenceBuffer\(capacity=0, long_term_capacity={capacity}\) needs",
    ):
        SequenceBuffer(
            0,
            IMAGE,
            spaces.Discrete(2),
            num_envs=4,
            sequence_length=8,
            chunk_length=32,
            long_term_capacity=capacity,
        )


@pytest.fixture
def no_other_buffers(monkeypatch):
    """A fresh record of buffer allocations, free of the buffers other tests left alive."""
    monkeypatch.setattr(memory, "_allocated", weakref.WeakValueDictionary())


def test_buffers_not_yet_filled_count_against_the_memory_of_later_ones(
    monkeypatch, no_other_buffers
):
    # np.zeros commits no pages, so the system's reading does not shrink as buffers are built;
    # pretend none of their pages is written yet (small arrays may reuse written heap memory).
    monkeypatch.setattr(memory, "resident_bytes", lambda array: 0)
    first = RingBuffer(1000, IMAGE, spaces.Discrete(2))
    size = first.nbytes
    monkeypatch.setattr(memory, "available_memory_bytes", lambda: size * 3 // 2)
    with pytest.raises(BufferMemoryError, match="allocated to buffers not yet filled") as raised:
        RingBuffer(1000, IMAGE, spaces.Discrete(2))  # fits alone, not beside the first
    assert f"but only {format_bytes(size // 2)} is available" in str(raised.value)
    del first
    gc.collect()
    second = RingBuffer(1000, IMAGE, spaces.Discrete(2))  # the first's memory was given back
    assert memory.promised_bytes() == second.nbytes


# Run in a fresh interpreter: in a process that freed large blocks before (a test that trained
# a network), malloc may serve the array from its heap, whose pages are already in RAM.
WRITTEN_PAGES_CHECK = """
import numpy as np
from agents.buffers import memory

size = 64 * 2**20  # larger than glibc's largest mmap threshold (32 MiB): fresh pages
slack = 4 * 2**20  # the allocator's header page, rounded up to a huge page
array = memory.allocate_zeros((size,), np.uint8)
assert memory.promised_bytes() >= size - slack, memory.promised_bytes()
array[: size // 2] = 1
assert abs(memory.promised_bytes() - size // 2) <= slack, memory.promised_bytes()
array[:] = 2
assert memory.promised_bytes() <= slack, memory.promised_bytes()
"""


def test_written_pages_are_no_longer_promised():
    if memory._MINCORE is None:
        pytest.skip("this platform cannot tell which pages are written")
    result = subprocess.run(
        [sys.executable, "-c", WRITTEN_PAGES_CHECK], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_check_fits_names_parts_and_suggests_a_capacity():
    with pytest.raises(
        BufferMemoryError,
        match=r"needs 3.0 KiB \(a 1.0 KiB, b 2.0 KiB\) but only "
        r"1.5 KiB is available; lower capacity to at most about 50",
    ):
        check_fits("Test(capacity=100)", 100, {"a": 1024, "b": 2048}, available=1536)
    check_fits("Test(capacity=100)", 100, {"a": 1024}, available=1024)


def test_format_bytes():
    assert format_bytes(512) == "512 B"
    assert format_bytes(3 * 1024**3) == "3.0 GiB"
    assert format_bytes(5 * 1024**4) == "5.0 TiB"
