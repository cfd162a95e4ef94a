"""No code in ``agents/`` reads or writes another library's private attributes (SB3's
``_n_updates``, ``_get_torch_save_params``, ``TensorBoardOutputFormat._is_closed``...): they
change without notice between releases."""

from __future__ import annotations

import ast
from pathlib import Path

import agents

AGENTS_FOLDER = Path(agents.__file__).parent


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _own_private_names(trees: list[ast.Module]) -> set[str]:
    """Private names that ``agents/`` itself defines: functions, classes, and attributes it
    assigns (``self._x = ...``, ``_x = ...`` in a class body)."""
    names = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
    return {name for name in names if _is_private(name)}


def private_uses(source: str, own: set[str]) -> list[str]:
    """``object._name`` and ``getattr(object, "_name")`` in ``source`` where ``_name`` is not
    one of ``own``: ``self._name`` included, where a subclass calls its library base class's
    private helper."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and _is_private(node.attr):
            if node.attr not in own:
                found.append((node.lineno, f".{node.attr}"))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr", "delattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and _is_private(node.args[1].value)
            and node.args[1].value not in own
        ):
            found.append((node.lineno, f"{node.func.id}(..., {node.args[1].value!r})"))
    return [f"line {line}: {use}" for line, use in sorted(found)]


def test_agents_use_no_private_attribute_of_another_library() -> None:
    files = sorted(AGENTS_FOLDER.rglob("*.py"))
    trees = [ast.parse(path.read_text()) for path in files]
    own = _own_private_names(trees)
    offences = {
        str(path.relative_to(AGENTS_FOLDER.parent)): uses
        for path in files
        if (uses := private_uses(path.read_text(), own))
    }
    assert offences == {}


def test_the_check_catches_what_earlier_code_did() -> None:
    earlier = """
params = model._get_torch_save_params()
updates = model._n_updates
TensorBoardOutputFormat._is_closed = True
closed = getattr(writer, "_is_closed")
"""
    assert private_uses(earlier, own={"_store"}) == [
        "line 2: ._get_torch_save_params",
        "line 3: ._n_updates",
        "line 4: ._is_closed",
        "line 5: getattr(..., '_is_closed')",
    ]
    assert private_uses("self._x = 1\nsuper()._store(batch)\n", own={"_store", "_x"}) == []
    # A subclass calling its SB3 base class's helpers.
    assert private_uses("cast = self._maybe_cast_dtype(dtype)\n", own=set()) == [
        "line 1: ._maybe_cast_dtype"
    ]
