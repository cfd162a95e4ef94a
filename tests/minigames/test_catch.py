"""Catch: the paddle catches, misses cost lives, the last miss ends the game; a tracker wins."""

from __future__ import annotations

import numpy as np
from minigame_helpers import Core, mean_return, random_policy

from envsuite.minigames import catch
from envsuite.minigames.engine import LEFT, NOOP, RIGHT


def _fruit_one_row_above_paddle(core: Core, column: int) -> None:
    core.state[catch.FRUIT_ROW] = 8
    core.state[catch.FRUIT_COLUMN] = column
    core.state[catch.PROGRESS] = 999  # the next step moves it down


def test_a_fruit_landing_on_the_paddle_scores_one() -> None:
    core = Core(catch, fruit_speed=0.5, paddle_width=2)
    core.state[catch.PADDLE] = 4
    _fruit_one_row_above_paddle(core, column=5)
    assert core.step(NOOP) == (1.0, False)
    assert core.state[catch.LIVES_LEFT] == 3
    assert core.state[catch.FRUIT_ROW] == 0  # a new fruit drops from the top


def test_a_miss_costs_a_life_and_the_last_life_ends_the_game() -> None:
    core = Core(catch, lives=2, paddle_width=1)
    core.state[catch.PADDLE] = 0
    _fruit_one_row_above_paddle(core, column=9)
    assert core.step(NOOP) == (0.0, False)
    assert core.state[catch.LIVES_LEFT] == 1
    _fruit_one_row_above_paddle(core, column=9)
    assert core.step(NOOP) == (0.0, True)


def test_the_paddle_stops_at_the_walls_and_is_drawn_its_width() -> None:
    core = Core(catch, paddle_width=3)
    core.state[catch.PADDLE] = 0
    core.step(LEFT)
    assert core.state[catch.PADDLE] == 0
    for _ in range(12):
        core.step(RIGHT)
    assert core.state[catch.PADDLE] == 7
    assert np.flatnonzero(core.channel("paddle")[9]).tolist() == [7, 8, 9]


def test_the_ramp_speeds_fruit_up_with_each_catch() -> None:
    core = Core(catch, fruit_speed=0.2, ramp=0.1)
    core.state[catch.CATCHES] = 5
    before = core.state[catch.PROGRESS]
    core.step(NOOP)
    assert core.state[catch.PROGRESS] - before == 700  # 0.2 + 5 * 0.1 rows per step


def tracker(observation: np.ndarray, rng: np.random.Generator) -> int:
    """Keep the paddle's centre under the fruit."""
    paddle = np.flatnonzero(observation[9, :, 0])
    fruit = np.argwhere(observation[..., 1])
    if len(fruit) == 0:
        return NOOP
    centre = (paddle[0] + paddle[-1]) / 2
    target = fruit[0][1]
    return LEFT if target < centre - 0.5 else RIGHT if target > centre + 0.5 else NOOP


def test_a_tracking_policy_clearly_beats_a_random_one() -> None:
    scripted = mean_return("Catch", tracker, episodes=3, seed=0, max_episode_steps=300)
    random = mean_return("Catch", random_policy, episodes=3, seed=0, max_episode_steps=300)
    assert scripted > 2 * random + 5, (scripted, random)
