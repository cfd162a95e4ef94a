"""ObjectRecall: the shown cell is the one to recall, phases change at their steps, distractors
keep off it, early visits give nothing, the recall phase times out, and the oracle remembers."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from navigation_helpers import random_policy, success_rate

from envsuite.navigation import object_recall, oracle_action
from envsuite.navigation.engine import AGENT_COLUMN, AGENT_ROW, TURN_LEFT, cell_at
from envsuite.navigation.maze import FLOOR_CELL
from envsuite.navigation.object_recall import COLOUR, TARGET_COLUMN, TARGET_ROW
from envsuite.navigation.oracle import action_towards
from envsuite.navigation.view import CHANNEL_NAMES, COLOUR_CHANNELS
from envsuite.testing import check_task

ENV_ID = "envsuite/ObjectRecall-v0"
OBJECT_CHANNEL = CHANNEL_NAMES.index("object")
SHORT = {"show_steps": 3, "delay": 5, "recall_steps": 4}
_DISTANCES = np.empty((21, 21), dtype=np.int64)


def objects_shown(observation: dict) -> dict[tuple[int, int], int]:
    """Cell -> colour of every object in a full-view observation."""
    image = observation["image"]
    return {
        (int(row), int(column)): int(np.argmax(image[row, column, COLOUR_CHANNELS:]))
        for row, column in np.argwhere(image[..., OBJECT_CHANNEL])
    }


def phase(observation: dict) -> int:
    assert observation["phase"].sum() == 1
    return int(np.argmax(observation["phase"]))


def walk_towards(env: gym.Env, row: int, column: int) -> int:
    return int(action_towards(env.unwrapped.state, row, column, _DISTANCES))


@pytest.mark.parametrize("seed", range(5))
def test_the_cell_to_recall_is_where_the_object_was_shown(seed: int) -> None:
    env = gym.make(ENV_ID, view="full")
    observation, _ = env.reset(seed=seed)
    shown = objects_shown(observation)
    assert len(shown) == 1
    ((cell, colour),) = shown.items()
    state = env.unwrapped.state
    assert cell == (state[TARGET_ROW], state[TARGET_COLUMN])
    assert colour == state[COLOUR]
    done = False
    while not done:
        observation, reward, terminated, truncated, info = env.step(oracle_action(env))
        if phase(observation) > 0:
            assert cell not in objects_shown(observation)  # the object is gone
        done = terminated or truncated
    assert info["success"]
    assert reward == 1.0
    assert terminated
    assert (state[AGENT_ROW], state[AGENT_COLUMN]) == cell


@pytest.mark.parametrize("delay", [0, 5])
def test_phases_change_at_their_steps_and_the_recall_phase_times_out(delay: int) -> None:
    """Show for 3 steps, delay, then at most 4 recall steps: an agent turning in place (moved
    off the cell when the show ends) never gets there and the task ends the episode with 0."""
    env = gym.make(ENV_ID, view="full", **{**SHORT, "delay": delay})
    observation, _ = env.reset(seed=1)
    object_colour = env.unwrapped.state[COLOUR]
    phases, objects, ends = [phase(observation)], [objects_shown(observation)], []
    for _ in range(3 + delay + 4):
        observation, reward, terminated, truncated, info = env.step(TURN_LEFT)
        phases.append(phase(observation))
        objects.append(objects_shown(observation))
        ends.append((reward, terminated, truncated, info["success"]))
    assert phases == [0] * 3 + [1] * delay + [2] * 5
    assert all(list(shown.values()) == [object_colour] for shown in objects[:3])
    for shown in objects[3 : 3 + delay]:  # two distractors of other colours
        assert len(shown) == 2
        assert object_colour not in shown.values()
    assert all(not shown for shown in objects[3 + delay :])
    assert ends[:-1] == [(0.0, False, False, False)] * (len(ends) - 1)
    assert ends[-1] == (0.0, True, False, False)


@pytest.mark.parametrize("seed", range(10))
def test_distractors_have_other_colours_and_never_sit_on_the_target(seed: int) -> None:
    env = gym.make(
        ENV_ID, view="full", distractors=5, distractor_period=1, delay=30, object_colour=seed % 6
    )
    env.reset(seed=seed)
    state = env.unwrapped.state
    target = (state[TARGET_ROW], state[TARGET_COLUMN])
    rng = np.random.default_rng(seed)
    for _ in range(8):
        env.step(int(rng.integers(4)))
    seen = set()
    for _ in range(30):
        observation, *_ = env.step(int(rng.integers(4)))
        if phase(observation) != 1:
            break
        shown = objects_shown(observation)
        assert target not in shown
        assert sorted(shown.values()) == sorted(set(range(6)) - {seed % 6})
        seen.add(tuple(sorted(shown)))
    assert len(seen) > 20  # re-placed every step


def test_the_agent_is_moved_off_the_target_when_the_show_ends() -> None:
    env = gym.make(ENV_ID, show_steps=20)
    parked = 0
    for seed in range(10):
        env.reset(seed=seed)
        state = env.unwrapped.state
        target = (state[TARGET_ROW], state[TARGET_COLUMN])
        for _ in range(19):
            env.step(walk_towards(env, *target))
        parked += (state[AGENT_ROW], state[AGENT_COLUMN]) == target
        observation, *_ = env.step(TURN_LEFT)
        assert phase(observation) == 1
        assert (state[AGENT_ROW], state[AGENT_COLUMN]) != target
    assert parked >= 8


def test_walking_over_the_target_before_the_recall_phase_gives_nothing() -> None:
    """Without relocation an agent parks on the cell during the show; nothing is given until the
    first recall step (documented: standing there when the recall phase begins then counts)."""
    env = gym.make(ENV_ID, relocate=0, show_steps=20, delay=10)
    for seed in range(5):
        env.reset(seed=seed)
        state = env.unwrapped.state
        target = (state[TARGET_ROW], state[TARGET_COLUMN])
        visited = False
        for step in range(30):
            _, reward, terminated, _, _ = env.step(walk_towards(env, *target))
            visited |= (state[AGENT_ROW], state[AGENT_COLUMN]) == target
            assert (reward, terminated) == (0.0, False), step
        assert visited
        _, reward, terminated, _, info = env.step(TURN_LEFT)
        assert (reward, terminated, info["success"]) == (1.0, True, True)


def test_during_the_delay_the_cell_holds_no_object_and_a_visit_gives_nothing() -> None:
    env = gym.make(ENV_ID, delay=60)
    env.reset(seed=3)
    state = env.unwrapped.state
    target = (state[TARGET_ROW], state[TARGET_COLUMN])
    for _ in range(8):
        env.step(TURN_LEFT)
    for _ in range(60):
        assert cell_at(state, *target) == FLOOR_CELL
        _, reward, terminated, _, _ = env.step(walk_towards(env, *target))
        assert (reward, terminated) == (0.0, False)
    assert (state[AGENT_ROW], state[AGENT_COLUMN]) == target


@pytest.mark.parametrize("variant", ["default", "very_long"])
def test_the_oracle_recalls_and_a_random_policy_does_not(variant: str) -> None:
    oracle = success_rate(
        "ObjectRecall", lambda env, rng: oracle_action(env), 40, 0, variant=variant
    )
    random = success_rate("ObjectRecall", random_policy, 40, 0, variant=variant)
    assert oracle >= 0.95
    assert random <= 0.5
    assert oracle - random >= 0.5


def test_every_variant_fits_the_registered_episode_limit() -> None:
    longest = (
        object_recall.MAX_SHOW_STEPS + object_recall.MAX_DELAY + object_recall.MAX_RECALL_STEPS
    )
    assert object_recall.TASK.max_episode_steps > longest
    assert gym.spec(ENV_ID).max_episode_steps == object_recall.TASK.max_episode_steps


@pytest.mark.parametrize("obs_mode", ["symbolic", "pixels"])
def test_the_harness_passes(obs_mode: str) -> None:
    check_task(ENV_ID, obs_mode=obs_mode, variant="no_delay")
    check_task(
        ENV_ID,
        steps=150,
        vector_modes=("vector_entry_point",),
        obs_mode=obs_mode,
        distractor_period=2,
        **SHORT,
    )


def test_the_agent_is_moved_within_reach_of_the_target_in_big_dense_mazes() -> None:
    # A 21x21 maze at the densest walls: the relocation leaves the recall phase time to walk
    # back, so the oracle still solves (nearly) every episode.
    rate = success_rate(
        "ObjectRecall",
        lambda env, rng: oracle_action(env),
        episodes=40,
        seed=7,
        size=21,
        wall_density=0.6,
        delay=0,
    )
    assert rate >= 0.95
