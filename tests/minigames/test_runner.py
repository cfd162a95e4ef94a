"""Runner: jumps clear the gaps they should, gaps, enemies and the flag end the game, coins score,
the camera follows the player, every generated level can be run through, a runner wins."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from minigame_helpers import Core, mean_return, random_policy

from envsuite.minigames import runner
from envsuite.minigames.engine import FIRE, LEFT, NOOP, RIGHT, UP

GROUND, GOAL, TRAIL, COIN, ENEMY, PLAYER = (
    runner.GAME.channels.index(name)
    for name in ("ground", "goal", "trail", "coin", "enemy", "player")
)


def _level(core: Core, picture: list[str], player: tuple[int, int] = (8, 1)) -> None:
    """Replace the core's level by ``picture``: rows of ``#`` solid, ``o`` coin, ``.`` empty.

    Rows are given bottom-up from the ground row, the rest of the sky is empty; enemies are
    removed (add them with ``_enemy``).
    """
    state = core.state
    length = len(picture[0])
    state[runner.LENGTH] = length
    state[runner.SOLID : runner.SOLID + runner.MAX_LENGTH] = 0
    state[runner.COINS : runner.COINS + runner.MAX_LENGTH] = 0
    for height, line in enumerate(picture):
        row = runner.GROUND_ROW - height
        for column, cell in enumerate(line):
            if cell == "#":
                state[runner.SOLID + column] |= 1 << row
            elif cell == "o":
                state[runner.COINS + column] |= 1 << row
    for slot in range(runner.MAX_ENEMIES):
        state[runner.ENEMIES + slot * runner.ENEMY_FIELDS + runner.ENEMY_COLUMN] = -1
    state[runner.PLAYER_ROW], state[runner.PLAYER_COLUMN] = player
    state[runner.TRAIL_ROW], state[runner.TRAIL_COLUMN] = player
    state[runner.RISE] = 0
    state[runner.ENEMY_PROGRESS] = 0


def _enemy(core: Core, slot: int, column: int, direction: int, low: int, high: int) -> None:
    base = runner.ENEMIES + slot * runner.ENEMY_FIELDS
    core.state[base + runner.ENEMY_COLUMN] = column
    core.state[base + runner.ENEMY_TRAIL] = column
    core.state[base + runner.ENEMY_DIRECTION] = direction
    core.state[base + runner.ENEMY_LOW] = low
    core.state[base + runner.ENEMY_HIGH] = high


def _player(core: Core) -> tuple[int, int]:
    return int(core.state[runner.PLAYER_ROW]), int(core.state[runner.PLAYER_COLUMN])


def _play(core: Core, actions: list[int]) -> list[tuple[float, bool]]:
    return [core.step(action) for action in actions]


FLAT = "#" * 30


def test_a_jump_rises_three_rows_and_falls_back_a_row_a_step() -> None:
    core = Core(runner)
    _level(core, [FLAT])
    rows = []
    for _ in range(7):
        core.step(UP if not rows else NOOP)
        rows.append(_player(core)[0])
    assert rows == [7, 6, 5, 6, 7, 8, 8]
    core.step(FIRE)  # fire jumps too
    assert _player(core) == (7, 1)
    core.step(UP)  # but not in mid-air
    assert _player(core) == (6, 1)
    assert core.state[runner.RISE] == 1


def test_a_jump_clears_a_gap_of_five_columns_but_not_of_six() -> None:
    core = Core(runner)
    _level(core, ["##.....###" + "#" * 10])
    outcomes = _play(core, [UP] + [RIGHT] * 6)
    assert outcomes == [(0.0, False)] * 7
    assert _player(core) == (8, 7)
    assert core.grid()[8, 3, PLAYER]  # the camera keeps the player in view column 3

    core = Core(runner)
    _level(core, ["##......##" + "#" * 10])
    outcomes = _play(core, [UP] + [RIGHT] * 6)
    assert outcomes[-1] == (0.0, True)  # fell into the gap
    assert _player(core) == (9, 7)


def test_walking_off_the_edge_of_a_gap_ends_the_game_and_shows_the_fall() -> None:
    core = Core(runner)
    _level(core, ["###.######" + "#" * 10])
    assert core.step(RIGHT) == (0.0, False)
    assert core.step(RIGHT) == (0.0, True)
    assert _player(core) == (9, 3)
    assert core.grid()[9, 3, PLAYER]
    assert core.grid()[8, 2, TRAIL]  # where it fell from


def test_coins_score_once_where_the_player_ends_a_step() -> None:
    core = Core(runner)
    _level(core, [FLAT, "..o" + "." * 27, "...o" + "." * 26])
    assert core.step(RIGHT) == (1.0, False)  # walked into the coin on the ground
    assert core.step(LEFT) == (0.0, False)  # it is gone
    assert core.step(RIGHT) == (0.0, False)
    assert core.step(RIGHT) == (0.0, False)
    assert core.step(UP) == (1.0, False)  # jumped into the one above
    assert core.state[runner.COINS + 3] == 0
    assert not core.channel("coin").any()


def test_reaching_the_flag_scores_ten_and_ends_the_game() -> None:
    core = Core(runner)
    _level(core, ["#" * 12, "..........o."], player=(8, 9))
    assert core.step(RIGHT) == (1.0, False)
    assert core.grid()[5:9, 9, GOAL].all()  # the flag pole in the level's last column
    assert core.step(RIGHT) == (10.0, True)


def test_platforms_bump_heads_block_the_way_and_can_be_stood_on() -> None:
    core = Core(runner)
    _level(core, [FLAT, "", "", "...###" + "." * 24], player=(8, 3))
    _play(core, [UP, NOOP])
    assert _player(core) == (7, 3)  # the platform above stopped the jump at once
    core.step(NOOP)
    assert _player(core) == (8, 3)
    core = Core(runner)
    _level(core, [FLAT, "", "", "...###" + "." * 24], player=(8, 1))
    _play(core, [UP, RIGHT, RIGHT, RIGHT])
    assert _player(core) == (5, 3)  # climbed onto the platform
    _play(core, [NOOP] * 3)
    assert _player(core) == (5, 3)
    _play(core, [RIGHT] * 3)
    assert _player(core) == (6, 6)  # walked off its end, falling at once
    _play(core, [NOOP] * 2)
    assert _player(core) == (8, 6)


def test_an_enemy_ends_the_game_on_contact_even_passing_through_the_player() -> None:
    core = Core(runner, enemy_speed=1.0)
    _level(core, [FLAT])
    _enemy(core, 0, column=2, direction=1, low=2, high=8)
    assert core.step(RIGHT) == (0.0, True)  # walked into it

    core = Core(runner, enemy_speed=1.0)
    _level(core, [FLAT])
    _enemy(core, 0, column=3, direction=-1, low=2, high=8)
    assert core.step(RIGHT) == (0.0, True)  # it walked into the player's new cell

    core = Core(runner, enemy_speed=1.0)
    _level(core, [FLAT], player=(8, 2))
    _enemy(core, 0, column=3, direction=-1, low=2, high=8)
    assert core.step(RIGHT) == (0.0, True)  # they swapped cells


def test_jumping_over_an_enemy_is_safe() -> None:
    core = Core(runner, enemy_speed=1.0)
    _level(core, [FLAT])
    _enemy(core, 0, column=4, direction=-1, low=0, high=8)
    outcomes = _play(core, [UP] + [RIGHT] * 5)
    assert outcomes == [(0.0, False)] * 6
    assert _player(core) == (8, 6)
    assert core.state[runner.ENEMIES + runner.ENEMY_COLUMN] < 6


def test_enemies_patrol_their_ground_at_their_speed_and_leave_a_trail() -> None:
    core = Core(runner, enemy_speed=0.5)
    _level(core, [FLAT], player=(8, 20))
    _enemy(core, 0, column=4, direction=1, low=3, high=5)
    columns = []
    for _ in range(8):
        core.step(NOOP)
        columns.append(int(core.state[runner.ENEMIES + runner.ENEMY_COLUMN]))
    assert columns == [4, 5, 5, 4, 4, 3, 3, 4]
    core = Core(runner, enemy_speed=1.0)
    _level(core, [FLAT], player=(8, 1))
    _enemy(core, 0, column=6, direction=-1, low=3, high=8)
    core.step(NOOP)
    assert core.grid()[8, 5, ENEMY]
    assert core.grid()[8, 6, TRAIL]  # where it came from shows which way it walks


def test_the_camera_follows_the_player_and_stops_at_the_level_ends() -> None:
    core = Core(runner)
    _level(core, ["#" * 40])
    seen_columns = []
    for _ in range(38):
        core.step(RIGHT)
        player = np.argwhere(core.channel("player"))
        assert len(player) == 1
        seen_columns.append(int(player[0][1]))
        column = _player(core)[1]
        assert core.grid()[:, :, GOAL].any() == (column >= 39 - 9 + 3)  # the flag scrolls in
    assert seen_columns[:2] == [2, 3]  # the level's start: the view does not scroll yet
    assert set(seen_columns[2:29]) == {3}
    assert seen_columns[-3:] == [7, 8, 9]  # the level's end: the flag column is the last


def _reaches_flag(core: Core) -> bool:
    """Whether some sequence of actions takes the player from its start to the flag: a search
    over the player's (row, column, rise) with the game's own step."""
    start = core.state.copy()
    seen = {(start[runner.PLAYER_ROW], start[runner.PLAYER_COLUMN], start[runner.RISE])}
    frontier = [start]
    while frontier:
        state = frontier.pop()
        for action in (NOOP, LEFT, RIGHT, UP):
            following = state.copy()
            reward, terminated = runner.step(following, action, core.params, core.rng)
            if terminated:
                if reward >= runner.GOAL_REWARD:
                    return True
                continue
            key = (
                following[runner.PLAYER_ROW],
                following[runner.PLAYER_COLUMN],
                following[runner.RISE],
            )
            if key not in seen:
                seen.add(key)
                frontier.append(following)
    return False


def test_the_search_finds_no_way_over_a_gap_of_six() -> None:
    core = Core(runner, enemy_rate=0.0)
    _level(core, ["####" + "." * 6 + "#" * 10])
    assert not _reaches_flag(core)
    _level(core, ["####" + "." * 5 + "#" * 11])
    assert _reaches_flag(core)


def _gap_widths(core: Core) -> list[int]:
    ground = [
        (core.state[runner.SOLID + column] >> runner.GROUND_ROW) & 1
        for column in range(core.state[runner.LENGTH])
    ]
    return [len(gap) for gap in "".join("#" if cell else "." for cell in ground).split("#") if gap]


def test_every_level_without_enemies_can_be_run_through() -> None:
    widths = []
    for seed in range(120):
        length = 16 + seed % 49
        core = Core(
            runner,
            seed=seed,
            level_length=length,
            gap_rate=1.0 if seed % 2 else 0.6,
            max_gap_width=4,
            platform_rate=1.0 if seed % 3 else 0.5,
            enemy_rate=0.0,
            coin_rate=0.5,
        )
        widths += _gap_widths(core)
        assert _reaches_flag(core), seed
    assert max(widths) == 4
    assert len(widths) > 200


@pytest.mark.parametrize("max_gap_width", [1, 2, 3])
def test_gaps_are_never_wider_than_max_gap_width(max_gap_width: int) -> None:
    widths = []
    for seed in range(30):
        widths += _gap_widths(Core(runner, seed=seed, gap_rate=1.0, max_gap_width=max_gap_width))
    assert max(widths) == max_gap_width


def test_the_ladder_adds_gaps_then_enemies_then_platforms() -> None:
    def counts(variant: str) -> tuple[int, int, int]:
        gaps = enemies = platforms = 0
        for seed in range(20):
            core = Core(runner, variant, seed=seed)
            gaps += len(_gap_widths(core))
            enemies += int((core.state[runner.ENEMIES :: runner.ENEMY_FIELDS][:8] >= 0).sum())
            platforms += int(core.channel("ground")[runner.PLATFORM_ROW].any())
        return gaps, enemies, platforms

    assert counts("flat") == (0, 0, 0)
    gaps, enemies, platforms = counts("gaps"), counts("enemies"), counts("platforms")
    assert gaps[0] > 20
    assert gaps[1:] == (0, 0)
    assert enemies[1] > 10
    assert enemies[2] == 0
    assert platforms[2] > 0
    assert Core(runner, "hard").state[runner.LENGTH] == 64


def test_fixed_levels_repeat_and_fresh_levels_do_not() -> None:
    def level(core: Core) -> bytes:
        return core.state[runner.SOLID :].tobytes()

    fixed = [Core(runner, seed=seed, num_levels=3) for seed in range(40)]
    assert len({level(core) for core in fixed}) == 3
    assert {int(core.state[runner.LEVEL]) for core in fixed} == {0, 1, 2}
    same = [core for core in fixed if core.state[runner.LEVEL] == 1]
    assert all(level(core) == level(same[0]) for core in same)
    fresh = [Core(runner, seed=seed) for seed in range(40)]
    assert len({level(core) for core in fresh}) == 40
    assert {int(core.state[runner.LEVEL]) for core in fresh} == {-1}


def runner_policy(observation: np.ndarray, rng: np.random.Generator) -> int:
    """Run right; jump a step before the edge of a gap (sticky actions may delay a jump), at a
    wall, or over an enemy close ahead walking this way; hang back from an enemy walking away
    or the ground beyond a gap; in the air go right unless that would come down into a gap."""
    ground = observation[..., GROUND]
    trail = observation[..., TRAIL]
    enemies = observation[runner.WALK_ROW, :, ENEMY]
    row, column = np.argwhere(observation[..., PLAYER])[0]
    if row >= runner.GROUND_ROW or column >= observation.shape[1] - 3:
        return RIGHT
    ahead = column + 1
    if not ground[row + 1, column]:
        # The trail a row above: falling. Coming down low with a gap ahead: stay over ground.
        falling = trail[row - 1, max(0, column - 1) : column + 2].any()
        low = row >= runner.WALK_ROW - 1
        if falling and low and ground[-1, column] and not ground[-1, ahead]:
            return NOOP
        return RIGHT
    # Hang back only now and then at random, so an enemy that never leaves cannot stall it.
    patient = rng.random() < 0.9
    if row == runner.WALK_ROW and not ground[-1, ahead : ahead + 2].all():
        landing = ahead + 2 + np.flatnonzero(ground[-1, ahead + 2 :])
        if patient and len(landing) and enemies[landing[0] : landing[0] + 4].any():
            return NOOP
        return UP
    near = np.flatnonzero(enemies[ahead : ahead + 3])
    if len(near):
        enemy = ahead + near[0]
        walking_away = trail[runner.WALK_ROW, enemy - 1] and enemy - 1 != column
        return NOOP if walking_away and patient else UP
    return UP if ground[row, ahead] else RIGHT


def test_a_running_policy_clearly_beats_a_random_one() -> None:
    scripted = mean_return("Runner", runner_policy, episodes=10, seed=0, max_episode_steps=200)
    random = mean_return("Runner", random_policy, episodes=10, seed=0, max_episode_steps=200)
    assert scripted > 2 * random + 5, (scripted, random)


def test_without_enemies_or_sticky_actions_the_runner_reaches_every_flag() -> None:
    env = gym.make(
        "envsuite/Runner-v0",
        variant="hard",
        enemy_rate=0.0,
        sticky_action_probability=0.0,
        max_episode_steps=200,
    )
    rng = np.random.default_rng(0)
    for seed in range(20):
        observation, _ = env.reset(seed=seed)
        reward, done = 0.0, False
        while not done:
            observation, reward, terminated, truncated, _ = env.step(
                runner_policy(observation, rng)
            )
            done = terminated or truncated
        assert reward >= runner.GOAL_REWARD, seed
    env.close()
