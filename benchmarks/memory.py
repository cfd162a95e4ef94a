"""Memory cost: one forward and backward of the HCAM core against full attention, as the memory of
the episode grows, side by side.

Both cores have the same width, heads, layers and batch; each holds ``memory`` earlier steps of
every env's episode (HCAM as ``memory / chunk_size`` chunks, full attention as a window that
reaches back over all of them) and runs a segment of ``--segment`` new steps on it, timed from
the encodings to the gradients. Full attention's cost grows with the memory (every query scores
every stored step); HCAM's by the chunk keys alone (every query scores each chunk's mean, then
reads ``top_k`` chunks in detail). Repetitions are interleaved (machines are noisy); the median
is reported, and the ratio full / HCAM.

Run: ``python benchmarks/memory.py`` (about a minute on two cores); ``--help`` for the options.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import Tensor

from agents.hcam.config import CoreKind, CoreSpec
from agents.hcam.cores import CoreState, MemoryCore


def filled_state(core: MemoryCore, batch: int, memory: int, width: int) -> CoreState:
    """The core's state after ``memory`` steps of one episode in every env (played in segments
    of 256 steps: full attention over one long segment would need memory quadratic in it)."""
    state = core.initial_state(batch, torch.device("cpu"))
    with torch.no_grad():
        for first in range(0, memory, 256):
            length = min(256, memory - first)
            start = torch.zeros(length, batch, dtype=torch.bool)
            start[0] = first == 0
            state = core(torch.randn(length, batch, width), start, state).state
    return state


def time_segment(core: MemoryCore, state: CoreState, inputs: Tensor) -> float:
    """Seconds of one forward and backward of ``inputs`` after ``state``."""
    started = time.perf_counter()
    outputs = core(inputs, torch.zeros(inputs.shape[:2], dtype=torch.bool), state).outputs
    outputs.square().mean().backward()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--memories", type=int, nargs="+", default=[256, 512, 1024, 2048, 4096])
    parser.add_argument("--segment", type=int, default=16, help="new steps per forward")
    parser.add_argument("--batch", type=int, default=8, help="envs")
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--chunk-size", type=int, default=16)
    parser.add_argument("--top-k", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    longest = max(args.memories)
    hcam = CoreSpec(
        CoreKind.hcam,
        args.width,
        layers=args.layers,
        window=args.chunk_size,
        chunk_size=args.chunk_size,
        top_k=args.top_k,
        memory_chunks=longest // args.chunk_size,
    ).build()
    full = CoreSpec(
        CoreKind.transformer, args.width, layers=args.layers, window=longest + args.segment
    ).build()
    print(
        f"one forward+backward of {args.segment} steps x {args.batch} envs, width {args.width}, "
        f"{args.layers} layers; HCAM chunks of {args.chunk_size}, top {args.top_k}; "
        f"median of {args.repeats} (ms)"
    )
    print(f"{'memory':>8} {'full attention':>15} {'HCAM':>10} {'full / HCAM':>12}")
    for memory in args.memories:
        states = {
            name: filled_state(core, args.batch, memory, args.width)
            for name, core in (("full", full), ("hcam", hcam))
        }
        inputs = torch.randn(args.segment, args.batch, args.width, requires_grad=True)
        seconds: dict[str, list[float]] = {"full": [], "hcam": []}
        for _ in range(args.repeats):
            for name, core in (("full", full), ("hcam", hcam)):
                seconds[name].append(time_segment(core, states[name], inputs))
        full_ms, hcam_ms = (1000 * statistics.median(seconds[name]) for name in ("full", "hcam"))
        print(f"{memory:8d} {full_ms:15.2f} {hcam_ms:10.2f} {full_ms / hcam_ms:11.1f}x")


if __name__ == "__main__":
    main()
