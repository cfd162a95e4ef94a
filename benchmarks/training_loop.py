"""The training loop's cost: SB3's PPO trained through ``agents.training.train_agent`` (SB3's
``learn`` in a worker thread, on the loop's steps) against a bare ``model.learn``, side by side.

One process, one torch thread, the same sequence env, seed and hyperparameters (the demo's) on
both sides; the repetitions alternate and the median of each side is reported, with the ratio
loop / learn (1.0: the loop costs nothing).

Run: ``python benchmarks/training_loop.py`` (about a minute); ``--help`` for the options.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from stable_baselines3 import PPO

import envsuite
from agents.baselines import build_agent
from agents.common import AgentContext
from agents.training import make_vector_env, train_agent

DEMO_PPO = {"n_steps": 512, "batch_size": 64, "n_epochs": 4, "gae_lambda": 0.94, "ent_coef": 0.01}


def bare_learn(sequence: envsuite.Sequence, steps: int) -> float:
    model = PPO("MlpPolicy", sequence.make_env(), seed=0, device="cpu", **DEMO_PPO)
    started = time.perf_counter()
    model.learn(steps)
    return steps / (time.perf_counter() - started)


def through_the_loop(sequence: envsuite.Sequence, steps: int) -> float:
    env = make_vector_env(sequence.make_env)
    context = AgentContext.of_env(env, steps, seed=0, device="cpu")
    agent = build_agent("ppo", "finetune", context, hyperparameters=DEMO_PPO)
    started = time.perf_counter()
    try:
        train_agent(agent, env, 0, steps, seed=0)
    finally:
        agent.close()
        env.close()
    return steps / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000, help="training steps per timing")
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()
    torch.set_num_threads(1)
    sequence = envsuite.make_sequence(
        "ClassicCartPoleAcrobot", steps_per_task=max(1, options.steps // 2)
    )
    learn, loop = [], []
    for _ in range(options.repeats):
        learn.append(bare_learn(sequence, options.steps))
        loop.append(through_the_loop(sequence, options.steps))
    learn_rate, loop_rate = statistics.median(learn), statistics.median(loop)
    print(f"PPO (the demo's hyperparameters) on CartPole/Acrobot, {options.steps} steps, 1 thread")
    print(f"{'side':<24} {'steps/s':>9}")
    print(f"{'SB3 model.learn':<24} {learn_rate:>9.0f}")
    print(f"{'agents.training loop':<24} {loop_rate:>9.0f}")
    print(f"loop / learn: {loop_rate / learn_rate:.2f}x")


if __name__ == "__main__":
    main()
