"""The config of DreamerV3 (``envsuite-train agent=dreamerv3 size=S``): one dataclass that hydra
checks, with DreamerV3's 2023 hyperparameters as defaults, and the size presets."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from agents.common.protocol import AgentConfig, AgentConfigError, AgentContext

if TYPE_CHECKING:
    from agents.dreamer.agent import DreamerAgent


@dataclass(frozen=True)
class ModelSize:
    """The sizes that differ between DreamerV3's presets."""

    deter: int
    """The GRU's state."""
    units: int
    """Hidden layers of every MLP and of the RSSM."""
    layers: int
    """Hidden layers of the MLPs (encoder and decoder for vectors, heads, actor, critic)."""
    cnn_depth: int
    """Channels of the first convolution (doubling at each of the four stages)."""
    latents: int = 32
    classes: int = 32


class Size(Enum):
    """The model size presets (``size=``): DreamerV3's small, medium and large, and sheeprl's
    extra-small for CPUs."""

    XS = "XS"
    S = "S"
    M = "M"
    L = "L"


# DreamerV3 (2023) configs.yaml: small/medium/large; XS as sheeprl's dreamer_v3_XS.
SIZES = {
    Size.XS: ModelSize(deter=256, units=256, layers=1, cnn_depth=24),
    Size.S: ModelSize(deter=512, units=512, layers=2, cnn_depth=32),
    Size.M: ModelSize(deter=1024, units=640, layers=3, cnn_depth=48),
    Size.L: ModelSize(deter=2048, units=768, layers=4, cnn_depth=64),
}


class Precision(Enum):
    """The compute precision (``agent.precision=``)."""

    float32 = "float32"
    bfloat16 = "bfloat16"


@dataclass
class DreamerConfig(AgentConfig):
    """DreamerV3: a world model learned from replayed sequences, an actor-critic trained in its
    imagination. Defaults are the paper's (2023) but where a field says otherwise."""

    name: str = "dreamerv3"
    size: Size = Size.S
    """The model size preset (``size=XS|S|M|L``): GRU, hidden units, layers, CNN depth."""
    train_ratio: float = 512.0
    """Replayed steps per env step: ``train_ratio / (batch_size * sequence_length)`` updates
    per env step that reaches the replay (DreamerV3: 512 for control, 1024 for Atari100k)."""
    batch_size: int = 16
    """Windows per update."""
    sequence_length: int = 64
    """Steps per window."""
    replay_capacity: int = 1_000_000
    """Steps the replay holds (FIFO)."""
    chunk_length: int | None = None
    """Steps per stored chunk of the replay (None: ``4 * sequence_length``); each chunk repeats
    the last ``sequence_length - 1`` steps of the one before, which ``replay_capacity`` does not
    count."""
    held_out_steps: int = 0
    """Steps stored at the start of each task set aside from the replay (never trained on):
    at every evaluation round the world model's loss on fixed windows of them (reconstruction
    and reward) is that task's ``world_model_loss`` in ``results.jsonl``, the signal of
    forgetting in the model; 0 (none) or at least ``num_envs * sequence_length``."""
    prefill: int = 1024
    """Env steps of a uniformly random policy collected into the replay before the first
    update (held-out steps do not count)."""
    model_lr: float = 1e-4
    """The world model's Adam learning rate."""
    model_eps: float = 1e-8
    """The world model's Adam epsilon."""
    model_clip: float = 1000.0
    """The world model's gradient norm clip."""
    actor_lr: float = 3e-5
    """The actor's Adam learning rate."""
    critic_lr: float = 3e-5
    """The critic's Adam learning rate."""
    behavior_eps: float = 1e-5
    """The actor's and the critic's Adam epsilon."""
    behavior_clip: float = 100.0
    """The actor's and the critic's gradient norm clip."""
    horizon: int = 15
    """Imagined steps."""
    discount: float = 0.997
    """The discount per step (DreamerV3: ``1 - 1 / 333``)."""
    return_lambda: float = 0.95
    """λ of the λ-returns."""
    entropy: float = 3e-4
    """The actor's entropy bonus."""
    free_nats: float = 1.0
    """Free bits of both KL terms (on the KL summed over the latents)."""
    unimix: float = 0.01
    """Uniform share mixed into the latents' and the discrete actor's categoricals."""
    precision: Precision = Precision.float32
    """``bfloat16``: autocast on CUDA (the losses stay float32); the CPU always computes in
    float32."""
    compile: bool = False
    """``torch.compile`` the networks."""
    log_every: int = 100
    """Updates between the scalars an update returns (losses, KL, return scale...)."""
    video_every: int = 1000
    """Updates between videos of the world model's open-loop predictions against the real
    frames (tensorboard ``agent/world_model/open_loop``; image observations only); 0: none."""

    def build(self, context: AgentContext) -> DreamerAgent:
        self.check()
        try:
            return self.agent_class()(self, context)
        except ValueError as error:  # the message names the field or the space
            raise AgentConfigError(str(error)) from error

    def agent_class(self) -> type[DreamerAgent]:
        """The agent this config builds."""
        # Imported here: the config alone must not load torch (see envsuite-train --help).
        from agents.dreamer.agent import DreamerAgent

        return DreamerAgent

    def check(self) -> None:
        """A clear error naming the first field out of range."""
        positive = (
            "train_ratio",
            "batch_size",
            "replay_capacity",
            "horizon",
            "log_every",
            "model_lr",
            "actor_lr",
            "critic_lr",
            "model_eps",
            "behavior_eps",
            "model_clip",
            "behavior_clip",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise AgentConfigError(f"agent.{name}: must be positive, got {getattr(self, name)}")
        for name in ("entropy", "free_nats"):
            if getattr(self, name) < 0:
                raise AgentConfigError(
                    f"agent.{name}: must be 0 or more, got {getattr(self, name)}"
                )
        if self.sequence_length < 2:
            raise AgentConfigError(
                f"agent.sequence_length: must be at least 2, got {self.sequence_length}"
            )
        for name in ("discount", "return_lambda", "unimix"):
            if not 0 <= getattr(self, name) <= 1:
                raise AgentConfigError(
                    f"agent.{name}: must lie in [0, 1], got {getattr(self, name)}"
                )
        if self.chunk_length is not None and self.chunk_length < self.sequence_length:
            raise AgentConfigError(
                f"agent.chunk_length: must be at least agent.sequence_length="
                f"{self.sequence_length}, got {self.chunk_length}"
            )
        if self.video_every < 0:
            raise AgentConfigError(f"agent.video_every: must be 0 or more, got {self.video_every}")
        if self.held_out_steps < 0:
            raise AgentConfigError(
                f"agent.held_out_steps: must be 0 or more, got {self.held_out_steps}"
            )
        if self.prefill < 0:
            raise AgentConfigError(f"agent.prefill: must be 0 or more, got {self.prefill}")

    def label(self) -> str:
        return f"dreamerv3_{self.size.value}"

    def replay_is_memory(self) -> bool:
        return True
