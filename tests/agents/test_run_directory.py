"""The run directory's lock: one process trains in a directory at a time; a refused start
deletes nothing; the lock dies with its process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agents.training.run_directory import LOCK_FILE, RunInUseError, run_directory_lock

HOLD_LOCK = """
import fcntl, os, sys, time
descriptor = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(descriptor, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(60)
"""


def test_a_held_lock_refuses_another_start_and_dies_with_its_process(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(tmp_path / LOCK_FILE)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        refused = pytest.raises(RunInUseError, match=f"process {holder.pid} is training into it")
        with refused, run_directory_lock(tmp_path):
            pytest.fail("entered a directory another process holds")
        # The refused start left the holder's lock file in place.
        assert (tmp_path / LOCK_FILE).is_file()
    finally:
        holder.kill()
        holder.wait()
    with run_directory_lock(tmp_path):
        (tmp_path / "config.yaml").write_text("a run\n")
    assert sorted(path.name for path in tmp_path.iterdir()) == [LOCK_FILE, "config.yaml"]


def test_a_start_that_fails_leaves_no_lock_file_it_made(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="bad config"), run_directory_lock(tmp_path):
        raise ValueError("bad config")
    assert list(tmp_path.iterdir()) == []
    with run_directory_lock(tmp_path / "missing"):  # nothing to lock: the checks will say
        pass
    assert not (tmp_path / "missing").exists()
