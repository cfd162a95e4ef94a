"""The memory agent: PPO replays each segment exactly as it was acted (the memory carried in from
the segment before), its advantages, checkpoints, configs and errors, and the attention images
of an evaluation round."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace

import gymnasium as gym
import numpy as np
import pytest
import torch
from train_helpers import loop_transition

import envsuite  # noqa: F401 (registers the navigation tasks)
from agents.common.protocol import AgentConfigError, AgentContext, Transition
from agents.hcam.agent import MemoryAgent, _advantages
from agents.hcam.config import (
    COMPARABLE_CORES,
    CoreKind,
    MemoryAgentConfig,
    MemoryLSTMConfig,
    MemoryTransformerConfig,
    MemoryWindowConfig,
)

TINY = {"width": 16, "heads": 2, "window": 4, "chunk_size": 4, "top_k": 2, "memory_chunks": 8}


def _ballet(num_envs: int) -> gym.vector.VectorEnv:
    """Short Ballet episodes (2 dances of 16 steps, at most 5 steps to act), reset in the same
    step as the training loop's envs."""
    return gym.vector.SyncVectorEnv(
        [lambda: gym.make("envsuite/Ballet-v0", view="full", dancers=2, delay=0, act_steps=5)]
        * num_envs,
        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,
    )


def _object_recall(num_envs: int) -> gym.vector.VectorEnv:
    """A short ObjectRecall level in full view: an open 5x5 floor, the object shown for 2
    steps, the agent moved elsewhere, 2 steps of delay, then 10 steps to stand where it was."""
    level = {"size": 7, "wall_density": 0.0, "show_steps": 2, "delay": 2, "recall_steps": 10}
    return gym.vector.SyncVectorEnv(
        [lambda: gym.make("envsuite/ObjectRecall-v0", view="full", distractors=0, **level)]
        * num_envs,
        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,
    )


def _agent(config: MemoryAgentConfig, env: gym.vector.VectorEnv, seed: int = 0) -> MemoryAgent:
    agent = config.build(AgentContext.of_env(env, total_steps=10_000, seed=seed))
    assert isinstance(agent, MemoryAgent)
    return agent


def _play(
    agent: MemoryAgent,
    env: gym.vector.VectorEnv,
    steps: int,
    seed: int = 0,
    evaluate_every: int = 0,
    evaluate: Callable[[MemoryAgent], object] | None = None,
) -> list[dict]:
    """``steps`` training steps of the agent in ``env`` as the training loop plays them, with
    ``evaluate(agent)`` before every ``evaluate_every``-th step but the first; the scalars of
    its updates."""
    observation, _ = env.reset(seed=seed)
    state, start, updates = None, np.ones(env.num_envs, dtype=bool), []
    for step in range(steps):
        if evaluate is not None and step and step % evaluate_every == 0:
            evaluate(agent)
        action, state = agent.act(observation, state, start, deterministic=False)
        step = env.step(action)
        agent.observe(loop_transition(observation, action, step))
        scalars = agent.update()
        if "loss" in scalars:
            updates.append(scalars)
        observation, start = step[0], step[2] | step[3]
    return updates


@pytest.mark.parametrize("core", list(CoreKind), ids=lambda core: core.value)
def test_an_update_replays_each_segment_as_it_was_acted(core):
    """One epoch, one minibatch: the first (only) pass sees the acting policy exactly, so the
    ratio is 1 (its KL below 1e-10, where a replay from a wrong state gives 1e-8 and more),
    although segments begin mid-episode with the memory carried in and episodes end and begin
    inside them (37-step episodes, 13-step segments)."""
    env = _ballet(4)
    config = MemoryAgentConfig(
        core=core, **TINY, num_envs=4, rollout_length=13, epochs=1, minibatches=1
    )
    updates = _play(_agent(config, env), env, 6 * 13)
    assert len(updates) == 6
    for scalars in updates:
        assert abs(scalars["approximate_kl"]) < 1e-10
        assert scalars["clip_fraction"] == 0.0


def test_later_epochs_move_the_policy_and_learning_changes_every_weight():
    env = _ballet(4)
    # Chunks of 2 steps: several to choose from, so the chunk keys' projections learn too (a
    # softmax over one visible chunk has no gradient).
    sizes = TINY | {"chunk_size": 2, "window": 2}
    config = MemoryAgentConfig(
        **sizes, num_envs=4, rollout_length=8, epochs=3, minibatches=2, learning_rate=1e-2
    )
    agent = _agent(config, env)
    before = [parameter.detach().clone() for parameter in agent.network.parameters()]
    (scalars,) = _play(agent, env, 8)
    assert scalars["approximate_kl"] > 0
    changed = [
        not torch.equal(old, new)
        for old, new in zip(before, agent.network.parameters(), strict=True)
    ]
    assert all(changed)


def _success_rate(policy, env: gym.vector.VectorEnv, episodes_per_env: int, seed: int) -> float:
    """The share of episodes ``policy(observation, state, start)`` wins (a positive final
    reward) in ``env`` reset with ``seed``: the first ``episodes_per_env`` of every env, as the
    first episodes to end overall would favour short ones, and an episode ends at a win."""
    observation, _ = env.reset(seed=seed)
    state, start = None, np.ones(env.num_envs, dtype=bool)
    wins = np.zeros(env.num_envs)
    ended = np.zeros(env.num_envs, dtype=int)
    while ended.min() < episodes_per_env:
        action, state = policy(observation, state, start)
        observation, reward, terminated, truncated, _ = env.step(action)
        start = terminated | truncated
        counted = start & (ended < episodes_per_env)
        wins += counted & (reward > 0)
        ended += counted
    return float(wins.sum() / ended.sum())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("core", "learning_rate"), [(CoreKind.hcam, 3e-4), (CoreKind.lstm, 1e-3)], ids=["hcam", "lstm"]
)
def test_hcam_and_lstm_learn_a_short_recall_level_above_random(core, learning_rate):
    """20,000 steps of PPO, then the evaluation policy (sampled, 100 episodes per env) against
    a uniform random one (400 per env) from the same seeds. Measured at this size (seeds 0, 1):
    HCAM 0.23, 0.19 and the LSTM 0.25, 0.22 where random succeeds in 0.11 to 0.13 (the learned
    rate's standard error: 0.015); HCAM at the LSTM's learning rate falls back to random by
    spells."""
    env = _object_recall(8)
    config = MemoryAgentConfig(
        core=core,
        width=32,
        heads=2,
        window=8,
        chunk_size=4,
        memory_chunks=16,
        num_envs=8,
        rollout_length=16,
        learning_rate=learning_rate,
        discount=0.9,
    )
    agent = _agent(config, env)
    _play(agent, env, 20_000 // 8)
    random = np.random.default_rng(0)
    actions, num_envs = int(env.single_action_space.n), env.num_envs
    chance = _success_rate(
        lambda *_: (random.integers(0, actions, num_envs), None), env, 400, seed=100
    )
    learned = _success_rate(
        lambda observation, state, start: agent.act(observation, state, start, True),
        env,
        100,
        seed=100,
    )
    assert learned > chance + 0.05, (learned, chance)


def test_evaluation_samples_from_a_stream_of_its_own_unless_told_to_be_greedy():
    env = _ballet(2)
    config = MemoryAgentConfig(**TINY, num_envs=2, rollout_length=6, minibatches=1)
    observation, _ = env.reset(seed=0)
    start = np.ones(2, dtype=bool)

    def evaluate(agent: MemoryAgent) -> list[np.ndarray]:
        return [agent.act(observation, None, start, deterministic=True)[0] for _ in range(40)]

    sampling = _agent(config, env)
    actions = np.array(evaluate(sampling))
    assert len(np.unique(actions[:, 0])) > 1  # a near-uniform first policy, sampled
    # Evaluating in the middle of a rollout leaves training as it would have been without.
    plain = _agent(config, env)
    assert _play(sampling, env, 12, evaluate_every=4, evaluate=evaluate) == _play(plain, env, 12)
    greedy = _agent(replace(config, evaluation_sampling=False), env)
    logits, _, _ = greedy.network(
        greedy._step_tensors(observation),
        torch.ones(1, 2, dtype=torch.bool),
        greedy.network.core.initial_state(2, greedy.device),
    )
    assert (np.array(evaluate(greedy)) == logits[0].argmax(-1).numpy()).all()


def test_advantages_bootstrap_through_steps_and_stop_at_episode_ends():
    rewards = np.array([[1.0], [0.0], [2.0]])
    values = np.array([[0.5], [1.0], [0.25]])
    dones = np.array([[False], [True], [False]])
    last = np.array([4.0])
    advantages = _advantages(rewards, values, dones, last, discount=0.5, gae_lambda=0.5)
    delta_2 = 2.0 + 0.5 * 4.0 - 0.25  # bootstraps from the following value
    delta_1 = 0.0 - 1.0  # the episode ended: no bootstrap, no advantage carried back
    delta_0 = 1.0 + 0.5 * 1.0 - 0.5
    assert np.allclose(advantages[:, 0], [delta_0 + 0.25 * delta_1, delta_1, delta_2])


def test_a_truncated_step_bootstraps_from_its_final_observation():
    env = _ballet(2)
    agent = _agent(MemoryAgentConfig(**TINY, num_envs=2, rollout_length=4, minibatches=1), env)
    observation, _ = env.reset(seed=0)
    action, _ = agent.act(observation, None, np.ones(2, dtype=bool), deterministic=False)
    following, *_ = env.step(action)
    final_values = agent._values(following, np.zeros(2, dtype=bool))
    agent.observe(
        Transition(
            observation,
            action,
            np.array([1.0, 1.0]),
            following,
            following,
            np.array([False, True]),
            np.array([True, True]),
            ({}, {}),
        )
    )
    reward = agent.rollout[-1]["reward"]
    # Env 0 was cut short: the discounted value of where it stood is its due; env 1 ended.
    assert reward[0] == pytest.approx(1.0 + 0.99 * final_values[0])
    assert reward[1] == 1.0


def test_a_checkpoint_restores_the_agent_exactly():
    env = _ballet(2)
    config = MemoryAgentConfig(**TINY, num_envs=2, rollout_length=6, minibatches=1)
    agent = _agent(config, env)
    _play(agent, env, 12)
    saved = io.BytesIO()  # through torch.save and load, as a checkpoint goes
    torch.save(agent.state_dict(include_replay=True), saved)
    saved.seek(0)
    restored = _agent(config, env, seed=5)
    restored.load_state_dict(torch.load(saved, weights_only=True))
    # The same weights, optimiser and random streams: the same next updates, value for value,
    # and the same evaluation actions.
    assert _play(agent, env, 12, seed=3) == _play(restored, env, 12, seed=3)
    observation, _ = env.reset(seed=4)
    start = np.ones(2, dtype=bool)
    for _ in range(5):
        evaluated, _ = agent.act(observation, None, start, deterministic=True)
        assert (restored.act(observation, None, start, deterministic=True)[0] == evaluated).all()


def test_the_evaluation_round_gives_an_attention_image_per_task():
    env = _ballet(3)
    sizes = TINY | {"memory_chunks": 16}  # room for every chunk of an episode
    agent = _agent(MemoryAgentConfig(**sizes, num_envs=3, minibatches=1), env)
    for task in range(2):  # the evaluator: a batch of episodes per task, each from state None
        observation, _ = env.reset(seed=task)
        state, start, steps = None, np.ones(3, dtype=bool), 0
        ended_first = False
        while not ended_first:
            action, state = agent.act(observation, state, start, deterministic=True)
            observation, _, terminated, truncated, _ = env.step(action)
            start = terminated | truncated
            ended_first = bool(start[0])
            steps += 1
    images = agent.evaluation_measures()
    assert sorted(images) == [0, 1]
    image = images[1]["memory_attention"]
    # A row per step of env 0's episode; chunk 0 is complete after 4 steps and read alone (in
    # full) until chunk 1 is.
    assert image.dtype == np.uint8
    # A column per chunk read, up to the newest complete one (9 chunks of 4 in 37 steps).
    assert image.shape[0] == steps
    assert image.shape[1] % 4 == 0
    assert 4 * 2 <= image.shape[1] <= 4 * (steps // 4)
    assert image[:4].max() == 0
    assert (image[4:8, :4] == 255).all()
    assert (image[8:].sum(axis=(1, 2)) > 0).all()  # every later step reads its two chunks
    assert agent.evaluation_measures() == {}  # each round's own


def test_the_comparable_cores_have_about_the_same_parameters():
    counts = {
        kind: sum(p.numel() for p in spec.build().parameters())
        for kind, spec in COMPARABLE_CORES.items()
    }
    assert max(counts.values()) / min(counts.values()) < 1.15, counts


def test_the_three_agent_names_pick_their_cores():
    assert MemoryAgentConfig().core_spec() == COMPARABLE_CORES[CoreKind.hcam]
    assert MemoryTransformerConfig().core_spec() == COMPARABLE_CORES[CoreKind.transformer]
    assert MemoryLSTMConfig().core_spec().width == COMPARABLE_CORES[CoreKind.lstm].width
    assert MemoryWindowConfig().core_spec() == COMPARABLE_CORES[CoreKind.window]
    assert MemoryTransformerConfig(core=CoreKind.lstm).label() == "memory_transformer_lstm"


def test_config_errors_name_the_field():
    env = _ballet(2)
    context = AgentContext.of_env(env, 100, seed=0)
    with pytest.raises(
        AgentConfigError, match=r"agent\.minibatches: must divide agent\.num_envs=6"
    ):
        MemoryAgentConfig(num_envs=6, minibatches=4).build(context)
    with pytest.raises(AgentConfigError, match=r"agent\.width: must be a multiple of heads=4"):
        MemoryAgentConfig(width=30).build(context)
    with pytest.raises(AgentConfigError, match=r"agent.gae_lambda: must lie in \[0, 1\]"):
        MemoryAgentConfig(gae_lambda=1.5).build(context)
    box = gym.vector.SyncVectorEnv([lambda: gym.make("Pendulum-v1")])
    with pytest.raises(AgentConfigError, match="action space: the memory agents act in Discrete"):
        MemoryAgentConfig(num_envs=1, minibatches=1).build(AgentContext.of_env(box, 100, seed=0))
