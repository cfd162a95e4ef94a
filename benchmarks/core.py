"""Per-step cost of the sequence layer: ``ContinualEnv`` against the bare task env it plays.

Both run in this process, alternating, on the same action stream; the ratio is what matters
(machines are noisy). Run: ``make bench`` or ``python benchmarks/core.py [--steps N]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import gymnasium as gym

import envsuite
from envsuite.core.task_env import make_base_env

# The acceptance bound of the core issue: the sequence layer adds at most this fraction per step.
OVERHEAD_BOUND = 0.10


def run_chunk(env: gym.Env, actions: list) -> float:
    """Wall time of stepping through ``actions``, resetting whenever an episode ends."""
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    return time.perf_counter() - start


def measure(sequence_id: str, chunk_steps: int, chunks: int) -> tuple[float, float, float]:
    """Seconds per step of task 0 bare and in the sequence env, and their median paired ratio.

    The two envs alternate chunk by chunk so that drift in the machine's speed hits both alike.
    """
    sequence = envsuite.make_sequence(sequence_id)
    # One block long enough that the timed steps never cross a task switch.
    sequence_env = gym.make(sequence_id, steps_per_task=2 * chunk_steps * chunks + 1)
    bare_env = make_base_env(sequence.spec, 0)
    bare_env.action_space.seed(0)
    # Task 0's own actions are valid unified actions too.
    actions = [bare_env.action_space.sample() for _ in range(chunk_steps)]
    bare_env.reset(seed=0)
    sequence_env.reset(seed=0)
    bare, layered = [], []
    for _ in range(chunks):
        bare.append(run_chunk(bare_env, actions) / chunk_steps)
        layered.append(run_chunk(sequence_env, actions) / chunk_steps)
    ratio = statistics.median(layer / base for layer, base in zip(layered, bare, strict=True))
    return statistics.median(bare), statistics.median(layered), ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunk-steps", type=int, default=1_000, help="steps per timed chunk")
    parser.add_argument("--chunks", type=int, default=60, help="alternating chunks per side")
    arguments = parser.parse_args()

    print(f"ContinualEnv vs the bare task env it plays, {arguments.chunks} alternating chunks")
    print(
        f"{'sequence':<40} {'task 0':<14} {'bare us/step':>12} {'sequence us/step':>16}  overhead"
    )
    for sequence_id in envsuite.sequence_ids():
        bare, layered, ratio = measure(sequence_id, arguments.chunk_steps, arguments.chunks)
        overhead = ratio - 1
        verdict = "within" if overhead <= OVERHEAD_BOUND else "over"
        print(
            f"{sequence_id:<40} {envsuite.make_sequence(sequence_id).task_names[0]:<14} "
            f"{bare * 1e6:>12.2f} {layered * 1e6:>16.2f}  {overhead:+.1%} "
            f"({verdict} the {OVERHEAD_BOUND:.0%} bound; median of paired chunk ratios)"
        )


if __name__ == "__main__":
    main()
