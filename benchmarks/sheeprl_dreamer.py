"""sheeprl's DreamerV3, the peer that ``benchmarks/dreamer.py`` runs side by side with ours.

Everything measured is sheeprl's own code: the agent from its ``build_agent``
(``sheeprl.algos.dreamer_v3.agent``), the optimizers and the replay buffer built as its
``sheeprl.algos.dreamer_v3.dreamer_v3.main`` builds them, one gradient step by its ``train``
(world model, then actor and critic on the imagined trajectories) preceded by the soft update of
the target critic that its training loop does before every ``train``, and the batches sampled by
its ``sample_batches``. The configuration is sheeprl's hydra configuration, composed from its
``exp=dreamer_v3`` with ``algo=dreamer_v3_<size>`` (XS, S, M, L, XL).

sheeprl is time-major: a batch is a dict of tensors of shape ``(sequence_length, batch_size,
...)``, all float32 (``sample_batches`` casts them), the image ``rgb`` channels-first in 0..255
(the world model scales it), the actions one-hot, ``rewards``, ``terminated``, ``truncated`` and
``is_first`` of width 1.

Process-wide settings made by sheeprl's launcher (``sheeprl.cli.run_algorithm``) are left to the
caller: ``torch.set_float32_matmul_precision`` ("high" in sheeprl's config: TF32 matmuls on a
GPU) and ``torch.backends.cudnn.benchmark`` (True). One is made here, as sheeprl's speed depends
on it: ``torch.distributions.Distribution.set_default_validate_args(False)``; it is global, so it
holds for every model in the process.

``benchmarks/dreamer.py`` times it against ours.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
import torch

OBSERVATIONS = ("pixels", "vector")
# The observations: sheeprl's image key and a small vector under its own key.
IMAGE_KEY, VECTOR_KEY = "rgb", "state"
IMAGE_SHAPE = (3, 64, 64)
VECTOR_SIZE = 16
ACTIONS = 6


def sheeprl_config(
    size: str,
    observation: str,
    batch_size: int = 16,
    sequence_length: int = 64,
    device: str = "cpu",
    seed: int = 0,
    precision: str = "32-true",
    compile: bool = False,
    overrides: Sequence[str] = (),
) -> Any:
    """sheeprl's resolved configuration (its ``dotdict``), composed as its command line does
    (``sheeprl exp=dreamer_v3 algo=dreamer_v3_<size> ...``)."""
    import sheeprl
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf
    from sheeprl.utils.utils import dotdict

    if observation not in OBSERVATIONS:
        raise ValueError(f"observation must be one of {OBSERVATIONS}, got {observation!r}")
    if observation == "pixels":
        keys = [f"algo.cnn_keys.encoder=[{IMAGE_KEY}]", "algo.mlp_keys.encoder=[]"]
    else:
        keys = ["algo.cnn_keys.encoder=[]", f"algo.mlp_keys.encoder=[{VECTOR_KEY}]"]
    # The decoders' keys are set explicitly: exp=dreamer_v3 writes `algo.cnn_keys.decoder: [rgb]`.
    keys += [
        "algo.cnn_keys.decoder=${algo.cnn_keys.encoder}",
        "algo.mlp_keys.decoder=${algo.mlp_keys.encoder}",
    ]
    accelerator = "cuda" if str(device).startswith("cuda") else "cpu"
    config_dir = str(Path(sheeprl.__file__).parent / "configs")
    with initialize_config_dir(config_dir=config_dir, version_base="1.3"):
        cfg = compose(
            config_name="config",
            overrides=[
                "exp=dreamer_v3",
                f"algo=dreamer_v3_{size}",
                "env=dummy",
                f"algo.per_rank_batch_size={batch_size}",
                f"algo.per_rank_sequence_length={sequence_length}",
                f"algo.compile.enabled={compile}",
                *keys,
                f"fabric.accelerator={accelerator}",
                f"fabric.precision={precision}",
                "metric.log_level=0",
                "model_manager.disabled=True",
                "buffer.memmap=False",
                f"seed={seed}",
                *overrides,
            ],
        )
    return dotdict(OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True))


def observation_space(observation: str) -> gym.spaces.Dict:
    if observation == "pixels":
        return gym.spaces.Dict({IMAGE_KEY: gym.spaces.Box(0, 255, IMAGE_SHAPE, np.uint8)})
    return gym.spaces.Dict(
        {VECTOR_KEY: gym.spaces.Box(-np.inf, np.inf, (VECTOR_SIZE,), np.float32)}
    )


def _fabric(cfg: Any, device: str) -> Any:
    import hydra
    from lightning.fabric import Fabric

    kwargs = {}
    if str(device).startswith("cuda:"):
        kwargs["devices"] = [int(str(device).split(":")[1])]
    # As sheeprl's launcher instantiates it (without its checkpoint callback: nothing is saved).
    fabric: Fabric = hydra.utils.instantiate(
        cfg.fabric, strategy="auto", callbacks=[], _convert_="all", **kwargs
    )
    fabric.seed_everything(cfg.seed, verbose=False)
    return fabric


def _disable_metrics() -> None:
    """sheeprl with `metric.log_level=0`, as its launcher sets it: no metrics, no timers."""
    from sheeprl.utils.metric import MetricAggregator
    from sheeprl.utils.timer import timer

    MetricAggregator.disabled = True
    timer.disabled = True
    # sheeprl's launcher: `Distribution.set_default_validate_args(cfg.distribution.validate_args)`.
    torch.distributions.Distribution.set_default_validate_args(False)


class SheeprlDreamer(NamedTuple):
    """What :func:`_build` makes: sheeprl's config, fabric, networks, optimizers, moments."""

    cfg: Any
    fabric: Any
    world_model: Any
    actor: Any
    critic: Any
    target_critic: Any
    world_optimizer: Any
    actor_optimizer: Any
    critic_optimizer: Any
    moments: Any


def _build(
    size: str,
    observation: str,
    batch_size: int,
    sequence_length: int,
    device: str,
    seed: int,
    **config: Any,
) -> SheeprlDreamer:
    """sheeprl's agent and optimizers, built as `dreamer_v3.main` builds them."""
    import hydra
    from sheeprl.algos.dreamer_v3.agent import build_agent
    from sheeprl.algos.dreamer_v3.utils import Moments

    _disable_metrics()
    cfg = sheeprl_config(size, observation, batch_size, sequence_length, device, seed, **config)
    fabric = _fabric(cfg, device)
    world_model, actor, critic, target_critic, _player = build_agent(
        fabric, (ACTIONS,), False, cfg, observation_space(observation)
    )
    world_optimizer = hydra.utils.instantiate(
        cfg.algo.world_model.optimizer, params=world_model.parameters(), _convert_="all"
    )
    actor_optimizer = hydra.utils.instantiate(
        cfg.algo.actor.optimizer, params=actor.parameters(), _convert_="all"
    )
    critic_optimizer = hydra.utils.instantiate(
        cfg.algo.critic.optimizer, params=critic.parameters(), _convert_="all"
    )
    world_optimizer, actor_optimizer, critic_optimizer = fabric.setup_optimizers(
        world_optimizer, actor_optimizer, critic_optimizer
    )
    moments = Moments(
        cfg.algo.actor.moments.decay,
        cfg.algo.actor.moments.max,
        cfg.algo.actor.moments.percentile.low,
        cfg.algo.actor.moments.percentile.high,
    )
    return SheeprlDreamer(
        cfg,
        fabric,
        world_model,
        actor,
        critic,
        target_critic,
        world_optimizer,
        actor_optimizer,
        critic_optimizer,
        moments,
    )


def random_batch(
    observation: str, batch_size: int, sequence_length: int, device: str | torch.device, seed: int
) -> dict[str, torch.Tensor]:
    """A fixed batch as `sample_batches` yields it: time-major, every key float32 on the device."""
    generator = torch.Generator().manual_seed(seed)
    shape = (sequence_length, batch_size)
    batch: dict[str, torch.Tensor] = {}
    if observation == "pixels":
        batch[IMAGE_KEY] = torch.randint(
            0, 256, (*shape, *IMAGE_SHAPE), generator=generator
        ).float()
    else:
        batch[VECTOR_KEY] = torch.randn((*shape, VECTOR_SIZE), generator=generator)
    actions = torch.randint(0, ACTIONS, shape, generator=generator)
    batch["actions"] = torch.nn.functional.one_hot(actions, ACTIONS).float()
    batch["rewards"] = torch.randn((*shape, 1), generator=generator)
    batch["terminated"] = (torch.rand((*shape, 1), generator=generator) < 0.01).float()
    batch["truncated"] = torch.zeros((*shape, 1))
    batch["is_first"] = torch.zeros((*shape, 1))
    return {key: value.to(device) for key, value in batch.items()}


def sheeprl_trainer(
    size: str,
    observation: str,
    batch_size: int = 16,
    sequence_length: int = 64,
    device: str = "cpu",
    seed: int = 0,
    **config: Any,
) -> Callable[[], None]:
    """One call = one full sheeprl DreamerV3 gradient step (world model, actor, critic) on a fixed
    random batch of shape ``(sequence_length, batch_size, ...)`` (sheeprl is time-major).

    The step is what sheeprl's training loop does for every batch: the soft update of the target
    critic (``per_rank_target_network_update_freq=1``, ``tau=0.02``), then ``train(...)``. It
    returns with the work queued on a GPU: the caller synchronizes (``torch.cuda.synchronize``)
    before reading a clock. ``config``: ``precision`` (fabric's, "32-true" by default),
    ``compile`` (sheeprl's ``algo.compile.enabled``, off by default as in sheeprl), ``overrides``
    (more hydra overrides).
    """
    from sheeprl.algos.dreamer_v3.dreamer_v3 import train

    built = _build(size, observation, batch_size, sequence_length, device, seed, **config)
    cfg, critic, target_critic = built.cfg, built.critic, built.target_critic
    batch = random_batch(observation, batch_size, sequence_length, built.fabric.device, seed)
    tau = cfg.algo.critic.tau
    steps = 0

    def step() -> None:
        nonlocal steps
        # sheeprl's loop: the target critic copies the critic at the first step, then follows it.
        if steps % cfg.algo.critic.per_rank_target_network_update_freq == 0:
            weight = 1 if steps == 0 else tau
            for cp, tcp in zip(critic.module.parameters(), target_critic.parameters(), strict=True):
                tcp.data.copy_(weight * cp.data + (1 - weight) * tcp.data)
        # `train` writes `is_first[0] = 1` into the batch, as it does into every sampled batch.
        train(
            built.fabric,
            built.world_model,
            built.actor,
            critic,
            target_critic,
            built.world_optimizer,
            built.actor_optimizer,
            built.critic_optimizer,
            batch,
            None,
            cfg,
            False,
            (ACTIONS,),
            built.moments,
        )
        steps += 1

    return step


def sheeprl_replay_sampler(
    observation: str,
    batch_size: int = 16,
    sequence_length: int = 64,
    device: str = "cpu",
    seed: int = 0,
    capacity: int = 100_000,
    num_envs: int = 4,
    memmap: bool = False,
    size: str = "XS",
) -> Callable[[], None]:
    """One call = one batch of ``batch_size`` sequences of ``sequence_length`` steps sampled from
    sheeprl's replay buffer by its ``sample_batches``, as its DreamerV3 training loop samples
    every batch: an ``EnvIndependentReplayBuffer`` of ``SequentialReplayBuffer``s, one per env
    (``capacity // num_envs`` steps each, filled to capacity with random steps), the sample turned
    into float32 tensors on the device, time-major.

    ``memmap``: sheeprl's default (``buffer.memmap=True``) keeps the buffer in memory-mapped files;
    off by default here, an in-memory buffer as ours. Actions are stored as main's first (random)
    steps store them (int64 one-hots), rewards and flags as float64, images as uint8.
    """
    from sheeprl.algos.dreamer_v2.utils import sample_batches
    from sheeprl.data.buffers import EnvIndependentReplayBuffer, SequentialReplayBuffer

    _disable_metrics()
    overrides = [f"buffer.memmap={memmap}", f"buffer.size={capacity}", f"env.num_envs={num_envs}"]
    cfg = sheeprl_config(
        size, observation, batch_size, sequence_length, device, seed, overrides=overrides
    )
    fabric = _fabric(cfg, device)
    memmap_dir = tempfile.mkdtemp(prefix="sheeprl_rb_") if memmap else None
    rb = EnvIndependentReplayBuffer(
        capacity // num_envs,
        n_envs=num_envs,
        memmap=memmap,
        memmap_dir=memmap_dir,
        buffer_cls=SequentialReplayBuffer,
        seed=seed,
    )
    rng = np.random.default_rng(seed)
    chunk = 1000
    for start in range(0, capacity // num_envs, chunk):
        length = min(chunk, capacity // num_envs - start)
        shape = (length, num_envs)
        data: dict[str, np.ndarray] = {}
        if observation == "pixels":
            data[IMAGE_KEY] = rng.integers(0, 256, (*shape, *IMAGE_SHAPE), dtype=np.uint8)
        else:
            data[VECTOR_KEY] = rng.standard_normal((*shape, VECTOR_SIZE), dtype=np.float32)
        data["actions"] = np.eye(ACTIONS, dtype=np.int64)[rng.integers(0, ACTIONS, shape)]
        data["rewards"] = rng.standard_normal((*shape, 1))
        data["terminated"] = np.zeros((*shape, 1))
        data["truncated"] = np.zeros((*shape, 1))
        data["is_first"] = np.zeros((*shape, 1))
        rb.add(data, validate_args=False)

    def sample() -> None:
        for _batch in sample_batches(fabric, cfg, rb, 1):
            pass

    return sample


def sheeprl_parameter_count(
    size: str, observation: str = "pixels", device: str = "cpu"
) -> dict[str, int]:
    """The weights of sheeprl's DreamerV3 of ``size``: ``world_model`` (with its parts),
    ``actor``, ``critic`` (the target critic is a copy)."""
    built = _build(size, observation, 16, 64, device, 0)
    world_model, actor, critic = built.world_model, built.actor, built.critic

    def count(module: torch.nn.Module) -> int:
        return sum(p.numel() for p in module.parameters())

    counts = {
        "world_model": count(world_model),
        "encoder": count(world_model.encoder),
        "rssm": count(world_model.rssm),
        "decoder": count(world_model.observation_model),
        "reward": count(world_model.reward_model),
        "continue": count(world_model.continue_model),
        "actor": count(actor),
        "critic": count(critic),
    }
    counts["total"] = counts["world_model"] + counts["actor"] + counts["critic"]
    return counts
