"""Maze generation: border, rooms, doorways, connected floor, wall density, determinism; BFS
distances on hand-built grids; random floor cells; clear errors for impossible parameters.
"""

from __future__ import annotations

import itertools
from collections import deque

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envsuite.navigation.cells import (
    DOOR_LOCKED,
    FLOOR,
    GOAL,
    GREY,
    KEY,
    RED,
    WALL,
    is_walkable,
    kind_of,
    make_cell,
)
from envsuite.navigation.maze import (
    FLOOR_CELL,
    MAX_SIZE,
    MIN_ROOM,
    MIN_SIZE,
    WALL_CELL,
    _keeps_floor_connected,
    check_maze_params,
    distances_to,
    generate_maze,
    minimum_size,
    random_floor_cell,
)

STEPS = ((-1, 0), (0, 1), (1, 0), (0, -1))


def rng_from(seed: int) -> np.ndarray:
    return np.array([seed], dtype=np.uint64)


def reference_distances(walkable: np.ndarray, target: tuple[int, int]) -> np.ndarray:
    """Breadth-first distances to ``target`` over ``walkable`` cells (-1 unreachable)."""
    distances = np.full(walkable.shape, -1, dtype=np.int64)
    distances[target] = 0
    frontier = deque([target])
    while frontier:
        row, column = frontier.popleft()
        for step_row, step_column in STEPS:
            near = (row + step_row, column + step_column)
            if (
                0 <= near[0] < walkable.shape[0]
                and 0 <= near[1] < walkable.shape[1]
                and walkable[near]
                and distances[near] < 0
            ):
                distances[near] = distances[row, column] + 1
                frontier.append(near)
    return distances


def floor_is_connected(floor: np.ndarray) -> bool:
    cells = np.argwhere(floor)
    if len(cells) == 0:
        return True
    return int((reference_distances(floor, tuple(cells[0])) >= 0).sum()) == len(cells)


def line_positions(floor: np.ndarray, rooms_across: int) -> list[int]:
    """Rows of a wall-line in an interior-only view of a maze with no extra walls: a row of a
    room is floor but for the crossing lines; a line row is wall but for its doorways (at most
    one per room it crosses)."""
    return [index for index, line in enumerate(floor) if line.sum() <= rooms_across]


# Room counts first, then a size that fits them: every valid parameter triple is reachable.
@st.composite
def maze_params(draw: st.DrawFn) -> tuple[int, int, int, float, int, int]:
    room_rows = draw(st.integers(1, 4))
    room_columns = draw(st.integers(1, 4))
    size = draw(st.integers(max(MIN_SIZE, minimum_size(max(room_rows, room_columns))), MAX_SIZE))
    wall_density = draw(st.floats(0.0, 0.6))
    seed = draw(st.integers(0, 2**64 - 1))
    block = draw(st.integers(size, MAX_SIZE + 2))
    return size, room_rows, room_columns, wall_density, seed, block


def test_cell_codes_are_the_documented_ones() -> None:
    assert make_cell(FLOOR, 0) == FLOOR_CELL == 0
    assert make_cell(WALL, GREY) == WALL_CELL
    assert kind_of(WALL_CELL) == WALL
    assert not is_walkable(WALL_CELL)
    assert is_walkable(FLOOR_CELL)


@settings(max_examples=150, deadline=None)
@given(maze_params())
def test_generated_mazes_have_border_rooms_doorways_connected_floor_and_density(params) -> None:
    size, room_rows, room_columns, wall_density, seed, block = params
    cells = np.full((block, block), 12345, dtype=np.int32)
    generate_maze(cells, size, room_rows, room_columns, wall_density, rng_from(seed))
    assert set(np.unique(cells)) <= {FLOOR_CELL, WALL_CELL}
    assert (cells[size:, :] == WALL_CELL).all()
    assert (cells[:, size:] == WALL_CELL).all()
    maze = cells[:size, :size]
    for border in (maze[0], maze[-1], maze[:, 0], maze[:, -1]):
        assert (border == WALL_CELL).all()
    floor = maze == FLOOR_CELL
    assert floor_is_connected(floor)

    # The layout is drawn before the interior walls, so the same rng state with no walls gives
    # this maze's rooms and doorways alone.
    layout = np.zeros((size, size), dtype=np.int32)
    generate_maze(layout, size, room_rows, room_columns, 0.0, rng_from(seed))
    open_floor = layout == FLOOR_CELL
    assert floor_is_connected(open_floor)
    assert not (floor & ~open_floor).any()  # walls are only ever added
    inside = open_floor[1:-1, 1:-1]
    line_rows = line_positions(inside, room_columns)
    line_columns = line_positions(inside.T, room_rows)
    assert len(line_rows) == room_rows - 1
    assert len(line_columns) == room_columns - 1
    for lines in (line_rows, line_columns):
        edges = [-1, *lines, size - 2]
        assert all(after - before - 1 >= MIN_ROOM for before, after in itertools.pairwise(edges))
    room_mask = np.ones_like(inside)
    room_mask[line_rows, :] = False
    room_mask[:, line_columns] = False
    assert inside[room_mask].all()  # each room is a full rectangle of floor
    doorways = inside & ~room_mask
    room_floor = int(room_mask.sum())
    # Every doorway and the floor either side of it stays open.
    doorway_cells = np.argwhere(doorways) + 1
    for row, column in doorway_cells:
        assert floor[row, column]
        for step_row, step_column in STEPS:
            if open_floor[row + step_row, column + step_column]:
                assert floor[row + step_row, column + step_column]
    # Doorways join all rooms: the floor of the layout is connected (above), and each doorway
    # sits between two rooms on a wall line.
    for row, column in doorway_cells:
        on_row_line = row - 1 in line_rows
        assert on_row_line != (column - 1 in line_columns)  # never on a crossing
    target = round(wall_density * room_floor)
    placed = int(open_floor.sum() - floor.sum())
    assert placed <= target
    if wall_density <= 0.3:
        assert placed == target
    else:
        assert placed >= 0.8 * target


@settings(max_examples=60, deadline=None)
@given(maze_params())
def test_generation_is_a_function_of_the_rng_state(params) -> None:
    size, room_rows, room_columns, wall_density, seed, block = params
    first, second = np.zeros((block, block), np.int32), np.ones((block, block), np.int32)
    first_rng, second_rng = rng_from(seed), rng_from(seed)
    generate_maze(first, size, room_rows, room_columns, wall_density, first_rng)
    generate_maze(second, size, room_rows, room_columns, wall_density, second_rng)
    np.testing.assert_array_equal(first, second)
    assert first_rng[0] == second_rng[0]


def test_different_rng_states_give_different_mazes() -> None:
    mazes = set()
    for seed in range(20):
        cells = np.zeros((MAX_SIZE, MAX_SIZE), np.int32)
        generate_maze(cells, 15, 2, 3, 0.2, rng_from(seed))
        mazes.add(cells.tobytes())
    assert len(mazes) == 20


def test_local_wall_rule_holds_exactly_when_the_ring_joins_the_neighbours() -> None:
    """The rule behind interior walls, proved over every ring: it allows a wall exactly when
    the cell's floor 4-neighbours are joined within the ring, so any path through the cell has
    a detour and walling it cannot cut the floor apart."""
    ring = ((0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0), (0, 0))
    for pattern in range(256):
        cells = np.full((3, 3), FLOOR_CELL, dtype=np.int32)
        for place, (row, column) in enumerate(ring):
            if pattern >> place & 1:
                cells[row, column] = WALL_CELL
        ring_floor = cells != WALL_CELL
        ring_floor[1, 1] = False
        neighbours = [(row, column) for row, column in ring[::2] if ring_floor[row, column]]
        joined = not neighbours or all(
            reference_distances(ring_floor, neighbours[0])[near] >= 0 for near in neighbours
        )
        assert _keeps_floor_connected(cells, 1, 1) == joined, pattern


@pytest.mark.parametrize("wall_density", [0.0, 0.5, 0.6])
def test_one_open_room_reaches_the_requested_density(wall_density) -> None:
    cells = np.zeros((MAX_SIZE, MAX_SIZE), np.int32)
    generate_maze(cells, MAX_SIZE, 1, 1, wall_density, rng_from(3))
    floor = cells == FLOOR_CELL
    assert floor_is_connected(floor)
    assert floor.sum() >= (1 - wall_density) * (MAX_SIZE - 2) ** 2 - 1


# Hand-built grid: '#' wall, '.' floor, 'K' key (target, not walkable), 'D' locked door,
# 'G' goal (walkable).
HAND_GRID = [
    "#######",
    "#..#..#",
    "#.##D.#",
    "#..K.G#",
    "####..#",
    "#.#####",
    "#######",
]
CODES = {
    "#": WALL_CELL,
    ".": FLOOR_CELL,
    "K": make_cell(KEY, RED),
    "D": make_cell(DOOR_LOCKED, RED),
    "G": make_cell(GOAL, RED),
}


def hand_cells(block: int = 9) -> np.ndarray:
    cells = np.full((block, block), WALL_CELL, dtype=np.int32)
    for row, line in enumerate(HAND_GRID):
        cells[row, : len(line)] = [CODES[symbol] for symbol in line]
    return cells


def test_distances_to_a_key_count_the_key_and_skip_doors_and_pockets() -> None:
    cells = hand_cells()
    distances = np.full(cells.shape, 99, dtype=np.int32)
    distances_to(cells, 7, 3, 3, distances)
    x = -1
    expected = np.array(
        [
            [x, x, x, x, x, x, x],
            [x, 4, 5, x, 5, 4, x],
            [x, 3, x, x, x, 3, x],
            [x, 2, 1, 0, 1, 2, x],
            [x, x, x, x, 2, 3, x],
            [x, x, x, x, x, x, x],  # the pocket at (5, 1) is floor but cut off
            [x, x, x, x, x, x, x],
        ]
    )
    np.testing.assert_array_equal(distances[:7, :7], expected)
    assert (distances[7:, :] == -1).all()
    assert (distances[:, 7:] == -1).all()


def test_distances_to_a_walkable_goal_pass_through_floor_but_not_the_key() -> None:
    cells = hand_cells()
    distances = np.zeros(cells.shape, dtype=np.int32)
    distances_to(cells, 7, 3, 5, distances)
    assert distances[3, 5] == 0
    assert distances[1, 4] == 3
    assert distances[3, 3] == -1  # a key is never walked through, nor onto
    assert distances[3, 1] == -1  # behind the key
    assert distances[2, 4] == -1  # the locked door
    assert distances[5, 1] == -1


@settings(max_examples=40, deadline=None)
@given(maze_params(), st.integers(0, 10**6))
def test_distances_agree_with_a_reference_search_on_generated_mazes(params, pick) -> None:
    size, room_rows, room_columns, wall_density, seed, block = params
    cells = np.zeros((block, block), np.int32)
    generate_maze(cells, size, room_rows, room_columns, wall_density, rng_from(seed))
    floor_cells = np.argwhere(cells == FLOOR_CELL)
    target = tuple(floor_cells[pick % len(floor_cells)])
    distances = np.zeros((block, block), np.int32)
    distances_to(cells, size, target[0], target[1], distances)
    np.testing.assert_array_equal(distances, reference_distances(cells == FLOOR_CELL, target))
    assert ((distances >= 0) == (cells == FLOOR_CELL)).all()  # all floor reaches the target


def test_random_floor_cell_is_uniform_over_plain_floor() -> None:
    cells = np.full((MAX_SIZE, MAX_SIZE), WALL_CELL, dtype=np.int32)
    cells[1, 1] = cells[2, 3] = cells[4, 2] = FLOOR_CELL
    cells[3, 3] = make_cell(GOAL, RED)  # walkable but not plain floor
    cells[6, 6] = FLOOR_CELL  # beyond size
    rng = rng_from(11)
    draws = [random_floor_cell(cells, 5, rng) for _ in range(3000)]
    counts = {cell: draws.count(cell) for cell in set(draws)}
    assert set(counts) == {(1, 1), (2, 3), (4, 2)}
    assert min(counts.values()) > 900


def test_random_floor_cell_of_a_maze_without_floor_is_minus_one() -> None:
    cells = np.full((MIN_SIZE, MIN_SIZE), WALL_CELL, dtype=np.int32)
    assert random_floor_cell(cells, MIN_SIZE, rng_from(0)) == (-1, -1)


@pytest.mark.parametrize(
    ("size", "room_rows", "room_columns", "message"),
    [
        (
            9,
            3,
            1,
            r"^size: a 9x9 maze cannot hold 3 room_rows of at least 3x3 floor: needs size >= 13$",
        ),
        (16, 2, 4, r"size: a 16x16 maze cannot hold 4 room_columns .*needs size >= 17"),
        (12, 3, 4, r"size: a 12x12 maze cannot hold 4 room_columns .*needs size >= 17"),
        (12, 4, 4, r"size: a 12x12 maze cannot hold 4 room_rows .*needs size >= 17"),
        (6, 1, 1, r"size: must be a whole number in \[7, 21\] .*got 6"),
        (22, 1, 1, r"size: must be a whole number in \[7, 21\]"),
        (13.5, 1, 1, r"size: must be a whole number"),
        ("13", 1, 1, r"size: must be a whole number .*got '13'"),
        (13, 0, 1, r"room_rows: must be a whole number in \[1, 4\]"),
        (21, 5, 1, r"room_rows: must be a whole number in \[1, 4\]"),
        (21, 1, True, r"room_columns: must be a whole number in \[1, 4\]"),
        (21, 1, 4.5, r"room_columns: must be a whole number in \[1, 4\]"),
    ],
)
def test_impossible_maze_parameters_are_clear_errors(size, room_rows, room_columns, message):
    with pytest.raises(ValueError, match=message):
        check_maze_params(size, room_rows, room_columns)


@pytest.mark.parametrize(
    ("size", "room_rows", "room_columns"),
    [(7, 1, 1), (9, 2, 2), (13, 3, 3), (17, 4, 4), (21, 4, 1), (17.0, 4.0, 2.0)],
)
def test_possible_maze_parameters_pass(size, room_rows, room_columns) -> None:
    check_maze_params(size, room_rows, room_columns)
    assert minimum_size(int(max(room_rows, room_columns))) <= size
