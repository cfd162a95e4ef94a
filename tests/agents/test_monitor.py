"""TrainingMonitor without a terminal: plain progress lines at the start, every period, the end."""

from __future__ import annotations

from pathlib import Path

from agents.training.monitor import TrainingMonitor


def test_without_a_terminal_progress_comes_as_plain_lines(tmp_path: Path, capsys) -> None:
    # pytest captures stdout: no terminal, as in a pipe or a log file.
    monitor = TrainingMonitor(tmp_path, 300, 0, 1000, None, progress_bar=True, line_seconds=0.0)
    assert capsys.readouterr().out.startswith("step 0/300 (0%)")
    monitor.after_step(150, "cartpole", [], block_end=False)
    line = capsys.readouterr().out
    assert line.startswith("step 150/300 (50%) · cartpole · ")
    assert "steps/s · elapsed 0:00:0" in line
    assert "ETA" in line
    monitor.close()
    assert capsys.readouterr().out.startswith("step 150/300 (50%)")


def test_lines_wait_for_their_period_and_stay_off_without_progress(tmp_path: Path, capsys) -> None:
    monitor = TrainingMonitor(tmp_path, 300, 0, 1000, None, progress_bar=True, line_seconds=60)
    monitor.after_step(150, "cartpole", [], block_end=False)
    assert capsys.readouterr().out.count("step ") == 1  # the start's line only
    monitor.close()
    capsys.readouterr()
    quiet = TrainingMonitor(tmp_path, 300, 0, 1000, None, progress_bar=False, line_seconds=0.0)
    quiet.after_step(150, "cartpole", [], block_end=False)
    quiet.close()
    assert capsys.readouterr().out == ""
