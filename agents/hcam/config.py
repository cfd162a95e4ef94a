"""The configs of the memory agents (``envsuite-train agent=hcam|memory_transformer|memory_lstm``)
and of their cores; importing this module does not load torch."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from agents.common.protocol import AgentConfig, AgentConfigError, AgentContext

if TYPE_CHECKING:
    from agents.hcam.agent import MemoryAgent
    from agents.hcam.cores import MemoryCore


class CoreKind(Enum):
    """The memory cores (``agent.core=``)."""

    hcam = "hcam"
    lstm = "lstm"
    transformer = "transformer"
    window = "window"


@dataclass(frozen=True)
class CoreSpec:
    """A core's kind and sizes."""

    kind: CoreKind
    """Which core."""
    width: int
    """The width of the step encodings and of every layer (the LSTM's hidden size)."""
    layers: int = 2
    """Blocks (LSTM layers)."""
    heads: int = 4
    """Attention heads (of the window attention and of HCAM's in-chunk attention)."""
    window: int = 16
    """Attention cores: each step attends to itself and this many steps before it in its
    episode (HCAM: the steps not yet in a chunk are among them when it is at least
    ``chunk_size``)."""
    chunk_size: int = 16
    """HCAM: steps per chunk."""
    top_k: int = 4
    """HCAM: chunks each query reads in detail."""
    memory_chunks: int = 64
    """HCAM: chunks kept per env and layer (the newest; an episode longer than
    ``memory_chunks * chunk_size`` steps forgets its start)."""
    mlp_ratio: int = 2
    """Attention cores: the hidden width of each block's MLP, in multiples of ``width``."""

    def check(self) -> None:
        """A clear error naming the first size out of range."""
        names = ["width", "layers"]
        if self.kind is not CoreKind.lstm:
            names += ["heads", "window", "mlp_ratio"]
        if self.kind is CoreKind.hcam:
            names += ["chunk_size", "top_k"]
        for name in names:
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: must be positive, got {getattr(self, name)}")
        if self.kind is not CoreKind.lstm and self.width % self.heads:
            raise ValueError(f"width: must be a multiple of heads={self.heads}, got {self.width}")
        if self.kind is CoreKind.hcam and self.memory_chunks < self.top_k:
            raise ValueError(
                f"memory_chunks: must be at least top_k={self.top_k}, got {self.memory_chunks}"
            )

    def build(self) -> MemoryCore:
        """The core (a clear ``ValueError`` for a size out of range)."""
        self.check()
        from agents.hcam.cores import AttentionCore, LSTMCore  # torch, only when built

        if self.kind is CoreKind.lstm:
            return LSTMCore(self.width, self.layers)
        return AttentionCore(self)


# Each core at about 100k parameters (116k, 112k, 104k, 104k): the sizes the agents
# (``agent=hcam|memory_transformer|memory_window|memory_lstm``) and the recall probe use.
# The transformer's window holds a whole episode of Ballet's longest level (8 x 64 steps of
# show, then 40 to act).
COMPARABLE_CORES = {
    CoreKind.hcam: CoreSpec(CoreKind.hcam, 64, window=16, chunk_size=16, top_k=4),
    CoreKind.transformer: CoreSpec(CoreKind.transformer, 80, window=1024),
    CoreKind.window: CoreSpec(CoreKind.window, 80, window=64),
    CoreKind.lstm: CoreSpec(CoreKind.lstm, 80),
}

_HCAM = COMPARABLE_CORES[CoreKind.hcam]


@dataclass
class MemoryAgentConfig(AgentConfig):
    """A recurrent actor-critic over a memory core, trained with PPO on sequences: each update
    replays the rollout's segment of every env from the core state it began with (the memory
    carried across segments, gradients truncated at the segment's start). ``agent=hcam``,
    ``agent=memory_transformer``, ``agent=memory_window`` and ``agent=memory_lstm`` set the
    core and its comparable size; every field can be changed."""

    name: str = "hcam"
    core: CoreKind = CoreKind.hcam
    """The memory core: ``hcam``, ``transformer`` (a long window), ``window`` or ``lstm``."""
    width: int = _HCAM.width
    """The width of the observation encoding and of the core."""
    layers: int = _HCAM.layers
    """Core blocks (LSTM layers)."""
    heads: int = _HCAM.heads
    """Attention heads."""
    window: int = _HCAM.window
    """Attention cores: the steps before each step that it attends to (Transformer-XL's
    memory); HCAM's local window."""
    chunk_size: int = _HCAM.chunk_size
    """HCAM: steps per chunk."""
    top_k: int = _HCAM.top_k
    """HCAM: chunks each query reads in detail."""
    memory_chunks: int = _HCAM.memory_chunks
    """HCAM: chunks kept per env and block (the newest)."""
    mlp_ratio: int = _HCAM.mlp_ratio
    """Attention cores: the MLP's hidden width in multiples of ``width``."""
    num_envs: int = 8
    """Envs stepped together; each update learns from a segment of every one."""
    rollout_length: int = 128
    """Steps per env between updates: the segment length, over which gradients flow."""
    epochs: int = 4
    """Passes over each rollout."""
    minibatches: int = 2
    """Minibatches per pass, each a group of whole env segments (``num_envs`` must be a
    multiple)."""
    learning_rate: float = 3e-4
    """Adam's learning rate."""
    discount: float = 0.99
    """The discount per step."""
    gae_lambda: float = 0.95
    """λ of the generalised advantage estimate."""
    clip: float = 0.2
    """PPO's ratio clip."""
    entropy: float = 0.01
    """The entropy bonus's weight."""
    value_weight: float = 0.5
    """The value loss's weight."""
    max_grad_norm: float = 0.5
    """The gradient norm clip."""
    evaluation_sampling: bool = True
    """Evaluation samples from the policy (from a random stream of its own, so that how often
    evaluation runs does not change training) rather than taking its most likely action: the
    policy of a partly observed room is stochastic by design, and its most likely action can
    repeat forever (walk forward into a wall, turn on the spot), so a greedy evaluation
    measures a policy that was never trained. ``False``: the most likely action."""
    attention_images: bool = True
    """HCAM: at every evaluation round, an image per task of the chunk weights of the last
    block over the first evaluation episode (tensorboard ``eval/<task>/memory_attention``: a
    row per observation, the final one included, a column per chunk of the episode)."""

    def core_spec(self) -> CoreSpec:
        """The core this config describes."""
        return CoreSpec(
            self.core,
            self.width,
            layers=self.layers,
            heads=self.heads,
            window=self.window,
            chunk_size=self.chunk_size,
            top_k=self.top_k,
            memory_chunks=self.memory_chunks,
            mlp_ratio=self.mlp_ratio,
        )

    def check(self) -> None:
        """A clear error naming the first field out of range."""
        try:
            self.core_spec().check()
        except ValueError as error:
            raise AgentConfigError(f"agent.{error}") from None
        positive = ("num_envs", "rollout_length", "epochs", "minibatches", "learning_rate")
        for name in (*positive, "clip", "max_grad_norm"):
            if (value := getattr(self, name)) <= 0:
                raise AgentConfigError(f"agent.{name}: must be positive, got {value}")
        for name in ("entropy", "value_weight"):
            if (value := getattr(self, name)) < 0:
                raise AgentConfigError(f"agent.{name}: must be 0 or more, got {value}")
        for name in ("discount", "gae_lambda"):
            if not 0 <= (value := getattr(self, name)) <= 1:
                raise AgentConfigError(f"agent.{name}: must lie in [0, 1], got {value}")
        if self.num_envs % self.minibatches:
            raise AgentConfigError(
                f"agent.minibatches: must divide agent.num_envs={self.num_envs}, got "
                f"{self.minibatches}"
            )

    def build(self, context: AgentContext) -> MemoryAgent:
        self.check()
        from agents.hcam.agent import MemoryAgent  # torch, only when built

        try:
            return MemoryAgent(self, context)
        except ValueError as error:  # the message names the space
            raise AgentConfigError(str(error)) from error

    def label(self) -> str:
        return self.name if self.core.value in self.name else f"{self.name}_{self.core.value}"


@dataclass
class MemoryTransformerConfig(MemoryAgentConfig):
    """The memory agent with a Transformer-XL-style core attending over a window that holds a
    whole episode of the longest Ballet level (``agent=memory_transformer``)."""

    name: str = "memory_transformer"
    core: CoreKind = CoreKind.transformer
    width: int = COMPARABLE_CORES[CoreKind.transformer].width
    window: int = COMPARABLE_CORES[CoreKind.transformer].window


@dataclass
class MemoryWindowConfig(MemoryAgentConfig):
    """The memory agent attending over the last 64 steps alone (``agent=memory_window``): the
    window that HCAM's chunks go beyond."""

    name: str = "memory_window"
    core: CoreKind = CoreKind.window
    width: int = COMPARABLE_CORES[CoreKind.window].width
    window: int = COMPARABLE_CORES[CoreKind.window].window


@dataclass
class MemoryLSTMConfig(MemoryAgentConfig):
    """The memory agent with an LSTM core (``agent=memory_lstm``)."""

    name: str = "memory_lstm"
    core: CoreKind = CoreKind.lstm
    width: int = COMPARABLE_CORES[CoreKind.lstm].width
