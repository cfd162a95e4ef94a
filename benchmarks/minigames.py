"""Steps per second of our minigames against the MinAtar package, side by side in one process.

For each game both suites have, it times MinAtar's gym env (``MinAtar/<Game>-v0``, full
6-action set, through ``gym.make``) against ours through ``gym.make`` (single env) and
``gym.make_vec`` (our batched numba env, N envs), alternating chunks so that drift in the
machine's speed hits both sides alike, and prints the ratios. Symbolic observations on both sides
(MinAtar's only kind); our pixel observations are timed too, with no peer to compare.
Run: ``make bench`` or ``python benchmarks/minigames.py [--num-envs 1024]``.
"""

from __future__ import annotations

import argparse
import warnings

import gymnasium as gym
import numpy as np
from side_by_side import add_arguments, compare, rate, ratio

import envsuite  # noqa: F401  (registers envsuite/ ids)
from envsuite.minigames import GAMES

try:
    import minatar.gym as minatar_gym
except ImportError:  # pragma: no cover - the bench extra installs it
    minatar_gym = None

# Acceptance bounds of the minigames issue, as ratios over MinAtar's single gym env.
SINGLE_BOUND = 1.0
BATCHED_BOUND = 30.0
MINATAR_GAMES = ("Breakout", "Freeway", "Asterix", "SpaceInvaders")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_arguments(parser)
    parser.add_argument("--games", nargs="*", default=list(GAMES), help="games to time")
    arguments = parser.parse_args()
    if minatar_gym is None:
        print("MinAtar is not installed (pip install envsuite[bench]): timing our side only")
    else:
        minatar_gym.register_envs()

    rng = np.random.default_rng(0)
    print(
        f"steps/s, median of {arguments.chunks} alternating chunks; batched: "
        f"N={arguments.num_envs} envs, env-steps/s; ratio = ours / MinAtar's gym env"
    )
    print(
        f"{'game':<14} {'MinAtar':>9} {'ours':>9} {'ratio':>7} {'batched':>11} {'ratio':>7}"
        f" {'pixels':>9} {'batched pixels':>15}"
    )
    for game in arguments.games:
        ours_id = f"envsuite/{game}-v0"
        sides: dict[str, gym.Env | gym.vector.VectorEnv] = {
            "ours": gym.make(ours_id),
            "ours pixels": gym.make(ours_id, obs_mode="pixels"),
            "ours batched": gym.make_vec(ours_id, num_envs=arguments.num_envs),
            "ours batched pixels": gym.make_vec(
                ours_id, num_envs=arguments.num_envs, obs_mode="pixels"
            ),
        }
        if minatar_gym is not None and game in MINATAR_GAMES:
            # v0 keeps MinAtar's full 6-action set, as ours; gymnasium flags it superseded.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                sides["MinAtar"] = gym.make(f"MinAtar/{game}-v0")
        result = compare(sides, "MinAtar", 6, arguments, rng)
        print(
            f"{game:<14} {rate(result, 'MinAtar'):>9} {rate(result, 'ours'):>9} "
            f"{ratio(result, 'ours', SINGLE_BOUND):>7} {rate(result, 'ours batched'):>11} "
            f"{ratio(result, 'ours batched', BATCHED_BOUND):>7} {rate(result, 'ours pixels'):>9} "
            f"{rate(result, 'ours batched pixels'):>15}"
        )
    print(
        f"bounds: single >= {SINGLE_BOUND:.0f}x, batched >= {BATCHED_BOUND:.0f}x "
        "MinAtar's gym env; ! marks a ratio under its bound"
    )


if __name__ == "__main__":
    main()
