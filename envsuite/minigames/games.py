"""Every game, by name, and the numba loops that reset, step and draw a batch of envs of one game.

The vector env loops over the very functions a single env calls, so the two play alike. Games
are chosen by index inside numba (a jitted function taking another as an argument cannot be
cached), so adding a game means adding its module to ``GAME_MODULES`` and a branch to each of
``_reset_game``, ``_step_game`` and ``_draw_game``. The per-env functions are inlined into the
batch loops: as calls, passing array views (reference counts) cost more than most game steps.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from envsuite.minigames import (
    asterix,
    breakout,
    catch,
    freeway,
    runner,
    snake,
    space_invaders,
)
from envsuite.minigames.engine import NOOP, NUM_ACTIONS, GameDefinition
from envsuite.numba_random import uniform

GAME_MODULES = (breakout, freeway, asterix, space_invaders, snake, catch, runner)
GAMES: dict[str, GameDefinition] = {module.GAME.name: module.GAME for module in GAME_MODULES}
GAME_INDEX: dict[str, int] = {name: index for index, name in enumerate(GAMES)}


@njit(cache=True, inline="always")
def _reset_game(game: int, state: np.ndarray, params: np.ndarray, rng: np.ndarray) -> None:
    if game == 0:
        breakout.reset(state, params, rng)
    elif game == 1:
        freeway.reset(state, params, rng)
    elif game == 2:
        asterix.reset(state, params, rng)
    elif game == 3:
        space_invaders.reset(state, params, rng)
    elif game == 4:
        snake.reset(state, params, rng)
    elif game == 5:
        catch.reset(state, params, rng)
    else:
        runner.reset(state, params, rng)


@njit(cache=True, inline="always")
def _step_game(
    game: int, state: np.ndarray, action: int, params: np.ndarray, rng: np.ndarray
) -> tuple[float, bool]:
    if game == 0:
        return breakout.step(state, action, params, rng)
    if game == 1:
        return freeway.step(state, action, params, rng)
    if game == 2:
        return asterix.step(state, action, params, rng)
    if game == 3:
        return space_invaders.step(state, action, params, rng)
    if game == 4:
        return snake.step(state, action, params, rng)
    if game == 5:
        return catch.step(state, action, params, rng)
    return runner.step(state, action, params, rng)


@njit(cache=True, inline="always")
def _draw_game(game: int, state: np.ndarray, params: np.ndarray, grid: np.ndarray) -> None:
    grid[:] = False
    if game == 0:
        breakout.draw(state, params, grid)
    elif game == 1:
        freeway.draw(state, params, grid)
    elif game == 2:
        asterix.draw(state, params, grid)
    elif game == 3:
        space_invaders.draw(state, params, grid)
    elif game == 4:
        snake.draw(state, params, grid)
    elif game == 5:
        catch.draw(state, params, grid)
    else:
        runner.draw(state, params, grid)


# An env's state vector is the engine's slots followed by the game's own state.
LAST_ACTION = 0  # the action played last step, which a sticky action repeats
GAME_OVER = 1  # 1 once the game terminated: later steps (gymnasium allows them) change nothing
ENGINE_SLOTS = 2


def env_state_size(game: GameDefinition) -> int:
    """Length of the int32 state vector of one env of ``game``."""
    return ENGINE_SLOTS + game.state_size


@njit(cache=True, inline="always")
def reset_env(
    game: int, state: np.ndarray, params: np.ndarray, rng: np.ndarray, grid: np.ndarray
) -> None:
    """Start a new episode, continuing the env's RNG stream, and draw it into ``grid``."""
    state[LAST_ACTION] = NOOP
    state[GAME_OVER] = 0
    _reset_game(game, state[ENGINE_SLOTS:], params, rng)
    _draw_game(game, state[ENGINE_SLOTS:], params, grid)


@njit(cache=True, inline="always")
def step_env(
    game: int,
    state: np.ndarray,
    params: np.ndarray,
    sticky_action_probability: float,
    rng: np.ndarray,
    action: int,
    grid: np.ndarray,
) -> tuple[float, bool]:
    """Play ``action`` and draw the result into ``grid``; return (reward, terminated).

    After the game terminated, steps return (0, terminated) and leave everything as it was.

    With probability ``sticky_action_probability`` the env repeats its previous action instead
    (Machado et al., 2018), drawn from the env's own RNG.
    """
    if state[GAME_OVER]:
        return 0.0, True
    if sticky_action_probability > 0.0 and uniform(rng) < sticky_action_probability:
        action = state[LAST_ACTION]
    state[LAST_ACTION] = action
    game_state = state[ENGINE_SLOTS:]
    reward, terminated = _step_game(game, game_state, action, params, rng)
    state[GAME_OVER] = terminated
    _draw_game(game, game_state, params, grid)
    return reward, terminated


@njit(cache=True)
def reset_batch(
    game: int,
    mask: np.ndarray,
    states: np.ndarray,
    params: np.ndarray,
    rngs: np.ndarray,
    grids: np.ndarray,
) -> None:
    """:func:`reset_env` every env ``i`` with ``mask[i]``."""
    for index in range(states.shape[0]):
        if mask[index]:
            reset_env(game, states[index], params, rngs[index], grids[index])


@njit(cache=True)
def step_batch(
    game: int,
    states: np.ndarray,
    params: np.ndarray,
    sticky_action_probability: float,
    rngs: np.ndarray,
    actions: np.ndarray,
    max_episode_steps: int,
    elapsed: np.ndarray,
    done: np.ndarray,
    rewards: np.ndarray,
    terminations: np.ndarray,
    truncations: np.ndarray,
    grids: np.ndarray,
) -> int:
    """:func:`step_env` every env, with gymnasium's next-step autoreset and an episode limit.

    An env whose episode ended last step (``done``) is reset instead: reward 0, neither
    terminated nor truncated. An episode is truncated after ``max_episode_steps`` steps (0: no
    limit). Returns -1, or the index of the first action outside the action set (then nothing
    is stepped).
    """
    for index in range(states.shape[0]):
        if actions[index] < 0 or actions[index] >= NUM_ACTIONS:
            return index
    for index in range(states.shape[0]):
        if done[index]:
            reset_env(game, states[index], params, rngs[index], grids[index])
            elapsed[index] = 0
            rewards[index] = 0.0
            terminations[index] = False
            truncations[index] = False
        else:
            rewards[index], terminations[index] = step_env(
                game,
                states[index],
                params,
                sticky_action_probability,
                rngs[index],
                actions[index],
                grids[index],
            )
            elapsed[index] += 1
            truncations[index] = 0 < max_episode_steps <= elapsed[index]
        done[index] = terminations[index] or truncations[index]
    return -1
