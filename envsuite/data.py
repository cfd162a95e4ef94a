"""Where the shipped data folders (tasks/, configs/, assets/) live.

A source checkout keeps them at the repository root; a wheel ships them under envsuite/_data/.
"""

from __future__ import annotations

from pathlib import Path

DATA_FOLDERS = ("tasks", "configs", "assets")


def data_root() -> Path:
    """Return the folder that holds ``tasks/``, ``configs/`` and ``assets/``.

    An installed wheel carries them inside the package (``envsuite/_data``); an editable install
    or a plain checkout finds them beside the package, at the repository root.
    """
    package = Path(__file__).resolve().parent
    shipped = package / "_data"
    if shipped.is_dir():
        return shipped
    checkout = package.parent
    if (checkout / "tasks").is_dir():
        return checkout
    raise FileNotFoundError(
        f"envsuite data folders not found: looked in {shipped} (installed wheel) and {checkout} "
        "(source checkout); reinstall envsuite"
    )


def data_path(folder: str) -> Path:
    """Return the path of one shipped data folder: ``"tasks"``, ``"configs"`` or ``"assets"``."""
    if folder not in DATA_FOLDERS:
        raise ValueError(f"folder must be one of {DATA_FOLDERS}, got {folder!r}")
    return data_root() / folder
