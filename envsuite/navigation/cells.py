"""What a maze cell holds: a kind of thing and its colour, packed in one int32, and which
kinds the agent can walk onto.
"""

from __future__ import annotations

from numba import njit

# Kinds of cell content. The agent walks onto floor, goals, open doors and recall markers;
# walls, keys, locked doors and dancers stop it (it faces a key or door to interact with it).
KIND_NAMES = ("floor", "wall", "goal", "key", "door_locked", "door_open", "object", "dancer")
FLOOR, WALL, GOAL, KEY, DOOR_LOCKED, DOOR_OPEN, OBJECT, DANCER = range(len(KIND_NAMES))
NUM_KINDS = len(KIND_NAMES)
COLOUR_NAMES = ("red", "green", "blue", "purple", "yellow", "grey")
RED, GREEN, BLUE, PURPLE, YELLOW, GREY = range(len(COLOUR_NAMES))
NUM_COLOURS = len(COLOUR_NAMES)


@njit(cache=True, inline="always")
def make_cell(kind: int, colour: int) -> int:
    """The packed code of a ``kind`` thing of ``colour``."""
    return kind + NUM_KINDS * colour


@njit(cache=True, inline="always")
def kind_of(cell: int) -> int:
    return cell % NUM_KINDS


@njit(cache=True, inline="always")
def colour_of(cell: int) -> int:
    return cell // NUM_KINDS


@njit(cache=True, inline="always")
def is_walkable(cell: int) -> bool:
    kind = cell % NUM_KINDS
    return kind in (FLOOR, GOAL, DOOR_OPEN, OBJECT)
