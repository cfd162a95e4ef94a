"""A reusable test harness for any registered id: ``check_task("envsuite/...")``.

It runs gymnasium's ``check_env``, a seeded two-env determinism rollout, a pickle round-trip,
observation-in-space and finiteness checks, and compares ``gym.make_vec`` (sync and async)
with single envs; for a sequence, its own vector env with the sequence env and with its tasks'
vector envs. Every failure is an ``AssertionError`` naming the id, the check and the step.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode

from envsuite.core.sequence import Sequence
from envsuite.core.spec import SequenceSpec
from envsuite.core.vector_infos import row, unbatch
from envsuite.numba_vector import NumbaVectorEnv


@dataclass
class Transition:
    """What one call returned: a reset (``reward`` None) or a step."""

    observation: Any
    reward: float | None
    terminated: bool
    truncated: bool
    info: dict[str, Any]


def check_task(
    env_id: str,
    *,
    steps: int = 300,
    seed: int = 0,
    num_envs: int = 2,
    vector_modes: tuple[str, ...] | None = None,
    **make_kwargs: Any,
) -> None:
    """Run every check on ``env_id``; ``make_kwargs`` go to ``gym.make`` and ``gym.make_vec``.

    ``vector_modes`` defaults to ``sync``, ``async`` and, when the id registers one, its own
    ``vector_entry_point`` (what ``gym.make_vec`` uses by default: the fast path).

    A sequence's own vector env (:class:`ContinualVectorEnv`) plays on one clock, so it is
    checked apart: with one env against the sequence env, and with ``num_envs`` against its
    tasks' vector envs (:func:`check_sequence_vector_env`). Pass a small ``steps_per_task`` so
    that the rollouts cross task switches.
    """
    is_sequence = _sequence_spec(env_id) is not None
    if vector_modes is None:
        vector_modes = ("sync", "async")
        if gym.spec(env_id).vector_entry_point is not None and not is_sequence:
            vector_modes += ("vector_entry_point",)
    check_gymnasium_conformance(env_id, **make_kwargs)
    actions = sample_actions(env_id, steps, seed, **make_kwargs)
    check_determinism(env_id, actions, seed, **make_kwargs)
    check_pickle_round_trip(env_id, actions, seed, **make_kwargs)
    for mode in vector_modes:
        check_vector_matches_single(env_id, steps, seed, num_envs, mode, **make_kwargs)
    if is_sequence:
        # One env of the shared clock plays exactly as the sequence env (env 0 takes seed + 0).
        check_vector_matches_single(env_id, steps, seed, 1, "vector_entry_point", **make_kwargs)
        check_sequence_vector_env(env_id, steps, seed, num_envs, **make_kwargs)


def check_gymnasium_conformance(env_id: str, **make_kwargs: Any) -> None:
    """gymnasium's own ``check_env`` on the unwrapped env (spaces, seeding, step determinism)."""
    env = gym.make(env_id, **make_kwargs)
    try:
        check_env(env.unwrapped, skip_render_check=True)
    except AssertionError as error:
        raise AssertionError(f"{env_id}: gymnasium check_env failed: {error}") from error
    finally:
        env.close()


def sample_actions(env_id: str, steps: int, seed: int, **make_kwargs: Any) -> list[Any]:
    """A reproducible stream of valid actions for ``env_id``."""
    env = gym.make(env_id, **make_kwargs)
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(steps)]
    env.close()
    return actions


def rollout(env: gym.Env, actions: list[Any], seed: int | None, env_id: str) -> list[Transition]:
    """Reset (with ``seed``) and play ``actions``, resetting when an episode ends.

    Every observation is checked to be in the observation space and finite.
    """
    transitions = []
    if seed is not None or not actions:
        observation, info = env.reset(seed=seed)
        _check_observation(env, observation, env_id, "reset")
        transitions.append(Transition(observation, None, False, False, info))
    for step, action in enumerate(actions):
        if transitions and (transitions[-1].terminated or transitions[-1].truncated):
            observation, info = env.reset()
            _check_observation(env, observation, env_id, f"reset before step {step}")
            transitions.append(Transition(observation, None, False, False, info))
        observation, reward, terminated, truncated, info = env.step(action)
        transitions.append(Transition(observation, float(reward), terminated, truncated, info))
        _check_observation(env, observation, env_id, step)
    return transitions


def check_determinism(env_id: str, actions: list[Any], seed: int, **make_kwargs: Any) -> None:
    """Two envs made apart, reset with one seed and fed one action stream, agree exactly."""
    first, second = gym.make(env_id, **make_kwargs), gym.make(env_id, **make_kwargs)
    try:
        _assert_same(
            rollout(first, actions, seed, env_id),
            rollout(second, actions, seed, env_id),
            f"{env_id}: determinism (two envs, seed {seed})",
        )
    finally:
        first.close()
        second.close()


def check_pickle_round_trip(env_id: str, actions: list[Any], seed: int, **make_kwargs: Any) -> None:
    """An env pickled mid-rollout continues exactly as the original does."""
    env = gym.make(env_id, **make_kwargs)
    half = len(actions) // 2
    last = rollout(env, actions[:half], seed, env_id)[-1]
    if last.terminated or last.truncated:
        env.reset()
    clone = pickle.loads(pickle.dumps(env))
    try:
        _assert_same(
            rollout(env, actions[half:], None, env_id),
            rollout(clone, actions[half:], None, env_id),
            f"{env_id}: pickle round-trip (continuing after step {half})",
        )
    finally:
        env.close()
        clone.close()


def check_vector_matches_single(
    env_id: str, steps: int, seed: int, num_envs: int, mode: str, **make_kwargs: Any
) -> None:
    """``gym.make_vec`` equals ``num_envs`` single envs seeded ``seed + i``, step by step.

    The single envs replay the vector env's autoreset protocol (next-step or same-step).
    """
    vector_env = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode=mode, **make_kwargs)
    singles = [gym.make(env_id, **make_kwargs) for _ in range(num_envs)]
    where = f"{env_id}: make_vec({mode!r}) vs single envs"
    try:
        autoreset = vector_env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        if autoreset not in (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP):
            raise AssertionError(f"{where}: unsupported autoreset mode {autoreset}")
        vector_env.action_space.seed(seed)
        observations, infos = vector_env.reset(seed=seed)
        _check_batch(vector_env, observations, where + ": reset")
        done = [False] * num_envs
        for index, env in enumerate(singles):
            observation, info = env.reset(seed=seed + index)
            _assert_equal(row(observations, index), observation, f"{where}: reset obs, env {index}")
            _assert_info_row(infos, index, info, f"{where}: reset info, env {index}")
        for step in range(steps):
            actions = vector_env.action_space.sample()
            observations, rewards, terminations, truncations, infos = vector_env.step(actions)
            _check_batch(vector_env, observations, f"{where}: step {step}")
            for index, env in enumerate(singles):
                context = f"{where}: step {step}, env {index}"
                if done[index] and autoreset == AutoresetMode.NEXT_STEP:
                    observation, info = env.reset()
                    reward, terminated, truncated = 0.0, False, False
                else:
                    observation, reward, terminated, truncated, info = env.step(row(actions, index))
                    if autoreset == AutoresetMode.SAME_STEP and (terminated or truncated):
                        observation, info = env.reset()
                _assert_equal(row(observations, index), observation, context + " obs")
                _assert_equal(rewards[index], reward, context + " reward")
                _assert_equal(terminations[index], terminated, context + " terminated")
                _assert_equal(truncations[index], truncated, context + " truncated")
                _assert_info_row(infos, index, info, context + " info")
                done[index] = bool(terminated or truncated)
    finally:
        vector_env.close()
        for env in singles:
            env.close()


def check_sequence_vector_env(
    env_id: str, steps: int, seed: int, num_envs: int, **make_kwargs: Any
) -> None:
    """A sequence's ``gym.make_vec`` (next-step autoreset) against its tasks' own vector envs.

    Env ``i`` of block after block must equal env ``i`` of ``gym.make_vec(task_id, num_envs)``
    (for a task whose batched env is not a numba family's, gymnasium's ``sync`` one) reset with
    the task's seed (the one ``ContinualEnv`` draws from ``seed``) at the task's
    first block and continued at its later ones, seen through the sequence's spaces; the clock
    counts the envs that stepped, a block ends at the first step whose clock reaches the
    schedule's cumulated end, every env is then truncated, and the next step starts the next
    block's task.
    """
    where = f"{env_id}: make_vec({num_envs}) vs its tasks' vector envs"
    vector_env = gym.make_vec(env_id, num_envs=num_envs, **make_kwargs)
    spec = vector_env.unwrapped.sequence_spec
    sequence = Sequence(spec)
    unified = sequence.unified_spaces
    blocks = sequence.schedule()
    scheduled_ends = np.cumsum([block.steps for block in blocks])
    task_seeds = np.random.SeedSequence(seed).generate_state(spec.num_tasks)
    task_envs: dict[int, gym.vector.VectorEnv] = {}

    def start_block(block: int) -> tuple[Any, dict[str, Any]]:
        task = blocks[block].task_index
        if task not in task_envs:
            task_id, kwargs = spec.tasks[task].id, spec.tasks[task].kwargs
            env = gym.make_vec(task_id, num_envs=num_envs, **kwargs)
            if not isinstance(env.unwrapped, NumbaVectorEnv):
                # Another library's batched env need not reset only a reset mask's envs nor
                # seed env i with seed + i: a sequence plays gymnasium's over single envs.
                env.close()
                env = gym.make_vec(task_id, num_envs=num_envs, vectorization_mode="sync", **kwargs)
            task_envs[task] = env
            return task_envs[task].reset(seed=int(task_seeds[task]))
        return task_envs[task].reset()

    def task_step(block: int, clock: int) -> int:
        task = blocks[block].task_index
        earlier = sum(other.steps for other in blocks[:block] if other.task_index == task)
        return earlier + clock - (int(scheduled_ends[block - 1]) if block else 0)

    def compare(context: str, block: int, clock: int, switched: bool, got: tuple, expected: tuple):
        task = blocks[block].task_index
        observations, infos = got[0], got[-1]
        for index in range(num_envs):
            label = f"{context}, env {index}"
            _assert_equal(
                row(observations, index),
                unified.observation_adapters[task](row(expected[0], index)),
                label + " obs",
            )
            names = ("reward", "terminated", "truncated")[: len(got) - 2]
            for field, name in enumerate(names, start=1):
                _assert_equal(got[field][index], expected[field][index], f"{label} {name}")
            clock_info = {
                "task_index": task,
                "task_name": spec.tasks[task].name,
                "task_step": task_step(block, clock),
                "global_step": clock,
                "task_switched": switched,
            }
            _assert_info_row(infos, index, clock_info, label + " info")
            _assert_info_row(infos, index, unbatch(expected[-1], index), label + " info")

    vector_env.action_space.seed(seed)
    block, clock = 0, 0
    try:
        observations, infos = vector_env.reset(seed=seed)
        no_flags = np.zeros(num_envs, dtype=np.bool_)
        expected_observations, expected_infos = start_block(0)
        compare(
            f"{where}: reset",
            block,
            clock,
            False,
            (observations, infos),
            (expected_observations, expected_infos),
        )
        autoresetting, block_ended = no_flags.copy(), False
        for step in range(steps):
            actions = vector_env.action_space.sample()
            got = vector_env.step(actions)
            context = f"{where}: step {step} (block {block}, global step {clock})"
            if block_ended:
                block += 1
                expected_observations, expected_infos = start_block(block)
                expected = (expected_observations, np.zeros(num_envs), no_flags, no_flags)
                compare(context, block, clock, False, got, (*expected, expected_infos))
                autoresetting, block_ended = no_flags.copy(), False
                continue
            task = blocks[block].task_index
            adapter = unified.action_adapters[task]
            task_actions = np.stack([np.asarray(adapter(row(actions, i))) for i in range(num_envs)])
            expected = list(task_envs[task].step(task_actions))
            clock += num_envs - int(autoresetting.sum())
            switched = block < len(blocks) - 1 and clock >= scheduled_ends[block]
            expected[3] = expected[3] | switched
            compare(context, block, clock, switched, got, tuple(expected))
            autoresetting, block_ended = expected[2] | expected[3], switched
    finally:
        vector_env.close()
        for env in task_envs.values():
            env.close()


def _sequence_spec(env_id: str) -> SequenceSpec | None:
    spec = gym.spec(env_id).kwargs.get("spec")
    return spec if isinstance(spec, SequenceSpec) else None


def _check_observation(env: gym.Env, observation: Any, env_id: str, when: Any) -> None:
    where = f"{env_id}: {when if isinstance(when, str) else f'step {when}'}"
    if not env.observation_space.contains(observation):
        raise AssertionError(
            f"{where}: observation not in {env.observation_space}: {observation!r}"
        )
    leaves = observation.values() if isinstance(observation, dict) else [observation]
    for leaf in leaves:
        array = np.asarray(leaf)
        if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
            raise AssertionError(f"{where}: observation not finite: {observation!r}")


def _check_batch(vector_env: gym.vector.VectorEnv, observations: Any, where: str) -> None:
    if not vector_env.observation_space.contains(observations):
        raise AssertionError(f"{where}: batched observations not in {vector_env.observation_space}")


def _assert_same(expected: list[Transition], actual: list[Transition], where: str) -> None:
    if len(expected) != len(actual):
        raise AssertionError(f"{where}: {len(expected)} calls against {len(actual)}")
    for call, (left, right) in enumerate(zip(expected, actual, strict=True)):
        for field in ("observation", "reward", "terminated", "truncated", "info"):
            _assert_equal(
                getattr(left, field), getattr(right, field), f"{where}: call {call} {field}"
            )


def _assert_info_row(infos: dict[str, Any], index: int, info: dict[str, Any], where: str) -> None:
    """Row ``index`` of the vector info (arrays with ``_key`` masks) equals the single info."""
    for key, value in info.items():
        mask = infos.get(f"_{key}")
        if key not in infos or mask is None or not mask[index]:
            raise AssertionError(f"{where}: key {key!r} missing from the vector info")
        _assert_equal(row(infos[key], index), value, f"{where}[{key!r}]")


def _assert_equal(actual: Any, expected: Any, where: str) -> None:
    """Equal values, and equal dtypes where both sides are arrays (assert_equal ignores them)."""
    try:
        np.testing.assert_equal(actual, expected)
    except AssertionError as error:
        raise AssertionError(f"{where} differs:\n{error}") from None
    if isinstance(actual, dict) and isinstance(expected, dict):
        for key in expected:
            _assert_equal(actual[key], expected[key], f"{where}[{key!r}]")
    elif (
        isinstance(actual, np.ndarray)
        and isinstance(expected, np.ndarray)
        and actual.dtype != expected.dtype
    ):
        raise AssertionError(f"{where}: dtype {actual.dtype} differs from {expected.dtype}")
