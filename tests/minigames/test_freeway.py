"""Freeway: crossings score, cars knock the chicken back, the clock ends the game; a careful
crosser wins."""

from __future__ import annotations

import numpy as np
from minigame_helpers import Core, mean_return, random_policy

from envsuite.minigames import freeway
from envsuite.minigames.engine import DOWN, NOOP, UP
from envsuite.minigames.freeway import CHICKEN_COLUMN, NUM_LANES


def _still_traffic(core: Core) -> None:
    """Park every lane's car far from the chicken's column, not moving."""
    for lane in range(NUM_LANES):
        core.state[freeway.LANE_COLUMN + lane] = 0
        core.state[freeway.LANE_SPEED + lane] = 0
        core.state[freeway.LANE_DIRECTION + lane] = 1
        core.state[freeway.LANE_PROGRESS + lane] = 0


def _car_about_to_move(core: Core, lane: int, column: int, direction: int, cells: int) -> None:
    core.state[freeway.LANE_COLUMN + lane] = column
    core.state[freeway.LANE_DIRECTION + lane] = direction
    core.state[freeway.LANE_SPEED + lane] = 1000 * cells
    core.state[freeway.LANE_PROGRESS + lane] = 0


def test_reset_puts_the_chicken_at_the_bottom_and_draws_lane_speeds_between_the_bounds() -> None:
    for seed in range(5):
        core = Core(freeway, seed=seed, min_car_speed=0.3, max_car_speed=0.6)
        assert core.state[freeway.CHICKEN_ROW] == 9
        speeds = core.state[freeway.LANE_SPEED : freeway.LANE_SPEED + NUM_LANES]
        assert np.all((speeds >= 300) & (speeds <= 600))
        directions = core.state[freeway.LANE_DIRECTION : freeway.LANE_DIRECTION + NUM_LANES]
        assert set(directions.tolist()) <= {-1, 1}
        assert core.channel("chicken")[9, CHICKEN_COLUMN]


def test_reaching_the_top_scores_one_and_starts_again_at_the_bottom() -> None:
    core = Core(freeway)
    _still_traffic(core)
    core.state[freeway.CHICKEN_ROW] = 9
    rewards = [core.step(UP)[0] for _ in range(9)]
    assert rewards == [0.0] * 8 + [1.0]
    assert core.state[freeway.CHICKEN_ROW] == 9
    assert core.state[freeway.CROSSINGS] == 1


def test_the_chicken_cannot_walk_below_the_bottom_row() -> None:
    core = Core(freeway)
    _still_traffic(core)
    core.step(DOWN)
    assert core.state[freeway.CHICKEN_ROW] == 9


def test_a_car_driving_into_the_chicken_knocks_it_back() -> None:
    core = Core(freeway, knockback=2)
    _still_traffic(core)
    core.state[freeway.CHICKEN_ROW] = 4  # lane 3
    _car_about_to_move(core, lane=3, column=CHICKEN_COLUMN - 1, direction=1, cells=1)
    assert core.step(NOOP) == (0.0, False)
    assert core.state[freeway.CHICKEN_ROW] == 6


def test_walking_into_a_parked_car_knocks_the_chicken_back() -> None:
    core = Core(freeway, knockback=1)
    _still_traffic(core)
    core.state[freeway.CHICKEN_ROW] = 5
    core.state[freeway.LANE_COLUMN + 3] = CHICKEN_COLUMN  # row 4, just above
    core.step(UP)
    assert core.state[freeway.CHICKEN_ROW] == 5


def test_a_car_leaving_the_column_as_the_chicken_arrives_still_hits() -> None:
    core = Core(freeway, knockback=1)
    _still_traffic(core)
    core.state[freeway.CHICKEN_ROW] = 5
    _car_about_to_move(core, lane=3, column=CHICKEN_COLUMN, direction=1, cells=1)
    core.step(UP)
    assert core.state[freeway.CHICKEN_ROW] == 5


def test_a_two_cell_car_cannot_jump_over_the_chicken() -> None:
    core = Core(freeway, knockback=1)
    _still_traffic(core)
    core.state[freeway.CHICKEN_ROW] = 3
    _car_about_to_move(core, lane=2, column=CHICKEN_COLUMN + 1, direction=-1, cells=2)
    core.step(NOOP)
    assert core.state[freeway.LANE_COLUMN + 2] == CHICKEN_COLUMN - 1
    assert core.state[freeway.CHICKEN_ROW] == 4


def test_the_harsh_variant_sends_a_hit_chicken_back_to_the_bottom() -> None:
    core = Core(freeway, variant="harsh")
    _still_traffic(core)
    core.state[freeway.CHICKEN_ROW] = 2
    _car_about_to_move(core, lane=1, column=CHICKEN_COLUMN + 1, direction=-1, cells=1)
    core.step(NOOP)
    assert core.state[freeway.CHICKEN_ROW] == 9


def test_the_game_ends_after_its_duration() -> None:
    core = Core(freeway, duration=100)
    _still_traffic(core)
    ends = [core.step(NOOP)[1] for _ in range(100)]
    assert ends == [False] * 99 + [True]


def test_the_ramp_speeds_every_lane_up_with_each_crossing() -> None:
    core = Core(freeway, ramp=0.1)
    _still_traffic(core)
    core.state[freeway.LANE_SPEED + 5] = 300
    core.state[freeway.CROSSINGS] = 4
    core.step(NOOP)
    assert core.state[freeway.LANE_PROGRESS + 5] == 700  # 0.3 + 4 * 0.1 cells per step
    core.state[freeway.CROSSINGS] = 40
    core.step(NOOP)  # capped at two cells per step: 700 + 2000 moves it two cells
    assert core.state[freeway.LANE_PROGRESS + 5] == 700
    assert core.state[freeway.LANE_COLUMN + 5] == 2


def test_lanes_draw_evenly_spaced_cars_with_trails_and_mark_fast_ones() -> None:
    core = Core(freeway, cars_per_lane=2)
    _still_traffic(core)
    core.state[freeway.LANE_COLUMN + 0] = 1
    core.state[freeway.LANE_DIRECTION + 0] = -1
    core.state[freeway.LANE_SPEED + 0] = 1500
    row = 1
    assert np.flatnonzero(core.channel("car")[row]).tolist() == [1, 6]
    assert np.flatnonzero(core.channel("trail")[row]).tolist() == [2, 7]  # behind: moving left
    assert np.flatnonzero(core.channel("fast_car")[row]).tolist() == [1, 6]
    assert not core.channel("fast_car")[2].any()  # still lanes are slow
    # A car's trail wraps around the edge as the car itself does.
    assert np.flatnonzero(core.channel("trail")[2]).tolist() == [4, 9]


def careful_crosser(observation: np.ndarray, rng: np.random.Generator) -> int:
    """Step up when the lane above is clear of cars and of cars about to arrive; else wait, or
    back off when the lane the chicken stands in is about to be hit."""
    trail, car, fast = observation[..., 0], observation[..., 1], observation[..., 2]
    row = int(np.flatnonzero(observation[:, CHICKEN_COLUMN, 3])[0])

    def dangerous(lane_row: int) -> bool:
        if not 1 <= lane_row <= NUM_LANES:
            return False
        if car[lane_row, CHICKEN_COLUMN]:
            return True
        for side in (-1, 1):
            for reach in (1, 2):
                column = (CHICKEN_COLUMN + side * reach) % 10
                # A car is coming towards the chicken when its trail lies on the far side.
                coming = car[lane_row, column] and trail[lane_row, (column + side) % 10]
                if coming and (reach == 1 or fast[lane_row, column]):
                    return True
        return False

    if not dangerous(row - 1):
        return UP
    return NOOP if not dangerous(row) else DOWN


def test_a_careful_crosser_clearly_beats_a_random_policy() -> None:
    scripted = mean_return("Freeway", careful_crosser, episodes=3, seed=0, duration=300)
    random = mean_return("Freeway", random_policy, episodes=3, seed=0, duration=300)
    assert scripted > 2 * random + 10, (scripted, random)
