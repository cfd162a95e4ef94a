"""Per-step cost of the sequence layer: the sequence env against the bare task env it plays, one
env (``ContinualEnv``) and batched (``ContinualVectorEnv`` against the task's own vector env, and
the floor any Python layer keeping the sequence's info contract would pay: :class:`InfoFloor`),
and the batched minigame sequence against MinAtar's single gym env.

Each comparison runs both sides in this process, alternating chunks on one action stream; the
median of the paired chunk ratios is what matters (machines are noisy).
Run: ``make bench`` or ``python benchmarks/core.py [--num-envs 1024] [--families minigames]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import gymnasium as gym
import numpy as np
from side_by_side import compare, ratio

import envsuite
from envsuite.core.registry import family_of
from envsuite.core.task_env import make_base_env

try:
    import minatar.gym as minatar_gym
except ImportError:  # pragma: no cover - the bench extra installs it
    minatar_gym = None

# The acceptance bound of the batched-sequences issue (and, for one env, of the core issue): the
# sequence layer adds at most this fraction per step.
OVERHEAD_BOUND = 0.10
# The batched minigame sequence against MinAtar's single gym env, in env-steps per second.
MINATAR_BOUND = 25.0
# Long enough that the timed steps never cross a task switch.
ONE_BLOCK = 10**9


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
    sequence_env = gym.make(sequence_id, steps_per_task=ONE_BLOCK)
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
    ratio_ = statistics.median(layer / base for layer, base in zip(layered, bare, strict=True))
    return statistics.median(bare), statistics.median(layered), ratio_


class InfoFloor(gym.vector.VectorWrapper):
    """A task's vector env plus only the per-step work a sequence's vector env cannot skip: the
    clock's count of the envs that stepped, and the five sequence keys as vector infos (fresh
    step arrays, constant arrays and masks made once). No padding, no action mapping: the
    least any Python sequence layer over this env can cost."""

    def __init__(self, env: gym.vector.VectorEnv) -> None:
        super().__init__(env)
        envs = env.num_envs
        self.autoresetting = np.zeros(envs, dtype=np.bool_)
        self.global_step = 0
        mask = np.ones(envs, dtype=np.bool_)
        self.constant = {
            "task_index": np.zeros(envs, dtype=np.int64),
            "task_name": np.full(envs, "task", dtype=object),
            "task_switched": np.zeros(envs, dtype=np.bool_),
            **{f"_{key}": mask for key in SEQUENCE_KEYS},
        }

    def step(self, actions: np.ndarray) -> tuple:
        observations, rewards, terminations, truncations, infos = self.env.step(actions)
        envs = len(self.autoresetting)
        self.global_step += envs - np.count_nonzero(self.autoresetting)
        steps = np.empty((2, envs), np.int64)
        steps[0].fill(self.global_step)
        steps[1].fill(self.global_step)
        infos["task_step"], infos["global_step"] = steps
        infos.update(self.constant)
        self.autoresetting = terminations | truncations
        return observations, rewards, terminations, truncations, infos


SEQUENCE_KEYS = ("task_index", "task_name", "task_step", "global_step", "task_switched")


def measure_batched(sequence_id: str, arguments: argparse.Namespace) -> dict[str, float]:
    """``compare``'s result for task 0's own vector env (``"task"``) against the sequence's
    (``"sequence"``) and against :class:`InfoFloor` over the task's (``"floor"``), all of
    ``--num-envs`` envs: seconds per env-step and ratios over the task's."""
    sequence = envsuite.make_sequence(sequence_id)
    task = sequence.spec.tasks[0]
    sides = {
        "task": gym.make_vec(task.id, num_envs=arguments.num_envs, **task.kwargs),
        "sequence": gym.make_vec(
            sequence_id, num_envs=arguments.num_envs, steps_per_task=ONE_BLOCK
        ),
        "floor": InfoFloor(gym.make_vec(task.id, num_envs=arguments.num_envs, **task.kwargs)),
    }
    num_actions = int(sides["task"].single_action_space.n)
    return compare(sides, "task", num_actions, arguments, np.random.default_rng(0))


def against_minatar(sequence_id: str, game: str, arguments: argparse.Namespace) -> dict:
    """``compare``'s result for the sequence's vector env against MinAtar's single gym env."""
    with warnings.catch_warnings():  # v0 keeps MinAtar's full 6-action set, as ours
        warnings.simplefilter("ignore", DeprecationWarning)
        minatar = gym.make(f"MinAtar/{game}-v0")
    sides = {
        "MinAtar": minatar,
        "sequence": gym.make_vec(
            sequence_id, num_envs=arguments.num_envs, steps_per_task=ONE_BLOCK
        ),
    }
    return compare(sides, "MinAtar", 6, arguments, np.random.default_rng(0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunk-steps", type=int, default=1_000, help="steps per single chunk")
    parser.add_argument("--chunks", type=int, default=60, help="alternating chunks per side")
    parser.add_argument("--num-envs", type=int, default=1024, help="envs of the batched sides")
    parser.add_argument("--batched-steps", type=int, default=100, help="vector steps per chunk")
    parser.add_argument("--batched-chunks", type=int, default=31, help="batched chunks per side")
    parser.add_argument("--families", nargs="*", help="only these families' sequences")
    arguments = parser.parse_args()
    sequence_ids = [
        sequence_id
        for sequence_id in envsuite.sequence_ids()
        if not arguments.families or family_of(sequence_id) in arguments.families
    ]

    print(f"ContinualEnv vs the bare task env it plays, {arguments.chunks} alternating chunks")
    print(
        f"{'sequence':<40} {'task 0':<14} {'bare us/step':>12} {'sequence us/step':>16}"
        f" {'added us':>9}  overhead"
    )
    for sequence_id in sequence_ids:
        bare, layered, ratio_ = measure(sequence_id, arguments.chunk_steps, arguments.chunks)
        overhead = ratio_ - 1
        verdict = "within" if overhead <= OVERHEAD_BOUND else "over"
        print(
            f"{sequence_id:<40} {envsuite.make_sequence(sequence_id).task_names[0]:<14} "
            f"{bare * 1e6:>12.2f} {layered * 1e6:>16.2f} {(layered - bare) * 1e6:>9.2f}  "
            f"{overhead:+.1%} ({verdict} the {OVERHEAD_BOUND:.0%} bound; median of paired "
            "chunk ratios)"
        )

    # compare() times batched sides in --batched-steps vector steps per chunk.
    batched = argparse.Namespace(
        num_envs=arguments.num_envs,
        single_steps=arguments.chunk_steps,
        batched_steps=arguments.batched_steps,
        chunks=arguments.batched_chunks,
    )
    print(
        f"\nContinualVectorEnv vs task 0's own vector env, N={arguments.num_envs}, "
        f"{arguments.batched_chunks} alternating chunks of {arguments.batched_steps} steps"
    )
    print(
        f"{'sequence':<40} {'task us/step':>12} {'sequence us/step':>16}  overhead"
        "  (floor: the info contract alone)"
    )
    for sequence_id in sequence_ids:
        if family_of(sequence_id) not in ("minigames", "navigation"):
            continue
        result = measure_batched(sequence_id, batched)
        overhead = 1 / result["sequence ratio"] - 1
        floor = 1 / result["floor ratio"] - 1
        verdict = "within" if overhead <= OVERHEAD_BOUND else "over"
        per_step = {side: result[side] * arguments.num_envs * 1e6 for side in ("task", "sequence")}
        print(
            f"{sequence_id:<40} {per_step['task']:>12.1f} {per_step['sequence']:>16.1f}  "
            f"{overhead:+.1%} ({verdict} the {OVERHEAD_BOUND:.0%} bound; floor {floor:+.1%})"
        )

    if minatar_gym is None:
        print("\nMinAtar is not installed (pip install envsuite[bench]): no comparison with it")
        return
    minatar_gym.register_envs()
    sequence_id = "envsuite/MinigamesCross-v0"
    game = envsuite.make_sequence(sequence_id).spec.tasks[0].id.split("/")[1].split("-")[0]
    result = against_minatar(sequence_id, game, batched)
    print(
        f"\n{sequence_id} N={arguments.num_envs} (task 0, {game}) vs MinAtar's single "
        f"{game} gym env: {1 / result['sequence']:,.0f} vs {1 / result['MinAtar']:,.0f} "
        f"env-steps/s, {ratio(result, 'sequence', MINATAR_BOUND)} "
        f"(bound >= {MINATAR_BOUND:.0f}x; ! marks a ratio under it)"
    )


if __name__ == "__main__":
    main()
