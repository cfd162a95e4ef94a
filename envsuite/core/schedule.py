"""Schedules: cut every task's step budget into blocks and order the blocks, deterministically.

Each task receives exactly ``steps_per_task`` steps whatever the schedule; only how they are cut
and interleaved differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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


def checked_start_step(global_step: Any, limit: int, allowed: str) -> int:
    """A ``reset(options={"global_step": n})`` value: an integer in ``[0, limit]``, else a
    ``ValueError`` saying what the range is (``allowed``)."""
    if (
        isinstance(global_step, bool)
        or not isinstance(global_step, int | np.integer)
        or not 0 <= global_step <= limit
    ):
        raise ValueError(
            f"options['global_step']: must be an integer in [0, {limit}] ({allowed}), "
            f"got {global_step!r}"
        )
    return int(global_step)


def block_at(block_ends: list[int], global_step: int) -> int:
    """The block that plays ``global_step`` (the next one at a block's end); the last block
    past the schedule's end."""
    return next(
        (index for index, end in enumerate(block_ends) if end > global_step), len(block_ends) - 1
    )


def task_step_offset(blocks: tuple[Block, ...], block_ends: list[int], block_index: int) -> int:
    """What ``global_step`` minus ``task_step`` is in block ``block_index``: the steps the
    schedule gave other tasks before the block starts."""
    block_start = block_ends[block_index - 1] if block_index else 0
    task = blocks[block_index].task_index
    return block_start - task_steps_played(blocks, task, block_start)


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
