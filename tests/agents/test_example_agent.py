"""The README's example agent, as printed there, trains through ``envsuite-train``'s one loop
(``agent=custom``) and learns; a recurrent agent is evaluated through the loop with its state
carried within episodes and reset between them."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir
from train_helpers import (
    cartpoles,
    clocked,
    example_agent_overrides,
    readme_agent_module,
    write_sequence,
)

from agents.common import AgentContext, Transition
from agents.training import make_vector_env, train_agent
from agents.training.checkpoints import latest_checkpoint, load_checkpoint
from agents.training.command import run
from agents.training.config import register_configs
from agents.training.custom import AgentTargetError, CustomAgentConfig, load_target
from envsuite.data import data_path
from envsuite.evaluation import ContinualEvaluator, load_run

register_configs()
STEPS_PER_TASK = 3000


@pytest.mark.slow
def test_the_readme_agent_trains_through_envsuite_train_and_learns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(readme_agent_module(tmp_path).parent))
    sequence = write_sequence(
        tmp_path / "sequences" / "cartpoles.yaml", cartpoles("ExampleCartPoles", STEPS_PER_TASK)
    )
    overrides = example_agent_overrides(
        sequence, f"eval.every={STEPS_PER_TASK}", "logging.tensorboard=false"
    )
    run_dir = tmp_path / "run"
    with initialize_config_dir(config_dir=str(data_path("configs")), version_base="1.3"):
        run(compose(config_name="config", overrides=overrides), run_dir, overrides)

    table = load_run(run_dir).table
    cartpole = {
        int(step): float(
            table.episode_return[(table.eval_step == step) & (table.evaluated_task == 0)].mean()
        )
        for step in np.unique(table.eval_step)
    }
    assert list(cartpole) == [0, STEPS_PER_TASK, 2 * STEPS_PER_TASK]
    # Seed 0: the untrained linear policy balances the pole for 46 steps on average; trained
    # on both CartPoles (the second rewards only by -1 at the fall), for 358 (500 after the
    # first task).
    assert cartpole[2 * STEPS_PER_TASK] > cartpole[0] + 50, cartpole
    state = load_checkpoint(latest_checkpoint(run_dir))["agent"]
    assert set(state) == {"policy", "optimizer", "generator"}
    losses = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert losses[-1]["global_step"] == 2 * STEPS_PER_TASK
    assert (run_dir / "report" / "metrics.json").is_file()
    torch.set_num_threads(1)


def test_a_custom_target_is_a_clear_error_when_it_cannot_be_loaded(tmp_path: Path) -> None:
    with pytest.raises(AgentTargetError, match="not of the form 'module:callable'"):
        load_target("my_agents.ReinforceAgent")
    with pytest.raises(AgentTargetError, match="no module 'surely_no_such_module' on the Python"):
        load_target("surely_no_such_module:Agent")
    with pytest.raises(AgentTargetError, match="has no callable 'Nothing'"):
        load_target("json:Nothing")
    assert load_target("json:dumps") is json.dumps


def test_a_custom_agent_must_take_its_options_and_meet_the_protocol(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "half_agents.py").write_text(
        "class HalfAgent:\n"
        "    def __init__(self, context, size=1):\n"
        "        self.size = size\n"
        "    def act(self, observation, state, episode_start, deterministic):\n"
        "        return observation, state\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    context = AgentContext.of_env(gym.make("CartPole-v1"), total_steps=10, seed=0)
    config = CustomAgentConfig(target="half_agents:HalfAgent", options={"sise": 2})
    with pytest.raises(AgentTargetError, match=r"agent\.options: .*unexpected keyword.*'sise'"):
        config.build(context)
    config = CustomAgentConfig(target="half_agents:HalfAgent", options={"size": 2})
    with pytest.raises(AgentTargetError, match=r"lacks \['observe', 'update', 'on_task_switch'"):
        config.build(context)


class StepCountingAgent:
    """A recurrent agent: its state counts each env's steps into the episode, and its action is
    that count (what toy/Echo-v0 rewards). It does not learn."""

    def __init__(self, context: AgentContext) -> None:
        self.num_envs = context.num_envs

    def act(self, observation, state, episode_start, deterministic):
        if state is None:
            state = np.zeros(len(observation), dtype=np.int64)
        state = np.where(episode_start, 0, state)
        return state.copy(), state + 1

    def observe(self, transition: Transition) -> None:
        pass

    def update(self) -> dict[str, float]:
        return {}

    def on_task_switch(self, info) -> None:
        pass

    def state_dict(self, include_replay: bool) -> dict:
        return {}

    def load_state_dict(self, state) -> None:
        pass

    def close(self) -> None:
        pass


def test_a_recurrent_agent_is_evaluated_through_the_loop_with_its_state_per_episode(
    tmp_path: Path, write_spec
) -> None:
    from conftest import echo_counter_return, one_env_sequence

    sequence = one_env_sequence(write_spec, "toy/Echo-v0", ["first", "second"], "EchoLoop", 20)
    evaluator = ContinualEvaluator(sequence, tmp_path, eval_every=10, episodes=4, eval_seed=5)
    env = make_vector_env(sequence.make_env, num_envs=2)
    agent = StepCountingAgent(AgentContext.of_env(env, 40, seed=0))
    try:
        train_agent(agent, env, 0, 40, evaluator=evaluator, seed=0)
    finally:
        env.close()
        evaluator.close()

    # Each episode played by hand with a fresh counter: the returns the evaluator must record.
    expected = [echo_counter_return(5 + episode) for episode in range(4)]
    assert len(set(expected)) > 1  # the episodes differ in length: a batch ends unevenly
    records = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    rounds = sorted({record["eval_step"] for record in records})
    assert rounds == [0, 10, 20, 30, 40]
    for step in rounds:
        for task in (0, 1):
            returns = [
                r["return"]
                for r in records
                if (r["eval_step"], r["evaluated_task"]) == (step, task)
            ]
            # A state dropped within an episode earns 1; one carried over from another episode,
            # task or round (or from training) earns 0 on its first step.
            assert returns == expected, (step, task)


def test_the_training_loop_hands_a_recurrent_agent_its_own_state_and_episode_starts() -> None:
    seen: list[tuple[np.ndarray, np.ndarray]] = []

    class Recorder(StepCountingAgent):
        def act(self, observation, state, episode_start, deterministic):
            action, next_state = super().act(observation, state, episode_start, deterministic)
            seen.append((action, episode_start.copy()))
            return action, next_state

        def observe(self, transition: Transition) -> None:
            self.rewards.append(transition.reward.copy())

    env = make_vector_env(clocked(lambda: gym.make("toy/Echo-v0"), 30), num_envs=2)
    agent = Recorder(AgentContext.of_env(env, 30, seed=0))
    agent.rewards = []
    try:
        train_agent(agent, env, 0, 30, seed=3)
    finally:
        env.close()
    # The counter is right at every step: every training reward is 1.
    assert np.concatenate(agent.rewards).tolist() == [1.0] * 60
    assert seen[0][1].tolist() == [True, True]
    assert any(starts.any() for _, starts in seen[1:]), "no episode ended within 30 steps"
