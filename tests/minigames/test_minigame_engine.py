"""The shared minigame engine: RNG, parameters, errors, observations, sticky actions, vector env."""

from __future__ import annotations

import pickle

import gymnasium as gym
import numpy as np
import pytest

from envsuite.minigames import GAMES, THEMES, catch
from envsuite.minigames.engine import LEFT, RIGHT
from envsuite.minigames.render import theme_background
from envsuite.numba_random import random_below, uniform
from envsuite.raster import BACKGROUNDS
from envsuite.testing import check_vector_matches_single

GAME_NAMES = list(GAMES)


def test_the_rng_is_a_pure_function_of_its_state() -> None:
    first, second = np.array([7], dtype=np.uint64), np.array([7], dtype=np.uint64)
    draws = [uniform(first) for _ in range(2000)]
    assert draws == [uniform(second) for _ in range(2000)]
    assert min(draws) >= 0.0
    assert max(draws) < 1.0
    assert abs(np.mean(draws) - 0.5) < 0.03
    counts = np.bincount([random_below(first, 6) for _ in range(6000)], minlength=6)
    assert len(counts) == 6
    assert counts.min() > 850


def test_variants_and_overrides_resolve_and_bad_ones_name_the_field() -> None:
    game = catch.GAME
    assert game.resolve_params("fast", {})[catch.FRUIT_SPEED] == 0.9
    assert game.resolve_params("fast", {"fruit_speed": 0.4})[catch.FRUIT_SPEED] == 0.4
    with pytest.raises(ValueError, match=r"variant: unknown variant 'slow' of Catch; allowed: \["):
        game.resolve_params("slow", {})
    with pytest.raises(ValueError, match=r"fruit_sped: not a task parameter .*'fruit_speed'"):
        game.resolve_params("default", {"fruit_sped": 0.4})
    with pytest.raises(ValueError, match=r"fruit_speed: 3.0 is outside \[0.1, 1.0\]"):
        game.resolve_params("default", {"fruit_speed": 3.0})
    with pytest.raises(ValueError, match="lives: must be a number"):
        game.resolve_params("default", {"lives": "three"})
    with pytest.raises(ValueError, match=r"lives: must be a whole number \(misses before"):
        game.resolve_params("default", {"lives": 2.5})
    assert game.resolve_params("default", {"lives": 2.0})[catch.LIVES] == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"theme": "sepia"}, r"theme: unknown theme 'sepia'; allowed: \['classic'"),
        ({"background": "stars"}, r"background: unknown background 'stars'; allowed:"),
        ({"obs_mode": "rgb"}, r"obs_mode: unknown obs_mode 'rgb'; allowed: \['symbolic', 'pixels'"),
        ({"variant": "hard"}, "variant: unknown variant 'hard'"),
        ({"sticky_action_probability": 1.0}, r"sticky_action_probability: must be .*\[0, 1\)"),
        ({"render_mode": "ansi"}, r"render_mode: unknown render_mode 'ansi'"),
        ({"observation_channels": 1}, r"observation_channels: must be None or an integer of at"),
        ({"observation_channels": 8, "obs_mode": "pixels"}, "observation_channels: pads symbolic"),
    ],
)
@pytest.mark.filterwarnings("ignore:.*render_mode='ansi'")
def test_bad_arguments_are_clear_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        gym.make("envsuite/Catch-v0", **kwargs)
    with pytest.raises(ValueError, match=message):
        gym.make_vec("envsuite/Catch-v0", num_envs=2, **kwargs)


@pytest.mark.parametrize("action", [6, -1, 1.0, "left", [1], True, None])
def test_an_action_outside_the_space_is_a_clear_error(action) -> None:
    env = gym.make("envsuite/Catch-v0", disable_env_checker=True)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action: must be an integer in \[0, 6\)"):
        env.step(action)
    observation, *_ = env.step(np.int32(2))  # numpy integers are fine
    assert env.observation_space.contains(observation)


@pytest.mark.parametrize(
    "actions", [np.array([0, 6]), np.array([0.0, 1.0]), np.array([1, 2, 3]), np.array([-1, 0])]
)
def test_a_batch_of_actions_outside_the_space_is_a_clear_error(actions: np.ndarray) -> None:
    envs = gym.make_vec("envsuite/Catch-v0", num_envs=2)
    envs.reset(seed=0)
    with pytest.raises(ValueError, match=r"actions: must be 2 integers in \[0, 6\)"):
        envs.step(actions)


def test_every_theme_keeps_its_colours_apart_from_each_other_and_the_background() -> None:
    for name, theme in THEMES.items():
        colours = set(theme.palette)
        assert len(colours) == len(theme.palette), name
        for background in BACKGROUNDS:
            image = theme_background(name, background, 64)
            shown = {tuple(pixel) for pixel in image.reshape(-1, 3)}
            assert not shown & colours, (name, background)
    assert max(len(game.channels) for game in GAMES.values()) <= len(THEMES["classic"].palette)


def decode(image: np.ndarray, palette: np.ndarray, channels: int) -> np.ndarray:
    """The channel shown at each cell's centre (-1: background), read from an RGB image."""
    size = image.shape[0]
    centres = (np.arange(10) * size + size // 2) // 10
    colours = image[centres][:, centres]
    shown = np.full((10, 10), -1)
    for channel in range(channels):
        shown[np.all(colours == palette[channel], axis=-1)] = channel
    return shown


def top_channel(grid: np.ndarray) -> np.ndarray:
    """The last set channel of each cell (drawn on top), -1 where none is set."""
    channels = grid.shape[-1]
    on_top = channels - 1 - np.argmax(grid[..., ::-1], axis=-1)
    return np.where(grid.any(axis=-1), on_top, -1)


@pytest.mark.parametrize("game", GAME_NAMES)
def test_symbolic_and_pixel_observations_describe_the_same_state(game: str) -> None:
    env_id = f"envsuite/{game}-v0"
    symbolic = gym.make(env_id)
    pixels = gym.make(env_id, obs_mode="pixels", background="checker", render_mode="rgb_array")
    palette = np.array(THEMES[pixels.unwrapped.task.game.default_theme].palette, dtype=np.uint8)
    channels = len(GAMES[game].channels)
    grid, _ = symbolic.reset(seed=3)
    image, _ = pixels.reset(seed=3)
    rng = np.random.default_rng(0)
    for step in range(200):
        expected = top_channel(grid)
        np.testing.assert_array_equal(decode(image, palette, channels), expected, f"step {step}")
        np.testing.assert_array_equal(decode(pixels.render(), palette, channels), expected)
        action = int(rng.integers(6))
        grid, _, terminated, truncated, _ = symbolic.step(action)
        image, _, *_ = pixels.step(action)
        if terminated or truncated:
            grid, _ = symbolic.reset()
            image, _ = pixels.reset()


@pytest.mark.parametrize("game", ["Catch", "Breakout"])
def test_padded_channels_are_the_games_own_then_zeros(game: str) -> None:
    own_channels = len(GAMES[game].channels)
    single = gym.make(f"envsuite/{game}-v0")
    padded_single = gym.make(f"envsuite/{game}-v0", observation_channels=8)
    padded_batch = gym.make_vec(f"envsuite/{game}-v0", num_envs=2, observation_channels=8)
    assert padded_single.observation_space.shape == (10, 10, 8)
    assert padded_batch.single_observation_space.shape == (10, 10, 8)
    observations = [single.reset(seed=3)[0], padded_single.reset(seed=3)[0]]
    batch, _ = padded_batch.reset(seed=3)
    for _ in range(30):
        np.testing.assert_array_equal(observations[1][..., :own_channels], observations[0])
        np.testing.assert_array_equal(batch[0], observations[1])
        assert not observations[1][..., own_channels:].any()
        observations = [env.step(2)[0] for env in (single, padded_single)]
        batch = padded_batch.step(np.array([2, 0]))[0]


def test_sticky_actions_repeat_the_previous_action() -> None:
    def paddle_columns(sticky: float, actions: list[int]) -> list[int]:
        env = gym.make("envsuite/Catch-v0", sticky_action_probability=sticky, paddle_width=1)
        observation, _ = env.reset(seed=0)
        columns = [int(np.flatnonzero(observation[9, :, 0])[0])]
        for action in actions:
            observation, *_ = env.step(action)
            columns.append(int(np.flatnonzero(observation[9, :, 0])[0]))
        return columns

    start = paddle_columns(0.0, [])[0]
    toward_centre = RIGHT if start < 5 else LEFT
    shift = 1 if toward_centre == RIGHT else -1
    assert paddle_columns(0.0, [toward_centre] * 3) == [start + shift * k for k in range(4)]
    # Almost always repeating: the noop of the reset keeps being played.
    assert paddle_columns(0.99, [toward_centre] * 3) == [start] * 4


def test_vector_env_resets_only_the_masked_envs_and_accepts_seed_lists() -> None:
    envs = gym.make_vec("envsuite/Catch-v0", num_envs=3, sticky_action_probability=0.0)
    first, _ = envs.reset(seed=[5, 6, 7])
    single = gym.make("envsuite/Catch-v0")
    np.testing.assert_array_equal(first[2], single.reset(seed=7)[0])
    for _ in range(3):
        moved, *_ = envs.step(np.array([RIGHT, RIGHT, RIGHT]))
    again, _ = envs.reset(options={"reset_mask": np.array([False, True, False])})
    np.testing.assert_array_equal(again[0], moved[0])
    np.testing.assert_array_equal(again[2], moved[2])
    assert not np.array_equal(again[1], moved[1])
    with pytest.raises(ValueError, match="reset_mask: must be a bool array of shape"):
        envs.reset(options={"reset_mask": [1, 0, 1]})
    with pytest.raises(ValueError, match="seed: must be None, a non-negative int, or a list of 3"):
        envs.reset(seed=[1, 2])


@pytest.mark.parametrize("game", GAME_NAMES)
def test_episode_limits_truncate_alike_in_single_and_vector_envs(game: str) -> None:
    check_vector_matches_single(
        f"envsuite/{game}-v0", 120, 0, 2, "vector_entry_point", max_episode_steps=15
    )
    env = gym.make(f"envsuite/{game}-v0", max_episode_steps=15)
    env.reset(seed=0)
    for step in range(15):
        _, _, terminated, truncated, _ = env.step(0)
        assert truncated == (step == 14)  # truncated at the limit, not before
        if terminated or truncated:
            break


@pytest.mark.parametrize("game", GAME_NAMES)
def test_steps_after_the_game_ended_change_nothing(game: str) -> None:
    # Gymnasium lets a user step on after terminated; the game must stay over, not run on
    # from an end state (Runner's fallen player once fell out of the grid).
    env = gym.make(
        f"envsuite/{game}-v0", sticky_action_probability=0.0, disable_env_checker=True
    ).unwrapped
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    terminated = False
    for _ in range(3000):
        observation, reward, terminated, *_ = env.step(int(rng.integers(6)))
        if terminated:
            break
    assert terminated, "a random policy should end every game within 3000 steps"
    state = env._state.copy()
    for action in range(6):
        after, reward, still_terminated, *_ = env.step(action)
        assert (reward, still_terminated) == (0.0, True)
        np.testing.assert_array_equal(after, observation)
    np.testing.assert_array_equal(env._state, state)


def test_stepping_before_reset_is_refused() -> None:
    with pytest.raises(gym.error.ResetNeeded):
        gym.make_vec("envsuite/Runner-v0", num_envs=2).step(np.array([2, 5]))
    with pytest.raises(gym.error.ResetNeeded):
        gym.make("envsuite/Runner-v0").unwrapped.step(2)


def test_numpy_numbers_are_accepted_and_bad_seeds_are_named() -> None:
    envs = gym.make_vec(
        "envsuite/Catch-v0",
        num_envs=np.int64(2),
        max_episode_steps=np.int64(5),
        sticky_action_probability=np.float32(0.2),
    )
    first, _ = envs.reset(seed=np.int64(3))
    again, _ = envs.reset(seed=[3, 4])
    np.testing.assert_array_equal(first, again)
    for bad in ([-1, 0], [1.5, 2], -3, "seed"):
        with pytest.raises(ValueError, match="seed: must be None, a non-negative int"):
            envs.reset(seed=bad)
    with pytest.raises(ValueError, match="max_episode_steps: must be a positive integer"):
        gym.make_vec("envsuite/Catch-v0", num_envs=2, max_episode_steps=0)
    unlimited = gym.make_vec("envsuite/Catch-v0", num_envs=2, max_episode_steps=-1)
    assert unlimited.max_episode_steps is None
    with pytest.raises(ValueError, match=r"variant: unknown variant \['fast'\]"):
        gym.make("envsuite/Catch-v0", variant=["fast"])


def test_a_pickled_vector_env_continues_alike() -> None:
    envs = gym.make_vec("envsuite/Asterix-v0", num_envs=3, max_episode_steps=40)
    envs.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(25):
        envs.step(rng.integers(6, size=3))
    clone = pickle.loads(pickle.dumps(envs))
    for _ in range(60):
        actions = rng.integers(6, size=3)
        for left, right in zip(envs.step(actions)[:4], clone.step(actions)[:4], strict=True):
            np.testing.assert_array_equal(left, right)


@pytest.mark.parametrize("game", GAME_NAMES)
def test_every_variant_resolves_and_plays(game: str) -> None:
    definition = GAMES[game]
    assert len(definition.variant_names()) >= 4  # default and at least three named ones
    for variant in definition.variant_names():
        overridden = {name for name in definition.variants.get(variant, {})}
        params = definition.resolve_params(variant, {})
        for param, value in zip(definition.params, params, strict=True):
            if param.name not in overridden:
                assert value == param.default
        check_vector_matches_single(
            f"envsuite/{game}-v0", 100, 0, 2, "vector_entry_point", variant=variant
        )


def test_a_game_ending_on_its_own_timer_autoresets_alike_in_vector_and_single_envs() -> None:
    # Freeway ends by termination after `duration` steps, longer than the harness's rollouts.
    check_vector_matches_single(
        "envsuite/Freeway-v0", 260, 0, 2, "vector_entry_point", duration=100
    )
