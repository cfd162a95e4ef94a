"""Planning cost: one CEM plan through a dynamics MLP, our batched planner against the naive form
(the same planner rolling out one action sequence at a time), side by side.

Sizes default to HyperCRL's pusher: horizon 20, 500 samples, 40 elites, 5 iterations, a target
MLP of [200, 200] predicting the change of a 10-d state from it and a 2-d action. The reward is
a quadratic stand-in for the task's (its cost beside the model's is small either way). Both sides
run the same plans, interleaved; medians are reported, and the ratio naive / batched.

Run: ``python benchmarks/planner.py`` (about a minute on a CPU); ``--device cuda`` on a GPU;
``--help`` for the options.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from torch import Tensor, nn

from agents.hypercrl.planner import Dynamics, Planner, PlannerConfig
from envsuite.planning import RewardFn


class PerSequencePlanner(Planner):
    """The naive form: every action sequence rolled out through the model on its own."""

    def returns(
        self, observations: Tensor, sequences: Tensor, dynamics: Dynamics, reward: RewardFn
    ) -> Tensor:
        return torch.cat(
            [
                super(PerSequencePlanner, self).returns(
                    observations, sequences[:, sample : sample + 1], dynamics, reward
                )
                for sample in range(sequences.shape[1])
            ],
            1,
        )


def dynamics_mlp(state_size: int, action_size: int, hidden: list[int]) -> nn.Module:
    """A randomly initialised MLP from a state and an action to the state's change."""
    layers: list[nn.Module] = []
    width = state_size + action_size
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    return nn.Sequential(*layers, nn.Linear(width, state_size))


def time_plan(planner: Planner, observation: Tensor, dynamics: Dynamics, reward: RewardFn) -> float:
    """Seconds of one plan (synchronised on a GPU)."""
    if observation.device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    planner.plan(observation, dynamics, reward)
    if observation.device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--horizon", type=int, default=20)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--elites", type=int, default=40)
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--hidden", type=int, nargs="+", default=[200, 200])
    parser.add_argument("--state-size", type=int, default=10)
    parser.add_argument("--action-size", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--device", default="cpu", help="torch device (cpu, cuda)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    model = dynamics_mlp(args.state_size, args.action_size, args.hidden).to(device)
    goal = torch.randn(args.state_size, device=device)

    def dynamics(observations: Tensor, actions: Tensor) -> Tensor:
        return observations + model(torch.cat([observations, actions], -1))

    def reward(observations: Tensor, actions: Tensor, following: Tensor) -> Tensor:
        return -(following - goal).square().sum(-1) - 0.25 * actions.square().sum(-1)

    config = PlannerConfig(
        horizon=args.horizon,
        samples=args.samples,
        elites=args.elites,
        iterations=args.iterations,
    )
    bounds = np.full(args.action_size, -1.0), np.full(args.action_size, 1.0)
    planners = {
        "batched": Planner(config, *bounds, seed=0, device=device),
        "naive": PerSequencePlanner(config, *bounds, seed=0, device=device),
    }
    observation = torch.randn(1, args.state_size, device=device)
    with torch.no_grad():
        for planner in planners.values():  # warm-up (allocators, kernels)
            time_plan(planner, observation, dynamics, reward)
        seconds: dict[str, list[float]] = {name: [] for name in planners}
        for _ in range(args.repeats):
            for name, planner in planners.items():
                seconds[name].append(time_plan(planner, observation, dynamics, reward))
    batched, naive = (1000 * statistics.median(seconds[name]) for name in ("batched", "naive"))
    print(
        f"one CEM plan on {device}: horizon {args.horizon} x {args.samples} samples x "
        f"{args.iterations} iterations (+1 final draw), MLP {args.hidden}, "
        f"state {args.state_size}, action {args.action_size}; median of {args.repeats} (ms)"
    )
    print(f"{'batched':>10} {'naive':>12} {'naive / batched':>16}")
    print(f"{batched:10.1f} {naive:12.1f} {naive / batched:15.1f}x")


if __name__ == "__main__":
    main()
