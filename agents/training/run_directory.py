"""The run directory of ``envsuite-train``: its resolved config and overrides, written before
anything else, the checks that a resume continues the very run it names, and the lock that keeps
one process per run directory."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

CONFIG_FILE = "config.yaml"
# Held (flock) by the process training into the directory; the OS drops the lock with the
# process, so a killed run leaves nothing stale.
LOCK_FILE = ".lock"
OVERRIDES_FILE = "overrides.yaml"
# What a training run writes; a directory holding any of these is a run, not a fresh directory.
RUN_MARKERS = (CONFIG_FILE, "checkpoints", "results.jsonl", "metrics.jsonl")
# The folders of hydra's default run and sweep directories (configs/config.yaml), under the
# launch directory.
HYDRA_OUTPUT_TREES = ("outputs", "multirun")
# What training writes besides the run's config: a restart from step 0 begins without them.
TRAINING_OUTPUTS = (
    "checkpoints",
    "results.jsonl",
    "run.json",
    "metrics.jsonl",
    "references.json",
    "report",
    "tensorboard",
    "videos",
    "events.out.tfevents.*",
)


class ResumeMismatchError(ValueError):
    """A run directory cannot serve this run: another run's, or not a run at all."""


class RunInUseError(ValueError):
    """Another live process trains into the run directory."""


@contextmanager
def run_directory_lock(run_dir: Path) -> Iterator[None]:
    """Hold ``run_dir``'s lock while the block runs; :class:`RunInUseError`, naming the holder,
    if another process holds it. A directory that does not exist is not locked (the checks
    that follow say what is wrong with it).

    A lock file this call made goes again if the block fails (deleted while held), so that a
    start or resume refused by its checks leaves the directory as it found it; a refused call
    deletes nothing.
    """
    if not run_dir.is_dir():
        yield
        return
    path = run_dir / LOCK_FILE
    descriptor, made = _locked_descriptor(path, run_dir)
    try:
        failed = True
        try:
            yield
            failed = False
        finally:
            if made and failed:
                path.unlink(missing_ok=True)
    finally:
        os.close(descriptor)


def _locked_descriptor(path: Path, run_dir: Path) -> tuple[int, bool]:
    """An open descriptor of ``path`` holding its lock, and whether this call created the file.

    The file locked must still be the one at ``path``: a lock file deleted by a start that
    failed, after this call opened it, is an orphan, and locking it would exclude nobody.
    """
    while True:
        try:
            descriptor, made = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644), True
        except FileExistsError:
            try:
                descriptor, made = os.open(path, os.O_RDWR), False
            except FileNotFoundError:  # deleted in between: create it again
                continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise RunInUseError(
                f"{run_dir}: {lock_holder(path)} is training into it; one process at a time "
                "trains in a run directory (wait for it to end, or stop it, to resume it)"
            ) from None
        try:
            if os.stat(path).st_ino == os.fstat(descriptor).st_ino:
                return descriptor, made
        except FileNotFoundError:
            pass
        os.close(descriptor)  # an orphan: lock the file now at path instead


def lock_holder(path: Path) -> str:
    """Who holds the lock on ``path``: "process PID" from Linux's ``/proc/locks``, else
    "another process"."""
    try:
        inode = f":{path.stat().st_ino}"
        for line in Path("/proc/locks").read_text().splitlines():
            fields = line.split()
            # "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF"
            if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5].endswith(inode):
                return f"process {fields[4]}"
    except OSError:
        pass
    return "another process"


def check_fresh(run_dir: Path) -> None:
    """A new run must not write into a directory that holds another run."""
    found = [name for name in RUN_MARKERS if (run_dir / name).exists()]
    if found:
        raise ResumeMismatchError(
            f"{run_dir}: already holds a training run ({', '.join(found)}); continue it with "
            f"resume={run_dir}, or choose another hydra.run.dir"
        )


def write_run_files(run_dir: Path, config: Mapping[str, Any], overrides: list[str]) -> None:
    """Write the resolved config and the command-line overrides that composed it."""
    run_dir.mkdir(parents=True, exist_ok=True)
    _write_atomically(run_dir / CONFIG_FILE, yaml.safe_dump(dict(config), sort_keys=False))
    _write_atomically(run_dir / OVERRIDES_FILE, yaml.safe_dump(list(overrides)))


def read_run_files(run_dir: Path) -> tuple[dict[str, Any], list[str]]:
    """The resolved config and overrides of the run in ``run_dir``."""
    if not run_dir.is_dir():
        raise ResumeMismatchError(
            f"resume: {run_dir} is not an envsuite-train run directory (no such directory)"
        )
    files = [run_dir / CONFIG_FILE, run_dir / OVERRIDES_FILE]
    missing = [str(path) for path in files if not path.is_file()]
    if missing:
        raise ResumeMismatchError(
            f"resume: {run_dir} is not an envsuite-train run directory ({', '.join(missing)} "
            "missing)"
        )
    try:
        config = yaml.safe_load(files[0].read_text())
        overrides = yaml.safe_load(files[1].read_text())
    except yaml.YAMLError as error:
        raise ResumeMismatchError(f"resume: {run_dir}: unreadable run files ({error})") from None
    if not isinstance(config, dict) or not isinstance(overrides, list):
        raise ResumeMismatchError(f"resume: {run_dir}: {CONFIG_FILE} or {OVERRIDES_FILE} damaged")
    return config, [str(override) for override in overrides]


def config_differences(saved: Any, current: Any, prefix: str = "") -> list[str]:
    """The dotted keys whose values differ between two plain configs, with both values."""
    if isinstance(saved, Mapping) and isinstance(current, Mapping):
        differences = []
        for key in sorted(set(saved) | set(current), key=str):
            name = f"{prefix}.{key}" if prefix else str(key)
            if key not in saved:
                differences.append(f"{name}: not in the run's config, now {current[key]!r}")
            elif key not in current:
                differences.append(f"{name}: {saved[key]!r} in the run's config, now absent")
            else:
                differences += config_differences(saved[key], current[key], name)
        return differences
    if saved != current:
        return [f"{prefix}: {saved!r} in the run's config, now {current!r}"]
    return []


def clear_training_outputs(run_dir: Path) -> None:
    """Remove what training wrote to ``run_dir``, keeping its config and overrides: a run
    interrupted before its first checkpoint restarts from step 0."""
    for pattern in TRAINING_OUTPUTS:
        for path in run_dir.glob(pattern):
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()


def remove_if_empty(directory: Path, launch_dir: Path) -> None:
    """Remove ``directory`` if nothing was written to it, and the empty date folders above it
    that hydra's default run and sweep directories add (``outputs/DATE/``, ``multirun/...``)."""
    directory, launch_dir = directory.absolute(), launch_dir.absolute()
    hydra_trees = [launch_dir / name for name in HYDRA_OUTPUT_TREES]
    while directory != launch_dir:
        try:
            directory.rmdir()
        except OSError:  # not empty, or gone
            return
        directory = directory.parent
        if not any(tree == directory or tree in directory.parents for tree in hydra_trees):
            return


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(text)
    partial.replace(path)
