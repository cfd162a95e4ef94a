"""What a run shows while it trains: a rich progress bar with the current task and ETA,
``metrics.jsonl`` lines and tensorboard scalars (per-task training return, steps/s)."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from envsuite.core.schedule import reaches_multiple
from envsuite.evaluation.videos import add_gif_to_tensorboard, encode_gif

METRICS_FILE = "metrics.jsonl"
# Frames per second of an agent's videos (a world model's predictions are step by step).
AGENT_VIDEO_FPS = 8.0
# Redrawing the bar costs more than a step of a small env: update it every this many steps.
_PROGRESS_UPDATE_STEPS = 100
# Without a terminal (a pipe, a log file, CI) rich draws its bar once, at the end: a plain
# progress line comes at the start, then at least this often, and at the end instead.
PROGRESS_LINE_SECONDS = 20.0


class TrainingMonitor:
    """What the training loop reports, along one global clock (across a single-task run's
    agents too).

    Each step the loop passes the global step, the task trained and the returns of the episodes
    that ended. Every ``log_every`` steps it appends a line to ``metrics.jsonl`` (global step,
    task, steps/s, episodes finished and their mean return) and writes
    ``train/steps_per_second``; every finished episode goes to tensorboard as
    ``train/<task>/episode_return``, the agent's own scalars (:meth:`log_agent`) as
    ``agent/<name>``.

    Args:
        run_dir: where ``metrics.jsonl`` and the tensorboard events go.
        total_steps: the global step where training ends (the bar's length).
        start_step: the global step training starts from (a resumed run's checkpoint): lines of
            ``metrics.jsonl`` past it are dropped.
        log_every: the period of ``metrics.jsonl`` lines, in global steps.
        writer: the run's ``SummaryWriter`` (``None``: no tensorboard events); left open.
        progress_bar: show progress: rich's bar on a terminal, else a plain line at the start,
            every ``line_seconds`` and at the end.
        line_seconds: the period of the plain progress lines.
    """

    def __init__(
        self,
        run_dir: Path,
        total_steps: int,
        start_step: int,
        log_every: int,
        writer: Any,
        progress_bar: bool,
        line_seconds: float = PROGRESS_LINE_SECONDS,
    ) -> None:
        self.log_every = log_every
        self.total_steps = total_steps
        metrics = run_dir / METRICS_FILE
        if start_step > 0:
            _drop_lines_after(metrics, start_step)
        self.metrics_file = metrics.open("a")
        self.writer = writer
        console = Console()
        self.plain_lines = progress_bar and not console.is_terminal
        self.progress = Progress(
            TextColumn("[bold]{task.fields[task_name]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[steps_per_second]:>7.0f} steps/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            disable=not progress_bar or self.plain_lines,
        )
        self.line_seconds = line_seconds
        self.bar = self.progress.add_task(
            "training", total=total_steps, completed=start_step, task_name="", steps_per_second=0.0
        )
        self.progress.start()
        self.started = time.perf_counter()
        self.window_start = (start_step, self.started)
        self.window_returns: dict[str, list[float]] = defaultdict(list)
        self.global_step = start_step
        self.task_name = ""
        self.start_step = start_step
        self.last_line = self.started
        if self.plain_lines:
            self._print_line()

    def after_step(
        self, global_step: int, task_name: str, episode_returns: list[float], block_end: bool
    ) -> None:
        """One training step done; ``episode_returns`` of the episodes it ended."""
        previous, self.global_step = self.global_step, global_step
        self.task_name = task_name
        for episode_return in episode_returns:
            self.window_returns[task_name].append(episode_return)
            if self.writer is not None:
                self.writer.add_scalar(
                    f"train/{task_name}/episode_return", episode_return, global_step
                )
        if reaches_multiple(previous, global_step, _PROGRESS_UPDATE_STEPS) or block_end:
            self.progress.update(self.bar, completed=global_step, task_name=task_name)
        if self.plain_lines and time.perf_counter() - self.last_line >= self.line_seconds:
            self._print_line()
        if reaches_multiple(previous, global_step, self.log_every):
            self._log_window(task_name)

    def log_agent(self, scalars: dict[str, float | np.ndarray], global_step: int) -> None:
        """The agent's scalars (losses, learning rates...) at ``global_step``, and its videos:
        ``(frames, height, width, 3)`` uint8 arrays, written as animated GIFs."""
        if self.writer is None:
            return
        for name, value in scalars.items():
            if isinstance(value, np.ndarray) and value.ndim == 4:
                gif = encode_gif(list(value), fps=AGENT_VIDEO_FPS)
                add_gif_to_tensorboard(self.writer, f"agent/{name}", gif, global_step)
            else:
                self.writer.add_scalar(f"agent/{name}", value, global_step)

    def _log_window(self, task_name: str) -> None:
        window_step, window_time = self.window_start
        now = time.perf_counter()
        steps_per_second = (self.global_step - window_step) / max(now - window_time, 1e-9)
        returns = [value for values in self.window_returns.values() for value in values]
        line = {
            "global_step": self.global_step,
            "task": task_name,
            "steps_per_second": round(steps_per_second, 1),
            "episodes": len(returns),
            "episode_return_mean": sum(returns) / len(returns) if returns else None,
            "episode_return_mean_per_task": {
                name: sum(values) / len(values) for name, values in self.window_returns.items()
            },
            "elapsed_seconds": round(now - self.started, 3),
        }
        self.metrics_file.write(json.dumps(line) + "\n")
        self.metrics_file.flush()
        if self.writer is not None:
            self.writer.add_scalar("train/steps_per_second", steps_per_second, self.global_step)
            self.writer.flush()
        self.progress.update(self.bar, steps_per_second=steps_per_second)
        self.window_start = (self.global_step, now)
        self.window_returns.clear()

    def _print_line(self) -> None:
        """A plain progress line: step, share done, task, steps/s, elapsed time and ETA."""
        now = time.perf_counter()
        self.last_line = now
        elapsed = now - self.started
        done = self.global_step - self.start_step
        rate = done / elapsed if elapsed > 0 else 0.0
        remaining = max(self.total_steps - self.global_step, 0)
        eta = _clock(remaining / rate) if rate > 0 else "?"
        share = self.global_step / self.total_steps if self.total_steps else 1.0
        task = f" · {self.task_name}" if self.task_name else ""
        print(
            f"step {self.global_step:,}/{self.total_steps:,} ({share:.0%}){task} · "
            f"{rate:,.0f} steps/s · elapsed {_clock(elapsed)} · ETA {eta}",
            flush=True,
        )

    def close(self) -> None:
        # The steps since the last line (all of a run shorter than log_every) get one too.
        if self.global_step > self.window_start[0]:
            self._log_window(self.task_name)
        if self.plain_lines:
            self._print_line()
        self.progress.update(self.bar, completed=self.global_step)
        self.progress.stop()
        self.metrics_file.close()


def _clock(seconds: float) -> str:
    """``seconds`` as h:mm:ss."""
    minutes, second = divmod(int(seconds), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}:{minute:02d}:{second:02d}"


def _drop_lines_after(metrics: Path, step: int) -> None:
    """Keep the lines of ``metrics.jsonl`` up to ``step``; a resumed run writes the rest again."""
    if not metrics.is_file():
        return
    kept = []
    for line in metrics.read_text().splitlines():
        try:
            line_step = json.loads(line)["global_step"]
        except (json.JSONDecodeError, KeyError, TypeError):
            continue  # cut short by the crash the run resumes from
        if isinstance(line_step, int) and line_step <= step:
            kept.append(line + "\n")
    partial = metrics.with_name(metrics.name + ".tmp")
    partial.write_text("".join(kept))
    partial.replace(metrics)
