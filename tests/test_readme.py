"""Every Python and YAML snippet in README.md runs verbatim, each on its own (a new user copies
one at a time): Python blocks run in a fresh namespace in an empty folder, YAML blocks load as a
sequence and play a few steps."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import envsuite

README = (Path(__file__).parents[1] / "README.md").read_text()
SNIPPETS = re.findall(r"```(python|yaml)\n(.*?)```", README, re.DOTALL)


def _label(language: str, code: str) -> str:
    first = next(line for line in code.splitlines() if line.strip() and line[0] != "#")
    return f"{language}: {first[:60]}"


def test_the_readme_has_its_snippets() -> None:
    languages = [language for language, _ in SNIPPETS]
    assert languages.count("python") >= 6, languages
    assert languages.count("yaml") >= 1, languages


@pytest.mark.parametrize(
    ("language", "code"),
    [pytest.param(language, code, id=_label(language, code)) for language, code in SNIPPETS],
)
def test_a_readme_snippet_runs_verbatim(
    language: str, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)  # what a snippet writes (run directories) lands here
    if language == "python":
        exec(compile(code, "README.md snippet", "exec"), {"__name__": "readme_snippet"})
        if "task_switched" in code:
            # The first example prints its block ends: 1,000 steps must cross one.
            assert "block over" in capsys.readouterr().out
        return
    path = tmp_path / "classic" / "snippet.yaml"
    path.parent.mkdir()
    path.write_text(code)
    sequence = envsuite.make_sequence(str(path))
    env = sequence.make_env()
    env.reset(seed=0)
    for _ in range(10):
        env.step(env.action_space.sample())
    env.close()
