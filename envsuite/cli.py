"""The envsuite command: list the registered ids, show a sequence, roll a random policy through
one, save a frame of any id, and report the metrics of training runs.

Run `envsuite COMMAND --help` for a command's arguments and examples; training is
`envsuite-train` (what `make demo` runs).
"""

from __future__ import annotations

import argparse
import sys
from argparse import ArgumentParser
from collections import defaultdict
from collections.abc import Sequence as Sequence_
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np
import yaml
from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

import envsuite
from envsuite.core.errors import SpecError
from envsuite.core.registry import (
    describe,
    family_of,
    find_sequence_spec,
    registered_ids,
    sequence_ids,
)
from envsuite.core.schedule import build_schedule
from envsuite.core.spec import SequenceSpec
from envsuite.evaluation import ContinualEvaluator, RandomPolicy, RunDirectoryError
from envsuite.metrics.readings import (
    DEFAULT_READINGS,
    DEFAULT_WINDOW,
    READINGS,
    WINDOW_UNITS,
    Readings,
)


def _command(commands: Any, name: str, purpose: str, examples: list[str]) -> ArgumentParser:
    """A subcommand with its purpose line and examples (shown by ``envsuite NAME --help``)."""
    return commands.add_parser(
        name,
        help=purpose,
        description=purpose,
        epilog="Examples:\n" + "\n".join(f"  {example}" for example in examples),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def build_parser() -> ArgumentParser:
    """The ``envsuite`` command line: every command, argument and example."""
    parser = ArgumentParser(
        prog="envsuite",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    list_parser = _command(
        commands,
        "list",
        "print every registered envsuite id (tasks and sequences) with a one-line description",
        ["envsuite list", "envsuite list --family minigames"],
    )
    list_parser.add_argument(
        "--family", help="only ids of this family (classic, cw, manipulation, minigames, ...)"
    )

    show_parser = _command(
        commands,
        "show",
        "print a sequence's spec, unified spaces and schedule",
        ["envsuite show ClassicCartPoleAcrobot", "envsuite show my_sequence.yaml --blocks 30"],
    )
    show_parser.add_argument("id", help="a sequence id, name or YAML path")
    show_parser.add_argument(
        "--blocks", type=int, default=12, help="how many blocks of the schedule to list"
    )

    rollout_parser = _command(
        commands,
        "rollout",
        "play a uniformly random policy through a sequence and print a per-task table "
        "(the random-policy baseline)",
        [
            "envsuite rollout ClassicCartPoleAcrobot --steps-per-task 2000",
            "envsuite rollout MinigamesCross --steps-per-task 5000 --run-dir runs/random",
        ],
    )
    rollout_parser.add_argument("id", help="a sequence id, name or YAML path")
    rollout_parser.add_argument(
        "--steps-per-task", type=int, help="override the spec's steps_per_task (a shorter run)"
    )
    rollout_parser.add_argument(
        "--seed", type=_non_negative, default=0, help="seeds the env and the random actions"
    )
    rollout_parser.add_argument(
        "--run-dir",
        type=Path,
        help="evaluate every task during the rollout into this new run directory "
        "(what `envsuite report` reads)",
    )
    rollout_parser.add_argument(
        "--eval-every",
        type=_positive,
        default=1000,
        help="with --run-dir: evaluate every this many steps (and at block ends)",
    )
    rollout_parser.add_argument(
        "--eval-episodes",
        type=_positive,
        default=5,
        help="with --run-dir: evaluation episodes per task and round",
    )

    frame_parser = _command(
        commands,
        "frame",
        "save a PNG of any id's rgb_array render after some random steps",
        [
            "envsuite frame envsuite/Breakout-v0 --out breakout.png",
            "envsuite frame envsuite/Runner-v0 --out runner.png --kwarg theme=neon --steps 50",
        ],
    )
    frame_parser.add_argument("id", help="a task or sequence id")
    frame_parser.add_argument(
        "--out", type=Path, required=True, help="the PNG file to write (missing folders are made)"
    )
    frame_parser.add_argument(
        "--steps", type=_non_negative, default=20, help="random steps before the frame"
    )
    frame_parser.add_argument(
        "--seed", type=_non_negative, default=0, help="seeds the env and the random actions"
    )
    frame_parser.add_argument(
        "--kwarg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a keyword argument for gym.make (YAML value), e.g. --kwarg theme=neon",
    )

    report_parser = _command(
        commands,
        "report",
        "metrics, figures and an HTML page from finished run directories of one sequence",
        [
            "envsuite report outputs/2026-01-01/12-00-00",
            "envsuite report multirun/2026-01-01/12-00-00/sac_ewc/* --references refs.json",
        ],
    )
    report_parser.add_argument(
        "run_dirs",
        nargs="+",
        type=Path,
        metavar="RUN_DIR",
        help="run directories (results.jsonl and run.json) of one sequence, e.g. several seeds",
    )
    report_parser.add_argument(
        "--out",
        type=Path,
        help="output folder (default: RUN_DIR/report for one run, else ./report)",
    )
    report_parser.add_argument(
        "--measure",
        choices=("auto", "success", "return", "normalized_return"),
        default="auto",
        help="what the metrics measure; auto: success where every task reports it, else "
        "normalised return with --scores, else return",
    )
    report_parser.add_argument(
        "--scores",
        type=Path,
        help='JSON {task: {"random": r, "reference": s}} to normalise returns per task',
    )
    report_parser.add_argument(
        "--references",
        type=Path,
        help='JSON {task: {"steps": [...], "performance": [...]}}: single-task curves',
    )
    report_parser.add_argument(
        "--reading",
        choices=READINGS,
        default="code",
        help="code: each source's released code, which made its published tables (default); "
        "paper: the papers' formulas where they differ (Continual World, GEM)",
    )
    report_parser.add_argument(
        "--window",
        type=_positive,
        default=DEFAULT_WINDOW,
        help=f"windowed forgetting's window, in --window-unit (default {DEFAULT_WINDOW})",
    )
    report_parser.add_argument(
        "--window-unit",
        choices=WINDOW_UNITS,
        default="evaluations",
        help="evaluations (the stability-gap code, default) or steps",
    )

    return parser


def main(argv: Sequence_[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    console = Console()
    try:
        if arguments.command == "list":
            return list_ids(console, arguments.family)
        if arguments.command == "show":
            return show(console, arguments.id, arguments.blocks)
        if arguments.command == "frame":
            return save_frame(
                console,
                arguments.id,
                arguments.out,
                arguments.steps,
                arguments.seed,
                arguments.kwarg,
            )
        if arguments.command == "report":
            return report(
                console,
                arguments.run_dirs,
                arguments.out,
                arguments.measure,
                arguments.scores,
                arguments.references,
                Readings(
                    continual_world=arguments.reading,
                    gem=arguments.reading,
                    window=arguments.window,
                    window_unit=arguments.window_unit,
                ),
            )
        evaluation = (
            None
            if arguments.run_dir is None
            else (arguments.run_dir, arguments.eval_every, arguments.eval_episodes)
        )
        return rollout(console, arguments.id, arguments.steps_per_task, arguments.seed, evaluation)
    except (SpecError, RunDirectoryError) as error:
        console.print(f"[red]error:[/red] {error}", highlight=False, soft_wrap=True)
        return 2


def _integer_at_least(text: str, minimum: int, kind: str) -> int:
    # argparse words a ValueError from a type function as "invalid _positive value": name the
    # allowed values instead.
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be a {kind} integer, got {text}")
    return value


def _non_negative(text: str) -> int:
    return _integer_at_least(text, 0, "non-negative")


def _positive(text: str) -> int:
    return _integer_at_least(text, 1, "positive")


# Below this many columns for descriptions, `envsuite list` puts each under its id instead.
MIN_DESCRIPTION_WIDTH = 40


def list_ids(console: Console, family: str | None) -> int:
    ids = registered_ids(family)
    if not ids:
        families = sorted({family_of(env_id) for env_id in registered_ids()})
        console.print(f"no ids in family {family!r}; families: {families}", soft_wrap=True)
        return 1
    sequences = set(sequence_ids())
    rows = [
        (env_id, "sequence" if env_id in sequences else "task", family_of(env_id), describe(env_id))
        for env_id in ids
    ]
    title = f"envsuite ids ({len(ids)})"
    id_width = max(len(env_id) for env_id in ids)
    family_width = max(len(row[2]) for row in rows)
    # The table's borders and padding: one rule and two spaces a column, one rule at the end.
    fixed = id_width + len("sequence") + family_width + 4 * 3 + 1
    if console.width - fixed < MIN_DESCRIPTION_WIDTH:
        # A description column squeezed beside the ids would wrap a few characters a line:
        # each description goes under its id, across the terminal's width, wrapped by words.
        console.print(f"[italic]{title}[/italic]")
        for env_id, kind, env_family, description in rows:
            console.print(f"[bold]{env_id}[/bold]  {kind}  {env_family}", highlight=False)
            if description:
                console.print(Padding(Text(description), (0, 0, 0, 4), expand=False))
        return 0
    table = Table(title=title)
    # Ids are copied from here into code: never shorten them to fit a narrow terminal.
    table.add_column("id", no_wrap=True, min_width=id_width)
    table.add_column("kind", no_wrap=True)
    table.add_column("family", no_wrap=True)
    table.add_column("description", ratio=1, overflow="fold")
    for row in rows:
        # Text, not markup: a description's "[metaworld]" is no style tag.
        table.add_row(*(Text(cell) for cell in row))
    console.print(table)
    return 0


def show(console: Console, name_or_id: str, preview_blocks: int) -> int:
    spec = find_sequence_spec(name_or_id)
    sequence = envsuite.Sequence(spec)
    console.print(f"[bold]{spec.id}[/bold]  ({spec.source})")
    console.print(f"  {spec.description}")
    # A YAML file elsewhere has no family; its parent folder's name would be a made-up one.
    family = spec.family or "none (a file outside tasks/<family>/)"
    console.print(
        f"  family={family}  steps_per_task={spec.steps_per_task}  "
        f"schedule={_describe_schedule(spec)}  task_id_mode={spec.task_id_mode}  seed={spec.seed}"
    )
    console.print(f"  observation space: {sequence.unified_spaces.observation_space}")
    console.print(f"  action space: {sequence.unified_spaces.action_space}")

    tasks = Table(title="tasks")
    for column in ("index", "name", "id", "kwargs"):
        tasks.add_column(column)
    for index, task in enumerate(spec.tasks):
        tasks.add_row(str(index), task.name, task.id, str(dict(task.kwargs)))
    console.print(tasks)

    blocks = build_schedule(spec)
    schedule = Table(title=f"schedule: {len(blocks)} blocks, {spec.total_steps} steps")
    for column in ("block", "task", "start step", "steps"):
        schedule.add_column(column)
    start = 0
    for index, block in enumerate(blocks):
        if index < preview_blocks:
            schedule.add_row(
                str(index), spec.tasks[block.task_index].name, str(start), str(block.steps)
            )
        start += block.steps
    if len(blocks) > preview_blocks:
        schedule.add_row("...", f"{len(blocks) - preview_blocks} more", "", "")
    console.print(schedule)
    return 0


def rollout(
    console: Console,
    name_or_id: str,
    steps_per_task: int | None,
    seed: int,
    evaluation: tuple[Path, int, int] | None = None,
) -> int:
    """Play a uniformly random policy through the whole schedule: the random-policy baseline.

    Episodes cut short by a block end are left out of the returns (they would drag the mean
    toward partial returns) and counted apart. With ``evaluation = (run_dir, every, episodes)``
    a :class:`ContinualEvaluator` evaluates the random policy on every task as it goes.
    """
    spec = find_sequence_spec(name_or_id)
    if steps_per_task is not None:
        spec = spec.with_overrides(source="--steps-per-task", steps_per_task=steps_per_task)
    sequence = envsuite.Sequence(spec)
    env = sequence.make_env()
    env.action_space.seed(seed)
    evaluator, policy = None, None
    if evaluation is not None:
        run_dir, every, episodes = evaluation
        # The evaluator writes tensorboard events through torch, which only the training extra
        # installs; results.jsonl, all that `envsuite report` reads, is written either way.
        tensorboard = find_spec("torch") is not None and find_spec("tensorboard") is not None
        if not tensorboard:
            console.print(
                'no tensorboard events without the training extra: pip install "envsuite[train]"',
                markup=False,
                highlight=False,
            )
        evaluator = ContinualEvaluator(
            sequence, run_dir, every, episodes, seed=seed, tensorboard=tensorboard
        )
        policy = RandomPolicy(env.action_space, episodes, seed)
        evaluator.before_training(policy)
    returns: dict[str, list[float]] = defaultdict(list)
    steps: dict[str, int] = defaultdict(int)
    cut: dict[str, int] = defaultdict(int)
    _, info = env.reset(seed=seed)
    episode_return = 0.0
    for _ in range(spec.total_steps):
        _, reward, terminated, truncated, info = env.step(env.action_space.sample())
        episode_return += float(reward)
        steps[info["task_name"]] += 1
        if evaluator is not None:
            evaluator.after_step(policy, info)
        if terminated or truncated:
            if info["task_switched"] and not terminated:
                cut[info["task_name"]] += 1
            else:
                returns[info["task_name"]].append(episode_return)
            episode_return = 0.0
            env.reset()
    env.close()
    _print_rollout(console, spec, returns, steps, cut)
    if evaluator is not None:
        evaluator.close()
        console.print(f"evaluations written to {evaluator.store.run_dir}")
    return 0


def save_frame(
    console: Console, env_id: str, out: Path, steps: int, seed: int, kwarg_texts: list[str]
) -> int:
    kwargs = {}
    for text in kwarg_texts:
        key, separator, value = text.partition("=")
        if not separator or not key:
            console.print(f"[red]error:[/red] --kwarg: expected KEY=VALUE, got {text!r}")
            return 2
        kwargs[key] = yaml.safe_load(value)
    try:
        env = gym.make(env_id, render_mode="rgb_array", **kwargs)
    except (gym.error.Error, TypeError, ValueError) as error:
        console.print(f"[red]error:[/red] {env_id}: {error}", highlight=False, soft_wrap=True)
        return 2
    env.action_space.seed(seed)
    try:
        env.reset(seed=seed)
        for _ in range(steps):
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                env.reset()
        frame = env.render()
    except gym.error.DependencyNotInstalled as error:
        # Classic control renders with pygame, which the environments alone do not install.
        message = (
            f"rendering {env_id} needs a package that is not installed ({error}); "
            'pip install "gymnasium[classic-control]" (the train extra has it)'
        )
        # escape: the extra's brackets are not rich markup.
        console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
        return 2
    finally:
        env.close()
    # Creating the folder saves a retry, but silently it would hide a mistyped path.
    if not out.parent.exists():
        out.parent.mkdir(parents=True)
        console.print(f"created folder {out.parent}", highlight=False, soft_wrap=True)
    plt.imsave(out, frame)
    # soft_wrap: a path is copied from here, so it is never broken across lines.
    console.print(
        f"wrote {out} ({frame.shape[1]}x{frame.shape[0]})", highlight=False, soft_wrap=True
    )
    return 0


def report(
    console: Console,
    run_dirs: list[Path],
    out: Path | None,
    measure: str,
    scores: Path | None,
    references: Path | None = None,
    readings: Readings = DEFAULT_READINGS,
) -> int:
    """Print the metrics of runs of one sequence and write metrics.json, figures and HTML."""
    from envsuite.report import collect, print_report, write_report

    collected = collect(run_dirs, measure, scores, references, readings)
    print_report(collected, console)
    if out is None:
        out = run_dirs[0] / "report" if len(run_dirs) == 1 else Path("report")
    paths = write_report(collected, out)
    console.print(f"wrote {', '.join(str(path) for path in paths.values())}")
    return 0


def _print_rollout(
    console: Console,
    spec: SequenceSpec,
    returns: dict[str, list[float]],
    steps: dict[str, int],
    cut: dict[str, int],
) -> None:
    table = Table(title=f"random policy on {spec.id} ({spec.total_steps} steps)")
    for column in ("task", "steps", "episodes", "mean return", "std return", "cut by switch"):
        table.add_column(column, justify="right" if column != "task" else "left")
    for task in spec.tasks:
        episode_returns = np.asarray(returns[task.name])
        mean, std = (
            (f"{episode_returns.mean():.2f}", f"{episode_returns.std():.2f}")
            if episode_returns.size
            else ("-", "-")
        )
        table.add_row(
            task.name,
            str(steps[task.name]),
            str(episode_returns.size),
            mean,
            std,
            str(cut[task.name]),
        )
    console.print(table)


def _describe_schedule(spec: SequenceSpec) -> str:
    schedule = spec.schedule
    if schedule.type == "cycles":
        return f"cycles(cycles={schedule.cycles})"
    if schedule.type == "powerlaw":
        return f"powerlaw(alpha={schedule.alpha}, blocks_per_task={schedule.blocks_per_task})"
    if schedule.type == "random":
        return f"random(blocks_per_task={schedule.blocks_per_task})"
    if schedule.type == "explicit":
        return "explicit(" + ", ".join(spec.tasks[index].name for index in schedule.order) + ")"
    return schedule.type


if __name__ == "__main__":
    sys.exit(main())
