"""The HCAM layer and the memory cores: the read against hand-worked numbers and the plain
attention it reduces to, stop-gradient, chunk writing, episode masks, env independence, and
segments that give what step-by-step play gives."""

from __future__ import annotations

import math

import pytest
import torch

from agents.hcam.config import CoreKind, CoreSpec
from agents.hcam.memory import ChunkAttention, Chunks, Segment, segment_chunks, sinusoids

CPU = torch.device("cpu")
SPECS = {
    CoreKind.hcam: CoreSpec(
        CoreKind.hcam, 8, heads=2, window=4, chunk_size=4, top_k=2, memory_chunks=3
    ),
    CoreKind.transformer: CoreSpec(CoreKind.transformer, 8, heads=2, window=64),
    CoreKind.window: CoreSpec(CoreKind.window, 8, heads=2, window=5),
    CoreKind.lstm: CoreSpec(CoreKind.lstm, 8),
}


def identity_attention(width: int, chunk_size: int, top_k: int) -> ChunkAttention:
    attention = ChunkAttention(width, heads=1, chunk_size=chunk_size, top_k=top_k)
    with torch.no_grad():
        for layer in (
            attention.chunk_query,
            attention.chunk_key,
            attention.query,
            attention.key,
            attention.value,
            attention.output,
        ):
            layer.weight.copy_(torch.eye(width))
    return attention


def test_top_k_softmax_is_over_the_selected_chunks_only():
    attention = identity_attention(width=4, chunk_size=1, top_k=2)
    query = torch.tensor([[[2.0, 0, 0, 0]]])  # [T=1, B=1, D]
    firsts = [1.0, 3.0, 0.0, 2.0]  # logits q.k / sqrt(4): 1, 3, 0, 2
    keys = torch.tensor([[[first, 0, 0, 0] for first in firsts]])
    contents = keys[:, :, None, :]
    position = torch.tensor([0.0, 0.0, 1.0, 1.0])  # the newest step: sin 0, cos 0
    assert torch.equal(sinusoids(1, 4)[0], position)

    visible = torch.ones(1, 1, 4, dtype=torch.bool)
    read, weights = attention(query, keys, contents, visible)
    top = torch.softmax(torch.tensor([3.0, 2.0]), 0)  # chunks 1 and 3 only
    assert torch.allclose(weights[0, 0], torch.tensor([0.0, top[0], 0.0, top[1]]))
    expected = top[0] * (keys[0, 1] + position) + top[1] * (keys[0, 3] + position)
    assert torch.allclose(read[0, 0], expected)
    assert math.isclose(expected[0].item(), 3 * 0.7310586 + 2 * 0.2689414, rel_tol=1e-6)

    # A chunk the query may not see is never selected, however well it matches.
    visible[0, 0, 1] = False
    read, weights = attention(query, keys, contents, visible)
    top = torch.softmax(torch.tensor([2.0, 1.0]), 0)  # chunks 3 and 0
    assert torch.allclose(weights[0, 0], torch.tensor([top[1], 0.0, 0.0, top[0]]))
    assert torch.allclose(
        read[0, 0], top[0] * (keys[0, 3] + position) + top[1] * (keys[0, 0] + position)
    )

    # Nothing visible: nothing read.
    read, weights = attention(query, keys, contents, torch.zeros_like(visible))
    assert torch.equal(read, torch.zeros_like(read))
    assert torch.equal(weights, torch.zeros_like(weights))


def test_in_chunk_attention_is_softmax_over_positions_newest_first():
    attention = identity_attention(width=4, chunk_size=2, top_k=1)
    steps = torch.tensor([[1.0, 0, 0, 0], [0, 2.0, 0, 0]])
    contents = steps[None, None]  # one chunk of two steps
    keys = contents.mean(2)
    query = torch.tensor([[[0.0, 1.0, 0.5, 0.0]]])
    read, _ = attention(query, keys, contents, torch.ones(1, 1, 1, dtype=torch.bool))
    positioned = steps + sinusoids(2, 4)  # the older step is position 1, the newer 0
    assert torch.allclose(sinusoids(2, 4)[1], torch.tensor([0.0, 0.0, 1.0, 1.0]))
    scores = positioned @ query[0, 0] / 2.0
    assert torch.allclose(read[0, 0], torch.softmax(scores, 0) @ positioned)


def test_all_chunks_of_one_step_is_plain_attention_up_to_the_projections():
    """k = M and C = 1: softmax(q Wq (x Wk)^T / sqrt(D)) weights Wo Wv (x + p0)."""
    torch.manual_seed(0)
    width, chunks = 8, 6
    attention = ChunkAttention(width, heads=2, chunk_size=1, top_k=chunks)
    steps = torch.randn(3, chunks, width)  # [B, M, D]
    queries = torch.randn(5, 3, width)  # [T, B, D]
    visible = torch.ones(5, 3, chunks, dtype=torch.bool)
    read, weights = attention(queries, steps, steps[:, :, None, :], visible)

    logits = torch.einsum(
        "tbd,bmd->tbm", attention.chunk_query(queries), attention.chunk_key(steps)
    ) / math.sqrt(width)
    plain_weights = logits.softmax(-1)
    values = attention.output(attention.value(steps + sinusoids(1, width)[0]))
    assert torch.allclose(weights, plain_weights, atol=1e-6)
    assert torch.allclose(read, torch.einsum("tbm,bmd->tbd", plain_weights, values), atol=1e-5)


def test_no_gradient_reaches_the_stored_memory():
    torch.manual_seed(1)
    width, chunk = 8, 2
    attention = ChunkAttention(width, heads=2, chunk_size=chunk, top_k=2)
    stored = torch.randn(2, 3, chunk, width, requires_grad=True)
    memory = Chunks(
        stored.mean(2), stored, torch.arange(3).expand(2, 3), torch.ones(2, 3, dtype=torch.bool)
    )
    inputs = torch.randn(7, 2, width, requires_grad=True)
    segment = Segment.of(torch.zeros(7, 2, dtype=torch.bool), torch.full((2,), 6))
    chunks, visible, _ = segment_chunks(memory, torch.randn(2, chunk, width), inputs, segment)
    read, _ = attention(inputs, chunks.keys, chunks.contents, visible)
    # Three stored chunks and three new ones: the last query sees the newest three.
    # (Seven steps leave room for four new chunks; the fourth slot stays empty.)
    assert visible[-1].tolist() == [[False] * 3 + [True] * 3 + [False]] * 2
    read[-1].sum().backward()
    assert stored.grad is None
    # The last query's own input is the only one its gradient reaches: the rest is memory.
    assert inputs.grad[-1].abs().sum() > 0
    assert torch.equal(inputs.grad[:-1], torch.zeros_like(inputs.grad[:-1]))
    assert all(parameter.grad is not None for parameter in attention.parameters())


def test_chunks_are_written_every_chunk_size_steps_with_their_mean_as_key():
    spec = CoreSpec(CoreKind.hcam, 8, heads=2, window=4, chunk_size=4, top_k=2, memory_chunks=3)
    torch.manual_seed(2)
    core = spec.build()
    inputs = torch.randn(18, 1, 8)
    start = torch.zeros(18, 1, dtype=torch.bool)
    start[0] = True
    output = core(inputs, start, core.initial_state(1, CPU))
    state = output.state
    normed = core.blocks[0].norm(inputs[:, 0]).detach()
    # 18 steps: chunks 0..3 written, the memory keeps the newest three; two steps wait.
    assert state["0.valid"].tolist() == [[True, True, True]]
    assert state["0.number"].tolist() == [[1, 2, 3]]
    for slot, number in enumerate((1, 2, 3)):
        expected = normed[4 * number : 4 * number + 4]
        assert torch.allclose(state["0.contents"][0, slot], expected, atol=1e-6)
        assert torch.allclose(state["0.keys"][0, slot], expected.mean(0), atol=1e-6)
    assert state["episode_step"].tolist() == [18]
    # Step t reads the chunks completed before it: none before step 4, chunk 0 from step 4.
    weights, numbers = output.chunk_weights[:, 0], output.chunk_numbers[0]
    assert weights[:4].sum() == 0
    assert torch.allclose(weights[4:].sum(-1), torch.ones(14))
    assert set(numbers[weights[4] > 0].tolist()) == {0}
    # At step 17 chunks 0 to 3 are complete; the memory holds three: chunk 0 is gone.
    assert (weights[17] > 0).sum() == 2
    assert set(numbers[weights[17] > 0].tolist()) <= {1, 2, 3}


def run_core(core, inputs, start, splits):
    """The core over ``inputs`` in segments of the given lengths, its state carried."""
    state = core.initial_state(inputs.shape[1], CPU)
    outputs, begin = [], 0
    for length in splits:
        result = core(inputs[begin : begin + length], start[begin : begin + length], state)
        outputs.append(result.outputs)
        state, begin = result.state, begin + length
    return torch.cat(outputs), state


@pytest.mark.parametrize("kind", list(CoreKind), ids=lambda kind: kind.value)
def test_segments_give_what_step_by_step_play_gives(kind):
    torch.manual_seed(3)
    core = SPECS[kind].build()
    length, batch = 30, 3
    inputs = torch.randn(length, batch, 8)
    start = torch.zeros(length, batch, dtype=torch.bool)
    start[0] = True
    start[11, 1] = start[12, 2] = start[27, 2] = True
    whole, whole_state = run_core(core, inputs, start, [length])
    for splits in ([1] * length, [7, 5, 13, 5]):
        parts, state = run_core(core, inputs, start, splits)
        assert torch.allclose(parts, whole, atol=1e-5), splits
        for name, value in whole_state.items():
            assert torch.allclose(state[name].float(), value.float(), atol=1e-5), name


@pytest.mark.parametrize("kind", list(CoreKind), ids=lambda kind: kind.value)
def test_a_new_episode_cannot_reach_the_previous_one(kind):
    torch.manual_seed(4)
    core = SPECS[kind].build()
    earlier, later = torch.randn(17, 2, 8), torch.randn(13, 2, 8)
    start = torch.zeros(30, 2, dtype=torch.bool)
    start[0] = start[17] = True
    # The new episode starts mid-segment, and at a segment's first step.
    for splits in ([30], [17, 13], [10, 11, 9]):
        played, _ = run_core(core, torch.cat([earlier, later]), start, splits)
        alone, _ = run_core(core, later, start[17:], [13])
        assert torch.allclose(played[17:], alone, atol=1e-5), splits


@pytest.mark.parametrize("kind", list(CoreKind), ids=lambda kind: kind.value)
def test_envs_are_independent(kind):
    torch.manual_seed(5)
    core = SPECS[kind].build()
    inputs = torch.randn(21, 3, 8)
    start = torch.zeros(21, 3, dtype=torch.bool)
    start[0] = True
    start[9, 0] = True
    changed = inputs.clone()
    changed[:, 0] = torch.randn(21, 8)
    changed_start = start.clone()
    changed_start[5, 0] = True
    first, _ = run_core(core, inputs, start, [8, 13])
    second, _ = run_core(core, changed, changed_start, [8, 13])
    assert not torch.allclose(first[:, 0], second[:, 0])
    assert torch.equal(first[:, 1:], second[:, 1:])


def test_the_memory_forgets_the_oldest_chunks_beyond_its_capacity():
    spec = SPECS[CoreKind.hcam]  # 3 chunks of 4 steps
    core = spec.build()
    start = torch.zeros(40, 1, dtype=torch.bool)
    start[0] = True
    _, state = run_core(core, torch.randn(40, 1, 8), start, [40])
    assert state["1.number"].tolist() == [[7, 8, 9]]


def test_spec_errors_name_the_field():
    with pytest.raises(ValueError, match="width: must be a multiple of heads=3"):
        CoreSpec(CoreKind.hcam, 8, heads=3).build()
    with pytest.raises(ValueError, match="memory_chunks: must be at least top_k=4"):
        CoreSpec(CoreKind.hcam, 8, memory_chunks=2).build()
    with pytest.raises(ValueError, match="window: must be positive"):
        CoreSpec(CoreKind.window, 8, window=0).build()
