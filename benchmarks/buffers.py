"""Replay-buffer speed: our buffers against Stable-Baselines3's ``ReplayBuffer``, side by side.

One process, the same data for every buffer, repetitions interleaved (machines are noisy), the
median reported. Adds are batches of one transition per env, as a vector env gives them;
samples are minibatches returned as torch tensors on the CPU, as SB3 returns them. Every buffer
is filled to capacity first, so adds overwrite (the steady state of a long run).

The last row is no buffer: numpy copying just the observations a transition buffer must
write and read, a floor set by memory bandwidth that no buffer beats by much.

Run: ``python benchmarks/buffers.py`` (about a minute); ``--help`` for the options.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.buffers import ReplayBuffer

from agents.buffers import RingBuffer, SequenceBuffer
from agents.buffers.sb3 import SB3ReplayBuffer

# Acceptance bounds of issue 4, on the image configuration.
ADD_TARGET, SAMPLE_TARGET = 10.0, 5.0


@dataclass
class Contender:
    """A buffer under test: how it adds batch ``i`` of the pool and samples a minibatch."""

    name: str
    add: Callable[[int], None]
    sample: Callable[[], object]


def make_pool(observation_space: spaces.Box, envs: int, batches: int, seed: int) -> list[dict]:
    """Batches of transitions forming one stream per env: batch ``i``'s observation is batch
    ``i - 1``'s next observation (cyclically), as a stream buffer expects."""
    rng = np.random.default_rng(seed)
    if observation_space.dtype == np.uint8:
        observations = rng.integers(0, 256, (batches, envs, *observation_space.shape), np.uint8)
    else:
        observations = rng.random((batches, envs, *observation_space.shape), np.float32)
    pool = []
    for index in range(batches):
        pool.append(
            {
                "observation": observations[index],
                "next_observation": observations[(index + 1) % batches],
                "action": rng.uniform(-1, 1, (envs, 4)).astype(np.float32),
                "reward": rng.random(envs, dtype=np.float32),
                "terminated": np.zeros(envs, dtype=bool),
                "truncated": np.zeros(envs, dtype=bool),
                "infos": [{} for _ in range(envs)],
            }
        )
    return pool


def make_contenders(
    observation_space: spaces.Box, capacity: int, envs: int, batch_size: int, pool: list[dict]
) -> list[Contender]:
    action_space = spaces.Box(-1, 1, (4,), np.float32)
    sb3 = ReplayBuffer(capacity, observation_space, action_space, device="cpu", n_envs=envs)
    ring = RingBuffer(capacity, observation_space, action_space)
    adapter = SB3ReplayBuffer(capacity, observation_space, action_space, device="cpu", n_envs=envs)
    # Each observation stored once; windows of two steps are transitions.
    sequence = SequenceBuffer(
        capacity,
        observation_space,
        action_space,
        num_envs=envs,
        sequence_length=2,
        chunk_length=64,
    )

    def sb3_style(buffer: ReplayBuffer) -> Callable[[int], None]:
        def add(index: int) -> None:
            batch = pool[index]
            buffer.add(
                batch["observation"],
                batch["next_observation"],
                batch["action"],
                batch["reward"],
                batch["terminated"],
                batch["infos"],
            )

        return add

    def ours_style(buffer: RingBuffer | SequenceBuffer) -> Callable[[int], None]:
        def add(index: int) -> None:
            batch = pool[index]
            buffer.add(
                batch["observation"],
                batch["action"],
                batch["reward"],
                batch["next_observation"],
                batch["terminated"],
                batch["truncated"],
            )

        return add

    # What any transition buffer must do at least: write both observations of each transition,
    # and read both of each sampled one into fresh arrays. Bandwidth bounds it, not Python.
    observations = np.zeros((capacity, *observation_space.shape), observation_space.dtype)
    next_observations = np.zeros_like(observations)
    cursor = [0]

    def bare_add(index: int) -> None:
        start = cursor[0]
        observations[start : start + envs] = pool[index]["observation"]
        next_observations[start : start + envs] = pool[index]["next_observation"]
        cursor[0] = (start + envs) % (capacity - envs)

    rng = np.random.default_rng(1)

    def bare_sample() -> tuple[np.ndarray, np.ndarray]:
        rows = rng.integers(0, capacity, batch_size)
        return observations[rows], next_observations[rows]

    return [
        Contender("SB3 ReplayBuffer", sb3_style(sb3), lambda: sb3.sample(batch_size)),
        Contender("RingBuffer", ours_style(ring), lambda: ring.sample(batch_size, device="cpu")),
        Contender("SB3ReplayBuffer (ours)", sb3_style(adapter), lambda: adapter.sample(batch_size)),
        Contender(
            "SequenceBuffer, windows of 2",
            ours_style(sequence),
            lambda: sequence.sample(batch_size),
        ),
        Contender("bare copy of observations", bare_add, bare_sample),
    ]


def seconds_per_call(function: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls


def run_configuration(
    label: str,
    observation_space: spaces.Box,
    capacity: int,
    envs: int,
    batch_size: int,
    repetitions: int,
) -> dict[str, tuple[float, float]]:
    """Print a table for one observation space; return each contender's (add, sample) ratio."""
    pool = make_pool(observation_space, envs, batches=8, seed=0)
    contenders = make_contenders(observation_space, capacity, envs, batch_size, pool)
    fill_adds = capacity // envs + 8
    for contender in contenders:
        for index in range(fill_adds):
            contender.add(index % len(pool))
        contender.sample()  # compiles and warms the sampling path
    adds_per_repetition, samples_per_repetition = 200, 20
    add_times: dict[str, list[float]] = {contender.name: [] for contender in contenders}
    sample_times: dict[str, list[float]] = {contender.name: [] for contender in contenders}
    cursor = {contender.name: fill_adds for contender in contenders}
    for repetition in range(repetitions):
        # Alternate the order so that drift in the machine's speed hits every buffer alike.
        order = contenders if repetition % 2 == 0 else contenders[::-1]
        for contender in order:
            start = cursor[contender.name]
            indices = iter(range(start, start + adds_per_repetition))
            cursor[contender.name] += adds_per_repetition
            add_times[contender.name].append(
                seconds_per_call(
                    lambda contender=contender, indices=indices: contender.add(
                        next(indices) % len(pool)
                    ),
                    adds_per_repetition,
                )
            )
            sample_times[contender.name].append(
                seconds_per_call(contender.sample, samples_per_repetition)
            )
    baseline = contenders[0].name
    print(f"\n{label}: {envs} envs per add, batch {batch_size}, capacity {capacity}")
    print(f"{'buffer':<30}{'add items/s':>14}{'ratio':>9}{'sample items/s':>17}{'ratio':>9}")
    ratios = {}
    for contender in contenders:
        name = contender.name
        add_ratio = statistics.median(
            base / ours for base, ours in zip(add_times[baseline], add_times[name], strict=True)
        )
        sample_ratio = statistics.median(
            base / ours
            for base, ours in zip(sample_times[baseline], sample_times[name], strict=True)
        )
        ratios[name] = (add_ratio, sample_ratio)
        add_rate = envs / statistics.median(add_times[name])
        sample_rate = batch_size / statistics.median(sample_times[name])
        print(
            f"{name:<30}{add_rate:>14,.0f}{add_ratio:>8.2f}x{sample_rate:>17,.0f}"
            f"{sample_ratio:>8.2f}x"
        )
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capacity", type=int, default=50_000, help="transitions per buffer")
    parser.add_argument("--envs", type=int, default=16, help="transitions per add")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repetitions", type=int, default=9)
    arguments = parser.parse_args()
    common = {
        "capacity": arguments.capacity,
        "envs": arguments.envs,
        "batch_size": arguments.batch_size,
        "repetitions": arguments.repetitions,
    }
    ratios = run_configuration(
        "64x64x3 uint8 images", spaces.Box(0, 255, (64, 64, 3), np.uint8), **common
    )
    run_configuration("17-dim float32 vectors", spaces.Box(-1, 1, (17,), np.float32), **common)
    add_ratio, sample_ratio = ratios["RingBuffer"]
    print(
        f"\nRingBuffer on images against the targets of issue 4: add {add_ratio:.2f}x "
        f"(target {ADD_TARGET:.0f}x) {'met' if add_ratio >= ADD_TARGET else 'MISSED'}, "
        f"sample {sample_ratio:.2f}x (target {SAMPLE_TARGET:.0f}x) "
        f"{'met' if sample_ratio >= SAMPLE_TARGET else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
