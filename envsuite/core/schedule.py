"""Schedules: cut every task's step budget into blocks and order the blocks, deterministically.

Each task receives exactly ``steps_per_task`` steps whatever the schedule; only how they are cut
and interleaved differs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from envsuite.core.spec import ScheduleSpec, SequenceSpec


@dataclass(frozen=True)
class Block:
    """A stretch of consecutive steps on one task."""

    task_index: int
    steps: int


def build_schedule(spec: SequenceSpec) -> tuple[Block, ...]:
    """The blocks a sequence plays, in order; adjacent blocks of the same task are merged."""
    order = block_order(spec.schedule, spec.num_tasks, spec.seed)
    block_sizes = {
        task: split_steps(spec.steps_per_task, order.count(task)) for task in range(spec.num_tasks)
    }
    blocks: list[Block] = []
    for task in order:
        steps = block_sizes[task].pop()
        if blocks and blocks[-1].task_index == task:
            blocks[-1] = Block(task, blocks[-1].steps + steps)
        else:
            blocks.append(Block(task, steps))
    return tuple(blocks)


def task_steps_played(blocks: tuple[Block, ...], task_index: int, global_step: int) -> int:
    """Steps task ``task_index`` has played at ``global_step`` of the schedule ``blocks``, over
    all its blocks; past the schedule's end the last block's task keeps playing."""
    played = 0
    block_start = 0
    for block in blocks:
        block_end = block_start + block.steps
        if block.task_index == task_index:
            played += max(0, min(global_step, block_end) - block_start)
        block_start = block_end
    if global_step > block_start and blocks[-1].task_index == task_index:
        played += global_step - block_start
    return played


def reaches_multiple(previous_step: int, step: int, period: int) -> bool:
    """Whether a clock going from ``previous_step`` to ``step`` reaches or passes a multiple of
    ``period``: a vector step of N envs may cross one without landing on it."""
    return step // period > previous_step // period


def split_steps(steps: int, parts: int) -> list[int]:
    """Cut ``steps`` into ``parts`` sizes differing by at most one, the larger ones last."""
    base, remainder = divmod(steps, parts)
    return [base] * (parts - remainder) + [base + 1] * remainder


def block_order(schedule: ScheduleSpec, num_tasks: int, seed: int) -> list[int]:
    """The task index of every block, before merging; deterministic given ``seed``."""
    if schedule.type == "sequential":
        return list(range(num_tasks))
    if schedule.type == "cycles":
        return list(range(num_tasks)) * schedule.cycles
    if schedule.type == "explicit":
        return list(schedule.order)
    rng = np.random.default_rng(seed)
    if schedule.type == "random":
        blocks = np.repeat(np.arange(num_tasks), schedule.blocks_per_task)
        return [int(task) for task in rng.permutation(blocks)]
    if schedule.type == "powerlaw":
        return powerlaw_order(num_tasks, schedule.blocks_per_task, schedule.alpha, rng)
    raise ValueError(f"unknown schedule type {schedule.type!r}")


def powerlaw_order(
    num_tasks: int, blocks_per_task: int, alpha: float, rng: np.random.Generator
) -> list[int]:
    """Introduce tasks in order; an earlier task recurs with weight (blocks since last seen)^-alpha.

    At every block the candidates are the introduced tasks that still have blocks left, except the
    task just played, plus the next new task. An earlier task last seen ``g`` blocks ago weighs
    ``g ** -alpha``; the next new task weighs 1, as much as a task seen one block ago, so large
    ``alpha`` introduces tasks quickly and ``alpha = 0`` picks uniformly. When only the task just
    played has blocks left, it continues.
    """
    remaining = [blocks_per_task] * num_tasks
    last_seen = [0] * num_tasks
    introduced = 0
    order: list[int] = []
    for position in range(num_tasks * blocks_per_task):
        previous = order[-1] if order else -1
        candidates = [
            task for task in range(introduced) if remaining[task] > 0 and task != previous
        ]
        # Log-weights -alpha * log(gap), so that a large alpha cannot underflow every weight.
        log_weights = [-alpha * np.log(position - last_seen[task]) for task in candidates]
        if introduced < num_tasks:
            candidates.append(introduced)
            log_weights.append(0.0)
        if not candidates:
            task = previous
        else:
            weights = np.exp(np.asarray(log_weights) - max(log_weights))
            task = candidates[int(rng.choice(len(candidates), p=weights / weights.sum()))]
        if task == introduced:
            introduced += 1
        remaining[task] -= 1
        last_seen[task] = position
        order.append(task)
    return order
