"""Numba kernels of the SequenceBuffer: per-env streams of steps written in chunks, and windows.

See :class:`~agents.buffers.SequenceBuffer` for the layout; ``views`` is the tuple of the
storage's byte views in KERNEL_FIELD_ORDER, ``counters`` the scalar state, updated in place.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from agents.buffers import kernels

# The order of the fields in ``views``: the observation and the reset flag, then the fields
# whose values come from the transition (zeros on the first step of an episode).
KERNEL_FIELD_ORDER = ("observation", "is_first", "action", "reward", "terminated", "truncated")
# Indices into ``counters``.
RING_CURSOR = 0  # FIFO: ring slots handed out so far (next one: cursor % slots)
USED_SLOTS = 1  # slots 0 .. used - 1 may hold sampleable windows
WINDOWS = 2  # sampleable windows in total
CHUNKS_OFFERED = 3  # reservoir: full chunks offered so far
STEPS = 4  # steps ever appended
COUNTER_COUNT = 5


@njit(cache=True)
def copy_bytes(destination, source) -> None:
    """``destination[:] = source`` for 1-D byte rows; a plain loop LLVM turns into a fast copy
    (2-D indexing in the inner loop was three times slower)."""
    for column in range(destination.shape[0]):
        destination[column] = source[column]


@njit(cache=True)
def copy_step(views, source_row: int, destination_row: int) -> None:
    """Copy one step (every field) from one row to another."""
    for view in views:
        copy_bytes(view[destination_row], view[source_row])


@njit(cache=True)
def windows_in(filled: int, sequence_length: int) -> int:
    """Windows in a chunk holding ``filled`` steps."""
    return max(0, filled - sequence_length + 1)


@njit(cache=True)
def take_ring_slot(env, filled, slot_owner, counters, sequence_length, slots) -> int:
    """The next FIFO slot not open by another env; evicts its windows."""
    while True:
        slot = counters[RING_CURSOR] % slots
        counters[RING_CURSOR] += 1
        if slot_owner[slot] < 0:
            break
    counters[WINDOWS] -= windows_in(filled[slot], sequence_length)
    filled[slot] = 0
    slot_owner[slot] = env
    counters[USED_SLOTS] = max(counters[USED_SLOTS], slot + 1)
    return slot


@njit(cache=True)
def offer_chunk(views, staging, filled, counters, chunk_length, sequence_length, slots, key):
    """Offer a full staging chunk to the reservoir; copy it in if algorithm R keeps it."""
    target = kernels.reservoir_slot(key, counters[CHUNKS_OFFERED], slots)
    counters[CHUNKS_OFFERED] += 1
    if target < 0:
        return
    counters[WINDOWS] -= windows_in(filled[target], sequence_length)
    for position in range(chunk_length):
        copy_step(views, staging * chunk_length + position, target * chunk_length + position)
    filled[target] = chunk_length
    counters[WINDOWS] += windows_in(chunk_length, sequence_length)
    counters[USED_SLOTS] = max(counters[USED_SLOTS], target + 1)


@njit(cache=True)
def next_row(
    env, views, filled, env_slot, env_position, slot_owner, counters, geometry, reservoir, key
) -> int:
    """The row of env ``env``'s next step, opening a new chunk when its current one is full.

    A new chunk starts with a copy of the last ``sequence_length - 1`` steps of the env's
    previous one, so every window of the stream lies in exactly one chunk. FIFO chunks are
    written in place in ring order; reservoir chunks go to the env's staging chunk and are
    offered to the reservoir when full.
    """
    chunk_length, sequence_length, slots = geometry[0], geometry[1], geometry[2]
    slot = env_slot[env]
    position = env_position[env]
    if slot < 0 or position == chunk_length:
        if reservoir:
            new_slot = slots + env
            if slot >= 0:
                offer_chunk(
                    views, slot, filled, counters, chunk_length, sequence_length, slots, key
                )
        else:
            new_slot = take_ring_slot(env, filled, slot_owner, counters, sequence_length, slots)
            if slot >= 0:
                slot_owner[slot] = -1
        position = 0
        if slot >= 0:
            # Ascending copies are safe even within one staging chunk: each destination row
            # lies before its source.
            overlap_start = chunk_length - sequence_length + 1
            for offset in range(sequence_length - 1):
                copy_step(
                    views,
                    slot * chunk_length + overlap_start + offset,
                    new_slot * chunk_length + offset,
                )
            position = sequence_length - 1
        slot = new_slot
        env_slot[env] = slot
    row = slot * chunk_length + position
    position += 1
    env_position[env] = position
    counters[STEPS] += 1
    if not reservoir:
        filled[slot] = position
        if position >= sequence_length:
            counters[WINDOWS] += 1
    return row


@njit(cache=True)
def bytes_equal(first, second) -> bool:
    """Whether two 1-D byte rows hold the same bytes.

    Compares 8-byte words, OR-ing their XORs over blocks: that vectorises, where a per-byte
    early exit ran five times slower on 64x64x3 images.
    """
    words = first.shape[0] // 8
    first_words = first[: words * 8].view(np.uint64)
    second_words = second[: words * 8].view(np.uint64)
    for block_start in range(0, words, 512):
        difference = np.uint64(0)
        for word in range(block_start, min(block_start + 512, words)):
            difference |= first_words[word] ^ second_words[word]
        if difference:
            return False
    for column in range(words * 8, first.shape[0]):  # noqa: SIM110
        if first[column] != second[column]:
            return False
    return True


@njit(cache=True)
def first_broken_env(
    stored_observations, observation, env_slot, env_position, episode_open, chunk_length
) -> int:
    """The first env whose ``observation`` is not the last step its open episode stored, or -1.

    ``stored_observations`` is the observation field's byte view, ``observation`` the byte
    rows of the observations being added, one per env.
    """
    for env in range(observation.shape[0]):
        if episode_open[env]:
            previous = env_slot[env] * chunk_length + env_position[env] - 1
            if not bytes_equal(stored_observations[previous], observation[env]):
                return env
    return -1


@njit(cache=True)
def append_transitions(
    views,
    observation,
    next_observation,
    values,
    episode_ends,
    filled,
    env_slot,
    env_position,
    episode_open,
    slot_owner,
    counters,
    geometry,
    reservoir,
    key,
    check_stream,
) -> int:
    """Append one transition per env to its stream; -1, or the env whose observation does not
    continue its stream (then nothing is written).

    An env whose episode is not open first gets a step holding ``observation`` with the reset
    flag and zeros elsewhere; every env then gets a step holding ``next_observation`` and the
    transition's ``values`` (aligned with ``views[2:]``).
    """
    if check_stream:
        broken_env = first_broken_env(
            views[0], observation, env_slot, env_position, episode_open, geometry[0]
        )
        if broken_env >= 0:
            return broken_env
    for env in range(observation.shape[0]):
        if not episode_open[env]:
            row = next_row(
                env,
                views,
                filled,
                env_slot,
                env_position,
                slot_owner,
                counters,
                geometry,
                reservoir,
                key,
            )
            copy_bytes(views[0][row], observation[env])
            views[1][row, 0] = 1
            for index in range(len(values)):
                views[2 + index][row, :] = 0
        row = next_row(
            env,
            views,
            filled,
            env_slot,
            env_position,
            slot_owner,
            counters,
            geometry,
            reservoir,
            key,
        )
        copy_bytes(views[0][row], next_observation[env])
        views[1][row, 0] = 0
        for index in range(len(values)):
            copy_bytes(views[2 + index][row], values[index][env])
        episode_open[env] = not episode_ends[env]
    return -1


@njit(cache=True)
def sample_windows(filled, used_slots, chunk_length, sequence_length, key, counter, starts):
    """Fill ``starts`` with the first rows of uniform windows; return the new draw counter.

    Rejection keeps it exactly uniform over all windows: a uniform slot and a uniform start
    are accepted when the window lies in the slot's filled part.
    """
    positions = chunk_length - sequence_length + 1
    for index in range(starts.shape[0]):
        while True:
            slot = kernels.below(key, counter, used_slots)
            start = kernels.below(key, counter + 1, positions)
            counter += 2
            if start + sequence_length <= filled[slot]:
                break
        starts[index] = slot * chunk_length + start
    return counter
