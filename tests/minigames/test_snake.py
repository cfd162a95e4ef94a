"""Snake: it moves and turns, eats and grows, crashes into edges, obstacles and itself; a greedy
food seeker wins."""

from __future__ import annotations

import numpy as np
from minigame_helpers import Core, mean_return, random_policy

from envsuite.minigames import snake
from envsuite.minigames.engine import DOWN, GRID_SIZE, LEFT, NOOP, RIGHT, UP

ROWS_COLUMNS = list[tuple[int, int]]


def _cell(row: int, column: int) -> int:
    return row * GRID_SIZE + column


def _set_board(core: Core, body: ROWS_COLUMNS, direction: int, food: ROWS_COLUMNS) -> None:
    """Lay out the snake (``body`` from tail to head), heading ``direction``, and the food; the
    next step moves it."""
    core.state[snake.FOOD_CELLS : snake.BOARD] = -1
    core.state[snake.BOARD : snake.BOARD + snake.NUM_CELLS] = snake.EMPTY
    for index, (row, column) in enumerate(body):
        core.state[snake.BODY + index] = _cell(row, column)
        core.state[snake.BOARD + _cell(row, column)] = snake.SNAKE
    for slot, (row, column) in enumerate(food):
        _put(core, row, column, snake.FOOD_ITEM, snake.FOOD_CELLS + slot)
    core.state[snake.HEAD] = len(body) - 1
    core.state[snake.LENGTH] = len(body)
    core.state[snake.PENDING_GROWTH] = 0
    core.state[snake.DIRECTION] = direction
    core.state[snake.NEXT_DIRECTION] = direction
    core.state[snake.PROGRESS] = 999


def _put(core: Core, row: int, column: int, content: int, slot: int) -> None:
    """Put food or an obstacle on a cell, listed in state slot ``slot``."""
    old = core.state[slot]
    if old >= 0:
        core.state[snake.BOARD + old] = snake.EMPTY
    core.state[slot] = _cell(row, column)
    core.state[snake.BOARD + _cell(row, column)] = content


def _cells(channel: np.ndarray) -> set[tuple[int, int]]:
    return {(int(row), int(column)) for row, column in np.argwhere(channel)}


def _head(core: Core) -> tuple[int, int]:
    (head,) = _cells(core.channel("head"))
    return head


def test_reset_lays_a_three_cell_snake_and_the_food() -> None:
    for seed in range(5):
        core = Core(snake, seed=seed, food=2)
        body = _cells(core.channel("body"))
        head = _head(core)
        assert len(body) == 2
        assert {row for row, _ in body} == {head[0]}
        assert 2 <= head[0] <= 7
        assert core.channel("food").sum() == 2
        assert not (core.channel("food") & core.channel("body")).any()


def test_the_snake_moves_one_cell_per_move_period_and_its_tail_follows() -> None:
    core = Core(snake, move_speed=0.5)
    _set_board(core, [(5, 2), (5, 3), (5, 4)], RIGHT, food=[(0, 0)])
    core.state[snake.PROGRESS] = 0
    heads = []
    for _ in range(4):
        assert core.step(NOOP) == (0.0, False)
        heads.append(_head(core))
    assert heads == [(5, 4), (5, 5), (5, 5), (5, 6)]
    assert _cells(core.channel("body")) == {(5, 4), (5, 5)}


def test_turns_apply_at_the_next_move_and_reversing_is_ignored() -> None:
    core = Core(snake)
    _set_board(core, [(5, 2), (5, 3), (5, 4)], RIGHT, food=[(0, 0)])
    core.step(LEFT)  # straight back into the neck: ignored
    assert _head(core) == (5, 5)
    core.state[snake.PROGRESS] = 0
    core.step(UP)  # no move this step, the turn waits for the next one
    assert _head(core) == (5, 5)
    core.step(LEFT)  # still heading right until it moves: a reversal, ignored
    assert _head(core) == (4, 5)
    core.step(DOWN)  # now heading up: ignored
    core.step(NOOP)
    assert _head(core) == (3, 5)


def test_eating_food_scores_one_places_new_food_and_grows_the_snake() -> None:
    core = Core(snake, growth=2, move_speed=1.0)
    _set_board(core, [(5, 2), (5, 3), (5, 4)], RIGHT, food=[(5, 5)])
    assert core.step(NOOP) == (1.0, False)
    food = _cells(core.channel("food"))
    assert len(food) == 1
    assert (5, 5) not in food
    _put(core, 0, 0, snake.FOOD_ITEM, snake.FOOD_CELLS)  # out of the way of the moves below
    lengths = []
    for _ in range(3):
        core.step(DOWN if core.state[snake.LENGTH] < 5 else NOOP)
        lengths.append(int(core.state[snake.LENGTH]))
    assert lengths == [4, 5, 5]  # grows two cells over the next two moves, then stops
    assert core.channel("body").sum() + core.channel("head").sum() == 5
    assert core.state[snake.FOOD_EATEN] == 1


def test_running_into_the_edge_ends_the_game() -> None:
    core = Core(snake)
    _set_board(core, [(0, 3), (0, 4), (0, 5)], RIGHT, food=[(9, 9)])
    assert core.step(UP) == (0.0, True)
    core = Core(snake)
    _set_board(core, [(4, 7), (4, 8), (4, 9)], RIGHT, food=[(0, 0)])
    assert core.step(NOOP) == (0.0, True)


def test_running_into_its_body_ends_the_game_but_chasing_its_tail_does_not() -> None:
    # A square loop: tail at (4, 4), head at (5, 4) right below it.
    loop = [(4, 4), (4, 5), (5, 5), (5, 4)]
    core = Core(snake)
    _set_board(core, loop, LEFT, food=[(0, 0)])
    assert core.step(UP) == (0.0, False)  # the tail moves off as the head moves in
    assert _head(core) == (4, 4)
    core = Core(snake)
    _set_board(core, loop, LEFT, food=[(0, 0)])
    core.state[snake.PENDING_GROWTH] = 1  # a growing tail stays put
    assert core.step(UP) == (0.0, True)
    core = Core(snake)
    _set_board(core, [(3, 4), *loop], LEFT, food=[(0, 0)])
    assert core.step(UP) == (0.0, True)  # (4, 4) is no longer the tail


def test_the_body_ring_wraps_around_its_slots() -> None:
    core = Core(snake, move_speed=1.0)
    _set_board(core, [(5, 2), (5, 3), (5, 4)], RIGHT, food=[(0, 0)])
    core.state[snake.BODY + 97 : snake.BODY + 100] = core.state[snake.BODY : snake.BODY + 3]
    core.state[snake.HEAD] = 99
    for action in (NOOP, DOWN, LEFT, LEFT):
        assert core.step(action) == (0.0, False)
    assert core.state[snake.HEAD] == 3
    assert _head(core) == (6, 3)
    assert _cells(core.channel("body")) == {(6, 4), (6, 5)}


def _reachable_from(free: np.ndarray, row: int, column: int) -> int:
    """How many free cells a walk through free cells from (row, column) reaches."""
    seen, frontier = {(row, column)}, [(row, column)]
    while frontier:
        row, column = frontier.pop()
        for near in ((row - 1, column), (row + 1, column), (row, column - 1), (row, column + 1)):
            inside = 0 <= near[0] < GRID_SIZE and 0 <= near[1] < GRID_SIZE
            if inside and free[near] and near not in seen:
                seen.add(near)
                frontier.append(near)
    return len(seen)


def test_obstacles_end_the_game_and_keep_every_cell_reachable() -> None:
    for seed in range(10):
        core = Core(snake, seed=seed, obstacles=8)
        obstacles = core.channel("obstacle")
        head_row = _head(core)[0]
        assert 5 <= obstacles.sum() <= 8
        assert not obstacles[[0, GRID_SIZE - 1]].any()
        assert not obstacles[:, [0, GRID_SIZE - 1]].any()
        assert not obstacles[head_row].any()
        for row, column in np.argwhere(obstacles):
            assert obstacles[row - 1 : row + 2, column - 1 : column + 2].sum() == 1
        assert _reachable_from(~obstacles, head_row, 0) == int((~obstacles).sum())
    core = Core(snake)
    _set_board(core, [(5, 2), (5, 3), (5, 4)], RIGHT, food=[(0, 0)])
    _put(core, 5, 5, snake.OBSTACLE, snake.OBSTACLE_CELLS)
    assert core.channel("obstacle")[5, 5]
    assert core.step(NOOP) == (0.0, True)


def test_the_board_and_the_drawn_lists_agree_throughout_play() -> None:
    core = Core(snake, seed=3, food=3, obstacles=6, growth=2, move_speed=1.0)
    actions = np.random.default_rng(3).integers(0, 6, 400)
    for action in actions:
        _, terminated = core.step(int(action))
        if terminated:
            snake.reset(core.state, core.params, core.rng)
        board = core.state[snake.BOARD : snake.BOARD + snake.NUM_CELLS].reshape(10, 10)
        grid = core.grid()
        assert (grid[..., 0] == (board == snake.OBSTACLE)).all()
        assert (grid[..., 1] == (board == snake.FOOD_ITEM)).all()
        assert ((grid[..., 2] | grid[..., 3]) == (board == snake.SNAKE)).all()
        assert grid[..., 3].sum() == 1
        assert (board == snake.SNAKE).sum() == core.state[snake.LENGTH]


def test_the_ramp_speeds_the_snake_up_with_each_food() -> None:
    core = Core(snake, move_speed=0.3, ramp=0.05)
    core.state[snake.FOOD_EATEN] = 4
    core.state[snake.PROGRESS] = 0
    core.step(NOOP)
    assert core.state[snake.PROGRESS] == 500  # 0.3 + 4 * 0.05 cells per step


def test_the_feast_variant_lays_three_food_items() -> None:
    assert Core(snake, variant="feast").channel("food").sum() == 3


def _safe(observation: np.ndarray, row: int, column: int) -> bool:
    inside = 0 <= row < GRID_SIZE and 0 <= column < GRID_SIZE
    return inside and not observation[row, column, [0, 2]].any()


def food_seeker(observation: np.ndarray, rng: np.random.Generator) -> int:
    """Step towards the nearest food, never onto an edge, obstacle or the body."""
    head = np.argwhere(observation[..., 3])
    food = np.argwhere(observation[..., 1])
    if len(head) == 0:
        return NOOP
    row, column = head[0]
    moves = {UP: (row - 1, column), DOWN: (row + 1, column), LEFT: (row, column - 1)}
    moves[RIGHT] = (row, column + 1)
    safe = {action: cell for action, cell in moves.items() if _safe(observation, *cell)}
    if not safe:
        return NOOP
    if len(food) == 0:
        return next(iter(safe))

    def distance(cell: tuple[int, int]) -> int:
        return int(np.abs(food - np.array(cell)).sum(axis=1).min())

    return min(safe, key=lambda action: distance(safe[action]))


def test_a_food_seeking_policy_clearly_beats_a_random_one() -> None:
    scripted = mean_return("Snake", food_seeker, episodes=3, seed=0, max_episode_steps=300)
    random = mean_return("Snake", random_policy, episodes=3, seed=0, max_episode_steps=300)
    assert scripted > 2 * random + 5, (scripted, random)
