"""SequenceBuffer: windows are contiguous pieces of one env's stream, reset-flagged at episode
starts; FIFO keeps the newest chunks, reservoir a uniform sample of them."""

from __future__ import annotations

import numpy as np
import pytest
from buffer_helpers import chi_squared, chi_squared_critical
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.buffers import FieldSpec, SequenceBuffer

# Observation [env, episode, step in episode]: every step of every stream is unique.
OBSERVATION = FieldSpec((3,), np.int64)
ACTION = FieldSpec((1,), np.float32)


class StreamSimulator:
    """Envs with given episode lengths, and the step streams a SequenceBuffer should store."""

    def __init__(self, episode_lengths: list[list[int]]) -> None:
        self.episode_lengths = episode_lengths
        self.envs = len(episode_lengths)
        self.episode = [0] * self.envs
        self.step = [0] * self.envs
        self.adds = 0
        self.streams: list[list[dict]] = [[] for _ in range(self.envs)]

    def observation(self, env: int) -> list[int]:
        return [env, self.episode[env], self.step[env]]

    def transition(self) -> dict[str, np.ndarray]:
        batch: dict[str, list] = {key: [] for key in ("observation", "action", "reward")}
        batch.update(next_observation=[], terminated=[], truncated=[])
        for env in range(self.envs):
            observation = self.observation(env)
            if not self.streams[env] or self.streams[env][-1]["ends"]:
                self.streams[env].append(
                    {
                        "observation": observation,
                        "action": 0.0,
                        "reward": 0.0,
                        "is_first": True,
                        "terminated": False,
                        "truncated": False,
                        "ends": False,
                    }
                )
            lengths = self.episode_lengths[env]
            length = lengths[self.episode[env] % len(lengths)]
            self.step[env] += 1
            ends = self.step[env] == length
            terminated = ends and self.episode[env] % 2 == 0
            action, reward = float(self.adds), self.adds + 0.5 * env
            next_observation = self.observation(env)
            self.streams[env].append(
                {
                    "observation": next_observation,
                    "action": action,
                    "reward": reward,
                    "is_first": False,
                    "terminated": terminated,
                    "truncated": ends and not terminated,
                    "ends": ends,
                }
            )
            for key, value in (
                ("observation", observation),
                ("action", [action]),
                ("reward", reward),
                ("next_observation", next_observation),
                ("terminated", terminated),
                ("truncated", ends and not terminated),
            ):
                batch[key].append(value)
            if ends:
                self.episode[env] += 1
                self.step[env] = 0
        self.adds += 1
        return {key: np.array(value) for key, value in batch.items()}

    def check_window(self, window: dict[str, np.ndarray]) -> int:
        """Assert ``window`` is a contiguous piece of one stream; return its start there."""
        observations = window["observation"]
        env = int(observations[0, 0])
        assert np.all(observations[:, 0] == env), "a window never mixes envs"
        stream = self.streams[env]
        start = next(
            index
            for index, step in enumerate(stream)
            if step["observation"] == observations[0].tolist()
        )
        for offset in range(observations.shape[0]):
            step = stream[start + offset]
            assert observations[offset].tolist() == step["observation"]
            for key in ("action", "reward", "is_first", "terminated", "truncated"):
                assert np.ravel(window[key][offset])[0] == step[key], key
        return start


def check_reset_flags(window: dict[str, np.ndarray]) -> None:
    """Consecutive steps continue one episode unless the later one carries the reset flag."""
    observations, is_first = window["observation"], window["is_first"]
    for index in range(1, observations.shape[0]):
        previous, current = observations[index - 1], observations[index]
        if is_first[index]:
            assert current[2] == 0
            assert current[1] == previous[1] + 1
            assert window["terminated"][index - 1] or window["truncated"][index - 1]
        else:
            assert current[1] == previous[1]
            assert current[2] == previous[2] + 1
        assert bool(is_first[index]) == (current[2] == 0)


@settings(max_examples=60, deadline=None)
@given(
    episode_lengths=st.lists(
        st.lists(st.integers(1, 12), min_size=1, max_size=4), min_size=1, max_size=4
    ),
    sequence_length=st.integers(2, 6),
    extra_chunk=st.integers(0, 10),
    spare_slots=st.integers(1, 6),
    adds=st.integers(1, 120),
    placement=st.sampled_from(["fifo", "reservoir"]),
    seed=st.integers(0, 10**6),
)
def test_windows_are_stream_pieces_and_flag_every_episode_boundary(
    episode_lengths, sequence_length, extra_chunk, spare_slots, adds, placement, seed
):
    envs = len(episode_lengths)
    chunk_length = sequence_length + extra_chunk
    buffer = SequenceBuffer(
        (envs + spare_slots) * chunk_length,
        OBSERVATION,
        ACTION,
        num_envs=envs,
        sequence_length=sequence_length,
        chunk_length=chunk_length,
        placement=placement,
        seed=seed,
    )
    simulator = StreamSimulator(episode_lengths)
    for _ in range(adds):
        buffer.add(**simulator.transition())
        if len(buffer):
            batch = buffer.sample(min(len(buffer), 8))
            for item in range(batch.size):
                window = {key: value[item] for key, value in batch.items()}
                assert window["observation"].shape == (sequence_length, 3)
                simulator.check_window(window)
                check_reset_flags(window)
    assert buffer.steps_added == sum(len(stream) for stream in simulator.streams)


def single_stream(steps: int, **kwargs) -> tuple[SequenceBuffer, StreamSimulator]:
    buffer = SequenceBuffer(num_envs=1, observation=OBSERVATION, action=ACTION, **kwargs)
    simulator = StreamSimulator([[10**9]])  # one endless episode
    for _ in range(steps):
        buffer.add(**simulator.transition())
    return buffer, simulator


def window_starts(buffer, simulator, draws=300):
    starts = []
    for _ in range(draws):
        batch = buffer.sample(min(8, len(buffer)))
        for item in range(batch.size):
            starts.append(
                simulator.check_window({key: value[item] for key, value in batch.items()})
            )
    return np.array(starts)


@pytest.mark.parametrize("steps", [5, 23, 50, 77])
def test_fifo_holds_exactly_the_windows_of_the_newest_chunks(steps):
    chunk_length, sequence_length, slots = 8, 3, 4
    buffer, simulator = single_stream(
        steps,
        capacity=slots * chunk_length,
        sequence_length=sequence_length,
        chunk_length=chunk_length,
    )
    stream_steps = steps + 1  # the first observation is a step too
    stride = chunk_length - sequence_length + 1
    # Chunk k holds stream steps [k * stride, k * stride + chunk_length).
    chunks = 1 + max(0, -(-(stream_steps - chunk_length) // stride))
    oldest_start = max(0, chunks - slots) * stride
    newest_start = stream_steps - sequence_length
    assert len(buffer) == newest_start - oldest_start + 1
    starts = window_starts(buffer, simulator)
    assert set(starts.tolist()) == set(range(oldest_start, newest_start + 1))
    # Uniform over the windows held.
    observed = np.bincount(starts - oldest_start)
    expected = np.full(observed.size, starts.size / observed.size)
    if observed.size > 1:
        assert chi_squared(observed, expected) < chi_squared_critical(observed.size - 1)


def test_reservoir_keeps_each_full_chunk_with_equal_probability():
    chunk_length, sequence_length, slots, chunks, runs = 4, 2, 3, 12, 300
    stride = chunk_length - sequence_length + 1
    steps = chunk_length + (chunks - 1) * stride  # exactly `chunks` full chunks...
    kept = np.zeros(chunks)
    for seed in range(runs):
        # ...offered when the next chunk opens, i.e. at the following step.
        buffer, _simulator = single_stream(
            steps,
            capacity=slots * chunk_length,
            sequence_length=sequence_length,
            chunk_length=chunk_length,
            placement="reservoir",
            seed=seed,
        )
        assert len(buffer) == slots * stride
        first_steps = buffer.storage.arrays["observation"][: slots * chunk_length : chunk_length, 2]
        kept[first_steps // stride] += 1
    expected = np.full(chunks, runs * slots / chunks)
    assert chi_squared(kept, expected) < chi_squared_critical(chunks - 1)


def test_windows_may_span_chunks_of_the_stream_through_the_overlap():
    buffer, simulator = single_stream(
        40, capacity=64, sequence_length=4, chunk_length=4
    )  # chunk_length == sequence_length: one window per chunk, every window kept
    starts = window_starts(buffer, simulator, draws=100)
    assert set(starts.tolist()) == set(range(41 - 4 + 1 - len(buffer), 41 - 4 + 1))


def test_add_checks_streams_and_batches():
    buffer = SequenceBuffer(64, OBSERVATION, ACTION, num_envs=2, sequence_length=2, chunk_length=4)
    simulator = StreamSimulator([[5], [3]])
    first = simulator.transition()
    buffer.add(**first)
    second = simulator.transition()
    broken = {**second, "observation": second["observation"] + np.array([[0, 0, 0], [0, 0, 9]])}
    with pytest.raises(
        ValueError, match=r"observation\[1\] is not the next_observation env 1 gave"
    ):
        buffer.add(**broken)
    steps_before = buffer.steps_added
    assert steps_before == 4  # nothing of the rejected batch was written
    buffer.add(**second)
    with pytest.raises(ValueError, match="num_envs=2 streams and takes one transition per env"):
        buffer.add(**{key: value[:1] for key, value in simulator.transition().items()})
    with pytest.raises(TypeError, match="next_observation: dtype float64 cannot be stored"):
        buffer.add(**{**simulator.transition(), "next_observation": np.zeros((2, 3))})
    unchecked = SequenceBuffer(
        64,
        OBSERVATION,
        ACTION,
        num_envs=2,
        sequence_length=2,
        chunk_length=4,
        check_stream=False,
    )
    unchecked.add(**first)
    unchecked.add(**broken)  # the caller opted out of the check


def test_sample_shapes_and_errors():
    buffer, _ = single_stream(3, capacity=32, sequence_length=4, chunk_length=8)
    assert len(buffer) == 1  # four steps: the first observation and three more
    with pytest.raises(ValueError, match="batch_size=2 is more than the 1 items"):
        buffer.sample(2)
    batch = buffer.sample(1, device="cpu")
    assert tuple(batch["observation"].shape) == (1, 4, 3)
    assert tuple(batch["reward"].shape) == (1, 4)
    assert batch["is_first"][0, 0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sequence_length": 1}, "sequence_length must be at least 2"),
        (
            {"sequence_length": 4, "chunk_length": 3},
            "chunk_length must be at least sequence_length=4",
        ),
        ({"placement": "lifo"}, r"placement must be one of \('fifo', 'reservoir'\)"),
        ({"capacity": 16, "num_envs": 2}, "needs at least 3: raise capacity to at least 24"),
        ({"num_envs": 0}, "num_envs must be a positive integer"),
    ],
)
def test_constructor_errors(kwargs, message):
    arguments = {"capacity": 64, "num_envs": 1, "sequence_length": 2, "chunk_length": 8}
    with pytest.raises(ValueError, match=message):
        SequenceBuffer(observation=OBSERVATION, action=ACTION, **{**arguments, **kwargs})


def test_the_stream_check_compares_every_byte():
    # 12-byte observations: one 8-byte word and a 4-byte tail, compared separately.
    buffer = SequenceBuffer(
        32, FieldSpec((3,), np.float32), ACTION, num_envs=1, sequence_length=2, chunk_length=4
    )
    first, second = np.zeros((1, 3), np.float32), np.ones((1, 3), np.float32)
    buffer.add(first, [[0.0]], [0.0], second, [False], [False])
    for position in range(3):
        wrong = second.copy()
        wrong[0, position] = np.nextafter(np.float32(1), np.float32(2))
        with pytest.raises(ValueError, match=r"observation\[0\] is not the next_observation"):
            buffer.add(wrong, [[0.0]], [0.0], second, [False], [False])
    buffer.add(second, [[0.0]], [0.0], first, [False], [True])
    buffer.add(second, [[0.0]], [0.0], first, [False], [False])  # a new episode may start anywhere
    assert buffer.steps_added == 5


@pytest.mark.parametrize("placement", ["fifo", "reservoir"])
def test_strided_inputs_are_stored_like_contiguous_ones(placement):
    simulator = StreamSimulator([[4], [6]])
    contiguous, strided = (
        SequenceBuffer(
            64,
            OBSERVATION,
            ACTION,
            num_envs=2,
            sequence_length=2,
            chunk_length=4,
            placement=placement,
        )
        for _ in range(2)
    )
    for _ in range(20):
        batch = simulator.transition()
        contiguous.add(**batch)
        # Every other column of a wider array: same values, non-contiguous memory.
        wide = {
            key: np.repeat(value, 2, axis=-1) if value.ndim == 2 else value
            for key, value in batch.items()
        }
        strided.add(
            **{key: value[:, ::2] if value.ndim == 2 else value for key, value in wide.items()}
        )
    for name, array in contiguous.storage.arrays.items():
        np.testing.assert_array_equal(array, strided.storage.arrays[name], err_msg=name)
