"""Steps per second of our navigation mazes against Minigrid, side by side in one process.

Minigrid's ``MiniGrid-FourRooms-v0`` (19x19, four rooms, 7x7 egocentric view, through
``gym.make``) against our ``envsuite/MazeGoal-v0`` laid out alike (size 19, 2x2 rooms, no extra
walls, 7x7 egocentric view): our single env through ``gym.make``, our batched numba env through
``gym.make_vec`` (N envs), and our pixel observations (no peer). Both sides take random actions
among the moves they share (turn left, turn right, forward). Run: ``make bench`` or
``python benchmarks/navigation.py [--num-envs 1024]``.
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np
from side_by_side import add_arguments, compare, rate, ratio

import envsuite  # noqa: F401  (registers envsuite/ ids)

try:
    import minigrid
except ImportError:  # pragma: no cover - the bench extra installs it
    minigrid = None

# Acceptance bounds of the navigation issue, as ratios over Minigrid's single gym env.
SINGLE_BOUND = 5.0
BATCHED_BOUND = 200.0
FOUR_ROOMS_LIKE = {"size": 19, "room_rows": 2, "room_columns": 2, "wall_density": 0.0}
# Turn left, turn right, forward: the same three in both suites.
SHARED_ACTIONS = 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_arguments(parser)
    arguments = parser.parse_args()
    if minigrid is None:  # importing it registers its ids
        print("Minigrid is not installed (pip install envsuite[bench]): timing our side only")

    ours_id = "envsuite/MazeGoal-v0"
    sides: dict[str, gym.Env | gym.vector.VectorEnv] = {
        "ours": gym.make(ours_id, **FOUR_ROOMS_LIKE),
        "ours pixels": gym.make(ours_id, obs_mode="pixels", **FOUR_ROOMS_LIKE),
        "ours batched": gym.make_vec(ours_id, num_envs=arguments.num_envs, **FOUR_ROOMS_LIKE),
        "ours batched pixels": gym.make_vec(
            ours_id, num_envs=arguments.num_envs, obs_mode="pixels", **FOUR_ROOMS_LIKE
        ),
    }
    if minigrid is not None:
        sides["Minigrid"] = gym.make("MiniGrid-FourRooms-v0")
    result = compare(sides, "Minigrid", SHARED_ACTIONS, arguments, np.random.default_rng(0))
    print(
        f"steps/s, median of {arguments.chunks} alternating chunks; batched: "
        f"N={arguments.num_envs} envs, env-steps/s; ratio = ours / Minigrid's gym env"
    )
    print(
        f"{'maze':<22} {'Minigrid':>9} {'ours':>9} {'ratio':>7} {'batched':>11} {'ratio':>8}"
        f" {'pixels':>9} {'batched pixels':>15}"
    )
    print(
        f"{'FourRooms / MazeGoal':<22} {rate(result, 'Minigrid'):>9} {rate(result, 'ours'):>9} "
        f"{ratio(result, 'ours', SINGLE_BOUND):>7} {rate(result, 'ours batched'):>11} "
        f"{ratio(result, 'ours batched', BATCHED_BOUND):>8} {rate(result, 'ours pixels'):>9} "
        f"{rate(result, 'ours batched pixels'):>15}"
    )
    print(
        f"bounds: single >= {SINGLE_BOUND:.0f}x, batched >= {BATCHED_BOUND:.0f}x "
        "Minigrid's gym env; ! marks a ratio under its bound"
    )


if __name__ == "__main__":
    main()
