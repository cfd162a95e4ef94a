"""The README's catalogue stays true: every minigame's, navigation task's and manipulation
task's frame, rules and variants appear as the code defines them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from envsuite.manipulation import TASKS as MANIPULATION_TASKS
from envsuite.minigames import GAMES
from envsuite.navigation.tasks import TASKS

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()
ENTRIES = (
    [
        ("minigames", game.name, f"envsuite/{game.name}-v0", game.rules, game.variants)
        for game in GAMES.values()
    ]
    + [
        ("navigation", task.name, task.env_id, task.description, task.variants)
        for task in TASKS.values()
    ]
    + [
        ("manipulation", task.name, f"envsuite/{task.name}-v0", task.description, task.variants)
        for task in MANIPULATION_TASKS.values()
    ]
)


def snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name).lower()


@pytest.mark.parametrize(
    ("family", "name", "env_id", "text", "variants"), ENTRIES, ids=[entry[1] for entry in ENTRIES]
)
def test_the_readme_shows_each_tasks_frame_text_and_variants(
    family: str, name: str, env_id: str, text: str, variants: dict
) -> None:
    frame = f"docs/{family}/{snake_case(name)}.png"
    assert (ROOT / frame).is_file()
    assert f"![{name}]({frame})" in README
    assert f"| `{env_id}` | {text} | {', '.join(variants)} |" in README
