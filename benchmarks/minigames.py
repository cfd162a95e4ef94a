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
import statistics
import time
import warnings

import gymnasium as gym
import numpy as np

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


def single_env(env_id: str, **kwargs) -> gym.Env:
    env = gym.make(env_id, **kwargs)
    env.reset(seed=0)
    return env


def compare(game: str, arguments: argparse.Namespace, rng: np.random.Generator) -> dict:
    """Median seconds per step of each side, and median ratios of paired chunks."""
    ours_id = f"envsuite/{game}-v0"
    sides: dict[str, object] = {
        "ours": single_env(ours_id),
        "ours pixels": single_env(ours_id, obs_mode="pixels"),
        "ours batched": gym.make_vec(ours_id, num_envs=arguments.num_envs),
        "ours batched pixels": gym.make_vec(
            ours_id, num_envs=arguments.num_envs, obs_mode="pixels"
        ),
    }
    if minatar_gym is not None and game in MINATAR_GAMES:
        # v0 keeps MinAtar's full 6-action set, as ours; gymnasium flags it as superseded by v1.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            sides["MinAtar"] = single_env(f"MinAtar/{game}-v0")
    for side in sides.values():
        if isinstance(side, gym.vector.VectorEnv):
            side.reset(seed=0)
    single_actions = rng.integers(6, size=arguments.single_steps)
    batched_actions = rng.integers(6, size=(arguments.batched_steps, arguments.num_envs))
    seconds: dict[str, list[float]] = {name: [] for name in sides}
    # One untimed step each first: compiling or loading numba's cache is not stepping.
    for side in sides.values():
        if isinstance(side, gym.vector.VectorEnv):
            time_batched(side, batched_actions[:1])
        else:
            time_single(side, single_actions[:1])
    for _ in range(arguments.chunks):
        for name, side in sides.items():
            if isinstance(side, gym.vector.VectorEnv):
                seconds[name].append(time_batched(side, batched_actions))
            else:
                seconds[name].append(time_single(side, single_actions))
    result = {name: statistics.median(values) for name, values in seconds.items()}
    if "MinAtar" in sides:
        for name in ("ours", "ours batched"):
            result[f"{name} ratio"] = statistics.median(
                peer / own for peer, own in zip(seconds["MinAtar"], seconds[name], strict=True)
            )
    for side in sides.values():
        side.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--num-envs", type=int, default=1024, help="batch size of our vector env")
    parser.add_argument("--single-steps", type=int, default=2_000, help="steps per single chunk")
    parser.add_argument("--batched-steps", type=int, default=20, help="batched steps per chunk")
    parser.add_argument("--chunks", type=int, default=7, help="alternating chunks per side")
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
    header = (
        f"{'game':<14} {'MinAtar':>9} {'ours':>9} {'ratio':>7} {'batched':>11} {'ratio':>7}"
        f" {'pixels':>9} {'batched pixels':>15}"
    )
    print(header)
    for game in arguments.games:
        result = compare(game, arguments, rng)

        def rate(name: str, result: dict = result) -> str:
            return f"{1 / result[name]:,.0f}" if name in result else "-"

        def ratio(name: str, bound: float, result: dict = result) -> str:
            key = f"{name} ratio"
            if key not in result:
                return "-"
            mark = "" if result[key] >= bound else "!"
            return f"{result[key]:.1f}x{mark}"

        print(
            f"{game:<14} {rate('MinAtar'):>9} {rate('ours'):>9} "
            f"{ratio('ours', SINGLE_BOUND):>7} {rate('ours batched'):>11} "
            f"{ratio('ours batched', BATCHED_BOUND):>7} {rate('ours pixels'):>9} "
            f"{rate('ours batched pixels'):>15}"
        )
    print(
        f"bounds: single >= {SINGLE_BOUND:.0f}x, batched >= {BATCHED_BOUND:.0f}x "
        "MinAtar's gym env; "
        "! marks a ratio under its bound"
    )


if __name__ == "__main__":
    main()
