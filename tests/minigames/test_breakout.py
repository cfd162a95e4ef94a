"""Breakout: the ball bounces off walls, bricks and the paddle; bricks score; misses cost lives;
a cleared wall comes back; a ball tracker wins."""

from __future__ import annotations

import numpy as np
from minigame_helpers import Core, mean_return, random_policy

from envsuite.minigames import breakout
from envsuite.minigames.engine import LEFT, NOOP, RIGHT


def _ball(core: Core, row: int, column: int, direction_row: int, direction_column: int) -> None:
    """Put the ball at a cell, about to move (the next step moves it) in a direction."""
    core.state[breakout.BALL_ROW] = row
    core.state[breakout.BALL_COLUMN] = column
    core.state[breakout.TRAIL_ROW] = row
    core.state[breakout.TRAIL_COLUMN] = column
    core.state[breakout.DIRECTION_ROW] = direction_row
    core.state[breakout.DIRECTION_COLUMN] = direction_column
    core.state[breakout.PROGRESS] = 999


def _ball_cell(core: Core) -> tuple[int, int]:
    return int(core.state[breakout.BALL_ROW]), int(core.state[breakout.BALL_COLUMN])


def _direction(core: Core) -> tuple[int, int]:
    return int(core.state[breakout.DIRECTION_ROW]), int(core.state[breakout.DIRECTION_COLUMN])


def test_reset_builds_the_wall_and_serves_the_ball_downwards() -> None:
    core = Core(breakout, brick_rows=3)
    bricks = core.channel("brick")
    assert bricks[1:4].all()
    assert bricks.sum() == 30
    assert core.state[breakout.BRICKS_LEFT] == 30
    assert _ball_cell(core)[0] == 5
    assert _direction(core)[0] == 1
    assert core.state[breakout.LIVES_LEFT] == 3


def test_the_ball_moves_diagonally_and_leaves_a_trail() -> None:
    core = Core(breakout)
    _ball(core, 6, 4, direction_row=1, direction_column=-1)
    assert core.step(NOOP) == (0.0, False)
    assert _ball_cell(core) == (7, 3)
    assert core.channel("ball")[7, 3]
    assert core.channel("trail")[6, 4]
    assert core.channel("trail").sum() == 1


def test_a_brick_hit_scores_one_breaks_the_brick_and_turns_the_ball_down() -> None:
    core = Core(breakout, brick_rows=3)  # bricks on rows 1 to 3
    _ball(core, 4, 5, direction_row=-1, direction_column=1)
    assert core.step(NOOP) == (1.0, False)
    assert not core.channel("brick")[3, 6]
    assert core.channel("brick").sum() == 29
    # It reflects off the brick's face: it stays on its row, moving on sideways, now heading down.
    assert _ball_cell(core) == (4, 6)
    assert _direction(core) == (1, 1)
    assert core.state[breakout.BRICKS_BROKEN] == 1


def test_a_ball_caught_in_a_brick_corner_breaks_both_bricks() -> None:
    core = Core(breakout, brick_rows=3)
    core.state[breakout._brick_slot(3, 4)] = 0  # a notch in the bottom row the ball sits in
    core.state[breakout.BRICKS_LEFT] -= 1
    _ball(core, 3, 4, direction_row=-1, direction_column=1)
    assert core.step(NOOP) == (2.0, False)
    bricks = core.channel("brick")
    assert not bricks[2, 5]
    assert not bricks[3, 5]
    assert _ball_cell(core) == (3, 4)
    assert _direction(core) == (1, -1)


def test_the_ball_bounces_off_the_side_walls_and_the_ceiling() -> None:
    core = Core(breakout)
    _ball(core, 6, 9, direction_row=1, direction_column=1)
    core.step(NOOP)
    assert _ball_cell(core) == (7, 8)
    assert _direction(core) == (1, -1)
    core.state[breakout.BRICKS :] = 0  # an open top, so the ball reaches the ceiling
    core.state[breakout.BRICKS_LEFT] = 0
    _ball(core, 0, 0, direction_row=-1, direction_column=-1)
    core.step(NOOP)
    assert _ball_cell(core) == (1, 1)
    assert _direction(core) == (1, 1)


def test_the_paddle_returns_the_ball_and_its_ends_aim_it() -> None:
    core = Core(breakout, paddle_width=3)
    core.state[breakout.PADDLE] = 3  # columns 3, 4 and 5
    _ball(core, 8, 3, direction_row=1, direction_column=1)  # lands on the middle cell
    assert core.step(NOOP) == (0.0, False)
    assert _ball_cell(core) == (8, 4)
    assert _direction(core) == (-1, 1)
    _ball(core, 8, 6, direction_row=1, direction_column=-1)  # lands on the right end
    core.step(NOOP)
    assert _direction(core) == (-1, 1)
    _ball(core, 8, 2, direction_row=1, direction_column=1)  # lands on the left end
    core.step(NOOP)
    assert _direction(core) == (-1, -1)
    assert core.state[breakout.LIVES_LEFT] == 3


def test_a_miss_costs_a_life_serves_a_new_ball_and_the_last_miss_ends_the_game() -> None:
    core = Core(breakout, lives=2, paddle_width=2)
    core.state[breakout.PADDLE] = 0
    _ball(core, 8, 6, direction_row=1, direction_column=1)
    assert core.step(NOOP) == (0.0, False)
    assert core.state[breakout.LIVES_LEFT] == 1
    assert _ball_cell(core)[0] == 5
    assert _direction(core)[0] == 1
    _ball(core, 8, 6, direction_row=1, direction_column=-1)
    assert core.step(NOOP) == (0.0, True)


def test_a_cleared_wall_is_rebuilt_once_the_ball_is_below_it() -> None:
    core = Core(breakout, brick_rows=2)
    core.state[breakout.BRICKS :] = 0
    core.state[breakout._brick_slot(2, 5)] = 1
    core.state[breakout.BRICKS_LEFT] = 1
    _ball(core, 1, 4, direction_row=1, direction_column=1)  # inside the wall's rows
    assert core.step(NOOP) == (1.0, False)
    assert core.channel("brick").sum() == 0  # not yet: the ball is still among the rows
    _ball(core, 2, 4, direction_row=1, direction_column=1)
    core.step(NOOP)
    bricks = core.channel("brick")
    assert bricks[1:3].all()
    assert bricks.sum() == 20
    assert core.state[breakout.BRICKS_LEFT] == 20


def test_the_paddle_stops_at_the_walls_and_is_drawn_its_width() -> None:
    core = Core(breakout, paddle_width=4)
    core.state[breakout.PADDLE] = 0
    core.step(LEFT)
    assert core.state[breakout.PADDLE] == 0
    for _ in range(12):
        core.step(RIGHT)
    assert core.state[breakout.PADDLE] == 6
    assert np.flatnonzero(core.channel("paddle")[9]).tolist() == [6, 7, 8, 9]


def test_the_ball_speed_sets_how_often_it_moves() -> None:
    core = Core(breakout, ball_speed=0.25)
    _ball(core, 5, 5, direction_row=1, direction_column=1)
    core.state[breakout.PROGRESS] = 0
    rows = []
    for _ in range(8):
        core.step(NOOP)
        rows.append(_ball_cell(core)[0])
    assert rows == [5, 5, 5, 6, 6, 6, 6, 7]


def test_the_ramp_speeds_the_ball_up_with_each_brick() -> None:
    core = Core(breakout, ball_speed=0.3, ramp=0.02)
    core.state[breakout.BRICKS_BROKEN] = 10
    core.state[breakout.PROGRESS] = 0
    core.step(NOOP)
    assert core.state[breakout.PROGRESS] == 500  # 0.3 + 10 * 0.02 cells per step
    core.state[breakout.BRICKS_BROKEN] = 100
    core.state[breakout.PROGRESS] = 0
    core.step(NOOP)  # capped at one cell per step
    assert core.state[breakout.PROGRESS] == 0
    assert core.state[breakout.TRAIL_ROW] != core.state[breakout.BALL_ROW]


def test_the_thick_wall_variant_has_four_rows_of_bricks() -> None:
    bricks = Core(breakout, variant="thick_wall").channel("brick")
    assert bricks[1:5].all()
    assert bricks.sum() == 40


def tracker(observation: np.ndarray, rng: np.random.Generator) -> int:
    """Keep the paddle under the column the ball is heading for, read off the ball and trail."""
    paddle = np.flatnonzero(observation[9, :, 2])
    ball = np.argwhere(observation[..., 3])
    trail = np.argwhere(observation[..., 0])
    if len(ball) == 0 or len(paddle) == 0:
        return NOOP
    ball_column = ball[0][1]
    heading = ball_column - trail[0][1] if len(trail) else 0
    # Aim where the ball will be one move on, reflected off the side walls.
    target = ball_column + heading
    target = -target if target < 0 else 18 - target if target > 9 else target
    centre = (paddle[0] + paddle[-1]) / 2
    return LEFT if target < centre - 0.5 else RIGHT if target > centre + 0.5 else NOOP


def test_a_tracking_policy_clearly_beats_a_random_one() -> None:
    scripted = mean_return("Breakout", tracker, episodes=3, seed=0, max_episode_steps=300)
    random = mean_return("Breakout", random_policy, episodes=3, seed=0, max_episode_steps=300)
    assert scripted > 2 * random + 5, (scripted, random)
