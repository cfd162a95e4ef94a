"""A package's numba cache is dropped when any of its files changes, so no stale code runs."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

CALLER = """
from numba import njit
from toypackage.callee import value
@njit(cache=True)
def caller():
    return value()
"""
INIT = """
import sys
from toypackage.caller import caller
from envsuite.numba_cache import drop_stale_cache
dropped = drop_stale_cache(sys.modules[__name__], caller)
"""


def write_package(root: Path, returned: int) -> None:
    package = root / "toypackage"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text(INIT)
    (package / "caller.py").write_text(CALLER)
    callee = f"from numba import njit\n@njit(cache=True)\ndef value():\n    return {returned}\n"
    (package / "callee.py").write_text(callee)


def run(root: Path) -> str:
    script = "import toypackage; print(toypackage.dropped, toypackage.caller())"
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()


def test_editing_a_called_module_recompiles_its_callers(tmp_path: Path) -> None:
    write_package(tmp_path, returned=1)
    assert run(tmp_path) == ["False", "1"]  # no cache yet: nothing to drop
    assert run(tmp_path) == ["False", "1"]  # cached, unchanged
    write_package(tmp_path, returned=2)  # only the callee's file changes
    assert run(tmp_path) == ["True", "2"]  # numba alone would still return 1 from caller's cache
    assert run(tmp_path) == ["False", "2"]
