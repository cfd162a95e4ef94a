"""What one ``envsuite-train`` job does with its composed config: check it (and, to resume, the
run directory), train, report; a user's mistake is one clear line and exit status 2."""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import hydra
import torch
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from rich.console import Console

from agents.training.checkpoints import (
    CheckpointError,
    drop_checkpoints_after,
    latest_readable_checkpoint,
)
from agents.training.run_directory import (
    ResumeMismatchError,
    RunInUseError,
    check_fresh,
    clear_training_outputs,
    config_differences,
    read_run_files,
    remove_if_empty,
    run_directory_lock,
    write_run_files,
)
from agents.training.runs import REFERENCES_FILE, train
from agents.training.settings import TrainingConfigError, TrainSettings, read_settings
from envsuite.core.errors import SpecError
from envsuite.evaluation import RunDirectoryError

# What a resume may change: how the run shows and reports itself, and the device it trains on
# (a checkpoint loads on any device). The rest is the run's and must stay as it was.
RESUMABLE_KEYS = (
    "device",
    "threads",
    "logging.progress_bar",
    "report.enabled",
    "report.references",
)
# Errors and warnings: progress and results go to stdout, problems to stderr.
_STDERR = Console(stderr=True)
# A user's mistake: printed as one line naming the key, exit status 2, no traceback.
USER_ERRORS = (
    SpecError,
    TrainingConfigError,
    ResumeMismatchError,
    RunInUseError,
    RunDirectoryError,
    CheckpointError,
)


def run(
    config: DictConfig, output_dir: Path, overrides: list[str], cpus_per_job: int | None = None
) -> Path:
    """Train (or resume) as ``config`` says; returns the run directory.

    Args:
        config: the composed config (hydra's, or one from ``hydra.compose``).
        output_dir: the run directory of a new run (hydra's output directory).
        overrides: the command line's overrides, recorded with a new run and checked on resume.
        cpus_per_job: the cores this job may use (``threads=auto``); default: all of them.
    """
    resume = config.get("resume")
    run_dir = Path(resume) if resume else output_dir
    console = Console()
    try:
        with run_directory_lock(run_dir):
            settings = _check_and_train(console, config, run_dir, overrides, cpus_per_job)
            if settings.report:
                _report(console, settings, run_dir)
    except USER_ERRORS as error:
        _STDERR.print(f"[red]error:[/red] {error}", highlight=False, soft_wrap=True)
        raise SystemExit(2) from None
    finally:
        # Hydra made output_dir before the checks: a run that failed to start leaves nothing,
        # and neither does a resumed one, which writes into the directory it resumes.
        remove_if_empty(output_dir, Path.cwd())
    console.print(f"run directory: {run_dir}")
    if settings.tensorboard:
        console.print(f"tensorboard: tensorboard --logdir {run_dir}")
    return run_dir


def _check_and_train(
    console: Console,
    config: DictConfig,
    run_dir: Path,
    overrides: list[str],
    cpus_per_job: int | None,
) -> TrainSettings:
    """Check the config (and a resumed run's directory), then train into ``run_dir``."""
    resume = config.get("resume")
    if resume:
        plain, checkpoint = _resume_config(run_dir, overrides)
        settings = read_settings(plain, cpus_per_job)
        if checkpoint is None:
            console.print(f"{run_dir} holds no checkpoint yet: restarting it from step 0")
        else:
            console.print(f"resuming {run_dir} from global step {checkpoint['global_step']}")
    else:
        plain, checkpoint = _plain(config), None
        settings = read_settings(plain, cpus_per_job)
        check_fresh(run_dir)

    def record_config() -> None:
        if not resume:
            write_run_files(run_dir, plain, overrides)
        elif checkpoint is None:  # a restarted run keeps only the files it started with
            clear_training_outputs(run_dir)
        else:
            drop_checkpoints_after(run_dir, int(checkpoint["global_step"]))

    # Parallel jobs each using every core slow each other down many times over.
    torch.set_num_threads(settings.threads)
    _describe(console, settings, run_dir)
    started = time.perf_counter()
    train(settings, run_dir, checkpoint, before_writing=record_config)
    console.print(f"trained in {time.perf_counter() - started:.1f} s")
    return settings


def _resume_config(
    run_dir: Path, overrides: list[str]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The run's own config, after checking that this command line composes the same one, and
    its latest checkpoint (``None`` when it made none yet: it restarts from step 0)."""
    saved, saved_overrides = read_run_files(run_dir)
    # The run's own overrides given again (its command line repeated with resume=) are no
    # change, and hydra refuses a repeated `+key=...`.
    new_overrides = [
        override
        for override in overrides
        if _override_key(override) != "resume" and override not in saved_overrides
    ]
    try:
        recomposed = hydra.compose(config_name="config", overrides=saved_overrides + new_overrides)
    except HydraException as error:
        raise ResumeMismatchError(
            f"resume: {run_dir}: its overrides {saved_overrides} with {new_overrides} do not "
            f"compose a config ({error})"
        ) from None
    current = _plain(recomposed)
    resumed = _with_resumable_changes(saved, current)
    differences = config_differences(
        {key: value for key, value in resumed.items() if key != "resume"},
        {key: value for key, value in current.items() if key != "resume"},
    )
    if differences:
        raise ResumeMismatchError(
            f"resume: {run_dir} was made by another config; a resumed run keeps its config, "
            "so drop these overrides (or start a new run): " + "; ".join(differences)
        )
    checkpoint, unreadable = latest_readable_checkpoint(run_dir)
    for reason in unreadable:
        _STDERR.print(f"[yellow]skipped:[/yellow] {reason}", highlight=False, soft_wrap=True)
    return resumed, checkpoint


def _with_resumable_changes(saved: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """The run's config with the keys a resume may change (``RESUMABLE_KEYS``) as they are now."""
    resumed = copy.deepcopy(saved)
    for dotted in RESUMABLE_KEYS:
        *parents, key = dotted.split(".")
        source, target = current, resumed
        for parent in parents:
            source, target = source.get(parent, {}), target.setdefault(parent, {})
        if key in source:
            target[key] = source[key]
    return resumed


def _override_key(override: str) -> str:
    return override.lstrip("+~").split("=", 1)[0]


def _plain(config: DictConfig) -> dict[str, Any]:
    container = OmegaConf.to_container(config, resolve=True, enum_to_str=True)
    assert isinstance(container, dict)
    return {str(key): value for key, value in container.items()}


def _describe(console: Console, settings: TrainSettings, run_dir: Path) -> None:
    sequence = settings.training_sequence()
    console.print(
        f"[bold]{settings.agent.label()}[/bold] ({settings.mode}) on {sequence.spec.id}: "
        f"{sequence.num_tasks} tasks x {sequence.spec.steps_per_task} steps, seed {settings.seed}, "
        f"device {settings.device}, {settings.threads} CPU threads; run directory {run_dir}",
        highlight=False,
        soft_wrap=True,
    )


def _report(console: Console, settings: TrainSettings, run_dir: Path) -> None:
    from envsuite.cli import report

    references = settings.report_references
    if settings.mode == "single_task":
        console.print(f"single-task reference curves: {run_dir / REFERENCES_FILE}")
    try:
        report(console, [run_dir], None, "auto", None, Path(references) if references else None)
    except RunDirectoryError as error:
        _STDERR.print(f"[red]report failed:[/red] {error}", highlight=False, soft_wrap=True)
