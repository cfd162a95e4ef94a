"""build_agent: every valid (algorithm, method) pair learns on a short sequence, invalid ones
raise; EWC anchors exactly at task_switched steps; reservoir replay keeps old tasks' samples."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from train_helpers import train_for

import envsuite
from agents.baselines import ALGORITHMS, METHODS, build_agent
from agents.common import AgentContext

pytestmark = pytest.mark.slow

# Small networks and early learning, so a few hundred steps exercise the training updates.
HYPERPARAMETERS = {
    "ppo": {"n_steps": 64, "batch_size": 32, "n_epochs": 2, "policy_kwargs": {"net_arch": [16]}},
    "dqn": {"learning_starts": 50, "buffer_size": 1000, "policy_kwargs": {"net_arch": [16]}},
    "sac": {"learning_starts": 50, "buffer_size": 1000, "policy_kwargs": {"net_arch": [16]}},
}
SEQUENCES = {
    "ppo": "ClassicCartPoleAcrobot",
    "dqn": "ClassicCartPoleAcrobot",
    "sac": "ClassicPendulumGravity",
}
VALID_PAIRS = [
    (algorithm, method)
    for algorithm in ALGORITHMS
    for method in METHODS
    if not (algorithm == "ppo" and method == "replay")
]


def sequence(algorithm: str, steps_per_task: int = 100, **overrides) -> envsuite.Sequence:
    return envsuite.make_sequence(SEQUENCES[algorithm], steps_per_task=steps_per_task, **overrides)


def hyperparameters(algorithm: str, method: str) -> dict:
    arguments = dict(HYPERPARAMETERS[algorithm])
    if method == "replay":
        arguments.pop("buffer_size")  # set through method_options.capacity instead
    return arguments


def record_boundaries(agent) -> dict[str, list]:
    """Wrap ``agent.on_task_switch`` to record the step, whether the anchors are the parameters
    right after anchoring, and the importances."""
    seen: dict[str, list] = {"steps": [], "anchors_match": [], "importances": []}
    anchor = agent.on_task_switch

    def on_task_switch(info):
        anchor(info)
        regularizer = agent.regularizer
        seen["steps"].append(int(info["global_step"]))
        seen["anchors_match"].append(
            all(
                torch.equal(regularizer.anchors[name], parameter.detach())
                for name, parameter in regularizer.regularized_parameters().items()
            )
        )
        seen["importances"].append({n: f.clone() for n, f in regularizer.importances.items()})

    agent.on_task_switch = on_task_switch
    return seen


def parameters_of(agent) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in agent.model.policy.named_parameters()}


@pytest.mark.parametrize(("algorithm", "method"), VALID_PAIRS)
def test_every_valid_pair_learns_a_short_sequence(algorithm, method):
    options = {"ewc": {"fisher_samples": 64}, "replay": {"capacity": 500}}.get(method, {})
    steps = {"ppo": 320, "sac": 250, "dqn": 300}[algorithm]  # PPO: whole rollouts of 64
    agent = build_agent(
        algorithm,
        method,
        AgentContext.of_env(
            sequence(algorithm).make_env(), total_steps=steps, seed=0, device="cpu"
        ),
        hyperparameters=hyperparameters(algorithm, method),
        method_options=options,
    )
    assert (agent.algorithm, agent.method) == (algorithm, method)
    before = parameters_of(agent)
    train_for(agent, sequence(algorithm).make_env, steps)
    assert agent.model.num_timesteps == steps
    after = parameters_of(agent)
    assert any(not torch.equal(before[name], after[name]) for name in before), "no update"
    if method in ("ewc", "l2"):
        assert agent.regularizer.boundaries  # at least one task ended
        assert agent.penalty() > 0
    else:
        assert agent.method_state() == {}
    if method == "replay":
        assert type(agent.model.replay_buffer.transitions).__name__ == "ReservoirBuffer"


def test_ewc_anchors_exactly_at_the_task_switched_steps():
    # ClassicCartPoleAcrobot: two cycles of two tasks, blocks of 40 steps here.
    agent = build_agent(
        "dqn",
        "ewc",
        AgentContext.of_env(
            sequence("dqn", steps_per_task=80).make_env(), total_steps=160, seed=0, device="cpu"
        ),
        hyperparameters=hyperparameters("dqn", "ewc"),
        method_options={"fisher_samples": 30},
    )
    seen = record_boundaries(agent)
    train_for(agent, sequence("dqn", steps_per_task=80).make_env, 160)
    assert seen["steps"] == [40, 80, 120]  # the last block never switches
    assert agent.regularizer.boundaries == [40, 80, 120]
    assert seen["anchors_match"] == [True, True, True]
    # Training after the last boundary moved the parameters away from the anchors.
    assert agent.penalty() > 0
    # Each boundary adds the ending task's (non-negative, non-zero) Fisher.
    first, second, third = seen["importances"]
    for name in first:
        assert (second[name] >= first[name]).all()
        assert (third[name] >= second[name]).all()
    assert any(not torch.equal(first[name], second[name]) for name in first)


def test_reservoir_replay_keeps_the_first_tasks_samples_after_a_boundary():
    # Two tasks of 400 steps in order; a 200-transition reservoir should end with about half
    # of each, where a ring of the same size would hold only the second task.
    def two_tasks():
        return sequence("dqn", steps_per_task=400, schedule="sequential")

    agent = build_agent(
        "dqn",
        "replay",
        AgentContext.of_env(two_tasks().make_env(), total_steps=800, seed=0, device="cpu"),
        hyperparameters={"learning_starts": 100, "policy_kwargs": {"net_arch": [16]}},
        method_options={"capacity": 200},
    )
    train_for(agent, two_tasks().make_env, 800)
    observations = agent.model.replay_buffer.transitions.storage.arrays["observation"]
    task_index = observations[:, -2:].argmax(axis=1)  # the one-hot task id ends each row
    assert len(observations) == 200
    first_task_fraction = np.mean(task_index == 0)
    assert 0.35 < first_task_fraction < 0.65  # a reservoir keeps 400/800 of it on average

    fine_tuned = build_agent(
        "dqn",
        "finetune",
        AgentContext.of_env(two_tasks().make_env(), total_steps=800, seed=0, device="cpu"),
        hyperparameters={
            "learning_starts": 100,
            "buffer_size": 200,
            "policy_kwargs": {"net_arch": [16]},
        },
    )
    train_for(fine_tuned, two_tasks().make_env, 800)
    ring = fine_tuned.model.replay_buffer.transitions
    assert type(ring).__name__ == "RingBuffer"
    assert np.all(ring.storage.arrays["observation"][:, -2:].argmax(axis=1) == 1)


def cartpole():
    return gym.make("CartPole-v1")


def pendulum():
    return gym.make("Pendulum-v1")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("a2c", "finetune", cartpole), r"algorithm must be one of \('ppo', 'sac', 'dqn'\)"),
        (("ppo", "si", cartpole), r"method must be one of \('finetune', 'ewc', 'l2', 'replay'\)"),
        (("ppo", "replay", cartpole), "PPO is on-policy"),
        (("sac", "finetune", cartpole), "algorithm 'sac' acts in Box action spaces"),
        (("dqn", "ewc", pendulum), "algorithm 'dqn' acts in Discrete action spaces"),
    ],
)
def test_invalid_pairs_raise(arguments, message):
    algorithm, method, make_env = arguments
    with pytest.raises(ValueError, match=message):
        build_agent(
            algorithm,
            method,
            AgentContext.of_env(make_env(), total_steps=100, seed=0, device="cpu"),
        )


@pytest.mark.parametrize(
    ("method", "options", "hyperparameters", "message"),
    [
        ("ewc", {"strenght": 1.0}, {}, r"unknown option\(s\) \['strenght'\] for method 'ewc'"),
        ("finetune", {"capacity": 10}, {}, "allowed: none"),
        ("l2", {"fisher_samples": 10}, {}, r"allowed: \['strength', 'regularize_critic'\]"),
        ("ewc", {"strength": -1.0}, {}, "strength must be a non-negative number"),
        ("ewc", {"fisher_samples": 0}, {}, "fisher_samples must be a positive integer"),
        ("l2", {"regularize_critic": "yes"}, {}, "regularize_critic must be true or false"),
        ("ewc", {"regularize_critic": True}, {}, "DQN has no separate critic"),
        ("replay", {"capacity": 0}, {}, "capacity must be a positive integer"),
        ("replay", {"capacity": 100}, {"buffer_size": 200}, "disagree"),
        ("replay", {}, {"replay_buffer_kwargs": {"x": 1}}, "replay_buffer_kwargs cannot be set"),
        ("finetune", {}, {"replay_buffer_class": object}, "replay_buffer_class cannot be set"),
    ],
)
def test_bad_method_options_raise(method, options, hyperparameters, message):
    with pytest.raises(ValueError, match=message):
        build_agent(
            "dqn",
            method,
            AgentContext.of_env(cartpole(), total_steps=100, seed=0, device="cpu"),
            hyperparameters=hyperparameters,
            method_options=options,
        )


def test_regularize_critic_adds_the_critic_to_the_regularised_parameters():
    actor_only = build_agent(
        "sac",
        "l2",
        AgentContext.of_env(pendulum(), total_steps=100, seed=0, device="cpu"),
        hyperparameters={"buffer_size": 100},
    )
    both = build_agent(
        "sac",
        "l2",
        AgentContext.of_env(pendulum(), total_steps=100, seed=0, device="cpu"),
        hyperparameters={"buffer_size": 100},
        method_options={"regularize_critic": True},
    )
    actor_names = set(actor_only.regularizer.regularized_parameters())
    all_names = set(both.regularizer.regularized_parameters())
    assert actor_names
    assert all(name.startswith("actor.") for name in actor_names)
    critic_names = all_names - actor_names
    assert critic_names
    assert all(name.startswith("critic.") for name in critic_names)


def test_device_auto_follows_cuda_availability():
    agent = build_agent("ppo", "finetune", AgentContext.of_env(cartpole(), total_steps=100, seed=0))
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert agent.model.device.type == expected


def test_an_sb3_agent_trains_through_one_loop() -> None:
    from train_helpers import clocked

    from agents.training import make_vector_env, train_agent

    agent = build_agent(
        "ppo",
        "finetune",
        AgentContext.of_env(cartpole(), total_steps=200, seed=0),
        hyperparameters={"n_steps": 32, "batch_size": 16, "n_epochs": 1},
    )
    first, second = (make_vector_env(clocked(cartpole, 200)) for _ in range(2))
    try:
        train_agent(agent, first, 0, 50, seed=0)
        # SB3 chose its pending actions for the first env's last observation.
        with pytest.raises(RuntimeError, match="an agent trains through one train_agent call"):
            train_agent(agent, second, 0, 50, seed=1)
    finally:
        agent.close()
        first.close()
        second.close()
