"""WMAR's Atari games and sequences: the preprocessing is gymnasium's chain as WMAR configures
it, the scales and orders are WMAR's, and without ale-py the ids stay listed and say what to
install. tests/test_registry.py runs the full harness on every id."""

from __future__ import annotations

import importlib.util
import pickle
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

import envsuite
from envsuite.atari import GAMES, INSTALL_HINT, register_atari

needs_ale = pytest.mark.skipif(
    importlib.util.find_spec("ale_py") is None or importlib.util.find_spec("cv2") is None,
    reason='needs the optional extra: pip install "envsuite[atari]"',
)
GAME_IDS = [f"envsuite/Atari{name}-v5" for name in GAMES]
SEQUENCES = ("AtariSixGames", "AtariSixGamesReversed", "AtariSixGamesTwoCycle")


def wmar_chain(game: str) -> gym.Env:
    """WMAR's own env, as its code builds it (Cerenaut/WMAR, Code/ARROW_and_DV3/Atari):
    ALE v5 without frame skip, sticky actions or the minimal action set, a reward scale, then
    gymnasium's AtariPreprocessing at 64 x 64 in colour."""
    import ale_py

    gym.register_envs(ale_py)
    ale_env = gym.make(
        f"ALE/{game}-v5", frameskip=1, repeat_action_probability=0, full_action_space=True
    )
    scaled = gym.wrappers.TransformReward(ale_env, lambda reward: GAMES[game].reward_scale * reward)
    return gym.wrappers.AtariPreprocessing(
        scaled, frame_skip=4, screen_size=64, grayscale_obs=False
    )


def test_the_games_scales_and_orders_are_wmars() -> None:
    assert register_atari() == GAME_IDS  # again: a no-op
    assert list(GAMES) == ["MsPacman", "Boxing", "CrazyClimber", "Frostbite", "Seaquest", "Enduro"]
    assert {name: game.reward_scale for name, game in GAMES.items()} == {
        "MsPacman": 0.05,
        "Boxing": 1.0,
        "CrazyClimber": 0.001,
        "Frostbite": 0.2,
        "Seaquest": 0.5,
        "Enduro": 0.5,
    }
    for env_id in GAME_IDS:
        assert isinstance(gym.spec(env_id).entry_point, str)  # registering imports nothing
    specs = {name: envsuite.make_sequence(name) for name in SEQUENCES}
    for sequence in specs.values():
        assert [task.id for task in sequence.spec.tasks] == GAME_IDS
        assert (sequence.spec.steps_per_task, sequence.spec.task_id_mode) == (90 * 16_384, "hidden")

    def visits(name: str) -> list[tuple[int, int]]:
        return [(block.task_index, block.steps) for block in specs[name].schedule()]

    assert visits("AtariSixGames") == [(task, 1_474_560) for task in range(6)]
    assert visits("AtariSixGamesReversed") == [(task, 1_474_560) for task in range(5, -1, -1)]
    assert visits("AtariSixGamesTwoCycle") == [(task, 737_280) for task in range(6)] * 2


@needs_ale
@pytest.mark.parametrize("game", ["Boxing", "MsPacman"])
def test_frames_and_rewards_are_wmars_chain_step_for_step(game: str) -> None:
    ours, theirs = gym.make(f"envsuite/Atari{game}-v5"), wmar_chain(game)
    actions = np.random.default_rng(0).integers(0, 18, 400)
    rewarded = 0
    # Seeds seen before take the restored load rather than a fresh one: the same game either way.
    for seed, steps in ((7, 250), (8, 50), (7, 50), (None, 50)):
        observation, info = ours.reset(seed=seed)
        expected, expected_info = theirs.reset(seed=seed)
        np.testing.assert_array_equal(observation, expected)
        assert info["episode_frame_number"] == expected_info["episode_frame_number"] > 0  # no-ops
        assert info["frame_number"] == expected_info["frame_number"]
        for action in actions[:steps]:
            observation, reward, terminated, truncated, info = ours.step(action)
            expected, expected_reward, *ends, expected_info = theirs.step(action)
            np.testing.assert_array_equal(observation, expected)
            assert reward == pytest.approx(expected_reward, rel=1e-6, abs=1e-12)
            assert [terminated, truncated] == ends
            assert info["frame_number"] == expected_info["frame_number"]
            rewarded += reward != 0
            if terminated or truncated:
                break
    assert rewarded > 0  # the comparison saw scores, not only zeros
    assert observation.shape == (64, 64, 3)
    assert observation.dtype == np.uint8


@needs_ale
def test_no_sticky_actions_four_frames_a_step_and_the_full_action_set() -> None:
    env = gym.make("envsuite/AtariEnduro-v5")
    ale = env.unwrapped.preprocessing.unwrapped.ale
    assert ale.getFloat("repeat_action_probability") == 0.0
    assert env.action_space == gym.spaces.Discrete(18)
    assert len(env.unwrapped.action_meanings) == 18
    assert env.unwrapped.action_meanings[:2] == ["NOOP", "FIRE"]
    _, info = env.reset(seed=0)
    start = info["episode_frame_number"]
    for step in range(1, 6):
        _, _, _, _, info = env.step(1)
        assert info["episode_frame_number"] == start + 4 * step


@needs_ale
def test_reward_scale_is_a_task_kwarg_and_one_gives_the_score() -> None:
    scaled = gym.make("envsuite/AtariBoxing-v5", reward_scale=0.25)
    raw = gym.make("envsuite/AtariBoxing-v5", reward_scale=1)
    scaled.reset(seed=3)
    raw.reset(seed=3)
    pairs = [
        (scaled.step(action)[1], raw.step(action)[1])
        for action in np.random.default_rng(1).integers(0, 18, 300)
    ]
    assert any(score != 0 for _, score in pairs)
    assert all(reward == 0.25 * score for reward, score in pairs)
    sequence = envsuite.make_sequence("AtariSixGames", task_kwargs={"reward_scale": 1.0})
    assert all(task.kwargs == {"reward_scale": 1.0} for task in sequence.spec.tasks)


@needs_ale
def test_a_pickled_env_resumes_the_episode_and_draws_the_same_no_ops() -> None:
    env = gym.make("envsuite/AtariSeaquest-v5")
    env.reset(seed=5)
    for action in np.random.default_rng(2).integers(0, 18, 60):
        env.step(action)
    clone = pickle.loads(pickle.dumps(env))
    for action in np.random.default_rng(3).integers(0, 18, 40):
        first, second = env.step(action), clone.step(action)
        np.testing.assert_array_equal(first[0], second[0])
        assert first[1:] == second[1:]
    # The no-op count after a reset without a seed comes from the env's generator.
    (first, first_info), (second, second_info) = env.reset(), clone.reset()
    np.testing.assert_array_equal(first, second)
    assert first_info == second_info


@needs_ale
def test_the_game_loads_at_first_use_and_an_unused_env_pickles() -> None:
    env = gym.make("envsuite/AtariBoxing-v5")
    assert env.unwrapped._preprocessing is None  # a sequence makes envs it may never play
    clone = pickle.loads(pickle.dumps(env))
    first, second = env.reset(seed=4), clone.reset(seed=4)
    np.testing.assert_array_equal(first[0], second[0])
    for action in (1, 3, 5):
        np.testing.assert_array_equal(env.step(action)[0], clone.step(action)[0])


@needs_ale
def test_renders_the_full_screen() -> None:
    env = gym.make("envsuite/AtariFrostbite-v5", render_mode="rgb_array")
    env.reset(seed=0)
    assert env.render().shape == (210, 160, 3)


@needs_ale
def test_user_mistakes_raise_clear_errors() -> None:
    unknown = r"AtariBoxing-v5: unknown keyword argument\(s\) \['mode'\]"
    with pytest.raises(TypeError, match=unknown):
        gym.make("envsuite/AtariBoxing-v5", mode=1)
    with pytest.raises(ValueError, match="reward_scale: must be a finite number, got 'big'"):
        gym.make("envsuite/AtariBoxing-v5", reward_scale="big")
    with pytest.raises(ValueError, match="reward_scale: must be a finite number, got nan"):
        gym.make("envsuite/AtariBoxing-v5", reward_scale=float("nan"))
    with pytest.raises(ValueError, match="reward_scale: must be a finite number, got True"):
        gym.make("envsuite/AtariBoxing-v5", reward_scale=True)
    assert (
        gym.make("envsuite/AtariBoxing-v5", reward_scale=np.float32(0.5)).unwrapped.reward_scale
        == 0.5
    )
    with pytest.raises(ValueError, match="render_mode: must be None or one of"):
        gym.make("envsuite/AtariBoxing-v5", render_mode="ansi")
    with pytest.raises(ValueError, match="game: must be one of"):
        envsuite.atari.AtariGameEnv("Pong")
    env = gym.make("envsuite/AtariBoxing-v5")
    env.reset(seed=0)
    for action in (18, -1, 1.5, np.array([1, 2])):
        with pytest.raises(ValueError, match=r"action: must be an integer in \[0, 18\)"):
            env.unwrapped.step(action)


def test_without_ale_py_the_ids_stay_listed_and_make_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "ale_py", None)  # import ale_py now fails
    assert set(GAME_IDS) <= set(envsuite.registered_ids("atari"))
    for env_id in (GAME_IDS[0], "envsuite/AtariSixGames-v0"):
        with pytest.raises(ModuleNotFoundError, match=r'pip install "envsuite\[atari\]"'):
            gym.make(env_id)
    assert "envsuite[atari]" in INSTALL_HINT


def test_importing_envsuite_registers_the_games_without_importing_ale_py() -> None:
    code = (
        "import sys\n"
        "import envsuite\n"
        "ids = envsuite.registered_ids('atari')\n"
        "assert 'envsuite/AtariMsPacman-v5' in ids and 'envsuite/AtariSixGames-v0' in ids, ids\n"
        "assert 'ale_py' not in sys.modules and 'cv2' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
