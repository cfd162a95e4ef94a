"""SpaceInvaders: shots kill aliens, alien bullets cost lives, the block marches and descends,
invasion ends the game, cleared waves come back faster; a dodging shooter wins."""

from __future__ import annotations

import numpy as np
from minigame_helpers import Core, mean_return, random_policy

from envsuite.minigames import space_invaders as si
from envsuite.minigames.engine import FIRE, LEFT, NOOP, RIGHT

EMPTY = si.EMPTY


def _still_core(variant: str = "default", **params: float) -> Core:
    """A game whose aliens barely march and never fire, unless the test says otherwise."""
    core = Core(si, variant, **{"march_speed": 0.05, "fire_rate": 0.0, **params})
    core.state[si.PROGRESS] = 0
    return core


def _only_alien(core: Core, block_row: int, block_column: int) -> None:
    core.state[si.ALIENS] = 1 << (block_row * si.ALIEN_COLUMNS + block_column)


def _friendly(core: Core, slot: int) -> tuple[int, int]:
    index = si.FRIENDLY_BULLETS + 2 * slot
    return int(core.state[index]), int(core.state[index + 1])


def _set_enemy_bullet(core: Core, slot: int, row: int, column: int) -> None:
    core.state[si.ENEMY_BULLETS + 2 * slot] = row
    core.state[si.ENEMY_BULLETS + 2 * slot + 1] = column


def test_a_new_game_has_a_full_wave_on_top_and_no_bullets() -> None:
    core = Core(si)
    aliens = core.channel("alien")
    assert aliens.sum() == si.ALIEN_ROWS * si.ALIEN_COLUMNS
    assert aliens[: si.ALIEN_ROWS, 2:8].all()
    assert core.channel("cannon")[9].sum() == 1
    assert not core.channel("friendly_bullet").any()
    assert not core.channel("enemy_bullet").any()
    assert core.state[si.LIVES_LEFT] == 3


def test_a_shot_flies_up_and_kills_the_alien_it_meets() -> None:
    core = _still_core()
    core.state[si.CANNON] = 4
    core.state[si.ALIEN_TOP] = 5
    core.state[si.ALIEN_LEFT] = 2
    _only_alien(core, block_row=1, block_column=2)  # the alien on cell (6, 4)
    assert core.step(FIRE) == (0.0, False)
    assert _friendly(core, 0) == (8, 4)  # launched from the cannon, one row up already
    assert core.channel("friendly_bullet")[8, 4]
    assert core.step(NOOP) == (0.0, False)
    assert core.step(NOOP) == (1.0, False)  # it reached row 6
    assert _friendly(core, 0)[0] == EMPTY
    assert core.state[si.KILLS] == 1
    assert not core.channel("alien")[6, 4]


def test_a_shot_that_misses_leaves_the_top_of_the_screen() -> None:
    core = _still_core()
    core.state[si.CANNON] = 0  # the block covers columns 2..7 only
    core.step(FIRE)
    for _ in range(8):
        core.step(NOOP)
    assert _friendly(core, 0)[0] == 0
    assert core.step(NOOP) == (0.0, False)
    assert _friendly(core, 0)[0] == EMPTY


def test_the_cannon_waits_out_its_cooldown_between_shots() -> None:
    core = _still_core(shot_cooldown=3)
    core.state[si.CANNON] = 0
    core.step(FIRE)
    core.step(FIRE)
    core.step(FIRE)
    assert _friendly(core, 1)[0] == EMPTY  # still cooling down
    core.step(FIRE)  # three steps after the first shot
    assert _friendly(core, 1)[0] == 8
    assert core.channel("friendly_bullet")[:, 0].sum() == 2


def test_rapid_fire_shoots_every_step_but_only_four_shots_fly_at_once() -> None:
    core = _still_core(variant="rapid_fire")
    core.state[si.CANNON] = 0
    for _ in range(6):
        core.step(FIRE)
    assert core.channel("friendly_bullet")[:, 0].sum() == si.BULLET_SLOTS


def test_an_alien_marching_into_a_shot_dies() -> None:
    core = _still_core()
    core.state[si.ALIEN_TOP] = 3
    core.state[si.ALIEN_LEFT] = 2
    core.state[si.DIRECTION] = 1
    # Cells (3, 2), marching right, and (6, 7), which survives.
    core.state[si.ALIENS] = 1 | (1 << (3 * si.ALIEN_COLUMNS + 5))
    core.state[si.FRIENDLY_BULLETS] = 4
    core.state[si.FRIENDLY_BULLETS + 1] = 3  # the shot reaches (3, 3) as the alien steps there
    core.state[si.PROGRESS] = 999
    assert core.step(NOOP) == (1.0, False)
    assert np.argwhere(core.channel("alien")).tolist() == [[6, 8]]
    assert _friendly(core, 0)[0] == EMPTY


def test_an_alien_bullet_on_the_cannon_costs_a_life_and_the_last_one_ends_the_game() -> None:
    core = _still_core(lives=2)
    core.state[si.CANNON] = 5
    _set_enemy_bullet(core, 0, row=8, column=5)
    assert core.step(NOOP) == (0.0, False)
    assert core.state[si.LIVES_LEFT] == 1
    assert not core.channel("enemy_bullet").any()
    _set_enemy_bullet(core, 0, row=8, column=6)
    assert core.step(RIGHT) == (0.0, True)  # stepping into a bullet hurts as much
    assert core.state[si.LIVES_LEFT] == 0


def test_a_dodged_alien_bullet_leaves_the_screen_harmlessly() -> None:
    core = _still_core()
    core.state[si.CANNON] = 5
    _set_enemy_bullet(core, 0, row=8, column=5)
    assert core.step(LEFT) == (0.0, False)
    assert core.state[si.LIVES_LEFT] == 3
    assert core.state[si.ENEMY_BULLETS] == EMPTY


def test_the_cannon_stops_at_the_walls() -> None:
    core = _still_core()
    core.state[si.CANNON] = 0
    core.step(LEFT)
    assert core.state[si.CANNON] == 0
    for _ in range(12):
        core.step(RIGHT)
    assert core.state[si.CANNON] == 9
    assert np.flatnonzero(core.channel("cannon")[9]).tolist() == [9]


def test_the_block_marches_sideways_then_steps_down_and_turns_at_a_wall() -> None:
    core = _still_core(march_speed=1.0)
    core.state[si.DIRECTION] = 1
    core.state[si.ALIEN_LEFT] = 2
    core.step(NOOP)
    core.step(NOOP)
    assert core.state[si.ALIEN_LEFT] == 4  # the full block now touches the right wall
    assert core.channel("alien_right").any()
    assert not core.channel("alien_left").any()
    core.step(NOOP)
    assert (core.state[si.ALIEN_TOP], core.state[si.ALIEN_LEFT]) == (1, 4)
    assert core.state[si.DIRECTION] == -1
    assert core.channel("alien_left")[1:5, 4:10].all()
    assert not core.channel("alien_right").any()
    core.step(NOOP)
    assert core.state[si.ALIEN_LEFT] == 3


def test_only_living_aliens_meet_the_wall_so_a_thinned_block_sweeps_further() -> None:
    core = _still_core(march_speed=1.0)
    core.state[si.DIRECTION] = 1
    core.state[si.ALIEN_LEFT] = 4
    _only_alien(core, block_row=0, block_column=0)  # on cell (0, 4)
    for _ in range(5):
        core.step(NOOP)
    assert core.state[si.ALIEN_TOP] == 0
    assert np.argwhere(core.channel("alien")).tolist() == [[0, 9]]
    core.step(NOOP)
    assert np.argwhere(core.channel("alien")).tolist() == [[1, 9]]


def test_aliens_reaching_the_cannon_row_end_the_game() -> None:
    core = _still_core(march_speed=1.0, lives=9)
    core.state[si.ALIEN_TOP] = 5
    core.state[si.ALIEN_LEFT] = 4
    core.state[si.DIRECTION] = 1  # at the right wall: the next march is a step down
    assert core.step(NOOP) == (0.0, True)
    assert core.state[si.LIVES_LEFT] == 9


def test_a_cleared_wave_brings_a_full_faster_wave_from_the_top() -> None:
    core = _still_core(march_speed=0.2, wave_speedup=0.1)
    core.state[si.CANNON] = 4
    core.state[si.ALIEN_TOP] = 5
    core.state[si.ALIEN_LEFT] = 2
    _only_alien(core, block_row=3, block_column=2)  # the last alien, on cell (8, 4)
    assert core.step(FIRE) == (1.0, False)
    assert core.state[si.WAVE] == 1
    assert core.channel("alien")[: si.ALIEN_ROWS, 2:8].all()
    before = core.state[si.PROGRESS]
    core.step(NOOP)
    assert core.state[si.PROGRESS] - before == 300  # 0.2 + 1 wave * 0.1 cells per step


def test_the_ramp_speeds_the_march_up_with_each_alien_hit() -> None:
    core = _still_core(march_speed=0.1, ramp=0.02, wave_speedup=0.0)
    core.state[si.KILLS] = 10
    core.step(NOOP)
    assert core.state[si.PROGRESS] == 300  # 0.1 + 10 * 0.02
    core.state[si.KILLS] = 100
    core.state[si.PROGRESS] = 0
    core.step(NOOP)
    assert core.state[si.PROGRESS] == 0  # capped at one cell per step: it marched


def test_the_fast_variant_marches_faster() -> None:
    default, fast = _still_core(march_speed=0.25), Core(si, variant="fast", fire_rate=0.0)
    fast.state[si.PROGRESS] = 0
    default.step(NOOP)
    fast.step(NOOP)
    assert (default.state[si.PROGRESS], fast.state[si.PROGRESS]) == (250, 400)


def test_the_lowest_alien_of_a_column_fires_down_and_only_when_allowed() -> None:
    silent = _still_core()
    for _ in range(50):
        silent.step(NOOP)
    assert not silent.channel("enemy_bullet").any()

    core = Core(si, variant="barrage", march_speed=0.05)
    core.state[si.PROGRESS] = 0
    for slot in range(si.BULLET_SLOTS):
        core.state[si.ENEMY_BULLETS + 2 * slot] = EMPTY
    core.state[si.ALIEN_LEFT] = 2
    core.state[si.ALIENS] = (1 << 1) | (1 << (2 * si.ALIEN_COLUMNS + 1))  # cells (0, 3), (2, 3)
    for _ in range(20):
        core.step(NOOP)
        if core.channel("enemy_bullet").any():
            break
    aliens = np.argwhere(core.channel("alien")).tolist()
    bullets = np.argwhere(core.channel("enemy_bullet")).tolist()
    lower_alien_row, alien_column = aliens[-1]
    assert bullets == [[lower_alien_row + 1, alien_column]]  # dropped below, not through it


def shooter(observation: np.ndarray, rng: np.random.Generator) -> int:
    """Step out from under alien bullets about to land, else go under the nearest alien column
    and fire."""
    channels = si.GAME.channels
    cannon = int(np.flatnonzero(observation[9, :, channels.index("cannon")])[0])
    bullets = observation[..., channels.index("enemy_bullet")]
    aliens = observation[..., channels.index("alien")]
    alien_columns = np.flatnonzero(aliens.any(axis=0))
    target = cannon
    if len(alien_columns):
        target = int(alien_columns[np.argmin(np.abs(alien_columns - cannon))])
    landing = {NOOP: cannon, LEFT: max(0, cannon - 1), RIGHT: min(9, cannon + 1)}

    def badness(action: int) -> tuple[int, int]:
        column = landing[action]
        danger = 2 * int(bullets[8, column]) + int(bullets[7, column])
        return danger, abs(column - target)

    best = min(landing, key=badness)
    if best == NOOP and aliens[:, cannon].any():
        return FIRE
    return best


def test_a_dodging_shooter_clearly_beats_a_random_policy() -> None:
    scripted = mean_return("SpaceInvaders", shooter, episodes=3, seed=0, max_episode_steps=300)
    random = mean_return("SpaceInvaders", random_policy, episodes=3, seed=0, max_episode_steps=300)
    assert scripted > 2 * random + 10, (scripted, random)
