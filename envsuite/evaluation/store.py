"""A run directory: ``run.json`` (what was run) and ``results.jsonl`` (one line per episode,
and one per measure the agent takes of itself at a round, such as a world model's loss on each
task's held-out data).

Lines are appended and flushed round by round, so a crashed run keeps what it evaluated; a
truncated or empty file is reported as such when loaded.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from envsuite.metrics.table import RECORD_FIELDS, EvaluationTable

RUN_FILE = "run.json"
RESULTS_FILE = "results.jsonl"
# A line of an agent's own measure at a round (an episode's line has RECORD_FIELDS instead).
MEASURE_FIELDS = ("eval_step", "trained_task", "evaluated_task", "measure", "value", "seed")


class RunDirectoryError(ValueError):
    """A run directory is missing, incomplete or inconsistent; the message names the file."""


@dataclass(frozen=True)
class RunInfo:
    """What a run directory holds results of.

    Attributes:
        sequence_id: the sequence's gymnasium id.
        task_names: its tasks, in index order.
        blocks: the schedule, as ``[task_index, steps]`` pairs.
        seed: the training run's seed (one line of the results per episode carries it).
        eval_every: evaluation period in sequence steps (plus the end, and every block end
            where ``block_end_rounds``).
        episodes: evaluation episodes per task and round.
        eval_seed: the first evaluation episode's seed; episode ``e`` uses ``eval_seed + e``.
        block_end_rounds: whether every block end was evaluated. Without those rounds (a
            multi-task run's schedule of many short blocks) only the final performance of
            the metrics means anything.
    """

    sequence_id: str
    task_names: tuple[str, ...]
    blocks: tuple[tuple[int, int], ...]
    seed: int
    eval_every: int
    episodes: int
    eval_seed: int
    block_end_rounds: bool = True

    @classmethod
    def from_json(cls, data: dict[str, Any], source: Path) -> RunInfo:
        try:
            return cls(
                sequence_id=str(data["sequence_id"]),
                task_names=tuple(data["task_names"]),
                blocks=tuple((int(task), int(steps)) for task, steps in data["blocks"]),
                seed=int(data["seed"]),
                eval_every=int(data["eval_every"]),
                episodes=int(data["episodes"]),
                eval_seed=int(data["eval_seed"]),
                # Runs recorded before the field existed evaluated every block end.
                block_end_rounds=_bool(data.get("block_end_rounds", True)),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise RunDirectoryError(f"{source}: not a valid run description ({error!r})") from None


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"block_end_rounds must be true or false, got {value!r}")
    return value


class ResultsStore:
    """Appends evaluation records to ``results.jsonl`` in a run directory.

    ``resume_after_step`` reopens the directory of an interrupted run of the same ``info``
    (a training run resumed from a checkpoint at that step): the records of later rounds,
    which the resumed run evaluates again, are dropped and new ones are appended.
    """

    def __init__(
        self, run_dir: str | Path, info: RunInfo, resume_after_step: int | None = None
    ) -> None:
        self.run_dir = Path(run_dir)
        self.info = info
        results = self.run_dir / RESULTS_FILE
        if resume_after_step is not None:
            self._keep_results_up_to(resume_after_step)
        else:
            # Appending a second run to a first would merge both into one table, silently.
            if results.is_file() and results.stat().st_size > 0:
                raise RunDirectoryError(
                    f"{results}: already holds results; give each run its own directory"
                )
            self.run_dir.mkdir(parents=True, exist_ok=True)
            (self.run_dir / RUN_FILE).write_text(json.dumps(asdict(info), indent=2) + "\n")
        self._file = results.open("a")

    def _keep_results_up_to(self, step: int) -> None:
        run_file, results = self.run_dir / RUN_FILE, self.run_dir / RESULTS_FILE
        if not run_file.is_file():
            raise RunDirectoryError(f"{run_file}: missing; there is no run here to resume")
        try:
            recorded = RunInfo.from_json(json.loads(run_file.read_text()), run_file)
        except json.JSONDecodeError as error:
            raise RunDirectoryError(f"{run_file}: not JSON ({error})") from None
        if recorded != self.info:
            raise RunDirectoryError(
                f"{run_file}: describes another run ({recorded}); cannot resume it as {self.info}"
            )
        lines = results.read_text().splitlines(keepends=True) if results.is_file() else []
        # A line cut short by a crash is dropped with the rounds after the checkpoint.
        steps = [_eval_step_of(line) for line in lines]
        kept = [
            line.rstrip("\n") + "\n"
            for line, line_step in zip(lines, steps, strict=True)
            if line_step is not None and line_step <= step
        ]
        partial = results.with_name(results.name + ".tmp")
        partial.write_text("".join(kept))
        os.replace(partial, results)

    def records(self) -> list[dict[str, Any]]:
        """The episode records written so far (a resumed run's, up to its checkpoint,
        included)."""
        self._file.flush()
        text = (self.run_dir / RESULTS_FILE).read_text()
        records = [json.loads(line) for line in text.splitlines()]
        return [record for record in records if "measure" not in record]

    def append(
        self, records: list[dict[str, Any]], fields: tuple[str, ...] = RECORD_FIELDS
    ) -> None:
        """Append episode records, or with ``fields=MEASURE_FIELDS`` measure records."""
        for record in records:
            self._file.write(json.dumps({field: record[field] for field in fields}) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def _eval_step_of(line: str) -> int | None:
    """The ``eval_step`` of a results line, or None for a line cut short by a crash."""
    try:
        return int(json.loads(line)["eval_step"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Run:
    """A loaded run directory: its episodes as a table, and the agent's own measures (records
    of ``MEASURE_FIELDS``; none for most agents)."""

    directory: Path
    info: RunInfo
    table: EvaluationTable
    measures: tuple[dict[str, Any], ...] = ()


def load_run(run_dir: str | Path) -> Run:
    """Load a run directory; :class:`RunDirectoryError` names what is missing or broken."""
    run_dir = Path(run_dir)
    run_file, results_file = run_dir / RUN_FILE, run_dir / RESULTS_FILE
    if not run_file.is_file():
        raise RunDirectoryError(f"{run_file}: missing; is {run_dir} a run directory?")
    try:
        info = RunInfo.from_json(json.loads(run_file.read_text()), run_file)
    except json.JSONDecodeError as error:
        raise RunDirectoryError(f"{run_file}: not JSON ({error})") from None
    if not results_file.is_file():
        raise RunDirectoryError(f"{results_file}: missing; the run evaluated nothing")
    records, measures = [], []
    seen: dict[tuple, int] = {}
    lines = results_file.read_text().splitlines()
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise RunDirectoryError(
                f"{results_file}: line {number} is truncated or not JSON: {line[:80]!r}"
            ) from None
        is_measure = isinstance(record, dict) and "measure" in record
        fields = MEASURE_FIELDS if is_measure else RECORD_FIELDS
        if not isinstance(record, dict) or set(fields) - record.keys():
            raise RunDirectoryError(f"{results_file}: line {number} lacks fields of {fields}")
        if is_measure:
            values = [record["value"]]
        else:
            values = [record["return"]]
            values += [] if record["success"] is None else [record["success"]]
        what = "value" if is_measure else "return or success"
        if not all(isinstance(value, int | float) and math.isfinite(value) for value in values):
            raise RunDirectoryError(
                f"{results_file}: line {number} has a non-finite {what}: {line[:80]}"
            )
        kind = "measure" if is_measure else "episode"  # with the round, task and seed
        key_fields = (kind, "eval_step", "evaluated_task", "seed")
        key = (is_measure, *(record[field] for field in key_fields))
        if key in seen:
            raise RunDirectoryError(
                f"{results_file}: line {number} repeats the {kind} of line {seen[key]}"
            )
        seen[key] = number
        (measures if is_measure else records).append(record)
    if not records:
        raise RunDirectoryError(f"{results_file}: empty; the run evaluated nothing")
    try:
        table = EvaluationTable.from_records(records, info.task_names)
    except ValueError as error:
        raise RunDirectoryError(f"{results_file}: {error}") from None
    _check_complete(table, info, results_file)
    return Run(run_dir, info, table, tuple(measures))


def _check_complete(table: EvaluationTable, info: RunInfo, results_file: Path) -> None:
    """A run evaluated up to its schedule's end, with every episode of every round."""
    total_steps = sum(steps for _, steps in info.blocks)
    last = int(table.eval_step.max())
    if last < total_steps:
        raise RunDirectoryError(
            f"{results_file}: incomplete run: its last evaluation is at step {last} of "
            f"{total_steps}; report a run once it has finished"
        )
    steps, counts = np.unique(
        np.stack([table.eval_step, table.evaluated_task]), axis=1, return_counts=True
    )
    short = counts != info.episodes
    if short.any():
        step, task = steps[:, np.argmax(short)]
        raise RunDirectoryError(
            f"{results_file}: the round at step {step} has {counts[np.argmax(short)]} episodes "
            f"of task {info.task_names[task]!r}, not {info.episodes}"
        )
