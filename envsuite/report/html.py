"""One self-contained HTML page: the metric tables and the figures inlined as base64 PNG."""

from __future__ import annotations

import base64
import html
import math

from envsuite.metrics.summary import METRICS
from envsuite.report.collect import BLOCKLESS_NOTE, Report

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.8em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
td.note { color: #666; text-align: left; font-size: 0.9em; }
img { max-width: 100%; display: block; margin: 1em 0; }
code { background: #f4f4f4; padding: 0 0.2em; }
"""


def _number(value: float) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.3f}"


def render_html(report: Report, figures: dict[str, bytes]) -> str:
    """The page for ``report``; ``figures`` maps a caption to PNG bytes."""
    escape = html.escape
    lines = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>envsuite report: {escape(report.sequence_id)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{escape(report.sequence_id)}</h1>",
        f"<p>{len(report.runs)} run(s), measure <code>{escape(report.measure)}</code>, tasks: "
        + ", ".join(f"<code>{escape(name)}</code>" for name in report.task_names)
        + ". Definitions: <code>docs/metrics.md</code>.</p>",
        "<h2>Metrics</h2>",
        "<table><tr><th>metric</th><th>mean over runs</th><th>95% CI</th>"
        "<th>better</th><th>meaning</th></tr>",
    ]
    for name, (higher_is_better, meaning) in METRICS.items():
        estimate = report.aggregate[name]
        # Without a value the CI cell says what the metric lacks, as a bare "-" reads as a bug.
        value, interval = "-", escape(report.missing_reason(name))
        if estimate is not None:
            value = _number(estimate.value)
            interval = f"[{_number(estimate.low)}, {_number(estimate.high)}]"
        lines.append(
            f"<tr><td>{escape(name)}</td><td>{value}</td><td>{interval}</td>"
            f"<td>{'higher' if higher_is_better else 'lower'}</td>"
            f'<td class="note">{escape(meaning)}</td></tr>'
        )
    lines.append("</table>")
    note = report.min_accuracy_note()
    if note is not None:
        lines.append(f"<p>{escape(note)}</p>")
    if not report.block_end_rounds:
        lines.append(f"<p>{escape(BLOCKLESS_NOTE)}</p>")
    lines.append("<h2>Readings</h2>")
    lines.append("<table><tr><th>source</th><th>reading</th><th>meaning</th></tr>")
    for source, reading in report.readings.describe().items():
        lines.append(
            f"<tr><td>{escape(source)}</td><td>{escape(reading['reading'])}</td>"
            f'<td class="note">{escape(reading["meaning"])}</td></tr>'
        )
    lines.append("</table>")
    lines.append("<p>Final performance over runs &times; tasks: ")
    lines.append(
        "; ".join(
            f"{escape(name)} {_number(estimate.value)} "
            f"[{_number(estimate.low)}, {_number(estimate.high)}]"
            for name, estimate in report.final_performance.items()
        )
        + ".</p>"
    )
    lines.append("<h2>Per task (first run)</h2>")
    per_task = report.runs[0].per_task
    lines.append(
        "<table><tr><th>task</th>"
        + "".join(f"<th>{escape(name)}</th>" for name in per_task)
        + "</tr>"
    )
    for task, task_name in enumerate(report.task_names):
        cells = "".join(f"<td>{_number(values[task])}</td>" for values in per_task.values())
        lines.append(f"<tr><td>{escape(task_name)}</td>{cells}</tr>")
    lines.append("</table>")
    per_block = report.runs[0].per_block
    if per_block is not None:
        lines.append("<h2>Continual World per training block (first run)</h2>")
        lines.append("<table><tr><th>block</th><th>task</th><th>forgetting</th>")
        lines.append("<th>forward_transfer</th></tr>")
        rows = zip(
            per_block["task"], per_block["forgetting"], per_block["forward_transfer"], strict=True
        )
        for index, (task_name, forgetting, transfer) in enumerate(rows):
            lines.append(
                f"<tr><td>{index}</td><td>{escape(task_name)}</td>"
                f"<td>{_number(forgetting)}</td><td>{_number(transfer)}</td></tr>"
            )
        lines.append("</table>")
    lines.append("<h2>Runs</h2><ul>")
    for metrics in report.runs:
        lines.append(
            f"<li><code>{escape(str(metrics.run.directory))}</code>: seed {metrics.run.info.seed}, "
            f"{len(metrics.rounds.steps)} evaluation rounds</li>"
        )
    lines.append("</ul>")
    for caption, png in figures.items():
        encoded = base64.b64encode(png).decode("ascii")
        lines.append(f"<h2>{escape(caption)}</h2>")
        lines.append(f'<img alt="{escape(caption)}" src="data:image/png;base64,{encoded}">')
    lines.append("</body></html>")
    return "\n".join(lines) + "\n"
