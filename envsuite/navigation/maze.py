"""Maze layouts for the navigation tasks: rooms joined by doorways, scattered interior walls that
never cut the floor apart, BFS distances over walkable cells, and random floor cells.

Cells hold the packed codes of ``envsuite.navigation.cells``: generated floor is ``FLOOR_CELL``
(0) and every wall, the border and the block beyond ``size`` included, is ``WALL_CELL`` (a grey
wall, ``make_cell(WALL, GREY)``). Test a cell's kind with ``kind_of``, never against ``WALL``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from envsuite.navigation.cells import FLOOR, GREY, NUM_KINDS, WALL, is_walkable
from envsuite.numba_random import random_below, uniform

MAX_SIZE = 21
MIN_SIZE = 7
# Floor cells along each side of the smallest room.
MIN_ROOM = 3
MAX_ROOMS = 4  # room rows (or columns) at most
# make_cell(FLOOR, 0) and make_cell(WALL, GREY), written out to spare a jit compile at import.
FLOOR_CELL = FLOOR
WALL_CELL = WALL + NUM_KINDS * GREY
# The ring of eight cells around a cell, in order round it (north first, clockwise): neighbours
# in the ring are 4-adjacent, and the even places are the cell's own 4-neighbours.
_RING_ROWS = np.array([-1, -1, 0, 1, 1, 1, 0, -1], dtype=np.int64)
_RING_COLUMNS = np.array([0, 1, 1, 1, 0, -1, -1, -1], dtype=np.int64)
_STEP_ROWS = np.array([-1, 0, 1, 0], dtype=np.int64)
_STEP_COLUMNS = np.array([0, 1, 0, -1], dtype=np.int64)


def minimum_size(rooms: int) -> int:
    """The smallest maze that holds ``rooms`` rooms along a side: a border, ``rooms - 1`` wall
    lines and ``MIN_ROOM`` floor cells per room."""
    return 2 + rooms * MIN_ROOM + (rooms - 1)


def _whole_number(field: str, value: object, low: int, high: int, what: str) -> int:
    is_number = isinstance(value, int | float | np.number) and not isinstance(value, bool)
    if not (is_number and float(value).is_integer() and low <= value <= high):
        raise ValueError(
            f"{field}: must be a whole number in [{low}, {high}] ({what}), got {value!r}"
        )
    return int(value)


def check_maze_params(size: object, room_rows: object, room_columns: object) -> None:
    """Raise a ValueError naming the field when a ``size x size`` maze cannot be split into
    ``room_rows x room_columns`` rooms of at least ``MIN_ROOM x MIN_ROOM`` floor each, or when a
    value is out of bounds (size ``MIN_SIZE..MAX_SIZE``, rooms ``1..4`` each way)."""
    size = _whole_number("size", size, MIN_SIZE, MAX_SIZE, "cells along a side of the maze")
    room_rows = _whole_number("room_rows", room_rows, 1, MAX_ROOMS, "rooms from top to bottom")
    room_columns = _whole_number(
        "room_columns", room_columns, 1, MAX_ROOMS, "rooms from left to right"
    )
    # The side with more rooms names the size needed for both.
    rooms, field = max((room_rows, "room_rows"), (room_columns, "room_columns"))
    if size < minimum_size(rooms):
        raise ValueError(
            f"size: a {size}x{size} maze cannot hold {rooms} {field} of at least "
            f"{MIN_ROOM}x{MIN_ROOM} floor: needs size >= {minimum_size(rooms)}"
        )


@njit(cache=True, inline="always")
def _keeps_floor_connected(cells: np.ndarray, row: int, column: int) -> bool:
    """Whether walling the floor cell at (row, column) keeps all floor connected, by a local
    rule: the floor 4-neighbours of the cell must be joined to one another through its ring.

    Why it suffices: any floor path through the cell enters and leaves it by two of its floor
    4-neighbours; if those are joined by a path of floor cells in the ring, the path detours round
    the cell. Consecutive ring cells are 4-adjacent, and ring cells are 4-adjacent only to their
    ring neighbours, so within the ring floor cells are joined exactly when they lie in one run
    of consecutive floor cells. The rule asks that at most one run holds 4-neighbours. It is
    cautious (it refuses some walls a detour outside the ring would allow) but needs no search.
    """
    start = -1
    for place in range(8):
        if cells[row + _RING_ROWS[place], column + _RING_COLUMNS[place]] == WALL_CELL:
            start = place
            break
    if start < 0:
        return True  # all floor round it: a single run
    runs_with_neighbours = 0
    in_run = False
    run_has_neighbour = False
    for offset in range(1, 9):
        place = (start + offset) % 8
        is_floor = cells[row + _RING_ROWS[place], column + _RING_COLUMNS[place]] != WALL_CELL
        if is_floor:
            if not in_run:
                in_run = True
                run_has_neighbour = False
            if place % 2 == 0:
                run_has_neighbour = True
        elif in_run:
            in_run = False
            if run_has_neighbour:
                runs_with_neighbours += 1
    # The walk ends back on the starting wall, so the last run was closed above.
    return runs_with_neighbours <= 1


@njit(cache=True, inline="always")
def _split_side(
    size: int, rooms: int, rng: np.ndarray, starts: np.ndarray, lengths: np.ndarray
) -> None:
    """Cut the ``size - 2`` interior cells of a side into ``rooms`` rooms of at least
    ``MIN_ROOM`` cells with one wall cell between neighbours; each spare cell goes to a random
    room, so rooms come out near-even but varied."""
    for room in range(rooms):
        lengths[room] = MIN_ROOM
    spare = size - 2 - rooms * MIN_ROOM - (rooms - 1)
    for _ in range(spare):
        lengths[random_below(rng, rooms)] += 1
    start = 1
    for room in range(rooms):
        starts[room] = start
        start += lengths[room] + 1


@njit(cache=True, inline="always")
def _root(parents: np.ndarray, room: int) -> int:
    while parents[room] != room:
        parents[room] = parents[parents[room]]
        room = parents[room]
    return room


@njit(cache=True)
def generate_maze(
    cells: np.ndarray,
    size: int,
    room_rows: int,
    room_columns: int,
    wall_density: float,
    rng: np.ndarray,
) -> None:
    """Fill ``cells`` (an int32 2-D array of at least ``size x size``) with a new maze.

    A wall border; the inside split into ``room_rows x room_columns`` rooms (at least
    ``MIN_ROOM x MIN_ROOM`` floor each) by full wall lines at random places; one-cell doorways
    in those lines joining neighbouring rooms: a random spanning tree of them (so all rooms
    connect), and each other neighbouring pair with probability 0.5. Then interior walls at
    random room cells until ``round(wall_density * room floor)`` are placed, each only where it
    keeps all floor connected (a local rule, ``_keeps_floor_connected``) and never on a doorway
    or the cells either side of one; at high densities it stops short when no cell is left
    that can be walled. Everything of ``cells`` beyond ``size x size`` becomes wall. Draws only
    from ``rng``, so the same rng state gives the same maze. Parameters are assumed checked
    (``check_maze_params``).
    """
    cells[:, :] = WALL_CELL
    row_starts = np.empty(MAX_ROOMS, dtype=np.int64)
    row_lengths = np.empty(MAX_ROOMS, dtype=np.int64)
    column_starts = np.empty(MAX_ROOMS, dtype=np.int64)
    column_lengths = np.empty(MAX_ROOMS, dtype=np.int64)
    _split_side(size, room_rows, rng, row_starts, row_lengths)
    _split_side(size, room_columns, rng, column_starts, column_lengths)
    room_floor = 0
    for room_row in range(room_rows):
        for room_column in range(room_columns):
            for row in range(row_starts[room_row], row_starts[room_row] + row_lengths[room_row]):
                first = column_starts[room_column]
                cells[row, first : first + column_lengths[room_column]] = FLOOR_CELL
            room_floor += row_lengths[room_row] * column_lengths[room_column]

    # Doorways. Pair k joins room k's cell with its east neighbour (k < east_pairs) or its south
    # neighbour; rooms are numbered row by row.
    east_pairs = room_rows * (room_columns - 1)
    pair_count = east_pairs + (room_rows - 1) * room_columns
    pairs = np.empty(pair_count, dtype=np.int64)
    for pair in range(pair_count):
        pairs[pair] = pair
    parents = np.empty(room_rows * room_columns, dtype=np.int64)
    for room in range(room_rows * room_columns):
        parents[room] = room
    # Each wall line's doorway cells (on the line) are marked on these lists; the cells beside a
    # doorway are then kept floor so that no interior wall blocks it.
    door_rows = np.empty(pair_count, dtype=np.int64)
    door_columns = np.empty(pair_count, dtype=np.int64)
    door_count = 0
    for index in range(pair_count):  # Kruskal's algorithm over the pairs in random order
        swap = index + random_below(rng, pair_count - index)
        pair = pairs[swap]
        pairs[swap] = pairs[index]
        if pair < east_pairs:
            room_row, room_column = pair // (room_columns - 1), pair % (room_columns - 1)
            first = room_row * room_columns + room_column
            second = first + 1
        else:
            south = pair - east_pairs
            room_row, room_column = south // room_columns, south % room_columns
            first = room_row * room_columns + room_column
            second = first + room_columns
        first_root, second_root = _root(parents, first), _root(parents, second)
        if first_root == second_root and uniform(rng) >= 0.5:
            continue
        parents[first_root] = second_root
        if pair < east_pairs:
            door_rows[door_count] = row_starts[room_row] + random_below(rng, row_lengths[room_row])
            door_columns[door_count] = column_starts[room_column] + column_lengths[room_column]
        else:
            door_rows[door_count] = row_starts[room_row] + row_lengths[room_row]
            door_columns[door_count] = column_starts[room_column] + random_below(
                rng, column_lengths[room_column]
            )
        cells[door_rows[door_count], door_columns[door_count]] = FLOOR_CELL
        door_count += 1

    # Interior walls: room cells in a lazily shuffled order, each walled if the local rule
    # allows; cells refused are kept for another pass, since later walls can make them safe.
    # When a pass walls nothing, later passes ask a search as well (exact but dearer).
    target = round(wall_density * room_floor)
    if target <= 0:
        return
    candidates = np.empty(room_floor, dtype=np.int64)
    candidate_count = 0
    for row in range(1, size - 1):
        for column in range(1, size - 1):
            if cells[row, column] != FLOOR_CELL:
                continue
            beside_door = False
            for door in range(door_count):
                if abs(door_rows[door] - row) + abs(door_columns[door] - column) <= 1:
                    beside_door = True
            if not beside_door:
                candidates[candidate_count] = row * size + column
                candidate_count += 1
    placed = 0
    searching = False
    marks = np.zeros(0, dtype=np.int64)
    queue = np.zeros(0, dtype=np.int64)
    while placed < target and candidate_count > 0:
        refused = 0
        for index in range(candidate_count):
            swap = index + random_below(rng, candidate_count - index)
            candidate = candidates[swap]
            candidates[swap] = candidates[index]
            row, column = candidate // size, candidate % size
            if _keeps_floor_connected(cells, row, column):
                cells[row, column] = WALL_CELL
            elif searching:
                cells[row, column] = WALL_CELL
                marks[0] += 1  # a fresh mark for this search
                if not _neighbours_joined(cells, size, row, column, marks, queue):
                    cells[row, column] = FLOOR_CELL
            if cells[row, column] == WALL_CELL:
                placed += 1
                if placed == target:
                    return
            else:
                candidates[refused] = candidate
                refused += 1
        if refused == candidate_count:
            if searching:
                return  # no cell can be walled any more without cutting the floor apart
            searching = True
            marks = np.zeros(size * size + 1, dtype=np.int64)
            queue = np.empty(size * size, dtype=np.int64)
        candidate_count = refused


@njit(cache=True)
def _neighbours_joined(
    cells: np.ndarray, size: int, row: int, column: int, marks: np.ndarray, queue: np.ndarray
) -> bool:
    """Whether the floor 4-neighbours of the walled cell (row, column) still reach one another:
    a breadth-first search from one of them that stops once it has found the others.

    ``marks[0]`` is this search's mark, new for each search, so ``marks[1:]`` (the cells seen)
    never needs clearing; ``queue`` holds ``size * size`` cells.
    """
    mark = marks[0]
    wanted = 0
    tail = 0
    for direction in range(4):
        next_row = row + _STEP_ROWS[direction]
        next_column = column + _STEP_COLUMNS[direction]
        if cells[next_row, next_column] != WALL_CELL:
            wanted += 1
            if tail == 0:
                marks[1 + next_row * size + next_column] = mark
                queue[0] = next_row * size + next_column
                tail = 1
    wanted -= 1  # the search's start
    head = 0
    while head < tail and wanted > 0:
        cell_row, cell_column = queue[head] // size, queue[head] % size
        head += 1
        for direction in range(4):
            next_row = cell_row + _STEP_ROWS[direction]
            next_column = cell_column + _STEP_COLUMNS[direction]
            cell = next_row * size + next_column
            if cells[next_row, next_column] == WALL_CELL or marks[1 + cell] == mark:
                continue
            marks[1 + cell] = mark
            queue[tail] = cell
            tail += 1
            if abs(next_row - row) + abs(next_column - column) == 1:
                wanted -= 1
    return wanted <= 0


@njit(cache=True)
def distances_to(
    cells: np.ndarray, size: int, target_row: int, target_column: int, distances: np.ndarray
) -> None:
    """Fill ``distances`` (an int 2-D array shaped like ``cells``) with the number of forward
    moves from each cell to (target_row, target_column) through walkable cells, by breadth-first
    search. The target is 0 even when it is not walkable (a key, a door); cells that cannot
    reach it, walls and everything beyond ``size x size`` are -1.

    Allocates its ``size * size`` queue on each call (a microsecond's BFS costs far more than
    the allocation); it runs at task resets and in the oracle policy, never in an env's step.
    """
    distances[:, :] = -1
    queue = np.empty(size * size, dtype=np.int64)
    distances[target_row, target_column] = 0
    queue[0] = target_row * size + target_column
    head, tail = 0, 1
    while head < tail:
        row, column = queue[head] // size, queue[head] % size
        head += 1
        next_distance = distances[row, column] + 1
        for direction in range(4):
            next_row = row + _STEP_ROWS[direction]
            next_column = column + _STEP_COLUMNS[direction]
            if not (0 <= next_row < size and 0 <= next_column < size):
                continue
            if distances[next_row, next_column] >= 0:
                continue
            if not is_walkable(cells[next_row, next_column]):
                continue
            distances[next_row, next_column] = next_distance
            queue[tail] = next_row * size + next_column
            tail += 1


@njit(cache=True)
def random_floor_cell(cells: np.ndarray, size: int, rng: np.ndarray) -> tuple[int, int]:
    """A uniformly random cell of ``cells[:size, :size]`` holding plain floor (``FLOOR_CELL``),
    as (row, column); (-1, -1) when there is none. One draw from ``rng``."""
    floor_count = 0
    for row in range(size):
        for column in range(size):
            if cells[row, column] == FLOOR_CELL:
                floor_count += 1
    if floor_count == 0:
        return -1, -1
    chosen = random_below(rng, floor_count)
    for row in range(size):
        for column in range(size):
            if cells[row, column] == FLOOR_CELL:
                if chosen == 0:
                    return row, column
                chosen -= 1
    return -1, -1
