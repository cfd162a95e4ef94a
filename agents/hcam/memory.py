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
        most_steps_before: their maximum, on the host (it fixes how many stored steps are
            read; one device sync per segment).
    """

    episode: Tensor
    episode_step: Tensor
    steps_before: Tensor
    most_steps_before: int

    @classmethod
    def of(cls, episode_start: Tensor, steps_before: Tensor) -> Segment:
        """The segment of ``episode_start`` (``[T, B]`` bool) whose envs had played
        ``steps_before`` (``[B]``) steps of their episodes before it."""
        length = episode_start.shape[0]
        times = torch.arange(length, device=episode_start.device)[:, None]
        episode = episode_start.long().cumsum(0)
        last_start = torch.where(episode_start, times, -1).cummax(0).values
        episode_step = torch.where(episode == 0, steps_before[None, :] + times, times - last_start)
        return cls(episode, episode_step, steps_before, int(steps_before.max()))

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
        length, batch, width = inputs.shape
        heads, head_width = self.heads, width // self.heads
        device = inputs.device
        # Only the stored steps some env's episode and the window reach are keys.
        stored = min(recent.shape[1], self.window, segment.most_steps_before)
        timeline = torch.cat(
            [recent[:, recent.shape[1] - stored :].detach(), inputs.transpose(0, 1)], 1
        )  # [B, S + T, D]
        # Each key's episode: a stored step is of the one in progress (0) if it is one of the
        # steps played of it, else of an earlier one (-1); a segment step's is the segment's.
        played = (
            torch.arange(stored, 0, -1, device=device)[None, :] <= segment.steps_before[:, None]
        )
        key_episode = torch.cat([torch.where(played, 0, -1), segment.episode.T], 1)
        query_episode = segment.episode.T[:, :, None]  # [B, T, 1]
        queries = self.query(inputs).unflatten(-1, (heads, head_width)).transpose(0, 1)
        keys = self.key(timeline).unflatten(-1, (heads, head_width))  # [B, S + T, H, d]
        values = self.value(timeline).unflatten(-1, (heads, head_width))
        window = self.window
        if 4 * window < stored + length:
            # A short window: queries in blocks of ``window`` steps, each block against the
            # ``2 * window`` keys its steps can reach, instead of every key masked.
            blocks = -(-length // window)
            pad = window - stored  # a block's keys start a window before its first query
            tail = blocks * window - length
            queries = F.pad(queries, (0, 0, 0, 0, 0, tail)).unflatten(1, (blocks, window))
            keys, values = (
                F.pad(part, (0, 0, 0, 0, pad, tail)).unfold(1, 2 * window, window)
                for part in (keys, values)
            )  # [B, blocks, H, d, 2 * window]
            block_episode = F.pad(key_episode, (pad, tail), value=-1).unfold(1, 2 * window, window)
            # Padding queries see the padding (never a step): no row is all hidden.
            query_block_episode = F.pad(segment.episode.T, (0, tail), value=-1)
            query_block_episode = query_block_episode.unflatten(1, (blocks, window))
            # Query l of a block is padded step window + l of its keys' span.
            distance = (window + torch.arange(window, device=device))[:, None] - torch.arange(
                2 * window, device=device
            )  # [window, 2 * window]
            in_window = (distance >= 0) & (distance <= window)
            visible = (block_episode[:, :, None, :] == query_block_episode[..., None]) & in_window
            scores = queries.transpose(2, 3) @ keys / math.sqrt(head_width)  # [B, n, H, L, 2L]
            scores = scores + self.distance_bias[:, distance.clamp(0, window)]
            weights = scores.masked_fill(~visible[:, :, None], float("-inf")).softmax(-1)
            attended = weights @ values.transpose(-1, -2)  # [B, blocks, H, window, d]
            attended = attended.transpose(2, 3).flatten(1, 2)[:, :length]  # [B, T, H, d]
        else:
            query_time = torch.arange(length, device=device)[:, None]
            distance = query_time - torch.arange(-stored, length, device=device)[None, :]
            in_window = (distance >= 0) & (distance <= window)  # [T, S + T]
            visible = (key_episode[:, None, :] == query_episode) & in_window
            scores = torch.einsum("bthd,bjhd->bhtj", queries, keys) / math.sqrt(head_width)
            scores = scores + self.distance_bias[:, distance.clamp(0, window)]
            weights = scores.masked_fill(~visible[:, None], float("-inf")).softmax(-1)
            attended = torch.einsum("bhtj,bjhd->bthd", weights, values)
        # Every step sees itself: no row of weights is all hidden.
        return self.output(attended.reshape(batch, length, width).transpose(0, 1))


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

        heads, head_width = self.heads, width // self.heads
        positioned = contents.detach() + self.positions  # [B, N, C, D]
        head_queries = self.query(queries).unflatten(-1, (heads, head_width))  # [T, B, H, d]
        dense_weights = top_weights.new_zeros(length, batch, chunks).scatter(
            -1, top_index, top_weights
        )
        if length * top_k < chunks:
            # Few queries beside the chunks (acting): each query's k chunks are gathered and
            # projected, k * C rows per query whatever the memory's size.
            flat_chunk = torch.arange(batch, device=queries.device)[:, None] * chunks + top_index
            selected = positioned.flatten(0, 1)[flat_chunk]  # [T, B, k, C, D]
            chunk_keys, chunk_values = (
                projection(selected).unflatten(-1, (heads, head_width)).permute(0, 1, 4, 2, 3, 5)
                for projection in (self.key, self.value)
            )  # [T, B, H, k, C, d]
            scores = (chunk_keys.flatten(3, 4) @ head_queries[..., None]).squeeze(-1)
            in_chunk = (scores.unflatten(-1, (top_k, -1)) / math.sqrt(head_width)).softmax(-1)
            weighted = (in_chunk * top_weights[:, :, None, :, None]).flatten(3, 4)
            combined = (weighted[..., None, :] @ chunk_values.flatten(3, 4)).squeeze(-2)
        else:
            # A segment's many queries: every chunk projected once and attended in full, the
            # unselected weighing 0 (the same result; matmuls beat per-query gathers here).
            chunk_keys, chunk_values = (
                projection(positioned).unflatten(-1, (heads, head_width)).permute(0, 3, 1, 2, 4)
                for projection in (self.key, self.value)
            )  # [B, H, N, C, d]
            scores = head_queries.permute(1, 2, 0, 3) @ chunk_keys.flatten(2, 3).transpose(-1, -2)
            in_chunk = (scores.unflatten(-1, (chunks, -1)) / math.sqrt(head_width)).softmax(-1)
            weighted = in_chunk * dense_weights.permute(1, 0, 2)[:, None, :, :, None]
            combined = (weighted.flatten(3, 4) @ chunk_values.flatten(2, 3)).permute(2, 0, 1, 3)
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
    capacity, chunk_size = memory.contents.shape[1:3]
    device = inputs.device
    # Filled slots are the last ones (see kept_chunks): only those some env has are read.
    filled = int(memory.valid.sum(1).max())
    first = capacity - filled
    memory = Chunks(
        memory.keys[:, first:],
        memory.contents[:, first:],
        memory.number[:, first:],
        memory.valid[:, first:],
    )
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
    visible = visible & (newer_visible <= capacity)
    return chunks, visible, in_last_episode


def kept_chunks(chunks: Chunks, keep: Tensor, capacity: int) -> Chunks:
    """The memory after a segment: the newest ``capacity`` chunks of those ``keep`` (``[B, N]``)
    marks, oldest first, after the empty slots."""
    order = torch.arange(chunks.keys.shape[1], device=chunks.keys.device)
    score = torch.where(keep, order, -1)
    score = F.pad(score, (max(capacity - score.shape[1], 0), 0), value=-1)
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
