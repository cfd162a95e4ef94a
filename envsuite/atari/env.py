"""Six Atari 2600 games as WMAR plays them: ALE v5 through gymnasium's ``AtariPreprocessing``,
64 x 64 RGB frames and a per-game reward scale (optional extra ``envsuite[atari]``)."""

from __future__ import annotations

import numbers
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, ClassVar, SupportsFloat

import gymnasium as gym
import numpy as np

INSTALL_HINT = (
    "ale-py is not installed; the Atari games (envsuite/Atari*-v5, envsuite/AtariSixGames*-v0) "
    'need it: pip install "envsuite[atari]"'
)
SCREEN_SIZE = 64
FRAME_SKIP = 4
# gymnasium's AtariPreprocessing default, which WMAR's code keeps: 1 to 30 no-op actions (frames)
# after every reset, drawn from the env's own generator.
NOOP_MAX = 30
# The full action space: every game takes the same 18 joystick and button combinations.
NUM_ACTIONS = 18
USER_ARGUMENTS = ("reward_scale", "render_mode")
# ALE (re)loads a game's ROM on every seeded reset, about 0.2 s as Stella emulates frames to
# detect the TV format. A process keeps the emulator state a load leaves, by game and ALE seed,
# and a seeded reset it has seen before restores that instead: the same emulator, random state
# and frame counters, in microseconds. Past 256 the least recently used goes; each is a few kB.
_LOADED_STATES: OrderedDict[tuple[str, int], Any] = OrderedDict()
LOADED_STATES_KEPT = 256


@dataclass(frozen=True)
class AtariGame:
    """One game of WMAR's Atari sequence."""

    name: str
    """CamelCase, as ALE's ids spell it (``ALE/<name>-v5``)."""
    reward_scale: float
    """What WMAR multiplies the game's score changes by, so that every game's returns are of a
    similar size."""
    description: str


# WMAR's order (Cerenaut/WMAR, Configs/Atari configs/CL-task configs/Original Order) and scales.
GAMES: dict[str, AtariGame] = {
    game.name: game
    for game in (
        AtariGame("MsPacman", 0.05, "Ms. Pac-Man eats pellets in a maze, chased by ghosts."),
        AtariGame("Boxing", 1.0, "Boxing: land punches on the opponent seen from above."),
        AtariGame("CrazyClimber", 0.001, "Crazy Climber scales a skyscraper, dodging hazards."),
        AtariGame("Frostbite", 0.2, "Frostbite hops ice floes to build an igloo."),
        AtariGame("Seaquest", 0.5, "Seaquest: a submarine shoots sharks and rescues divers."),
        AtariGame("Enduro", 0.5, "Enduro: a car race, overtaking cars day and night."),
    )
}


class AtariGameEnv(gym.Env[np.ndarray, np.int64]):
    """One Atari 2600 game with WMAR's preprocessing.

    ## Description
    An Atari 2600 game run by the Arcade Learning Environment (ALE v5, through ale-py), set up as
    WMAR ("Augmenting Replay in World Models for Continual Reinforcement Learning") sets it up:
    no sticky actions (``repeat_action_probability=0``), the full 18-action space, and
    gymnasium's ``AtariPreprocessing``: every action repeated for 4 frames, the last two frames'
    maximum, resized to 64 x 64 with OpenCV's area interpolation, in colour, and 1 to 30 no-op
    frames after each reset. The six games of WMAR's sequence are registered as
    ``envsuite/Atari<Game>-v5``; the sequences ``envsuite/AtariSixGames*-v0`` play them in turn.

    ## Action Space
    ``Discrete(18)``: ALE's full action set (``env.unwrapped.action_meanings``), the same for
    every game, so that one agent plays them all.

    ## Observation Space
    ``Box(0, 255, (64, 64, 3), uint8)``: the screen, pooled over the last two frames and resized.

    ## Rewards
    The change of the game's score over the 4 frames, times ``reward_scale``.

    ## Episode End
    Terminated when the game is over (lives are not episodes). Truncated by ALE v5 at 108,000
    frames, the reset's no-op frames included (at most 27,000 steps). ``info``: ``lives``,
    ``episode_frame_number``, ``frame_number``.

    ## Arguments
    - ``reward_scale``: the factor on the score (default: the game's scale in WMAR: MsPacman
      0.05, Boxing 1, CrazyClimber 0.001, Frostbite 0.2, Seaquest 0.5, Enduro 0.5); 1 gives
      the game's own score.
    - ``render_mode``: ``"rgb_array"``, the full 210 x 160 screen (an unpickled env renders
      its first screen after its next step: ALE's state does not hold the screen).
    - ``game`` is set by the registered id (one of ``GAMES``).
    Needs the optional extra: ``pip install "envsuite[atari]"`` (ale-py, whose wheels hold
    the games, and OpenCV).

    ## Version History
    - v5: initial version, on ALE v5 (the id's version follows ALE's).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 15}

    def __init__(
        self,
        game: str,
        reward_scale: float | None = None,
        render_mode: str | None = None,
        **unknown: Any,
    ) -> None:
        if unknown:
            name = f"envsuite/Atari{game}-v5" if game in GAMES else game
            raise TypeError(
                f"{name}: unknown keyword argument(s) {sorted(unknown)}; "
                f"allowed: {list(USER_ARGUMENTS)}"
            )
        if game not in GAMES:
            raise ValueError(f"game: must be one of {list(GAMES)}, got {game!r}")
        if reward_scale is None:
            reward_scale = GAMES[game].reward_scale
        if (
            isinstance(reward_scale, bool | np.bool_)
            or not isinstance(reward_scale, numbers.Real)
            or not np.isfinite(reward_scale)
        ):
            raise ValueError(f"reward_scale: must be a finite number, got {reward_scale!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode: must be None or one of {self.metadata['render_modes']}, "
                f"got {render_mode!r}"
            )
        _import_atari()  # the extra's absence is an error here, not at the first reset
        self.game = game
        self.reward_scale = float(reward_scale)
        self.render_mode = render_mode
        self._preprocessing: gym.Wrapper | None = None
        self.observation_space = gym.spaces.Box(0, 255, (SCREEN_SIZE, SCREEN_SIZE, 3), np.uint8)
        self.action_space = gym.spaces.Discrete(NUM_ACTIONS)

    @property
    def preprocessing(self) -> gym.Wrapper:
        """ALE's v5 env for the game inside ``AtariPreprocessing``, built at its first use:
        loading a game takes 0.2 s, and a sequence makes every task's env but plays few."""
        if self._preprocessing is None:
            self._preprocessing = self._make_preprocessing()
        return self._preprocessing

    def _make_preprocessing(self) -> gym.Wrapper:
        """ALE's v5 env for the game as WMAR configures it, inside ``AtariPreprocessing``."""
        ale_env = gym.make(
            f"ALE/{self.game}-v5",
            frameskip=1,
            repeat_action_probability=0.0,
            full_action_space=True,
            render_mode=self.render_mode,
            disable_env_checker=True,
        )
        return gym.wrappers.AtariPreprocessing(
            # Without gym.make's order enforcing: a rebuilt (unpickled) env is mid-episode
            # without a reset of its own; gym.make's wrapper around ours enforces the order.
            ale_env.unwrapped,
            noop_max=NOOP_MAX,
            frame_skip=FRAME_SKIP,
            screen_size=SCREEN_SIZE,
            grayscale_obs=False,
        )

    @property
    def action_meanings(self) -> list[str]:
        """ALE's names of the 18 actions (``NOOP``, ``FIRE``, ``UP``, ...)."""
        return self.preprocessing.unwrapped.get_action_meanings()

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if seed is not None:
            self._seed_game(seed)
        # Seeded or not, the game's own reset, then the no-ops from the env's generator.
        observation, info = self.preprocessing.reset(options=options)
        return observation, _game_info(info)

    def _seed_game(self, seed: int) -> None:
        """What ALE's seeded reset does before the game's reset: seed the no-op generator and
        the emulator, and load the game afresh (or restore the state a load with this seed
        left, when this process has made one)."""
        atari = self.preprocessing.unwrapped
        _, ale_seed = atari.seed_game(seed)
        key = (self.game, int(ale_seed))
        loaded = _LOADED_STATES.get(key)
        if loaded is None:
            atari.load_game()
            _LOADED_STATES[key] = atari.ale.cloneState(include_rng=True)
            if len(_LOADED_STATES) > LOADED_STATES_KEPT:
                _LOADED_STATES.popitem(last=False)
        else:
            atari.ale.restoreState(loaded)
            _LOADED_STATES.move_to_end(key)

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        observation, reward, terminated, truncated, info = self.preprocessing.step(
            _checked_action(action)
        )
        return (
            observation,
            self.reward_scale * float(reward),
            bool(terminated),
            bool(truncated),
            _game_info(info),
        )

    def render(self) -> np.ndarray | None:
        if self.render_mode is None:
            gym.logger.warn(
                "render() needs a render_mode; make the env with render_mode='rgb_array'"
            )
            return None
        return self.preprocessing.render()

    def close(self) -> None:
        if self._preprocessing is not None:
            self._preprocessing.close()
        super().close()

    def __getstate__(self) -> dict[str, Any]:
        # ale-py pickles its env by constructor arguments only (a fresh game), so the emulator
        # (with its random state), the no-op generator and the frame pool travel apart.
        state = self.__dict__.copy()
        preprocessing = state.pop("_preprocessing")
        state["_preprocessing"] = None
        if preprocessing is None:  # never used: nothing of the game to keep
            return state
        state["_game_state"] = {
            "emulator": preprocessing.unwrapped.ale.cloneState(include_rng=True),
            "noop_generator": preprocessing.unwrapped.np_random.bit_generator.state,
            "lives": preprocessing.lives,
            "game_over": preprocessing.game_over,
            "frame_pool": [frame.copy() for frame in preprocessing.obs_buffer],
        }
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        saved = state.pop("_game_state", None)
        self.__dict__.update(state)
        if saved is None:
            return
        preprocessing = self._make_preprocessing()
        atari = preprocessing.unwrapped
        atari.ale.restoreState(saved["emulator"])
        generator = np.random.default_rng()
        generator.bit_generator.state = saved["noop_generator"]
        atari.np_random = generator
        preprocessing.lives = saved["lives"]
        preprocessing.game_over = saved["game_over"]
        for frame, pooled in zip(preprocessing.obs_buffer, saved["frame_pool"], strict=True):
            frame[...] = pooled
        self._preprocessing = preprocessing


def _import_atari() -> None:
    """Import what the games need, or say which extra installs it."""
    try:
        # ale_py registers the ALE/ ids; cv2 is what AtariPreprocessing resizes with.
        import ale_py  # noqa: F401
        import cv2  # noqa: F401
    except ImportError as error:
        raise ModuleNotFoundError(INSTALL_HINT, name=error.name) from error


def _checked_action(action: Any) -> int:
    """``action`` as an int in [0, 18), or a ValueError saying what it must be."""
    array = np.asarray(action)
    if array.shape != () or array.dtype.kind not in "iu" or not 0 <= int(array) < NUM_ACTIONS:
        raise ValueError(
            f"action: must be an integer in [0, {NUM_ACTIONS}) (ALE's full action set), "
            f"got {action!r}"
        )
    return int(array)


def _game_info(info: dict[str, Any]) -> dict[str, Any]:
    """ALE's info without the seeds it reports on a seeded reset (a reset says nothing more)."""
    return {
        "lives": int(info["lives"]),
        "episode_frame_number": int(info["episode_frame_number"]),
        "frame_number": int(info["frame_number"]),
    }
