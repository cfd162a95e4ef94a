"""Our DreamerV3 against sheeprl's, side by side in one process: gradient updates per second
(world model, then actor and critic) and the time to sample a replay batch.

Both sides get the same sizes (the presets' deter, units, layers and CNN depth, which match: the
parameter counts are printed), the same batch of 16 windows of 64 steps of random data (64x64x3
pixels or a 16-dim vector, 6 discrete actions), float32, the same torch threads, and the same
work per update: the world model's loss on the batch, 15 imagined steps from every posterior
state, the actor's REINFORCE loss and the critic's, and the slow (target) critic's EMA. The
replay holds 20,000 random steps on each side. Rounds alternate between the sides and the
medians are reported, with the ratio ours / sheeprl (above 1: ours is faster).

Run: ``python benchmarks/dreamer.py`` (CPU, XS and S, a few minutes on two cores);
``--device cuda --sizes S M`` on a GPU; ``--help`` for the options. sheeprl comes with the
``bench`` extra.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np
import torch
from sheeprl_dreamer import (
    ACTIONS,
    VECTOR_SIZE,
    sheeprl_parameter_count,
    sheeprl_replay_sampler,
    sheeprl_trainer,
)

from agents.common.protocol import AgentContext
from agents.dreamer.agent import DreamerAgent
from agents.dreamer.behavior import parameter_count
from agents.dreamer.config import DreamerConfig, Precision, Size

REPLAY_STEPS = 20_000
OBSERVATION_SPACES = {
    "pixels": gym.spaces.Box(0, 255, (64, 64, 3), np.uint8),
    "vector": gym.spaces.Box(-np.inf, np.inf, (VECTOR_SIZE,), np.float32),
}


def our_agent(
    size: str, observation: str, options: argparse.Namespace, replay_steps: int
) -> DreamerAgent:
    """Our DreamerV3 with its replay filled with ``replay_steps`` random steps (4 envs)."""
    config = DreamerConfig(
        size=Size(size),
        batch_size=options.batch_size,
        sequence_length=options.sequence_length,
        replay_capacity=max(replay_steps, 4 * 4 * options.sequence_length),
        precision=Precision(options.precision),
        compile=options.compile,
        num_envs=4,
    )
    space = OBSERVATION_SPACES[observation]
    context = AgentContext(space, gym.spaces.Discrete(ACTIONS), 4, 10**6, 0, options.device)
    agent = config.build(context)
    rng = np.random.default_rng(0)
    for _ in range(replay_steps // 4):
        if observation == "pixels":
            frames = rng.integers(0, 256, (4, 64, 64, 3), dtype=np.uint8)
        else:
            frames = rng.standard_normal((4, VECTOR_SIZE), dtype=np.float32)
        ended = rng.random(4) < 0.002
        agent.replay.add(
            frames, rng.integers(0, ACTIONS, 4), rng.standard_normal(4), frames, ended, ended
        )
    return agent


def our_trainer(agent: DreamerAgent, batch_size: int) -> Callable[[], None]:
    """One call = one update of our agent on a fixed batch from its replay."""
    batch = agent.replay.sample(batch_size)
    return lambda: agent.train_on_batch(batch)


def our_sampler(agent: DreamerAgent, batch_size: int) -> Callable[[], None]:
    return lambda: agent.replay.sample(batch_size)


def seconds_per_call(fn: Callable[[], None], calls: int, device: str) -> float:
    """Wall-clock seconds per call over ``calls`` calls (the GPU's queue drained)."""
    synchronize = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    synchronize()
    started = time.perf_counter()
    for _ in range(calls):
        fn()
    synchronize()
    return (time.perf_counter() - started) / calls


def side_by_side(
    ours: Callable[[], None],
    theirs: Callable[[], None],
    options: argparse.Namespace,
    seconds: float,
) -> tuple[float, float]:
    """Median seconds per call of each side over alternating rounds of about ``seconds``."""
    calls = {}
    for name, fn in (("ours", ours), ("theirs", theirs)):
        for _ in range(options.warmup):
            fn()
        calls[name] = max(1, int(seconds / max(seconds_per_call(fn, 1, options.device), 1e-9)))
    rounds: dict[str, list[float]] = {"ours": [], "theirs": []}
    for _ in range(options.repeats):
        rounds["ours"].append(seconds_per_call(ours, calls["ours"], options.device))
        rounds["theirs"].append(seconds_per_call(theirs, calls["theirs"], options.device))
    return statistics.median(rounds["ours"]), statistics.median(rounds["theirs"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--sizes", nargs="+", default=["XS", "S"], choices=[s.value for s in Size])
    parser.add_argument(
        "--observations", nargs="+", default=list(OBSERVATION_SPACES), choices=OBSERVATION_SPACES
    )
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--sequence-length", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="torch's CPU threads")
    parser.add_argument("--warmup", type=int, default=2, help="untimed calls per side")
    parser.add_argument("--repeats", type=int, default=3, help="alternating rounds per side")
    parser.add_argument("--seconds", type=float, default=5.0, help="per round of updates")
    parser.add_argument(
        "--precision",
        default="float32",
        choices=[p.value for p in Precision],
        help="ours: bfloat16 autocasts on CUDA; sheeprl runs bf16-mixed then",
    )
    parser.add_argument("--compile", action="store_true", help="torch.compile on both sides")
    options = parser.parse_args()
    torch.set_num_threads(options.threads)
    # One setting for both sides: sheeprl's launcher allows TF32 matmuls ("high").
    torch.set_float32_matmul_precision("high")
    import sheeprl

    their_precision = "bf16-mixed" if options.precision == "bfloat16" else "32-true"
    print(
        f"torch {torch.__version__}, sheeprl {sheeprl.__version__}, {options.device}, "
        f"{options.threads} threads, batch {options.batch_size} x {options.sequence_length}, "
        f"{options.precision}{', compiled' if options.compile else ''}"
    )
    for observation in options.observations:
        ours = our_agent(options.sizes[0], observation, options, REPLAY_STEPS)
        theirs = sheeprl_replay_sampler(
            observation,
            options.batch_size,
            options.sequence_length,
            options.device,
            capacity=REPLAY_STEPS,
        )
        mine, other = side_by_side(
            our_sampler(ours, options.batch_size), theirs, options, seconds=1.0
        )
        print(
            f"{observation:>6} replay sample: ours {mine * 1e3:7.2f} ms, sheeprl "
            f"{other * 1e3:7.2f} ms, ratio {other / mine:5.2f}x"
        )
        for size in options.sizes:
            # A replay just big enough for the batch: the trainer samples it once.
            agent = our_agent(size, observation, options, 6 * 4 * options.sequence_length)
            step = sheeprl_trainer(
                size,
                observation,
                options.batch_size,
                options.sequence_length,
                options.device,
                precision=their_precision,
                compile=options.compile,
            )
            mine, other = side_by_side(
                our_trainer(agent, options.batch_size), step, options, options.seconds
            )
            counts = sheeprl_parameter_count(size, observation, options.device)
            print(
                f"{observation:>6} {size:>2}: ours {1 / mine:7.3f} updates/s, sheeprl "
                f"{1 / other:7.3f} updates/s, ratio {other / mine:5.2f}x; parameters (world "
                f"model, actor, critic): ours {parameter_count(agent.world_model):,}, "
                f"{parameter_count(agent.behavior.actor):,}, "
                f"{parameter_count(agent.behavior.critic):,}; sheeprl "
                f"{counts['world_model']:,}, {counts['actor']:,}, {counts['critic']:,}"
            )


if __name__ == "__main__":
    main()
