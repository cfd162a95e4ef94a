"""docs/metrics.md's worked example: every number it states is what ``summarize`` computes.

The test reads the example's rounds and its table of values from the page itself, so the page
and the code cannot drift apart.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from envsuite.metrics import Readings, Rounds, performance_matrix, summarize
from envsuite.metrics.summary import METRICS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
# Both tasks' single-task reference, as the page states it: 0.2 at steps 10, 20, ..., 50.
REFERENCE = (np.arange(10, 60, 10), np.full(5, 0.2))


def _section(text: str, marker: str) -> list[str]:
    """The lines of the code block or table after ``<!-- worked-example: marker -->``."""
    after = text.split(f"<!-- worked-example: {marker} -->", 1)[1].lstrip("\n").splitlines()
    if after[0].startswith("```"):
        return after[1 : after.index("```", 1)]
    return after[: after.index("")]


def example_rounds() -> Rounds:
    rows = {line.split()[0]: line.split()[1:] for line in _section(DOCS.read_text(), "rounds")}
    names = tuple(name for name in rows if name not in ("step", "trained"))
    trained = [-1 if task == "-" else names.index(task) for task in rows["trained"]]
    performance = np.array([[float(value) for value in rows[name]] for name in names]).T
    return Rounds(np.array(rows["step"], dtype=int), np.array(trained), performance, names)


def example_values() -> list[tuple[str, dict[str, object], Fraction]]:
    """(metric, readings, value) per row of the page's table."""
    rows = []
    for line in _section(DOCS.read_text(), "values")[2:]:
        metric, readings, value = (cell.strip().strip("`") for cell in line.split("|")[1:4])
        options: dict[str, object] = {}
        if readings != "default":
            for option in readings.split(", "):
                key, text = option.split("=")
                options[key] = int(text) if text.isdigit() else text
        rows.append((metric, options, Fraction(value)))
    return rows


ROWS = example_values()


@pytest.mark.parametrize(
    ("metric", "options", "value"),
    ROWS,
    ids=[f"{metric}-{options or 'default'}" for metric, options, _ in ROWS],
)
def test_the_page_states_what_summarize_computes(
    metric: str, options: dict[str, object], value: Fraction
) -> None:
    rounds = example_rounds()
    references = {0: REFERENCE, 1: REFERENCE}
    summary = summarize(rounds, references, Readings(**options))
    assert summary[metric] == pytest.approx(float(value), abs=1e-12)


def test_the_page_covers_every_metric_and_every_reading() -> None:
    assert {metric for metric, _, _ in ROWS} == set(METRICS)
    changed = {key for _, options, _ in ROWS for key in options}
    assert changed == {"continual_world", "gem", "window", "window_unit"}


def test_the_page_states_the_matrix() -> None:
    text = DOCS.read_text()
    stated = re.search(r"`R = (\[\[.*?\]\])`", text)
    assert stated is not None
    matrix = [
        [float(value) for value in re.findall(r"[\d.]+", row)] for row in stated[1].split("], [")
    ]
    np.testing.assert_allclose(performance_matrix(example_rounds()), matrix)
