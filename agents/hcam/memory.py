"""The attention layers of the memory cores: hierarchical chunk attention (HCAM, Lampinen et al.
2021) over an episode's chunks, and attention over a window of recent steps (Transformer-XL).

Both run over a *segment*: ``T`` consecutive steps of ``B`` envs at once (``T = 1`` when acting,
a rollout when learning), time first (``[T, B, D]``). What a layer remembers between segments is
plain tensors, batch first, that the caller carries: the layer inputs of the last steps
(``recent``) and, for HCAM, the chunks written so far. Both memories are stored activations:
gradients never reach them (stop-gradient, as in Transformer-XL and the released HCAM module),
so truncated backprop through a segment is exact for everything inside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F  # noqa: N812

# The logit of a chunk a query may not see (the released module's mask value): far enough below
# any real logit that its softmax weight is exactly 0 in float32, yet finite.
HIDDEN_LOGIT = -1e6


@dataclass(frozen=True)
class Segment:
    """Where each step of a segment falls in its env's episodes.

    Attributes:
        episode: ``[T, B]`` how many episodes began in the segment up to and including step
            ``t``: 0 is the episode in progress when the segment began.
        episode_step: ``[T, B]`` the steps of its episode before step ``t`` (0 at a start).
        steps_before: ``[B]`` the steps of the episode in progress before the segment began.
    """

    episode: Tensor
    episode_step: Tensor
    steps_before: Tensor

    @classmethod
    def of(cls, episode_start: Tensor, steps_before: Tensor) -> Segment:
        """The segment of ``episode_start`` (``[T, B]`` bool) whose envs had played
        ``steps_before`` (``[B]``) steps of their episodes before it."""
        length = episode_start.shape[0]
        times = torch.arange(length, device=episode_start.device)[:, None]
        episode = episode_start.long().cumsum(0)
        last_start = torch.where(episode_start, times, -1).cummax(0).values
        episode_step = torch.where(episode == 0, steps_before[None, :] + times, times - last_start)
        return cls(episode, episode_step, steps_before)

    @property
    def steps_after(self) -> Tensor:
        """``[B]`` the steps of each env's episode once the segment is over."""
        return self.episode_step[-1] + 1


def recent_inputs(recent: Tensor, inputs: Tensor, keep: int) -> Tensor:
    """The last ``keep`` layer inputs, batch first (``[B, keep, D]``), once ``inputs``
    (``[T, B, D]``) follow ``recent``; detached (a stored memory). Which of them belong to the
    episode in progress follows from :attr:`Segment.episode_step`."""
    timeline = torch.cat([recent, inputs.transpose(0, 1)], 1)
    return timeline[:, timeline.shape[1] - keep :].detach()


def sinusoids(length: int, width: int) -> Tensor:
    """``[length, width]`` sinusoidal encodings of the positions ``length - 1 ... 0`` (the newest
    step of a chunk is position 0, as in the released module), timescales from 2 to 10^4."""
    positions = torch.arange(length - 1, -1, -1, dtype=torch.float32)
    half = width // 2
    timescales = 2.0 * (1e4 / 2.0) ** (torch.arange(half, dtype=torch.float32) / max(half - 1, 1))
    angles = positions[:, None] / timescales[None, :]
    encoding = torch.cat([angles.sin(), angles.cos()], -1)
    return F.pad(encoding, (0, width - 2 * half))


def _split_heads(values: Tensor, heads: int) -> Tensor:
    return values.reshape(*values.shape[:-1], heads, values.shape[-1] // heads)


class WindowAttention(nn.Module):
    """Multi-head attention of each step over itself and the ``window`` steps before it, in its
    own episode, with a learned bias per head and distance (Transformer-XL's relative positions,
    in their simplest form). Keys and values come from the segment's inputs and the stored
    ``recent`` inputs before it."""

    def __init__(self, width: int, heads: int, window: int) -> None:
        super().__init__()
        self.heads = heads
        self.window = window
        self.query = nn.Linear(width, width, bias=False)
        self.key = nn.Linear(width, width, bias=False)
        self.value = nn.Linear(width, width, bias=False)
        self.output = nn.Linear(width, width, bias=False)
        self.distance_bias = nn.Parameter(torch.zeros(heads, window + 1))

    def forward(self, inputs: Tensor, recent: Tensor, segment: Segment) -> Tensor:
        """``[T, B, D]`` attention results of ``inputs`` (``[T, B, D]``), after the stored
        ``recent`` inputs (``[B, R, D]``, oldest first)."""
        length, _, width = inputs.shape
        stored = recent.shape[1]
        timeline = torch.cat([recent.detach(), inputs.transpose(0, 1)], 1)  # [B, R + T, D]
        queries = _split_heads(self.query(inputs), self.heads)  # [T, B, H, d]
        keys = _split_heads(self.key(timeline), self.heads)  # [B, R + T, H, d]
        values = _split_heads(self.value(timeline), self.heads)
        scores = torch.einsum("tbhd,bjhd->bhtj", queries, keys) / math.sqrt(width // self.heads)

        device = inputs.device
        query_time = torch.arange(length, device=device)[:, None]
        key_time = torch.arange(-stored, length, device=device)[None, :]
        distance = query_time - key_time  # [T, R + T]
        in_window = (distance >= 0) & (distance <= self.window)
        # A stored step is of the query's episode if no episode began since it and it is one of
        # the steps played of that episode; a segment step, if it has the query's episode.
        key_episode = torch.cat(
            [
                torch.where(
                    torch.arange(stored, 0, -1, device=device)[None, :]
                    <= segment.steps_before[:, None],
                    0,
                    -1,
                ),
                segment.episode.T,
            ],
            1,
        )  # [B, R + T], -1: another episode
        same_episode = key_episode[:, None, :] == segment.episode.T[:, :, None]  # [B, T, R + T]
        visible = same_episode & in_window[None]
        bias = self.distance_bias[:, distance.clamp(0, self.window)]  # [H, T, R + T]
        scores = (scores + bias[None]).masked_fill(~visible[:, None], float("-inf"))
        weights = scores.softmax(-1)  # every step sees itself: no row is all hidden
        attended = torch.einsum("bhtj,bjhd->tbhd", weights, values)
        return self.output(attended.reshape(length, -1, width))


class ChunkAttention(nn.Module):
    """HCAM's read: a query picks the ``top_k`` chunks whose mean keys match it best and
    attends in detail within them.

    Single-head projections of the query and of the stop-gradient chunk keys give scaled
    dot-product logits; the ``top_k`` largest are kept and softmaxed among themselves only;
    within each kept chunk, multi-head attention of the query over the stop-gradient chunk
    contents plus sinusoidal in-chunk positions; the ``top_k`` results summed with their
    weights. A query that may see no chunk gets 0.
    """

    def __init__(self, width: int, heads: int, chunk_size: int, top_k: int) -> None:
        super().__init__()
        self.heads = heads
        self.top_k = top_k
        self.chunk_query = nn.Linear(width, width, bias=False)
        self.chunk_key = nn.Linear(width, width, bias=False)
        self.query = nn.Linear(width, width, bias=False)
        self.key = nn.Linear(width, width, bias=False)
        self.value = nn.Linear(width, width, bias=False)
        self.output = nn.Linear(width, width, bias=False)
        self.register_buffer("positions", sinusoids(chunk_size, width), persistent=False)

    def forward(
        self, queries: Tensor, keys: Tensor, contents: Tensor, visible: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Read memory.

        Args:
            queries: ``[T, B, D]``.
            keys: ``[B, N, D]`` the chunks' keys (their contents' means).
            contents: ``[B, N, C, D]`` the chunks' steps, oldest first.
            visible: ``[T, B, N]`` which chunks each query may see.

        Returns:
            ``[T, B, D]`` the results and ``[T, B, N]`` each chunk's weight (0 unless selected).
        """
        length, batch, width = queries.shape
        chunks = keys.shape[1]
        top_k = min(self.top_k, chunks)
        chunk_logits = torch.einsum(
            "tbd,bnd->tbn", self.chunk_query(queries), self.chunk_key(keys.detach())
        ) / math.sqrt(width)
        chunk_logits = chunk_logits.masked_fill(~visible, HIDDEN_LOGIT)
        top_logits, top_index = chunk_logits.topk(top_k, dim=-1)  # [T, B, k]
        # Hidden chunks already weigh 0 beside a visible one; the product zeroes the case
        # where none is visible.
        top_weights = top_logits.softmax(-1) * visible.gather(-1, top_index)

        batch_index = torch.arange(batch, device=queries.device)[None, :, None]
        selected = (contents.detach() + self.positions)[batch_index, top_index]  # [T,B,k,C,D]
        head_queries = _split_heads(self.query(queries), self.heads)  # [T, B, H, d]
        head_keys = _split_heads(self.key(selected), self.heads)  # [T, B, k, C, H, d]
        head_values = _split_heads(self.value(selected), self.heads)
        scores = torch.einsum("tbhd,tbkchd->tbkhc", head_queries, head_keys)
        in_chunk = (scores / math.sqrt(width // self.heads)).softmax(-1)
        per_chunk = torch.einsum("tbkhc,tbkchd->tbkhd", in_chunk, head_values)
        combined = torch.einsum("tbk,tbkhd->tbhd", top_weights, per_chunk)
        dense_weights = torch.zeros(length, batch, chunks, device=queries.device).scatter(
            -1, top_index, top_weights
        )
        return self.output(combined.reshape(length, batch, width)), dense_weights


@dataclass(frozen=True)
class Chunks:
    """An env batch's chunks, batch first.

    Attributes:
        keys: ``[B, N, D]`` each chunk's mean.
        contents: ``[B, N, C, D]`` its steps' layer inputs, oldest first.
        number: ``[B, N]`` its place in its episode (chunk ``j`` holds episode steps
            ``j*C ... j*C + C - 1``).
        valid: ``[B, N]`` the slot holds a chunk of the episode in progress.
    """

    keys: Tensor
    contents: Tensor
    number: Tensor
    valid: Tensor


def segment_chunks(
    memory: Chunks, recent: Tensor, inputs: Tensor, segment: Segment
) -> tuple[Chunks, Tensor, Tensor]:
    """The stored chunks and those the segment completes, with which each query may see.

    A chunk is written once its ``C``-th step has been read: a query sees the newest ``M``
    (the memory's capacity) of the chunks completed before its step, in its episode.
    ``recent`` (``[B, R >= C, D]``) holds the inputs before the segment, which begin its first
    chunk.

    Returns:
        The chunks (stored ones first, then the segment's in order), ``[T, B, N]`` which each
        query may see, and ``[B, N]`` which belong to the episode in progress at the end.
    """
    length, batch, _ = inputs.shape
    chunk_size = memory.contents.shape[2]
    device = inputs.device
    timeline = torch.cat([recent[:, -chunk_size:].detach(), inputs.detach().transpose(0, 1)], 1)
    times = torch.arange(length, device=device)[:, None].expand(length, batch)
    completes = segment.episode_step % chunk_size == chunk_size - 1
    slots = -(-length // chunk_size)  # chunks end >= C steps apart: at most this many end here
    end = torch.where(completes, times, length).sort(0).values[:slots]  # [S, B]
    written = end < length
    end = end.clamp(max=length - 1)
    batch_index = torch.arange(batch, device=device)
    # Step t is timeline entry C + t: a chunk ending at t is entries t + 1 ... t + C.
    entries = end.T[:, :, None] + 1 + torch.arange(chunk_size, device=device)  # [B, S, C]
    contents = timeline[batch_index[:, None, None], entries]
    number = (segment.episode_step[end, batch_index] // chunk_size).T  # [B, S]
    episode = segment.episode[end, batch_index].T  # [B, S]

    query_time = torch.arange(length, device=device)[:, None, None]
    sees_stored = memory.valid[None] & (segment.episode == 0)[..., None]
    sees_new = (
        written.T[None] & (end.T[None] < query_time) & (episode[None] == segment.episode[..., None])
    )
    last_episode = segment.episode[-1][:, None]
    in_last_episode = torch.cat(
        [memory.valid & (last_episode == 0), written.T & (episode == last_episode)], 1
    )
    chunks = Chunks(
        keys=torch.cat([memory.keys, contents.mean(2)], 1),
        contents=torch.cat([memory.contents, contents], 1),
        number=torch.cat([memory.number, number], 1),
        valid=torch.cat([memory.valid, written.T], 1),
    )
    visible = torch.cat([sees_stored, sees_new], -1)
    # The memory holds the newest M chunks: a query sees no chunk that step-by-step play would
    # have dropped by its step.
    newer_visible = visible.flip(-1).cumsum(-1).flip(-1)  # itself and the newer ones
    visible = visible & (newer_visible <= memory.keys.shape[1])
    return chunks, visible, in_last_episode


def kept_chunks(chunks: Chunks, keep: Tensor, capacity: int) -> Chunks:
    """The memory after a segment: the newest ``capacity`` chunks of those ``keep`` (``[B, N]``)
    marks, oldest first."""
    order = torch.arange(chunks.keys.shape[1], device=chunks.keys.device)
    score = torch.where(keep, order, -1)
    kept_score = score.topk(capacity, dim=-1).values.flip(-1)  # [B, M] oldest first
    index = kept_score.clamp(min=0)
    valid = kept_score >= 0
    batch_index = torch.arange(index.shape[0], device=index.device)[:, None]
    # Empty slots are zeroed, so that a state does not depend on how it was reached.
    return Chunks(
        keys=chunks.keys[batch_index, index].detach() * valid[..., None],
        contents=chunks.contents[batch_index, index].detach() * valid[..., None, None],
        number=chunks.number[batch_index, index] * valid,
        valid=valid,
    )
