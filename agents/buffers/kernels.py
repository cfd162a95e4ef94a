"""Numba kernels shared by the buffers: row copies over byte views, and counter-based randomness.

Random numbers are a pure function of ``(key, counter)`` (SplitMix64): a buffer's randomness is
two integers to save, and a batched add draws exactly what adding its items one by one would.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_SHIFT_30 = np.uint64(30)
_SHIFT_27 = np.uint64(27)
_SHIFT_31 = np.uint64(31)
_SHIFT_11 = np.uint64(11)
_INVERSE_2_POW_53 = 1.0 / 9007199254740992.0
# Streams of one buffer's randomness: which slot the reservoir replaces, which items a sample
# draws, which member of a MixedReplay a sample comes from. Each user of randomness needs a
# stream of its own: members and their mixture are often seeded alike (all default to 0), and
# on a shared stream the mixture's draw d would equal each member's draw d.
RESERVOIR_STREAM = 1
SAMPLE_STREAM = 2
MIXTURE_STREAM = 3


@njit(cache=True)
def mix64(value: np.uint64) -> np.uint64:
    """SplitMix64's finaliser: a bijective scramble of 64 bits."""
    value = (value ^ (value >> _SHIFT_30)) * _MIX_1
    value = (value ^ (value >> _SHIFT_27)) * _MIX_2
    return value ^ (value >> _SHIFT_31)


@njit(cache=True)
def uniform(key: np.uint64, counter: np.int64) -> float:
    """The ``counter``-th uniform float in [0, 1) of the stream ``key``."""
    bits = mix64(key + np.uint64(counter) * _GOLDEN_GAMMA)
    return np.float64(bits >> _SHIFT_11) * _INVERSE_2_POW_53


@njit(cache=True)
def below(key: np.uint64, counter: np.int64, bound: np.int64) -> np.int64:
    """The ``counter``-th integer uniform in [0, bound) of the stream ``key``.

    Scaling 53 random bits biases each value by at most ``bound / 2**53``: invisible below
    petabyte-sized buffers.
    """
    value = np.int64(uniform(key, counter) * bound)
    return min(value, bound - 1)


def stream_key(seed: int, stream: int) -> np.uint64:
    """The key of one random stream of a buffer seeded with ``seed``."""
    seed_bits = np.uint64(seed % 2**64)
    return np.uint64(mix64(mix64(seed_bits) ^ np.uint64(stream)))


@njit(cache=True)
def uniform_rows(key: np.uint64, counter: np.int64, high: np.int64, out: np.ndarray) -> None:
    """Fill ``out`` with rows uniform in [0, high), draws ``counter ..``."""
    for index in range(out.shape[0]):
        out[index] = below(key, counter + index, high)


@njit(cache=True)
def scatter_rows(destination: np.ndarray, source: np.ndarray, rows: np.ndarray) -> None:
    """``destination[rows[i]] = source[i]`` in order; negative rows are skipped (discarded).

    Fields are handled as 2-D ``uint8`` views ``(rows, item bytes)``, so one compiled loop
    serves every shape and dtype.
    """
    width = source.shape[1]
    for index in range(rows.shape[0]):
        row = rows[index]
        if row < 0:
            continue
        for column in range(width):
            destination[row, column] = source[index, column]


@njit(cache=True)
def gather_fields(views, rows: np.ndarray, block: np.ndarray, offsets: np.ndarray) -> None:
    """Gather ``rows`` of every byte view in ``views`` into ``block``, field ``i`` at
    ``offsets[i]`` as ``(len(rows), width)`` bytes.

    Copying between 1-D row slices lets LLVM emit a tight copy loop; indexing 2-D arrays in the
    inner loop was three times slower.
    """
    count = rows.shape[0]
    for field, view in enumerate(views):
        width = view.shape[1]
        out = block[offsets[field] : offsets[field] + count * width].reshape((count, width))
        for index in range(count):
            source = view[rows[index]]
            destination = out[index]
            for column in range(width):
                destination[column] = source[column]


@njit(cache=True)
def reservoir_slot(key: np.uint64, item: np.int64, capacity: np.int64) -> np.int64:
    """Vitter's algorithm R for the ``item``-th item ever offered (0-based): its slot, or -1.

    The first ``capacity`` items fill the slots in order; item ``n`` after that replaces a
    uniformly chosen slot with probability ``capacity / (n + 1)``, which keeps every item ever
    offered in the reservoir with equal probability.
    """
    if item < capacity:
        return item
    slot = below(key, item, item + 1)
    return slot if slot < capacity else -1


@njit(cache=True)
def reservoir_rows(key: np.uint64, seen: np.int64, capacity: np.int64, out: np.ndarray) -> None:
    """Slots (or -1) of the items ``seen, seen + 1, ...`` offered to a reservoir."""
    for index in range(out.shape[0]):
        out[index] = reservoir_slot(key, seen + index, capacity)
