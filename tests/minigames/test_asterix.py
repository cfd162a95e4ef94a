"""Asterix: treasures score, enemies cost lives, the last life ends the game, objects drift in
from the edges ever faster with the ramp; a dodging collector wins."""

from __future__ import annotations

import numpy as np
from minigame_helpers import Core, mean_return, random_policy

from envsuite.minigames import asterix
from envsuite.minigames.asterix import EMPTY, ENEMY, NUM_LANES, TREASURE
from envsuite.minigames.engine import DOWN, LEFT, NOOP, RIGHT, UP


def _quiet(core: Core, row: int, column: int) -> None:
    """Clear every lane, put the player at (row, column) and stop objects from spawning."""
    core.params[asterix.SPAWN_RATE] = 0.0
    core.state[asterix.OBJECT_KIND : asterix.OBJECT_KIND + NUM_LANES] = EMPTY
    core.state[asterix.PLAYER_ROW] = row
    core.state[asterix.PLAYER_COLUMN] = column


def _place(core: Core, kind: int, row: int, column: int, direction: int, progress: int) -> None:
    lane = row - 1
    core.state[asterix.OBJECT_KIND + lane] = kind
    core.state[asterix.OBJECT_COLUMN + lane] = column
    core.state[asterix.OBJECT_DIRECTION + lane] = direction
    core.state[asterix.OBJECT_PROGRESS + lane] = progress


def test_touching_a_treasure_scores_one_and_takes_it() -> None:
    core = Core(asterix)
    _quiet(core, row=4, column=5)
    _place(core, TREASURE, row=4, column=6, direction=-1, progress=999)
    assert core.step(NOOP) == (1.0, False)
    assert core.state[asterix.OBJECT_KIND + 3] == EMPTY
    assert core.state[asterix.LIVES_LEFT] == 3


def test_touching_an_enemy_costs_a_life_and_the_last_life_ends_the_game() -> None:
    core = Core(asterix, lives=2)
    _quiet(core, row=2, column=3)
    _place(core, ENEMY, row=3, column=3, direction=1, progress=0)
    assert core.step(DOWN) == (0.0, False)  # walking into it
    assert core.state[asterix.LIVES_LEFT] == 1
    assert core.state[asterix.OBJECT_KIND + 2] == EMPTY
    _place(core, ENEMY, row=3, column=2, direction=1, progress=999)
    assert core.step(NOOP) == (0.0, True)  # it drifting into the player


def test_the_fragile_variant_ends_the_game_at_the_first_enemy() -> None:
    core = Core(asterix, variant="fragile")
    _quiet(core, row=8, column=0)
    _place(core, ENEMY, row=8, column=1, direction=-1, progress=999)
    assert core.step(NOOP) == (0.0, True)


def test_player_and_enemy_cannot_swap_cells_without_meeting() -> None:
    core = Core(asterix)
    _quiet(core, row=5, column=4)
    _place(core, ENEMY, row=5, column=5, direction=-1, progress=999)
    core.step(RIGHT)
    assert core.state[asterix.LIVES_LEFT] == 2


def test_the_player_keeps_to_the_eight_lanes_and_the_walls() -> None:
    core = Core(asterix)
    _quiet(core, row=1, column=0)
    core.step(UP)
    core.step(LEFT)
    assert (core.state[asterix.PLAYER_ROW], core.state[asterix.PLAYER_COLUMN]) == (1, 0)
    for _ in range(12):
        core.step(DOWN)
        core.step(RIGHT)
    assert (core.state[asterix.PLAYER_ROW], core.state[asterix.PLAYER_COLUMN]) == (8, 9)
    assert core.channel("player")[8, 9]


def test_an_object_leaves_the_screen_at_the_far_edge() -> None:
    core = Core(asterix)
    _quiet(core, row=1, column=0)
    _place(core, TREASURE, row=6, column=9, direction=1, progress=999)
    core.step(NOOP)
    assert core.state[asterix.OBJECT_KIND + 5] == EMPTY
    assert not core.channel("treasure").any()


def test_new_objects_enter_a_free_lane_at_its_edge_heading_inwards() -> None:
    for treasure_probability, kind in ((1.0, TREASURE), (0.0, ENEMY)):
        core = Core(asterix, spawn_rate=1.0, treasure_probability=treasure_probability)
        _quiet(core, row=1, column=4)
        core.params[asterix.SPAWN_RATE] = 1.0
        core.step(NOOP)
        kinds = core.state[asterix.OBJECT_KIND : asterix.OBJECT_KIND + NUM_LANES]
        (lane,) = np.flatnonzero(kinds)
        assert kinds[lane] == kind
        column = core.state[asterix.OBJECT_COLUMN + lane]
        direction = core.state[asterix.OBJECT_DIRECTION + lane]
        assert (column, direction) in ((0, 1), (9, -1))


def test_a_busy_lane_gets_no_second_object() -> None:
    core = Core(asterix, object_speed=0.1)
    _quiet(core, row=1, column=4)
    core.params[asterix.SPAWN_RATE] = 1.0
    for row in range(2, NUM_LANES + 1):
        _place(core, ENEMY, row=row, column=4 + row % 2, direction=1, progress=0)
    before = core.state[asterix.OBJECT_KIND : asterix.OBJECT_PROGRESS].copy()
    for _ in range(5):  # an object spawns every step it can, but only lane 0 (row 1) is free
        core.step(NOOP)
    after = core.state[asterix.OBJECT_KIND : asterix.OBJECT_PROGRESS]
    for field in range(3):  # kind, column and direction of every busy lane are unchanged
        busy_lanes = np.arange(1, NUM_LANES) + field * NUM_LANES
        assert np.array_equal(before[busy_lanes], after[busy_lanes])
    assert core.state[asterix.OBJECT_KIND] != EMPTY  # the free lane was filled


def test_the_ramp_speeds_objects_up_over_time() -> None:
    core = Core(asterix, object_speed=0.5, ramp=0.2)
    _quiet(core, row=1, column=0)
    _place(core, ENEMY, row=7, column=5, direction=1, progress=0)
    core.state[asterix.STEPS] = 250
    core.step(NOOP)
    assert core.state[asterix.OBJECT_PROGRESS + 6] == 750  # 0.5 * (1 + 0.2 * 2.5)
    core.state[asterix.STEPS] = 10_000
    core.step(NOOP)  # capped at a cell per step
    assert core.state[asterix.OBJECT_PROGRESS + 6] == 750
    assert core.state[asterix.OBJECT_COLUMN + 6] == 6


def test_objects_are_drawn_with_a_trail_behind_them() -> None:
    core = Core(asterix)
    _quiet(core, row=1, column=0)
    _place(core, ENEMY, row=3, column=5, direction=-1, progress=0)
    _place(core, TREASURE, row=6, column=2, direction=1, progress=0)
    _place(core, TREASURE, row=8, column=0, direction=1, progress=0)  # just entered: no trail
    assert np.argwhere(core.channel("enemy")).tolist() == [[3, 5]]
    assert np.argwhere(core.channel("treasure")).tolist() == [[6, 2], [8, 0]]
    assert np.argwhere(core.channel("trail")).tolist() == [[3, 6], [6, 1]]


# Rows and columns each action moves the player by.
_MOVES = {NOOP: (0, 0), UP: (-1, 0), DOWN: (1, 0), LEFT: (0, -1), RIGHT: (0, 1)}


def dodging_collector(observation: np.ndarray, rng: np.random.Generator) -> int:
    """Of the moves that do not meet an enemy now or next step, take the one nearest a
    treasure."""
    trail, enemy, treasure, player = (observation[..., index] for index in range(4))
    (row, column), *_ = np.argwhere(player)

    def heading(lane_row: int, at: int) -> int:
        if at > 0 and trail[lane_row, at - 1]:
            return 1
        if at < 9 and trail[lane_row, at + 1]:
            return -1
        return 1 if at == 0 else -1  # just entered at an edge: heading inwards

    def dangerous(lane_row: int, at: int) -> bool:
        if enemy[lane_row, at]:
            return True
        for side in (-1, 1):
            near = at + side
            if 0 <= near < 10 and enemy[lane_row, near] and heading(lane_row, near) == -side:
                return True
        return False

    treasures = np.argwhere(treasure)
    best, best_distance = NOOP, None
    for action, (down, right) in _MOVES.items():
        target_row, target_column = min(8, max(1, row + down)), min(9, max(0, column + right))
        if dangerous(target_row, target_column):
            continue
        distances = np.abs(treasures - (target_row, target_column)).sum(axis=1)
        distance = int(distances.min()) if len(distances) else 0
        if best_distance is None or distance < best_distance:
            best, best_distance = action, distance
    return best


def test_a_dodging_collector_clearly_beats_a_random_policy() -> None:
    scripted = mean_return("Asterix", dodging_collector, 3, seed=0, max_episode_steps=300)
    random = mean_return("Asterix", random_policy, 3, seed=0, max_episode_steps=300)
    assert scripted > 2 * random + 10, (scripted, random)
