"""Ballet: the dance table, dances step by step in order with their delays, phases and the
instruction, touching the right or a wrong dancer, the act phase's limit, every level, a watching
oracle against a random policy, and the env harness in both obs modes."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from navigation_helpers import random_policy, success_rate

from envsuite.navigation import ballet
from envsuite.navigation.ballet import (
    ACT_PHASE,
    COLOURS,
    DANCE_NAMES,
    DANCE_STEPS,
    DANCE_TYPES,
    DANCES,
    DELAY_PHASE,
    HOME_COLUMNS,
    HOME_OFFSETS,
    HOME_ROWS,
    TARGET,
    WATCH_PHASE,
)
from envsuite.navigation.cells import DANCER, colour_of, kind_of
from envsuite.navigation.engine import (
    AGENT_COLUMN,
    AGENT_ROW,
    DIRECTION,
    FORWARD,
    INSTRUCTION,
    INTERACT,
    MAZE_SIZE,
    NOTHING,
    PHASE,
    TURN_LEFT,
    TURN_RIGHT,
    UP,
    cell_at,
)
from envsuite.navigation.maze import MAX_SIZE
from envsuite.navigation.oracle import action_towards, oracle_action
from envsuite.navigation.view import CHANNEL_NAMES
from envsuite.testing import check_task

ENV_ID = "envsuite/Ballet-v0"
DANCER_CHANNEL = CHANNEL_NAMES.index("dancer")
LEVELS = [name for name in ballet.TASK.variant_names() if name != "default"]


def dancer_cells(state: np.ndarray) -> dict[tuple[int, int], int]:
    """Every DANCER cell of the state's maze: (row, column) -> cell code."""
    size = int(state[MAZE_SIZE])
    return {
        (row, column): int(cell_at(state, row, column))
        for row in range(size)
        for column in range(size)
        if kind_of(cell_at(state, row, column)) == DANCER
    }


def expected_dancers(state: np.ndarray, dancers: int, delay: int, clock: int) -> dict:
    """Where the schedule puts each dancer after ``clock`` steps: (row, column) -> dancer."""
    period = DANCE_STEPS + delay
    cells = {}
    for dancer in range(dancers):
        beat = clock - dancer * period - 1  # dancer k dances on steps k * period + 1..16
        offset = DANCES[state[DANCE_TYPES + dancer], beat] if 0 <= beat < DANCE_STEPS else (0, 0)
        row = state[HOME_ROWS + dancer] + offset[0]
        column = state[HOME_COLUMNS + dancer] + offset[1]
        cells[(int(row), int(column))] = dancer
    return cells


def expected_phase(dancers: int, delay: int, clock: int) -> int:
    period = DANCE_STEPS + delay
    if clock >= dancers * period:
        return ACT_PHASE
    if clock == 0 or (clock - 1) % period < DANCE_STEPS:
        return WATCH_PHASE
    return DELAY_PHASE


def test_the_dance_table_holds_eight_distinct_dances_around_home() -> None:
    assert DANCES.shape == (8, DANCE_STEPS, 2)
    assert len(DANCE_NAMES) == 8
    assert len({dance.tobytes() for dance in DANCES}) == 8
    assert np.abs(DANCES).max() == 1  # within the 3x3 square round home
    for name, dance in zip(DANCE_NAMES, DANCES, strict=True):
        assert dance[0].any(), name  # the first step leaves home
        assert not dance[-1].any(), name  # the last returns
        path = np.concatenate([[(0, 0)], dance])
        assert np.abs(np.diff(path, axis=0)).max() == 1, name  # one cell per step, never still
    up_down = DANCES[DANCE_NAMES.index("up_down")]
    assert up_down.tolist() == [[-1, 0], [0, 0], [1, 0], [0, 0]] * 4
    # Homes: three cells apart from each other and from the agent in the centre.
    ring = np.concatenate([HOME_OFFSETS, [(0, 0)]])
    gaps = np.abs(ring[:, None] - ring[None]).max(axis=-1)
    assert (gaps[~np.eye(9, dtype=bool)] >= 3).all()


@pytest.mark.parametrize(
    ("dancers", "delay", "size"), [(2, 16, 11), (8, 0, 11), (5, 3, 15), (3, 48, 12)]
)
def test_dancers_dance_the_table_in_turn_with_delays_and_never_crowd(
    dancers: int, delay: int, size: int
) -> None:
    env = gym.make(ENV_ID, dancers=dancers, delay=delay, size=size, view="full")
    actions = np.random.default_rng(dancers).integers(4, size=2000)
    for seed in range(2):
        observation, _ = env.reset(seed=seed)
        state = env.unwrapped.state
        centre = (size // 2, size // 2)
        homes = [(int(state[HOME_ROWS + k]), int(state[HOME_COLUMNS + k])) for k in range(dancers)]
        assert {tuple(np.subtract(home, centre)) for home in homes} <= set(
            map(tuple, HOME_OFFSETS.tolist())
        )
        assert len(set(homes)) == dancers
        assert len({int(state[DANCE_TYPES + k]) for k in range(dancers)}) == dancers
        colours = [int(state[COLOURS + k]) for k in range(dancers)]
        assert len(set(colours)) == min(dancers, 6)
        show_steps = dancers * (DANCE_STEPS + delay)
        for clock in range(show_steps + 1):
            if clock:
                observation, reward, terminated, truncated, _ = env.step(int(actions[clock]))
                assert (reward, terminated, truncated) == (0.0, False, False)
            phase = expected_phase(dancers, delay, clock)
            assert state[PHASE] == phase, clock
            assert observation["phase"].tolist() == [int(p == phase) for p in range(4)]
            assert (state[AGENT_ROW], state[AGENT_COLUMN]) == centre  # frozen during the show
            shown = dancer_cells(state)
            expected = expected_dancers(state, dancers, delay, clock)
            assert len(expected) == dancers
            assert set(shown) == set(expected), clock
            for cell, dancer in expected.items():
                assert colour_of(shown[cell]) == colours[dancer]
                # Never next to the agent or to another dancer.
                assert max(abs(cell[0] - centre[0]), abs(cell[1] - centre[1])) >= 2
                for other in expected:
                    gap = max(abs(cell[0] - other[0]), abs(cell[1] - other[1]))
                    assert other == cell or gap >= 2
            image = observation["image"][..., DANCER_CHANNEL]
            assert set(zip(*np.nonzero(image), strict=True)) == set(shown)
            instructed = state[DANCE_TYPES + state[TARGET]]
            if phase == ACT_PHASE:
                assert state[INSTRUCTION] == instructed
                assert observation["instruction"].tolist() == [
                    int(dance == instructed) for dance in range(8)
                ]
            else:
                assert state[INSTRUCTION] == NOTHING
                assert not observation["instruction"].any()


class Watcher:
    """A policy that remembers, from full-view observations alone, which dancer danced which
    dance; once instructed, it walks (by BFS over the privileged maze) into that dancer."""

    def __init__(self, observation: dict) -> None:
        self.homes = self._dancers(observation)
        self.seen: dict[tuple[int, int], list[tuple[int, int]]] = {h: [] for h in self.homes}
        self.distances = np.empty((MAX_SIZE, MAX_SIZE), dtype=np.int64)

    @staticmethod
    def _dancers(observation: dict) -> set[tuple[int, int]]:
        return set(zip(*np.nonzero(observation["image"][..., DANCER_CHANNEL]), strict=True))

    def watch(self, observation: dict) -> None:
        """Note where an away dancer stands (dances are told apart by their steps away)."""
        cells = self._dancers(observation)
        vacant = self.homes - cells
        if vacant:
            (home,) = vacant
            (cell,) = cells - self.homes
            self.seen[home].append((cell[0] - home[0], cell[1] - home[1]))

    def dance_of(self, home: tuple[int, int]) -> int:
        for dance, steps in enumerate(DANCES.tolist()):
            if [tuple(step) for step in steps if any(step)] == self.seen[home]:
                return dance
        return -1

    def choice(self, observation: dict) -> tuple[int, int]:
        instructed = int(np.argmax(observation["instruction"]))
        (home,) = [home for home in self.homes if self.dance_of(home) == instructed]
        return home

    def action(self, env: gym.Env, observation: dict) -> int:
        if observation["phase"][ACT_PHASE] == 0:
            return TURN_LEFT
        row, column = self.choice(observation)
        return int(action_towards(env.unwrapped.state, row, column, self.distances))


def play_watcher(env: gym.Env, seed: int) -> tuple[bool, bool]:
    """(solved, the watcher's choice was the task's target) for one episode."""
    observation, _ = env.reset(seed=seed)
    watcher = Watcher(observation)
    state = env.unwrapped.state
    chose_target = False
    while True:
        if observation["phase"][ACT_PHASE]:
            target = state[TARGET]
            chose_target = watcher.choice(observation) == (
                state[HOME_ROWS + target],
                state[HOME_COLUMNS + target],
            )
        observation, _, terminated, truncated, info = env.step(watcher.action(env, observation))
        if not chose_target:
            watcher.watch(observation)
        if terminated or truncated:
            return info["success"], chose_target


@pytest.mark.parametrize(("variant", "episodes"), [("dancers_8_delay_16", 30), ("default", 30)])
def test_a_watching_oracle_finds_the_instructed_dancer(variant: str, episodes: int) -> None:
    env = gym.make(ENV_ID, variant=variant, view="full")
    results = [play_watcher(env, seed) for seed in range(episodes)]
    assert all(chose_target for _, chose_target in results)  # the instruction is consistent
    assert np.mean([solved for solved, _ in results]) >= 0.95


def test_the_oracle_succeeds_and_a_random_policy_does_not() -> None:
    oracle = success_rate("Ballet", lambda env, rng: oracle_action(env), 40, 100)
    random = success_rate("Ballet", random_policy, 200, 100)
    assert oracle >= 0.95
    assert random <= 0.2


def test_the_instruction_picks_each_dancer_alike() -> None:
    env = gym.make(ENV_ID, variant="dancers_4_delay_16").unwrapped
    counts = np.zeros(4, dtype=int)
    for seed in range(400):
        env.reset(seed=seed)
        counts[env.state[TARGET]] += 1
    assert counts.min() >= 70  # 100 expected each


def instructed_env(**make_kwargs) -> gym.Env:
    """A Ballet env played (turning) to its first instructed step."""
    env = gym.make(ENV_ID, **make_kwargs)
    env.reset(seed=3)
    while env.unwrapped.state[PHASE] != ACT_PHASE:
        env.step(TURN_RIGHT)
    return env


def face_dancer(env: gym.Env, dancer: int) -> None:
    """Stand the agent just south of ``dancer``'s home, facing it."""
    state = env.unwrapped.state
    state[AGENT_ROW] = state[HOME_ROWS + dancer] + 1
    state[AGENT_COLUMN] = state[HOME_COLUMNS + dancer]
    state[DIRECTION] = UP


def test_walking_into_the_instructed_dancer_succeeds() -> None:
    env = instructed_env(variant="dancers_4_delay_16")
    face_dancer(env, int(env.unwrapped.state[TARGET]))
    _, reward, terminated, truncated, info = env.step(FORWARD)
    assert (reward, terminated, truncated, info) == (1.0, True, False, {"success": True})


def test_walking_into_another_dancer_ends_the_episode_with_nothing() -> None:
    env = instructed_env(variant="dancers_4_delay_16")
    target = int(env.unwrapped.state[TARGET])
    face_dancer(env, (target + 1) % 4)
    env.step(INTERACT)  # interacting with a dancer does nothing
    _, reward, terminated, truncated, info = env.step(FORWARD)
    assert (reward, terminated, truncated, info) == (0.0, True, False, {"success": False})


def test_before_the_instruction_the_agent_only_looks_around() -> None:
    env = gym.make(ENV_ID)
    env.reset(seed=0)
    state = env.unwrapped.state
    face_dancer(env, 1)  # even facing a dancer, forward neither moves nor touches
    for action in (FORWARD, INTERACT, FORWARD):
        _, reward, terminated, _, _ = env.step(action)
        assert (reward, terminated) == (0.0, False)
        assert (state[AGENT_ROW], state[AGENT_COLUMN], state[DIRECTION]) == (
            state[HOME_ROWS + 1] + 1,
            state[HOME_COLUMNS + 1],
            UP,
        )
    env.step(TURN_RIGHT)
    assert state[DIRECTION] == UP + 1


def test_the_act_phase_ends_the_episode_after_act_steps() -> None:
    env = instructed_env(act_steps=5, dancers=2, delay=0)
    for _ in range(4):
        assert env.step(TURN_RIGHT)[2:4] == (False, False)
    _, reward, terminated, truncated, info = env.step(TURN_LEFT)
    assert (reward, terminated, truncated, info) == (0.0, True, False, {"success": False})


@pytest.mark.parametrize("variant", LEVELS)
def test_every_level_plays_to_the_instructed_dancer(variant: str) -> None:
    dancers, delay = (int(part) for part in variant.split("_")[1::2])
    assert ballet.TASK.max_episode_steps >= 8 * (16 + 48) + 40
    env = gym.make(ENV_ID, variant=variant)
    observation, _ = env.reset(seed=7)
    assert len(dancer_cells(env.unwrapped.state)) == dancers
    steps, done = 0, False
    while not done:
        observation, reward, terminated, truncated, info = env.step(oracle_action(env))
        steps += 1
        done = terminated or truncated
        assert env.observation_space.contains(observation)
    assert (reward, terminated, truncated, info) == (1.0, True, False, {"success": True})
    assert dancers * (16 + delay) < steps <= dancers * (16 + delay) + 40


@pytest.mark.parametrize("obs_mode", ["symbolic", "pixels"])
def test_ballet_passes_the_env_harness(obs_mode: str) -> None:
    check_task(ENV_ID, obs_mode=obs_mode)
