"""Runner: our CoinRun, a side-scrolling platformer on a level generated at each reset; run and
jump rightwards over gaps and past enemies, picking up coins, to the flag at the end."""

from __future__ import annotations

import numpy as np
from numba import njit

from envsuite.minigames.engine import (
    FIRE,
    GRID_SIZE,
    LEFT,
    MILLI,
    RIGHT,
    UP,
    GameDefinition,
    Param,
    thousandths,
)
from envsuite.numba_random import random_below, uniform

GAME = GameDefinition(
    name="Runner",
    rules="Run left and right and jump (up or fire) through a scrolling level: +1 a coin, +10 "
    "and the end on reaching the flag; falling into a gap or touching an enemy ends the game.",
    channels=("ground", "goal", "trail", "coin", "enemy", "player"),
    state_size=176,
    params=(
        Param("level_length", 48, 16, 64, "columns in the level, the flag in the last one"),
        Param("gap_rate", 0.3, 0.0, 1.0, "chance of a gap before each stretch of ground"),
        Param("max_gap_width", 3, 1, 4, "widest gap in columns (a jump clears five)"),
        Param("platform_rate", 0.3, 0.0, 1.0, "chance a stretch of ground has a platform above"),
        Param("coin_rate", 0.2, 0.0, 1.0, "chance of a coin in each column"),
        Param("enemy_rate", 0.2, 0.0, 1.0, "chance an enemy patrols a stretch of ground"),
        Param("enemy_speed", 0.5, 0.1, 1.0, "columns an enemy walks per step"),
        Param(
            "num_levels",
            0,
            0,
            1_000_000,
            "0: a new level every episode; k: each episode plays one of k fixed levels",
        ),
    ),
    # The Runner ladder: each rung keeps the changes of the one before and adds one.
    variants={
        "flat": {"gap_rate": 0.0, "platform_rate": 0.0, "enemy_rate": 0.0, "coin_rate": 0.1},
        "gaps": {"gap_rate": 0.5, "platform_rate": 0.0, "enemy_rate": 0.0, "coin_rate": 0.1},
        "enemies": {"gap_rate": 0.5, "platform_rate": 0.0, "enemy_rate": 0.4, "coin_rate": 0.1},
        "platforms": {"gap_rate": 0.5, "platform_rate": 0.5, "enemy_rate": 0.4, "coin_rate": 0.2},
        "hard": {
            "level_length": 64,
            "gap_rate": 0.7,
            "max_gap_width": 4,
            "platform_rate": 0.5,
            "enemy_rate": 0.6,
            "enemy_speed": 0.8,
            "coin_rate": 0.2,
        },
        "few_levels": {"num_levels": 16},
    },
    default_theme="night",
)
LEVEL_LENGTH, GAP_RATE, MAX_GAP_WIDTH, PLATFORM_RATE, COIN_RATE, ENEMY_RATE, ENEMY_SPEED = range(7)
NUM_LEVELS = 7
GROUND_CHANNEL, GOAL_CHANNEL, TRAIL_CHANNEL, COIN_CHANNEL, ENEMY_CHANNEL, PLAYER_CHANNEL = range(6)

MAX_LENGTH = 64
MAX_ENEMIES = 8
# State: the player's cell, the rising steps left of its jump, its cell before the last step (the
# trail), the enemies' shared progress towards their next column in thousandths, the level's
# length and which fixed level it is (-1: a fresh one); then the enemy slots; then, per level
# column, a bit mask of its solid rows and one of its coin rows (bit r is grid row r).
PLAYER_ROW, PLAYER_COLUMN, RISE, TRAIL_ROW, TRAIL_COLUMN, ENEMY_PROGRESS, LENGTH, LEVEL = range(8)
ENEMIES = 8
# Each enemy slot: its column (-1: an empty slot), direction (+1 right, -1 left), the first and
# last columns of the ground it patrols, and its column before its last move (its trail).
ENEMY_COLUMN, ENEMY_DIRECTION, ENEMY_LOW, ENEMY_HIGH, ENEMY_TRAIL = range(5)
ENEMY_FIELDS = 5
SOLID = ENEMIES + MAX_ENEMIES * ENEMY_FIELDS
COINS = SOLID + MAX_LENGTH
assert GAME.state_size == COINS + MAX_LENGTH

GROUND_ROW = GRID_SIZE - 1
# Everything walking on the ground stands on the row above it; a player in the ground row has
# fallen into a gap.
WALK_ROW = GROUND_ROW - 1
PLATFORM_ROW = WALK_ROW - 2
GOAL_TOP = WALK_ROW - 3
# A jump rises three rows, one a step, then the player falls a row a step; with air control it
# carries the player over five columns of gap. Gaps stay narrower, for some slack in timing.
JUMP_RISE = 3
MAX_GAP = 4
# The player starts at START_COLUMN on START_RUN columns of ground; no enemy patrols before
# SAFE_START, so the first steps never kill.
START_COLUMN = 1
START_RUN = 4
SAFE_START = 6
# Ground comes in stretches of MIN_RUN to MIN_RUN + RUN_SPREAD - 1 columns, each maybe after a
# gap; a stretch of PATROL_RUN columns or more may carry a platform or an enemy.
MIN_RUN = 3
RUN_SPREAD = 5
PATROL_RUN = 4
MAX_PLATFORM = 4
# The camera keeps the player in this column of the view, except near the level's ends.
VIEW_COLUMN = 3
GOAL_REWARD = 10.0
# A fixed level's generator is seeded from its index alone, so level k is the same level in
# every env and episode (for the same level parameters).
_LEVEL_STRIDE = np.uint64(0xD1B54A32D192ED03)
_LEVEL_OFFSET = np.uint64(0x5851F42D4C957F2D)


@njit(cache=True, inline="always")
def _is_solid(state: np.ndarray, row: int, column: int) -> bool:
    """Whether (row, column) blocks the player: ground, a platform, the level's ends, the sky's
    top."""
    if row < 0 or column < 0 or column >= state[LENGTH]:
        return True
    if row >= GRID_SIZE:
        return False
    return (state[SOLID + column] >> row) & 1 == 1


@njit(cache=True, inline="always")
def _add_enemy(state: np.ndarray, low: int, high: int, rng: np.ndarray) -> None:
    for slot in range(MAX_ENEMIES):
        base = ENEMIES + slot * ENEMY_FIELDS
        if state[base + ENEMY_COLUMN] < 0:
            column = low + random_below(rng, high - low + 1)
            state[base + ENEMY_COLUMN] = column
            state[base + ENEMY_TRAIL] = column
            state[base + ENEMY_DIRECTION] = 1 if random_below(rng, 2) == 0 else -1
            state[base + ENEMY_LOW] = low
            state[base + ENEMY_HIGH] = high
            return


@njit(cache=True, inline="always")
def _generate(state: np.ndarray, params: np.ndarray, rng: np.ndarray) -> None:
    """Lay out ground, gaps, platforms, enemies and coins over the state's level length.

    Every gap is at most MAX_GAP wide and lies between stretches of ground at least MIN_RUN
    long, platforms keep a column away from the ends of their stretch, and the last stretch
    reaches the flag: so a level without enemies can always be run through.
    """
    length = state[LENGTH]
    max_gap = min(MAX_GAP, int(params[MAX_GAP_WIDTH]))
    ground = 1 << GROUND_ROW
    for column in range(length):
        state[SOLID + column] = ground
    column = START_RUN
    while column < length:
        if uniform(rng) < params[GAP_RATE]:
            width = 1 + random_below(rng, max_gap)
            # A gap always leaves room for a whole stretch of ground before the flag.
            if column + width + MIN_RUN <= length:
                for gap_column in range(column, column + width):
                    state[SOLID + gap_column] = 0
                column += width
        run = MIN_RUN + random_below(rng, RUN_SPREAD)
        if length - (column + run) < MIN_RUN:
            run = length - column
        last = column + run - 1
        if run >= PATROL_RUN:
            if uniform(rng) < params[PLATFORM_RATE]:
                for platform_column in range(column + 1, min(last, column + 1 + MAX_PLATFORM)):
                    state[SOLID + platform_column] |= 1 << PLATFORM_ROW
            if uniform(rng) < params[ENEMY_RATE] and column >= SAFE_START:
                _add_enemy(state, column, last, rng)
        column = last + 1
    # Coins: on top of platforms, in the air above gaps where a jump passes, or on the ground
    # at one of the three heights the player walks or jumps through.
    for column in range(START_COLUMN + 1, length - 1):
        if uniform(rng) < params[COIN_RATE]:
            solid = state[SOLID + column]
            if (solid >> PLATFORM_ROW) & 1:
                row = PLATFORM_ROW - 1
            elif (solid >> GROUND_ROW) & 1:
                row = WALK_ROW - random_below(rng, 3)
            else:
                row = PLATFORM_ROW
            state[COINS + column] = 1 << row


@njit(cache=True)
def reset(state: np.ndarray, params: np.ndarray, rng: np.ndarray) -> None:
    state[:] = 0
    for slot in range(MAX_ENEMIES):
        state[ENEMIES + slot * ENEMY_FIELDS + ENEMY_COLUMN] = -1
    state[LENGTH] = int(params[LEVEL_LENGTH])
    levels = int(params[NUM_LEVELS])
    if levels > 0:
        level = random_below(rng, levels)
        state[LEVEL] = level
        # Generate from the level's own seed, then carry on with the env's stream untouched.
        saved = rng[0]
        rng[0] = np.uint64(level) * _LEVEL_STRIDE + _LEVEL_OFFSET
        _generate(state, params, rng)
        rng[0] = saved
    else:
        state[LEVEL] = -1
        _generate(state, params, rng)
    state[PLAYER_ROW] = WALK_ROW
    state[PLAYER_COLUMN] = START_COLUMN
    state[TRAIL_ROW] = WALK_ROW
    state[TRAIL_COLUMN] = START_COLUMN


@njit(cache=True)
def step(state: np.ndarray, action: int, params: np.ndarray, rng: np.ndarray) -> tuple[float, bool]:
    row = state[PLAYER_ROW]
    column = state[PLAYER_COLUMN]
    state[TRAIL_ROW] = row
    state[TRAIL_COLUMN] = column
    if action in (UP, FIRE) and _is_solid(state, row + 1, column):
        state[RISE] = JUMP_RISE
    # Full air control: left and right move a column a step, on the ground or in the air.
    if action == LEFT and not _is_solid(state, row, column - 1):
        column -= 1
    elif action == RIGHT and not _is_solid(state, row, column + 1):
        column += 1
    if state[RISE] > 0:
        if _is_solid(state, row - 1, column):
            state[RISE] = 0  # bumped its head: the jump ends and the fall starts next step
        else:
            row -= 1
            state[RISE] -= 1
    elif not _is_solid(state, row + 1, column):
        row += 1
    state[PLAYER_ROW] = row
    state[PLAYER_COLUMN] = column

    reward = 0.0
    coins = state[COINS + column]
    if (coins >> row) & 1:
        state[COINS + column] = coins & ~(1 << row)
        reward += 1.0
    if column == state[LENGTH] - 1:
        return reward + GOAL_REWARD, True
    if row == GROUND_ROW:
        return reward, True  # into a gap: the ground row is solid everywhere else

    state[ENEMY_PROGRESS] += thousandths(params[ENEMY_SPEED])
    advance = state[ENEMY_PROGRESS] >= MILLI
    if advance:
        state[ENEMY_PROGRESS] -= MILLI
    hit = False
    for slot in range(MAX_ENEMIES):
        base = ENEMIES + slot * ENEMY_FIELDS
        enemy = state[base + ENEMY_COLUMN]
        if enemy < 0:
            continue
        # Checked before and after the enemy moves, so a player and an enemy passing through
        # each other collide too.
        if row == WALK_ROW and column == enemy:
            hit = True
        if advance:
            direction = state[base + ENEMY_DIRECTION]
            if not state[base + ENEMY_LOW] <= enemy + direction <= state[base + ENEMY_HIGH]:
                direction = -direction
                state[base + ENEMY_DIRECTION] = direction
            state[base + ENEMY_TRAIL] = enemy
            state[base + ENEMY_COLUMN] = enemy + direction
            if row == WALK_ROW and column == enemy + direction:
                hit = True
    return reward, hit


@njit(cache=True)
def draw(state: np.ndarray, params: np.ndarray, grid: np.ndarray) -> None:
    length = state[LENGTH]
    left = min(max(state[PLAYER_COLUMN] - VIEW_COLUMN, 0), length - GRID_SIZE)
    for view_column in range(GRID_SIZE):
        column = left + view_column
        solid = state[SOLID + column]
        coins = state[COINS + column]
        for row in range(GRID_SIZE):
            if (solid >> row) & 1:
                grid[row, view_column, GROUND_CHANNEL] = True
            if (coins >> row) & 1:
                grid[row, view_column, COIN_CHANNEL] = True
        if column == length - 1:
            for row in range(GOAL_TOP, GROUND_ROW):
                grid[row, view_column, GOAL_CHANNEL] = True
    for slot in range(MAX_ENEMIES):
        base = ENEMIES + slot * ENEMY_FIELDS
        enemy = state[base + ENEMY_COLUMN]
        if enemy < 0:
            continue
        trail = state[base + ENEMY_TRAIL]
        if trail != enemy and left <= trail < left + GRID_SIZE:
            grid[WALK_ROW, trail - left, TRAIL_CHANNEL] = True
        if left <= enemy < left + GRID_SIZE:
            grid[WALK_ROW, enemy - left, ENEMY_CHANNEL] = True
    row = state[PLAYER_ROW]
    column = state[PLAYER_COLUMN]
    trail_row = state[TRAIL_ROW]
    trail_column = state[TRAIL_COLUMN]
    if (trail_row != row or trail_column != column) and left <= trail_column < left + GRID_SIZE:
        grid[trail_row, trail_column - left, TRAIL_CHANNEL] = True
    grid[row, column - left, PLAYER_CHANNEL] = True
