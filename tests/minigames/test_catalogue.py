"""The README's minigame catalogue stays true: every game's frame, rules and variants."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from envsuite.minigames import GAMES

ROOT = Path(__file__).parents[2]
README = (ROOT / "README.md").read_text()


def snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name).lower()


@pytest.mark.parametrize("game", list(GAMES.values()), ids=list(GAMES))
def test_the_readme_shows_each_games_frame_rules_and_variants(game) -> None:
    frame = f"docs/minigames/{snake_case(game.name)}.png"
    assert (ROOT / frame).is_file()
    assert f"![{game.name}]({frame})" in README
    row = f"| `envsuite/{game.name}-v0` | {game.rules} | {', '.join(game.variants)} |"
    assert row in README
