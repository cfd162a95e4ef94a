"""Timing shared by the family benchmarks: our single and batched envs against a peer's gym env,
in alternating chunks within one process, reported as medians and median paired ratios.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np


def time_single(env: gym.Env, actions: np.ndarray) -> float:
    """Seconds per step of ``env`` over ``actions``, resetting when an episode ends."""
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    return (time.perf_counter() - start) / len(actions)


def time_batched(envs: gym.vector.VectorEnv, actions: np.ndarray) -> float:
    """Seconds per env-step of ``envs`` over ``actions`` (steps x num_envs; it autoresets)."""
    start = time.perf_counter()
    for batch in actions:
        envs.step(batch)
    return (time.perf_counter() - start) / actions.size


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The budget options every family benchmark takes."""
    parser.add_argument("--num-envs", type=int, default=1024, help="batch size of our vector env")
    parser.add_argument("--single-steps", type=int, default=2_000, help="steps per single chunk")
    parser.add_argument("--batched-steps", type=int, default=20, help="batched steps per chunk")
    parser.add_argument("--chunks", type=int, default=7, help="alternating chunks per side")


def compare(
    sides: dict[str, gym.Env | gym.vector.VectorEnv],
    peer: str,
    num_actions: int,
    arguments: argparse.Namespace,
    rng: np.random.Generator,
    sample_actions: Callable[[np.random.Generator, tuple[int, ...]], np.ndarray] | None = None,
) -> dict[str, float]:
    """Median seconds per step of each side, and ``"<side> ratio"``: the median over chunks of
    (peer's time / side's time) for every side but the peer, when ``peer`` is among ``sides``.

    Every side is reset with seed 0 and stepped once untimed first (compiling or loading numba's
    cache is not stepping); then the sides take turns, chunk by chunk, so that drift in the
    machine's speed hits all of them alike. The sides are closed at the end. Actions are random
    integers below ``num_actions``, or ``sample_actions(rng, shape)`` if given.
    """
    if sample_actions is None:

        def sample_actions(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
            return rng.integers(num_actions, size=shape)

    single_actions = sample_actions(rng, (arguments.single_steps,))
    batched_actions = sample_actions(rng, (arguments.batched_steps, arguments.num_envs))

    def run(side: gym.Env | gym.vector.VectorEnv, warm_up: bool = False) -> float:
        if isinstance(side, gym.vector.VectorEnv):
            return time_batched(side, batched_actions[:1] if warm_up else batched_actions)
        return time_single(side, single_actions[:1] if warm_up else single_actions)

    for side in sides.values():
        side.reset(seed=0)
        run(side, warm_up=True)
    seconds: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(arguments.chunks):
        for name, side in sides.items():
            seconds[name].append(run(side))
    result = {name: statistics.median(values) for name, values in seconds.items()}
    if peer in sides:
        for name in sides:
            if name != peer:
                result[f"{name} ratio"] = statistics.median(
                    theirs / ours for theirs, ours in zip(seconds[peer], seconds[name], strict=True)
                )
    for side in sides.values():
        side.close()
    return result


def rate(result: dict[str, float], name: str) -> str:
    """Steps per second of side ``name``, or a dash when it was not timed."""
    return f"{1 / result[name]:,.0f}" if name in result else "-"


def ratio(result: dict[str, float], name: str, bound: float) -> str:
    """Side ``name``'s ratio over the peer, ``!`` marking one under ``bound``; a dash if none."""
    key = f"{name} ratio"
    if key not in result:
        return "-"
    return f"{result[key]:.1f}x" + ("" if result[key] >= bound else "!")
