"""SB3's own ``learn`` driven by the training loop's steps.

SB3 collects its rollouts by stepping a ``VecEnv``. :class:`LoopVecEnv` is a VecEnv whose steps
are the loop's: ``learn`` runs in a worker thread (:class:`BackgroundLearn`), and each time it
steps its env the thread hands its actions to the loop and waits for the loop's result. The two
threads strictly alternate, so while the loop evaluates or checkpoints, SB3 is waiting inside
``step_wait`` and its model is not being trained.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.vec_env import VecEnv


class StopLearningSignal(Exception):  # noqa: N818 (a signal, not an error)
    """Raised inside SB3's ``learn`` (from ``step_wait``) to end it where the loop stopped."""


_STOP = object()


class LoopVecEnv(VecEnv):
    """The VecEnv an SB3 model of the loop is built on; its steps come from the loop.

    ``reset`` returns the observation the loop began with; ``step_async`` passes SB3's actions
    to the loop; ``step_wait`` blocks until the loop hands back the step's result in SB3's form
    (``dones``, infos with ``terminal_observation`` and ``TimeLimit.truncated``).
    """

    def __init__(
        self, observation_space: gym.Space, action_space: gym.Space, num_envs: int
    ) -> None:
        self.actions: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.results: queue.Queue[Any] = queue.Queue()
        self.first_observation: Any = None
        super().__init__(num_envs, observation_space, action_space)

    def reset(self) -> Any:
        if self.first_observation is None:
            raise RuntimeError("LoopVecEnv: reset before the loop's first observation")
        return self.first_observation

    def step_async(self, actions: np.ndarray) -> None:
        self.actions.put(("actions", actions))

    def step_wait(self) -> Any:
        result = self.results.get()
        if result is _STOP:
            raise StopLearningSignal
        return result

    def close(self) -> None:
        """Nothing to close: the loop owns the real envs."""

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        if attr_name == "render_mode":  # asked by VecEnv.__init__; the loop renders, not SB3
            return [None] * self.num_envs
        raise _unreachable(attr_name)

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        raise _unreachable(attr_name)

    def env_method(self, method_name: str, *args: Any, indices: Any = None, **kwargs: Any) -> list:
        raise _unreachable(method_name)

    def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
        return [False] * self.num_envs


def _unreachable(name: str) -> AttributeError:
    return AttributeError(f"LoopVecEnv: the loop's envs are not reachable from SB3 ({name})")


class BackgroundLearn:
    """``model.learn`` in a worker thread over a :class:`LoopVecEnv`, one step at a time.

    Args:
        model: an SB3 model built on ``env``.
        env: its :class:`LoopVecEnv`.
        total_steps: the steps the model trains for in all (a resumed model's
            ``num_timesteps`` included), so that its schedules (learning rate, exploration)
            run as in an uninterrupted run.
    """

    def __init__(self, model: BaseAlgorithm, env: LoopVecEnv, total_steps: int) -> None:
        self.model = model
        self.env = env
        self.total_steps = total_steps
        self.thread: threading.Thread | None = None

    @property
    def started(self) -> bool:
        return self.thread is not None

    def start(self, observation: Any) -> np.ndarray | None:
        """Begin ``learn`` on ``observation``; returns its first actions (``None``: nothing to
        train)."""
        self.env.first_observation = observation
        self.thread = threading.Thread(target=self._learn, name="sb3-learn", daemon=True)
        self.thread.start()
        return self.next_actions()

    def step(self, result: tuple[Any, np.ndarray, np.ndarray, list[dict[str, Any]]]) -> None:
        """Hand SB3 the result of the actions it last chose."""
        self.env.results.put(result)

    def next_actions(self) -> np.ndarray | None:
        """Wait until SB3 has processed the last step (stored it, trained if it was time) and
        chose its next actions; ``None`` once ``learn`` has reached ``total_steps``."""
        kind, value = self.env.actions.get()
        if kind == "error":
            raise RuntimeError("SB3's learn failed in its worker thread") from value
        return value if kind == "actions" else None

    def stop(self) -> None:
        """End ``learn`` where it waits (a PPO rollout may stand unfinished) and join it."""
        if self.thread is not None and self.thread.is_alive():
            self.env.results.put(_STOP)
            self.thread.join()

    def _learn(self) -> None:
        remaining = self.total_steps - self.model.num_timesteps
        try:
            # log_interval=1: SAC and DQN dump their scalars at every episode's end (SB3's
            # default 4 would leave a short run without any), PPO at every rollout's.
            self.model.learn(total_timesteps=remaining, reset_num_timesteps=False, log_interval=1)
        except StopLearningSignal:
            return
        except BaseException as error:  # handed to the loop's thread, which raises it
            self.env.actions.put(("error", error))
            return
        self.env.actions.put(("done", None))
