"""Steps per second of our manipulation envs against Meta-World v3 and against a bare MuJoCo loop,
side by side in one process.

- ``envsuite/Push-v0`` against Meta-World's ``push-v3`` (``gym.make("Meta-World/MT1",
  env_name="push-v3")``, what its users call), both through ``gym.make`` with the same random
  actions in [-1, 1]^4.
- Our env against a raw ``mj_step`` loop on our env's own model: the loop replays the mocap
  targets and finger controls our env produced for the same actions, so both run exactly the
  same physics and the difference is the wrapper (action checks, control, observation, reward).
Run: ``make bench`` or ``python benchmarks/manipulation.py [--chunks 7]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import gymnasium as gym
import mujoco
import numpy as np
from side_by_side import add_arguments, compare, rate, ratio

import envsuite  # noqa: F401  (registers envsuite/ ids)
from envsuite.manipulation.simulation import FRAME_SKIP

try:
    import metaworld
except ImportError:  # pragma: no cover - the metaworld extra installs it
    metaworld = None

# Acceptance bounds of the manipulation issue.
META_WORLD_BOUND = 3.0  # ours at least 3x Meta-World's push-v3
WRAPPER_BOUND = 1.3  # our step at most 1.3x the raw loop's time
OURS = "envsuite/Push-v0"


def uniform_actions(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(-1.0, 1.0, size=(*shape, 4)).astype(np.float32)


def wrapper_overhead(arguments: argparse.Namespace) -> tuple[float, float, float]:
    """Median seconds per step of our env and of the raw loop replaying its controls, and the
    median paired ratio (ours / raw), over alternating chunks of the same actions (one episode
    of ``single_steps`` steps, never truncated inside the env)."""
    env = gym.make(OURS)
    simulation = env.unwrapped.simulation
    model, data = simulation.model, simulation.data
    actions = uniform_actions(np.random.default_rng(1), (arguments.single_steps,))
    env.reset(seed=0)
    mocap_targets, controls = [], []
    for action in actions:
        env.step(action)
        mocap_targets.append(data.mocap_pos.copy())
        controls.append(data.ctrl.copy())
    ours, raw = [], []
    # Three times the chunks of the Meta-World comparison: the difference measured here is a
    # tenth of a step, so the median needs more pairs to stand still on a busy machine.
    for _ in range(3 * arguments.chunks):
        env.reset(seed=0)
        start = time.perf_counter()
        for action in actions:
            env.step(action)
        ours.append((time.perf_counter() - start) / len(actions))
        env.reset(seed=0)  # the raw loop starts from the same state
        start = time.perf_counter()
        for mocap_target, control in zip(mocap_targets, controls, strict=True):
            data.mocap_pos[:] = mocap_target
            data.ctrl[:] = control
            mujoco.mj_step(model, data, nstep=FRAME_SKIP)
        raw.append((time.perf_counter() - start) / len(actions))
    env.close()
    paired = statistics.median(o / r for o, r in zip(ours, raw, strict=True))
    return statistics.median(ours), statistics.median(raw), paired


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_arguments(parser)
    arguments = parser.parse_args()
    sides: dict[str, gym.Env] = {"ours": gym.make(OURS)}
    if metaworld is None:
        print('Meta-World is not installed (pip install "envsuite[metaworld]"): timing ours only')
    else:
        sides["Meta-World"] = gym.make("Meta-World/MT1", env_name="push-v3", seed=0)
    result = compare(
        sides, "Meta-World", 0, arguments, np.random.default_rng(0), sample_actions=uniform_actions
    )
    ours, raw, paired = wrapper_overhead(arguments)
    print(
        f"steps/s: medians over alternating chunks of {arguments.single_steps} steps "
        f"({arguments.chunks} against Meta-World, {3 * arguments.chunks} against the raw loop)"
    )
    print(f"{'comparison':<30} {'peer':>8} {'ours':>8} {'ratio':>8}")
    print(
        f"{'Push vs Meta-World push-v3':<30} {rate(result, 'Meta-World'):>8} "
        f"{rate(result, 'ours'):>8} {ratio(result, 'ours', META_WORLD_BOUND):>8}"
    )
    wrapper_mark = "" if paired <= WRAPPER_BOUND else "!"
    print(
        f"{'Push vs raw mj_step loop':<30} {1 / raw:>8,.0f} {1 / ours:>8,.0f} "
        f"{paired:>7.2f}x{wrapper_mark}"
    )
    print(
        f"ratios: ours' steps/s over Meta-World's (bound >= {META_WORLD_BOUND:.0f}x); ours' time "
        f"per step over the raw loop's (bound <= {WRAPPER_BOUND}x; {ours * 1e6:.0f} vs "
        f"{raw * 1e6:.0f} us). ! marks a miss"
    )


if __name__ == "__main__":
    main()
