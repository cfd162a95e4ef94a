"""A Stable-Baselines3 replay buffer backed by our RingBuffer (or ReservoirBuffer):
``replay_buffer_class`` for SAC, TD3 and DQN, with array or Dict observations; truncated
episodes are stored as truncated."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import BaseBuffer, ReplayBuffer
from stable_baselines3.common.type_aliases import DictReplayBufferSamples, ReplayBufferSamples
from stable_baselines3.common.vec_env import VecNormalize

from agents.buffers.fields import FieldSpec
from agents.buffers.reservoir import ReservoirBuffer
from agents.buffers.ring import RingBuffer

STORAGES: dict[str, type[RingBuffer | ReservoirBuffer]] = {
    "ring": RingBuffer,
    "reservoir": ReservoirBuffer,
}


class SB3ReplayBuffer(ReplayBuffer):
    """Drop-in for SB3's ``ReplayBuffer``: ``SAC(..., replay_buffer_class=SB3ReplayBuffer)``.

    ``buffer_size`` counts transitions over all envs, as in SB3. Sampling draws with
    replacement and, like SB3, allows a batch larger than the buffer (SAC starts training after
    ``learning_starts`` steps, which may be fewer than ``batch_size``).

    Args:
        storage: ``"ring"`` keeps the newest ``buffer_size`` transitions (SB3's behaviour);
            ``"reservoir"`` a uniform sample of every transition ever added, so older tasks'
            transitions survive a task boundary ("perfect memory" replay).
        seed: seeds the sampling; default: drawn from numpy's global generator, which SB3's
            ``seed`` argument sets, so seeded SB3 runs stay reproducible.
        check_memory: raise before allocating a buffer that will not fit in memory.
        (the others as in SB3's ``ReplayBuffer``; ``optimize_memory_usage`` must be False)
    """

    def __init__(
        self,
        buffer_size: int,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        device: th.device | str = "auto",
        n_envs: int = 1,
        optimize_memory_usage: bool = False,
        handle_timeout_termination: bool = True,
        storage: str = "ring",
        seed: int | None = None,
        check_memory: bool = True,
    ) -> None:
        if storage not in STORAGES:
            raise ValueError(f"storage must be one of {list(STORAGES)}, got {storage!r}")
        if optimize_memory_usage:
            raise ValueError(
                "SB3ReplayBuffer does not support optimize_memory_usage=True; "
                "agents.buffers.SequenceBuffer stores each observation once"
            )
        # Dict observations are stored as one row of bytes per transition, split on sampling.
        self.dict_layout = (
            DictLayout(observation_space) if isinstance(observation_space, spaces.Dict) else None
        )
        if self.dict_layout is None and not isinstance(
            observation_space,
            (spaces.Box, spaces.Discrete, spaces.MultiBinary, spaces.MultiDiscrete),
        ):
            raise TypeError(
                f"SB3ReplayBuffer stores Box, Discrete, MultiBinary, MultiDiscrete and Dict "
                f"observations, got {observation_space}"
            )
        # BaseBuffer, not ReplayBuffer: SB3's constructor would allocate its own arrays.
        BaseBuffer.__init__(
            self, buffer_size, observation_space, action_space, device, n_envs=n_envs
        )
        self.optimize_memory_usage = False
        self.handle_timeout_termination = handle_timeout_termination
        # SB3's meaning: rows of n_envs transitions; size() and pos count these.
        self.buffer_size = max(buffer_size // n_envs, 1)
        observation_field = (
            FieldSpec(self.obs_shape, observation_space.dtype)
            if self.dict_layout is None
            else self.dict_layout.field
        )
        self._observation_batch_shape = (n_envs, *observation_field.shape)
        self._action_batch_shape = (n_envs, self.action_dim)
        self.transitions = STORAGES[storage](
            self.buffer_size * n_envs,
            observation_field,
            # Actions as SB3 stores them: float64 ones in float32.
            FieldSpec((self.action_dim,), _stored_action_dtype(action_space.dtype)),
            seed=int(np.random.randint(2**31 - 1)) if seed is None else seed,
            check_memory=check_memory,
        )

    def add(
        self,
        obs: np.ndarray | dict[str, np.ndarray],
        next_obs: np.ndarray | dict[str, np.ndarray],
        action: np.ndarray,
        reward: np.ndarray,
        done: np.ndarray,
        infos: list[dict[str, Any]],
    ) -> None:
        """Store one transition per env, as SB3's off-policy algorithms call it."""
        if self.dict_layout is not None:
            obs = self.dict_layout.flatten(obs, self.n_envs)
            next_obs = self.dict_layout.flatten(next_obs, self.n_envs)
        # Reshapes only where SB3 hands over flat arrays (Discrete observations and actions).
        elif np.shape(obs) != self._observation_batch_shape:
            obs = np.asarray(obs).reshape(self._observation_batch_shape)
            next_obs = np.asarray(next_obs).reshape(self._observation_batch_shape)
        if np.shape(action) != self._action_batch_shape:
            action = np.asarray(action).reshape(self._action_batch_shape)
        truncated = np.array([info.get("TimeLimit.truncated", False) for info in infos], bool)
        done = np.asarray(done, dtype=bool)
        self.transitions.add(obs, action, reward, next_obs, done & ~truncated, done & truncated)
        self.pos += 1
        if self.pos == self.buffer_size:
            self.full = True
            self.pos = 0

    def reset(self) -> None:
        """Empty the buffer."""
        super().reset()
        self.transitions = type(self.transitions).from_config(
            self.transitions.config(), check_memory=False
        )

    def state_dict(self) -> dict[str, Any]:
        """SB3's counters and the transitions' :meth:`Buffer.state_dict` (views, no copies)."""
        return {"pos": self.pos, "full": self.full, "transitions": self.transitions.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` into a buffer of the same size and spaces."""
        saved_config = json.loads(state["transitions"]["config"])
        own_config = self.transitions.config()
        # The sampling seed is the saved buffer's; the rest must be this buffer's.
        if {**saved_config, "seed": None} != {**own_config, "seed": None}:
            raise ValueError(
                f"replay buffer state of another buffer: {saved_config}, this one is {own_config}"
            )
        transitions = type(self.transitions).from_config(saved_config, check_memory=False)
        transitions.load_state_dict(state["transitions"])
        self.transitions = transitions
        self.pos, self.full = int(state["pos"]), bool(state["full"])

    def sample(self, batch_size: int, env: VecNormalize | None = None) -> ReplayBufferSamples:
        """A minibatch of ``batch_size`` transitions as SB3's ``ReplayBufferSamples``."""
        if len(self.transitions) == 0:
            raise ValueError("sample: the replay buffer is empty; add transitions first")
        # Not transitions.sample: SB3 allows batches larger than the buffer, which that refuses.
        rows = self.transitions._sample_rows(batch_size)
        return self.samples_at(rows, env)

    def samples_at(
        self, rows: np.ndarray, env: VecNormalize | None = None
    ) -> ReplayBufferSamples | DictReplayBufferSamples:
        """The transitions at ``rows`` as SB3's samples, normalised by ``env`` if given."""
        data = self.transitions.storage.read(np.asarray(rows, dtype=np.int64))
        ended = data["terminated"]
        if not self.handle_timeout_termination:
            ended = ended | data["truncated"]
        # The arrays are fresh, so they need no copy on the way to torch.
        rest = [
            self.to_torch(array, copy=False)
            for array in (
                data["action"],
                ended.astype(np.float32).reshape(-1, 1),
                _normalized_reward(data["reward"].reshape(-1, 1), env),
            )
        ]
        if self.dict_layout is None:
            observations = _normalized_observation(data["observation"], env)
            next_observations = _normalized_observation(data["next_observation"], env)
            return ReplayBufferSamples(
                self.to_torch(observations, copy=False),
                rest[0],
                self.to_torch(next_observations, copy=False),
                *rest[1:],
            )
        observations, next_observations = (
            {
                key: self.to_torch(array, copy=False)
                for key, array in _normalized_observation(self.dict_layout.split(flat), env).items()
            }
            for flat in (data["observation"], data["next_observation"])
        )
        return DictReplayBufferSamples(observations, rest[0], next_observations, *rest[1:])


def _stored_action_dtype(dtype: np.dtype) -> np.dtype:
    return np.dtype(np.float32) if np.dtype(dtype) == np.float64 else np.dtype(dtype)


def _normalized_observation(observation: Any, env: VecNormalize | None) -> Any:
    return observation if env is None else env.normalize_obs(observation)


def _normalized_reward(reward: np.ndarray, env: VecNormalize | None) -> np.ndarray:
    return reward if env is None else env.normalize_reward(reward).astype(np.float32)


class DictLayout:
    """Where each key of a Dict observation space lies in one flat row of bytes, and back.

    Every subspace must be a ``Box``. Each key keeps its own dtype's bytes, so the round trip is
    exact and a ``uint8`` image next to a ``float32`` vector costs no more than it would alone.
    """

    def __init__(self, space: spaces.Dict) -> None:
        for key, subspace in space.spaces.items():
            if not isinstance(subspace, spaces.Box):
                raise TypeError(
                    f"SB3ReplayBuffer stores Dict observations of Box subspaces; "
                    f"key {key!r} is {subspace}"
                )
        self.keys = tuple(space.spaces)
        self.shapes = {key: space[key].shape for key in self.keys}
        self.dtypes = {key: np.dtype(space[key].dtype) for key in self.keys}
        sizes = [int(np.prod(self.shapes[key])) * self.dtypes[key].itemsize for key in self.keys]
        ends = np.cumsum(sizes)
        self.slices = {
            key: slice(int(end - size), int(end))
            for key, size, end in zip(self.keys, sizes, ends, strict=True)
        }
        self.field = FieldSpec((int(ends[-1]),), np.uint8)

    def flatten(self, observation: dict[str, np.ndarray], n_envs: int) -> np.ndarray:
        """``{key: (n_envs, *shape)}`` -> ``(n_envs, row bytes)``."""
        return np.concatenate(
            [
                np.ascontiguousarray(observation[key], dtype=self.dtypes[key])
                .reshape(n_envs, -1)
                .view(np.uint8)
                for key in self.keys
            ],
            axis=1,
        )

    def split(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """``(batch, row bytes)`` -> ``{key: (batch, *shape)}`` in each key's own dtype."""
        return {
            key: np.ascontiguousarray(rows[:, self.slices[key]])
            .view(self.dtypes[key])
            .reshape(len(rows), *self.shapes[key])
            for key in self.keys
        }
