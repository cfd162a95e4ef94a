"""SequenceBuffer: windows are contiguous pieces of one env's stream, reset-flagged at episode
starts; the recent store keeps the newest chunks, the long-term store a uniform sample of them,
a chunk both hold is stored once; torch tensors."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from buffer_helpers import chi_squared, chi_squared_critical
from gymnasium import spaces
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.buffers import FieldSpec, SequenceBuffer
from agents.buffers import sequence as sequence_module

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
        window = {key: np.asarray(value) for key, value in window.items()}
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


def windows(batch: dict) -> list[dict[str, np.ndarray]]:
    """The items of a sampled batch, as numpy arrays by field."""
    return [
        {key: value[item].numpy() for key, value in batch.items()}
        for item in range(len(batch["reward"]))
    ]


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
    stores=st.sampled_from(["recent", "long_term", "both"]),
    long_term_share=st.integers(0, 8),
    seed=st.integers(0, 10**6),
)
def test_windows_are_stream_pieces_and_flag_every_episode_boundary(
    episode_lengths, sequence_length, extra_chunk, spare_slots, adds, stores, long_term_share, seed
):
    envs = len(episode_lengths)
    chunk_length = sequence_length + extra_chunk
    capacity = (envs + spare_slots) * chunk_length
    buffer = SequenceBuffer(
        0 if stores == "long_term" else capacity,
        OBSERVATION,
        ACTION,
        num_envs=envs,
        sequence_length=sequence_length,
        chunk_length=chunk_length,
        long_term_capacity=0 if stores == "recent" else capacity,
        seed=seed,
    )
    simulator = StreamSimulator(episode_lengths)
    for _ in range(adds):
        buffer.add(**simulator.transition())
        share = 8 if stores == "long_term" else long_term_share
        long_term = min(share, buffer.windows("long_term"))
        recent = min(8 - long_term, buffer.windows("recent"))
        if long_term + recent:
            for window in windows(buffer.sample(long_term + recent, long_term=long_term)):
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


def window_starts(buffer, simulator, draws=300) -> np.ndarray:
    """Where each sampled window starts in its env's stream."""
    starts = []
    for _ in range(draws):
        for window in windows(buffer.sample(min(8, len(buffer)))):
            starts.append(simulator.check_window(window))
    return np.array(starts)


@pytest.mark.parametrize("steps", [5, 23, 50, 77])
def test_fifo_holds_exactly_the_windows_of_the_newest_chunks(steps):
    chunk_length, sequence_length, slots = 8, 3, 4
    stride = chunk_length - sequence_length + 1
    # Capacity counts distinct steps: each chunk adds `stride` new ones.
    buffer, simulator = single_stream(
        steps,
        capacity=slots * stride,
        sequence_length=sequence_length,
        chunk_length=chunk_length,
    )
    assert buffer.recent_slots == slots
    stream_steps = steps + 1  # the first observation is a step too
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


def test_fifo_evicts_the_oldest_chunks_of_every_env():
    # Env 1 ends an episode every step, so it writes two steps per add and fills chunks twice
    # as fast as env 0: evicting in any order but age would leave a gap in some env's stream.
    simulator = StreamSimulator([[10**9], [1]])
    buffer = SequenceBuffer(
        7 * 3, OBSERVATION, ACTION, num_envs=2, sequence_length=2, chunk_length=4, seed=3
    )
    for _ in range(60):
        buffer.add(**simulator.transition())
    held = {0: set(), 1: set()}
    for _ in range(400):
        for window in windows(buffer.sample(8)):
            held[int(window["observation"][0, 0])].add(simulator.check_window(window))
    for env, starts in held.items():
        newest = len(simulator.streams[env]) - 2
        assert starts == set(range(min(starts), newest + 1)), env  # a suffix of the stream
    assert sum(len(starts) for starts in held.values()) == len(buffer)
    # Seven chunks of three windows, less the windows the two envs' open chunks lack yet.
    assert 7 * 3 - 2 * 3 <= len(buffer) <= 7 * 3


def kept_chunks(store: str, seed: int, slots: int, chunks: int) -> np.ndarray:
    """Indices (in stream order) of the chunks ``store`` holds after a stream of ``chunks``
    full chunks, in a buffer of ``slots`` chunks per store."""
    chunk_length, sequence_length = 4, 2
    stride = chunk_length - sequence_length + 1
    steps = chunk_length + (chunks - 1) * stride  # exactly `chunks` full chunks...
    buffer, _simulator = single_stream(
        steps,  # ...offered when the next chunk opens, at the stream's next step
        capacity=(slots + 1) * stride,  # the recent store's slots and the open chunk's
        long_term_capacity=slots * stride,
        sequence_length=sequence_length,
        chunk_length=chunk_length,
        seed=seed,
    )
    stream_steps = buffer.stored("observation", store)[:, 2].numpy()
    # Chunk 0 holds steps 0 .. chunk_length - 1; chunk k > 0 adds `stride` new ones.
    return np.unique(np.maximum(0, (stream_steps - (sequence_length - 1)) // stride))


def test_long_term_store_keeps_each_full_chunk_with_equal_probability():
    slots, chunks, runs = 3, 12, 300
    kept = np.zeros(chunks)
    for seed in range(runs):
        held = kept_chunks("long_term", seed, slots, chunks)
        assert held.size == slots
        kept[held] += 1
    expected = np.full(chunks, runs * slots / chunks)
    assert chi_squared(kept, expected) < chi_squared_critical(chunks - 1)
    # The test tells a FIFO apart: the recent store keeps the newest chunks (and the open one).
    recent = np.zeros(chunks + 1)
    for seed in range(runs):
        recent[kept_chunks("recent", seed, slots, chunks)] += 1
    assert chi_squared(recent[:chunks], expected) > chi_squared_critical(chunks - 1)


def test_a_chunk_both_stores_hold_is_stored_once():
    chunk_length, sequence_length = 4, 2
    stride = chunk_length - sequence_length + 1
    buffer, simulator = single_stream(
        3 * stride + 1,  # three full chunks and a fourth begun
        capacity=4 * stride,
        long_term_capacity=4 * stride,
        sequence_length=sequence_length,
        chunk_length=chunk_length,
    )
    recent = buffer.stored("observation", "recent")[:, 2].tolist()
    long_term = buffer.stored("observation", "long_term")[:, 2].tolist()
    assert len(long_term) == chunk_length + 2 * stride  # the first chunk repeats no step
    assert long_term == recent[: len(long_term)]
    # Four chunks in the recent store, three of them in the long-term store too: four stored.
    assert len(buffer.state_dict()["storage"]["observation"]) == 4 * chunk_length
    assert buffer.windows() == buffer.windows("recent") == len(recent) - 1
    for _ in range(200):  # the slots of chunks neither store holds any longer are reused
        buffer.add(**simulator.transition())
    assert len(buffer.state_dict()["storage"]["observation"]) == 8 * chunk_length
    # Reusing a slot overwrote no chunk a store still holds: every window is a piece of the
    # stream, and the long-term store still holds early chunks.
    for long_term in (0, 4):
        for window in windows(buffer.sample(4, long_term=long_term)):
            simulator.check_window(window)
    assert min(buffer.stored("observation", "long_term")[:, 2].tolist()) < 100


def test_sample_draws_the_long_term_share_from_the_long_term_store():
    buffer, simulator = single_stream(
        300, capacity=12, long_term_capacity=30, sequence_length=3, chunk_length=6, seed=4
    )
    recent = set(buffer.stored("observation", "recent")[:, 2].tolist())
    long_term = set(buffer.stored("observation", "long_term")[:, 2].tolist())
    assert not recent & long_term  # by now the long-term chunks are old ones
    for long_term_windows in (0, 3, 8):
        batch = windows(buffer.sample(8, long_term=long_term_windows))
        for index, window in enumerate(batch):
            # A window's last step is one its chunk added (earlier ones may repeat the tail of
            # the chunk before).
            store = long_term if index >= 8 - long_term_windows else recent
            assert int(window["observation"][-1, 2]) in store
            simulator.check_window(window)
    with pytest.raises(ValueError, match=r"long_term must lie in \[0, 8\], got 9"):
        buffer.sample(8, long_term=9)


def test_extra_fields_are_stored_with_every_step_and_counted_per_store():
    buffer = SequenceBuffer(
        40,
        OBSERVATION,
        ACTION,
        num_envs=1,
        sequence_length=2,
        chunk_length=4,
        extra_fields={"task": FieldSpec((), np.int16)},
    )
    simulator = StreamSimulator([[5]])
    for step in range(12):
        buffer.add(**simulator.transition(), task=np.array([step // 6]))
    batch = buffer.sample(12)
    assert batch["task"].dtype == torch.int16
    # Episodes of five steps: add 5 e + s - 1 stores step s of episode e (and step 0 with 1).
    episode, step = batch["observation"][..., 1].numpy(), batch["observation"][..., 2].numpy()
    assert np.array_equal(batch["task"].numpy(), (5 * episode + np.maximum(step, 1) - 1) // 6)
    counts = torch.bincount(buffer.stored("task", "recent").long()).tolist()
    assert counts == [6 + 2, 6 + 1]  # six adds each, and the first steps of the episodes begun
    with pytest.raises(ValueError, match=r"add: extra fields: .* missing \['task'\]"):
        buffer.add(**simulator.transition())
    with pytest.raises(ValueError, match="extra_fields: 'reward' is a built-in field"):
        SequenceBuffer(
            40, OBSERVATION, ACTION, num_envs=1, sequence_length=2, extra_fields={"reward": ACTION}
        )


def test_windows_may_span_chunks_of_the_stream_through_the_overlap():
    buffer, simulator = single_stream(
        40, capacity=64, sequence_length=4, chunk_length=4
    )  # chunk_length == sequence_length: one window per chunk, every window kept
    starts = window_starts(buffer, simulator, draws=100)
    assert set(starts.tolist()) == set(range(41 - 4 + 1 - len(buffer), 41 - 4 + 1))


def test_a_step_holds_the_action_and_reward_that_led_to_it_and_episode_starts_are_flagged():
    buffer = SequenceBuffer(
        12,
        FieldSpec((1,), np.int64),
        spaces.Discrete(3),
        num_envs=1,
        sequence_length=6,
        chunk_length=6,
    )
    observations = [[10], [11], [12], [20], [21], [22]]  # two episodes of three steps
    for step in range(5):
        if step == 2:
            continue  # the transition out of a final observation is never made
        buffer.add(
            np.array([observations[step]]),
            np.array([step % 3]),  # Discrete actions as indices
            np.array([float(step)]),
            np.array([observations[step + 1]]),
            np.array([False]),
            np.array([step == 1]),  # the first episode is truncated at 12
        )
    assert len(buffer) == 1
    window = buffer.sample(1)
    assert window["observation"][0, :, 0].tolist() == [10, 11, 12, 20, 21, 22]
    assert window["action"][0, :, 0].tolist() == [0, 0, 1, 0, 0, 1]
    assert window["reward"][0].tolist() == [0.0, 0.0, 1.0, 0.0, 3.0, 4.0]
    assert window["is_first"][0].tolist() == [True, False, False, True, False, False]
    assert window["truncated"][0].tolist() == [False, False, True, False, False, False]
    assert not window["terminated"].any()


def test_dict_observations_are_stored_per_key_and_images_stay_uint8():
    observation_space = spaces.Dict(
        {
            "image": spaces.Box(0, 255, (4, 4, 3), np.uint8),
            "position": spaces.Box(-1.0, 1.0, (2,), np.float32),
        }
    )
    buffer = SequenceBuffer(
        32, observation_space, spaces.Discrete(4), num_envs=2, sequence_length=3, chunk_length=8
    )

    def observation(step: int) -> dict[str, np.ndarray]:
        return {
            "image": np.stack([np.full((4, 4, 3), 10 * env + step, np.uint8) for env in (0, 1)]),
            "position": np.array([[env, step] for env in (0, 1)], np.float32),
        }

    for step in range(6):
        buffer.add(
            observation(step),
            np.array([1, 2]),
            np.zeros(2),
            observation(step + 1),
            np.zeros(2, bool),
            np.zeros(2, bool),
        )
    batch = buffer.sample(8)
    assert set(batch["observation"]) == {"image", "position"}
    image, position = batch["observation"]["image"], batch["observation"]["position"]
    assert image.dtype == torch.uint8
    assert image.shape == (8, 3, 4, 4, 3)
    assert position.dtype == torch.float32
    assert position.shape == (8, 3, 2)
    # Both keys come from the same steps: pixel 10 * env + step, position [env, step].
    expected = 10 * position[..., 0] + position[..., 1]
    assert torch.equal(image[..., 0, 0, 0].float(), expected)
    assert torch.all(image == image[..., :1, :1, :1])
    with pytest.raises(ValueError, match=r"observation must be a dict with keys \['image', "):
        buffer.add(
            {"image": observation(0)["image"]},
            np.array([1, 2]),
            np.zeros(2),
            observation(1),
            np.zeros(2, bool),
            np.zeros(2, bool),
        )


def test_samples_are_on_the_requested_device():
    buffer, _ = single_stream(10, capacity=32, sequence_length=4, chunk_length=8)
    assert buffer.storage_device == torch.device("cpu")
    assert all(value.device.type == "cpu" for value in buffer.sample(2).values())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("free_bytes", [None, 0], ids=["on-gpu", "pinned-host"])
def test_cuda_samples_from_either_storage(monkeypatch, free_bytes):
    if free_bytes == 0:
        monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (0, 1))
    buffer = SequenceBuffer(
        64, FieldSpec((3,), np.uint8), ACTION, num_envs=1, sequence_length=4, device="cuda"
    )
    assert buffer.storage_device.type == ("cpu" if free_bytes == 0 else "cuda")
    for step in range(20):
        buffer.add(
            np.full((1, 3), step, np.uint8),
            np.zeros((1, 1), np.float32),
            np.zeros(1),
            np.full((1, 3), step + 1, np.uint8),
            np.zeros(1, bool),
            np.zeros(1, bool),
        )
    batch = buffer.sample(8)
    assert batch["observation"].device.type == "cuda"
    assert batch["observation"].dtype == torch.uint8
    steps = batch["observation"][:, :, 0].long().cpu()
    assert torch.equal(steps[:, 1:] - steps[:, :-1], torch.ones(8, 3, dtype=torch.long))


@pytest.mark.parametrize(
    ("device", "free_bytes", "cuda_available", "expected"),
    [
        ("cpu", None, False, ("cpu", False)),
        ("cpu", None, True, ("cpu", False)),
        ("cuda:0", 1000, True, ("cuda:0", False)),  # 100 bytes leave room to spare
        ("cuda:0", 120, True, ("cpu", True)),  # would take more than 3/4 of what is free
    ],
)
def test_storage_goes_on_the_gpu_only_where_it_fits(
    monkeypatch, device, free_bytes, cuda_available, expected
):
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (free_bytes, 10**9))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda_available)
    storage, pinned = sequence_module.storage_placement(torch.device(device), 100)
    assert (str(storage), pinned) == expected


STORES = {
    "recent": {"capacity": 96},
    "long_term": {"capacity": 0, "long_term_capacity": 96},
    "both": {"capacity": 48, "long_term_capacity": 48},
}


@pytest.mark.parametrize("stores", list(STORES))
def test_state_dict_round_trip_gives_the_same_samples_and_streams(stores):
    def build(seed: int) -> SequenceBuffer:
        return SequenceBuffer(
            observation=OBSERVATION,
            action=ACTION,
            num_envs=2,
            sequence_length=3,
            chunk_length=6,
            seed=seed,
            **STORES[stores],
        )

    simulator = StreamSimulator([[5, 9], [7]])
    original = build(seed=0)
    for _ in range(25):
        original.add(**simulator.transition())
    state = original.state_dict()
    rows = state["storage"]["observation"].shape[0]
    assert 0 < rows < original._storage["observation"].shape[0]  # only the rows in use...
    assert state["storage"]["observation"].data_ptr() == original._storage["observation"].data_ptr()
    file = io.BytesIO()
    torch.save(state, file)
    file.seek(0)
    restored = build(seed=1)  # another seed: the RNG state comes from the state_dict
    restored.load_state_dict(torch.load(file, weights_only=True))
    for _ in range(20):  # the streams continue where they were, chunks and flags included
        transition = simulator.transition()
        original.add(**transition)
        restored.add(**transition)
        long_term = min(2, original.windows("long_term")) if stores == "both" else None
        for first, second in zip(
            original.sample(4, long_term).values(),
            restored.sample(4, long_term).values(),
            strict=True,
        ):
            assert torch.equal(first, second)
    assert len(restored) == len(original)
    assert np.array_equal(restored._key, original._key)  # the long-term keys too
    assert restored.steps_added == original.steps_added


def test_load_state_dict_refuses_the_state_of_another_buffer():
    buffer, _ = single_stream(10, capacity=32, sequence_length=2, chunk_length=8)
    other = SequenceBuffer(64, OBSERVATION, ACTION, num_envs=1, sequence_length=2, chunk_length=8)
    with pytest.raises(ValueError, match="build the buffer with the same arguments"):
        other.load_state_dict(buffer.state_dict())
    with pytest.raises(ValueError, match="not a SequenceBuffer state_dict"):
        buffer.load_state_dict({"storage": {}})
    damaged = buffer.state_dict()
    damaged["counters"] = {**damaged["counters"], "chunks_used": 4}
    before = buffer.state_dict()["counters"]
    with pytest.raises(ValueError, match="does not hold the 32 rows its counters use"):
        buffer.load_state_dict(damaged)
    assert buffer.state_dict()["counters"] == before


def test_add_checks_shapes_and_dtypes():
    buffer = SequenceBuffer(64, OBSERVATION, ACTION, num_envs=2, sequence_length=2, chunk_length=4)
    simulator = StreamSimulator([[5], [3]])
    buffer.add(**simulator.transition())
    with pytest.raises(ValueError, match=r"add: observation must have shape \(2, 3\)"):
        buffer.add(**{key: value[:1] for key, value in simulator.transition().items()})
    with pytest.raises(TypeError, match=r"add: next_observation is torch\.float64"):
        buffer.add(**{**simulator.transition(), "next_observation": np.zeros((2, 3))})
    assert buffer.steps_added == 4  # nothing of the rejected batches was written


def test_sample_shapes_and_errors():
    empty, _ = single_stream(2, capacity=32, sequence_length=4, chunk_length=8)
    with pytest.raises(ValueError, match="1 windows from the recent store, which holds none"):
        empty.sample(1)
    buffer, _ = single_stream(3, capacity=32, sequence_length=4, chunk_length=8)
    assert len(buffer) == 1  # four steps: the first observation and three more
    twice = buffer.sample(2)  # with replacement
    assert torch.equal(twice["observation"][0], twice["observation"][1])
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        buffer.sample(0)
    batch = buffer.sample(1)
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
        ({"capacity": 0}, "capacity and long_term_capacity: at least one must be positive"),
        ({"capacity": -1}, "capacity must be an integer of at least 0, got -1"),
        # Chunks of 8 repeat 1 step: 7 new steps each, 16 hold 2 chunks.
        ({"capacity": 16, "num_envs": 2}, "needs at least 3: raise capacity to at least 21"),
        ({"long_term_capacity": 6}, "long_term_capacity=6 holds 0 chunks of 7 new steps"),
        ({"num_envs": 0}, "num_envs must be a positive integer"),
        ({"device": "gpu"}, "device: 'gpu' is not a torch device"),
        ({"device": "meta"}, "device must be a CPU or CUDA device"),
    ],
)
def test_constructor_errors(kwargs, message):
    arguments = {"capacity": 64, "num_envs": 1, "sequence_length": 2, "chunk_length": 8}
    with pytest.raises(ValueError, match=message):
        SequenceBuffer(observation=OBSERVATION, action=ACTION, **{**arguments, **kwargs})


@pytest.mark.parametrize("stores", list(STORES))
def test_strided_inputs_are_stored_like_contiguous_ones(stores):
    simulator = StreamSimulator([[4], [6]])
    contiguous, strided = (
        SequenceBuffer(
            observation=OBSERVATION,
            action=ACTION,
            num_envs=2,
            sequence_length=2,
            chunk_length=4,
            **STORES[stores],
        )
        for _ in range(2)
    )
    for _ in range(20):
        batch = simulator.transition()
        contiguous.add(**batch)
        # Every other column of a wider array, and reversed: same values, other memory layouts.
        wide = {
            key: np.repeat(value, 2, axis=-1)[::-1] if value.ndim == 2 else value[::-1]
            for key, value in batch.items()
        }
        strided.add(
            **{
                key: value[::-1, ::2] if value.ndim == 2 else value[::-1]
                for key, value in wide.items()
            }
        )
    for first, second in zip(
        contiguous.state_dict()["storage"].values(),
        strided.state_dict()["storage"].values(),
        strict=True,
    ):
        assert torch.equal(first, second)


def test_end_episodes_starts_every_stream_afresh_after_a_load():
    # A resumed run resets its envs mid-episode: the restored streams must not run on into
    # the new episodes.
    simulator = StreamSimulator([[10**9]])
    buffer = SequenceBuffer(64, OBSERVATION, ACTION, num_envs=1, sequence_length=2, seed=0)
    for _ in range(5):
        buffer.add(**simulator.transition())
    restored = SequenceBuffer(64, OBSERVATION, ACTION, num_envs=1, sequence_length=2, seed=0)
    restored.load_state_dict(buffer.state_dict())
    restored.end_episodes()
    reset = np.full((1, 3), 100, dtype=np.int64)
    following = np.full((1, 3), 101, dtype=np.int64)
    restored.add(
        reset,
        np.zeros((1, 1), np.float32),
        np.zeros(1),
        following,
        np.zeros(1, bool),
        np.zeros(1, bool),
    )
    assert restored.steps_added == buffer.steps_added + 2  # the reset observation is stored
    seen = set()
    for _ in range(50):
        batch = restored.sample(4)
        for window, first in zip(batch["observation"], batch["is_first"], strict=True):
            if window[1, 0] == 100:
                assert first[1]  # the new episode starts there
                seen.add(100)
            assert not (window[0, 0] < 100 and window[1, 0] == 101)
    assert seen == {100}
