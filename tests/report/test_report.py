"""envsuite report: from real run directories to metrics.json, figures and one HTML page."""

from __future__ import annotations

import base64
import json
import math
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from envsuite.cli import main
from envsuite.evaluation import load_run
from envsuite.metrics import DEFAULT_READINGS, Readings, Rounds
from envsuite.metrics.summary import METRICS, summarize


def random_run(run_dir: Path, seed: int, sequence: str = "ClassicCartPoleAcrobot") -> Path:
    """A real run directory: the evaluator following a random policy through a sequence."""
    arguments = ["rollout", sequence, "--steps-per-task", "200", "--seed", str(seed)]
    arguments += ["--run-dir", str(run_dir), "--eval-every", "100", "--eval-episodes", "2"]
    assert main(arguments) == 0
    return run_dir


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("runs")
    return [random_run(root / f"seed{seed}", seed) for seed in (0, 1)]


class PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.links: list[str] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        if tag == "img":
            self.images.append(attributes["src"])
        for name in ("href", "src"):
            if name in attributes and tag != "img":
                self.links.append(attributes[name])
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def test_report_of_one_run(two_runs, tmp_path, capsys) -> None:
    out = tmp_path / "report"
    assert main(["report", str(two_runs[0]), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "envsuite/ClassicCartPoleAcrobot-v0: 1 run(s), measure return" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    # The numbers are the metric functions' on the run's own table.
    run = load_run(two_runs[0])
    expected = summarize(run.table.rounds(run.table.measure_values("return")[1]))
    for name in METRICS:
        value = metrics["runs"][0]["metrics"][name]
        assert (value is None and math.isnan(expected[name])) or value == pytest.approx(
            expected[name]
        )
    assert metrics["measure"] == "return"
    assert metrics["readings"] == DEFAULT_READINGS.describe()
    assert len(metrics["runs"][0]["performance_matrix"]) == 4  # two cycles of two tasks
    # Continual World's forgetting, one per block: cartpole, acrobot, cartpole, acrobot.
    per_block = metrics["runs"][0]["per_block"]
    assert per_block["task"] == ["cartpole", "acrobot"] * 2
    assert np.mean(per_block["forgetting"]) == pytest.approx(expected["forgetting"])

    page = PageParser()
    page.feed((out / "report.html").read_text())
    assert page.title == "envsuite report: envsuite/ClassicCartPoleAcrobot-v0"
    # The page states the readings it used, each in words.
    text = (out / "report.html").read_text()
    assert "<h2>Readings</h2>" in text
    for source, reading in DEFAULT_READINGS.describe().items():
        assert f"<tr><td>{source}</td><td>{reading['reading']}</td>" in text
    assert "within 10 consecutive evaluations" in text
    assert "readings (docs/metrics.md): continual_world code, gem code" in printed
    assert len(page.images) == 3
    for source in page.images:
        assert source.startswith("data:image/png;base64,")
        assert base64.b64decode(source.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert page.links == []  # self-contained: nothing to fetch
    for name in ("curves.png", "matrix.png", "stability.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_the_page_opens_in_headless_chromium(two_runs, tmp_path) -> None:
    out = tmp_path / "report"
    assert main(["report", str(two_runs[0]), "--out", str(out)]) == 0
    screenshot = tmp_path / "page.png"
    result = subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--window-size=1200,2600",
            f"--screenshot={screenshot}",
            (out / "report.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert screenshot.read_bytes()[:4] == b"\x89PNG"
    # Page errors would be logged as console messages.
    assert "Uncaught" not in result.stderr
    assert "CONSOLE" not in result.stderr


def stability_gap_windowed_forgetting(rounds: Rounds, window: int = 10) -> float:
    """The stability-gap code's WF, written out: every trained task from its first training
    (the first also from the evaluation before any), the largest drop within ``window``
    consecutive evaluations, then the mean over all of them."""
    values = []
    for task in dict.fromkeys(int(task) for task in rounds.trained_task if task >= 0):
        start = int(np.flatnonzero(rounds.trained_task == task)[0])
        if start == 1 and rounds.trained_task[0] == -1:
            start = 0
        curve = rounds.performance[start:, task]
        drops = [
            curve[earlier] - curve[later]
            for later in range(len(curve))
            for earlier in range(max(0, later - window + 1), later)
        ]
        values.append(max([0.0, *drops]))
    return float(np.mean(values))


def test_report_gives_the_corrected_windowed_forgetting(two_runs, tmp_path) -> None:
    out = tmp_path / "report"
    assert main(["report", str(two_runs[0]), "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())["runs"][0]
    run = load_run(two_runs[0])
    rounds = run.table.rounds(run.table.measure_values("return")[1])
    assert metrics["metrics"]["windowed_forgetting"] == pytest.approx(
        stability_gap_windowed_forgetting(rounds)
    )
    # Every trained task has its value, and the run's WF is their mean.
    per_task = metrics["per_task"]["windowed_forgetting"]
    assert all(value is not None for value in per_task)
    assert metrics["metrics"]["windowed_forgetting"] == pytest.approx(np.mean(per_task))


def test_report_takes_the_papers_readings_and_another_window(two_runs, tmp_path) -> None:
    out = tmp_path / "report"
    options = ["--reading", "paper", "--window", "150", "--window-unit", "steps"]
    assert main(["report", str(two_runs[0]), "--out", str(out), *options]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    readings = Readings(continual_world="paper", gem="paper", window=150, window_unit="steps")
    assert metrics["readings"] == readings.describe()
    assert metrics["readings"]["gem"]["reading"] == "paper"
    run = load_run(two_runs[0])
    expected = summarize(run.table.rounds(run.table.measure_values("return")[1]), None, readings)
    for name in ("average_performance", "forgetting", "backward_transfer", "windowed_forgetting"):
        assert metrics["runs"][0]["metrics"][name] == pytest.approx(expected[name])
    assert "between evaluations at most 150 steps apart" in (out / "report.html").read_text()


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--reading", "papr"], "argument --reading: invalid choice: 'papr'"),
        (["--window", "0"], "argument --window: must be a positive integer, got 0"),
        (["--window", "2.5"], "argument --window: must be a positive integer, got 2.5"),
        (["--window-unit", "rounds"], "argument --window-unit: invalid choice: 'rounds'"),
    ],
)
def test_bad_readings_are_named(two_runs, capsys, option: list[str], message: str) -> None:
    with pytest.raises(SystemExit) as exit_status:
        main(["report", str(two_runs[0]), *option])
    assert exit_status.value.code == 2
    assert message in capsys.readouterr().err


def test_several_runs_aggregate_with_intervals(two_runs, tmp_path) -> None:
    out = tmp_path / "report"
    assert main(["report", *map(str, two_runs), "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert [run["seed"] for run in metrics["runs"]] == [0, 1]
    average = metrics["aggregate"]["average_performance"]
    values = [run["metrics"]["average_performance"] for run in metrics["runs"]]
    assert average["value"] == pytest.approx(sum(values) / 2)
    assert average["low"] <= average["value"] <= average["high"]


def test_scores_normalise_returns(two_runs, tmp_path) -> None:
    scores = tmp_path / "scores.json"
    scores.write_text(
        json.dumps(
            {
                "cartpole": {"random": 20.0, "reference": 500.0},
                "acrobot": {"random": -500.0, "reference": -100.0},
            }
        )
    )
    out = tmp_path / "report"
    assert main(["report", str(two_runs[0]), "--scores", str(scores), "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["measure"] == "normalized_return"
    run = load_run(two_runs[0])
    rounds = run.table.rounds(run.table.measure_values("return")[1])
    # The final performance is Continual World's: the mean over the last 5 rounds after training.
    final = rounds.performance[rounds.trained_task >= 0][-5:].mean(axis=0)
    expected = [(final[0] - 20) / 480, (final[1] + 500) / 400]
    assert metrics["runs"][0]["per_task"]["final_performance"] == pytest.approx(expected)
    iqm = metrics["final_performance"]["iqm"]
    assert iqm["low"] <= iqm["value"] <= iqm["high"]


def test_bad_scores_are_named(two_runs, tmp_path, capsys) -> None:
    scores = tmp_path / "scores.json"
    scores.write_text(json.dumps({"cartpole": {"random": 0, "reference": 1}}))
    assert main(["report", str(two_runs[0]), "--scores", str(scores)]) == 2
    assert "no scores for tasks ['acrobot']" in capsys.readouterr().out


def test_runs_of_another_sequence_are_refused(two_runs, tmp_path, capsys) -> None:
    other = random_run(tmp_path / "pendulum", 0, "ClassicPendulumGravity")
    assert main(["report", str(two_runs[0]), str(other)]) == 2
    assert "runs of different sequences" in capsys.readouterr().out


def test_runs_with_and_without_block_end_rounds_are_refused(two_runs, tmp_path, capsys) -> None:
    blockless = tmp_path / "blockless"
    shutil.copytree(two_runs[1], blockless)
    info = json.loads((blockless / "run.json").read_text())
    (blockless / "run.json").write_text(json.dumps({**info, "block_end_rounds": False}))
    assert main(["report", str(two_runs[0]), str(blockless)]) == 2
    assert "the other not; report them apart" in capsys.readouterr().out
    (blockless / "run.json").write_text(json.dumps({**info, "block_end_rounds": "no"}))
    assert main(["report", str(blockless)]) == 2
    assert "block_end_rounds must be true or false" in capsys.readouterr().out


def test_a_run_counts_once(two_runs, capsys) -> None:
    assert main(["report", str(two_runs[0]), str(two_runs[0])]) == 2
    assert "given twice" in capsys.readouterr().out


def test_references_enable_the_reference_metrics(two_runs, tmp_path) -> None:
    references = tmp_path / "references.json"
    curve = {"steps": [0, 100, 200], "performance": [10.0, 100.0, 200.0]}
    references.write_text(json.dumps({"cartpole": curve, "acrobot": curve}))
    out = tmp_path / "report"
    arguments = ["report", str(two_runs[0]), "--references", str(references), "--out", str(out)]
    assert main(arguments) == 0
    metrics = json.loads((out / "metrics.json").read_text())["runs"][0]["metrics"]
    assert metrics["relative_performance"] is not None
    assert metrics["sample_efficiency"] is not None


def rewrite(run: Path, change) -> None:
    lines = (run / "results.jsonl").read_text().splitlines()
    (run / "results.jsonl").write_text("\n".join(change(lines)) + "\n")


def set_first_return(lines: list[str], value: str) -> list[str]:
    record = json.loads(lines[0])
    return [json.dumps(record).replace(f'"return": {record["return"]}', f'"return": {value}')]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda run: rewrite(run, lambda lines: lines + lines[-1:]), "repeats the episode"),
        (
            lambda run: rewrite(run, lambda lines: set_first_return(lines, "NaN") + lines[1:]),
            "non-finite return",
        ),
        (
            # Stop the run after its first rounds: its last evaluation is short of the end.
            lambda run: rewrite(run, lambda lines: lines[:8]),
            "incomplete run: its last evaluation is at step",
        ),
        (lambda run: rewrite(run, lambda lines: lines[:-1]), "has 1 episodes of task 'acrobot'"),
        (lambda run: (run / "results.jsonl").write_text(""), "empty; the run evaluated nothing"),
        (
            lambda run: (run / "results.jsonl").write_text(
                (run / "results.jsonl").read_text()[:-40]
            ),
            "is truncated or not JSON",
        ),
        (lambda run: (run / "run.json").unlink(), "run.json: missing"),
        (lambda run: (run / "results.jsonl").unlink(), "results.jsonl: missing"),
        (
            # Lose the last round's acrobot episodes: the round is incomplete.
            lambda run: rewrite(run, lambda lines: lines[:-2]),
            "has no episode of task 'acrobot'",
        ),
    ],
)
def test_broken_run_directories_are_named(two_runs, tmp_path, capsys, damage, message) -> None:
    run = tmp_path / "run"
    run.mkdir()
    for name in ("run.json", "results.jsonl"):
        (run / name).write_bytes((two_runs[0] / name).read_bytes())
    damage(run)
    assert main(["report", str(run), "--out", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().out


def test_odd_task_names_render(tmp_path) -> None:
    from envsuite.metrics import Rounds
    from envsuite.report.plots import curves_figure, matrix_figure, stability_figure

    names = ("$x^$", "_hidden")
    rounds = Rounds(np.array([0, 10, 20]), np.array([-1, 0, 1]), np.ones((3, 2)), names)
    blocks = [(0, 10), (1, 10)]
    for figure in (
        curves_figure([rounds], blocks, "return"),
        matrix_figure(np.ones((2, 2)), names, "return", [0, 1]),
        stability_figure(rounds, blocks, "return"),
    ):
        figure.savefig(tmp_path / "figure.png")


def test_matrix_rows_name_the_task_trained_in_their_block(two_runs) -> None:
    from envsuite.metrics.matrix import performance_matrix
    from envsuite.report.plots import matrix_figure

    run = load_run(two_runs[0])
    rounds = run.table.rounds(run.table.measure_values("return")[1])
    figure = matrix_figure(
        performance_matrix(rounds),
        rounds.task_names,
        "return",
        [block.task for block in rounds.blocks()],
    )
    labels = [tick.get_text() for tick in figure.axes[0].get_yticklabels()]
    assert labels == [
        "after block 0 (cartpole)",
        "after block 1 (acrobot)",
        "after block 2 (cartpole)",
        "after block 3 (acrobot)",
    ]


def alternating_rounds(blocks: int) -> tuple[Rounds, list[tuple[int, int]]]:
    """Two tasks trained in turn, ``blocks`` blocks of 100 steps, evaluated every 50 steps;
    the returns grow by block so that each switch's close-up has its own range."""
    steps = np.arange(0, 100 * blocks + 1, 50)
    trained = np.array([-1] + [(step - 1) // 100 % 2 for step in steps[1:]])
    performance = np.stack([steps * 1.0, -steps * 2.0], axis=1)
    rounds = Rounds(steps, trained, performance, ("cartpole", "acrobot"))
    return rounds, [(block % 2, 100) for block in range(blocks)]


def test_stability_figure_shows_every_switch_on_one_y_scale() -> None:
    from envsuite.report.plots import stability_figure

    rounds, blocks = alternating_rounds(6)
    figure = stability_figure(rounds, blocks, "return")
    panels = [axes for axes in figure.axes if axes.get_visible()]
    assert len(panels) == 5  # every switch of six blocks, not the first four
    assert len({axes.get_ylim() for axes in panels}) == 1
    assert "all 5 task switches" in figure.get_suptitle()
    assert panels[4].get_title() == "switch 5: cartpole \u2192 acrobot\nat step 500"
    # The first switch draws its one earlier task and the task starting there, marked so.
    labels = [line.get_label() for line in panels[0].get_lines() if line.get_marker() == "."]
    assert labels == ["cartpole", "acrobot (starts)"]


def test_stability_figure_says_when_it_shows_only_the_first_switches() -> None:
    from envsuite.report.plots import stability_figure

    rounds, blocks = alternating_rounds(8)
    figure = stability_figure(rounds, blocks, "return", max_switches=4)
    assert len([axes for axes in figure.axes if axes.get_visible()]) == 4
    assert "the first 4 of 7 task switches" in figure.get_suptitle()


def table_row(printed: str, name: str) -> list[str]:
    """The cells of the printed table's row that starts with ``name``."""
    for line in printed.splitlines():
        cells = [cell.strip() for cell in line.strip("│ ").split("│")]
        if cells[0] == name:
            return cells
    raise AssertionError(f"no row {name!r} in:\n{printed}")


def test_printed_table_says_why_a_metric_is_missing(two_runs, tmp_path, capsys) -> None:
    assert main(["report", str(two_runs[0]), "--out", str(tmp_path / "report")]) == 0
    printed = capsys.readouterr().out
    for name in ("forward_transfer", "relative_performance", "sample_efficiency"):
        assert table_row(printed, name)[1:3] == ["-", "needs --references"]
    assert "needs --references" in (tmp_path / "report" / "report.html").read_text()
    references = tmp_path / "references.json"
    curve = {"steps": [0, 100, 200], "performance": [10.0, 100.0, 200.0]}
    references.write_text(json.dumps({"cartpole": curve, "acrobot": curve}))
    arguments = ["report", str(two_runs[0]), "--references", str(references)]
    assert main([*arguments, "--out", str(tmp_path / "with")]) == 0
    assert "needs --references" not in capsys.readouterr().out


def test_printed_report_gives_each_tasks_final_performance(two_runs, tmp_path, capsys) -> None:
    out = tmp_path / "report"
    assert main(["report", *map(str, two_runs), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    runs = json.loads((out / "metrics.json").read_text())["runs"]
    for task, name in enumerate(("cartpole", "acrobot")):
        finals = [run["per_task"]["final_performance"][task] for run in runs]
        lowest = [run["per_task"]["min_accuracy"][task] for run in runs]
        cells = table_row(printed, name)
        assert cells[1] == f"{np.mean(finals):.3f}"
        # acrobot, the last block's task, is left out of the aggregate min-ACC.
        assert cells[3] == f"{np.mean(lowest):.3f}" + (" (left out)" if task == 1 else "")


def test_min_accuracy_says_it_leaves_out_the_last_task(two_runs, tmp_path, capsys) -> None:
    out = tmp_path / "report"
    assert main(["report", str(two_runs[0]), "--out", str(out)]) == 0
    note = "min_accuracy leaves out acrobot, the task of the last block"
    assert note in " ".join(capsys.readouterr().out.split())
    assert note in (out / "report.html").read_text()


def test_blockless_runs_say_why_block_metrics_are_missing(two_runs, tmp_path, capsys) -> None:
    blockless = tmp_path / "blockless"
    shutil.copytree(two_runs[0], blockless)
    info = json.loads((blockless / "run.json").read_text())
    (blockless / "run.json").write_text(json.dumps({**info, "block_end_rounds": False}))
    assert main(["report", str(blockless), "--out", str(tmp_path / "report")]) == 0
    printed = capsys.readouterr().out
    assert table_row(printed, "min_accuracy")[1:3] == ["-", "needs block-end rounds"]
    assert "leaves out" not in printed
    assert table_row(printed, "cartpole")[1] != "-"
