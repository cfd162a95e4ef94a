"""Memory a buffer will take, computed from its field specs before anything is allocated.

A buffer that would not fit in the memory available raises :class:`BufferMemoryError` up front,
instead of failing (or swapping) once the arrays are touched deep into a training run.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from agents.buffers.fields import FieldSpec

_MEMINFO = Path("/proc/meminfo")


class BufferMemoryError(MemoryError):
    """A buffer's preallocated arrays would not fit in the available memory."""


def storage_bytes(fields: Mapping[str, FieldSpec], items: int) -> dict[str, int]:
    """Bytes each field takes for ``items`` items."""
    return {name: items * spec.item_bytes for name, spec in fields.items()}


def available_memory_bytes() -> int | None:
    """Memory available to new allocations (psutil, else /proc/meminfo); None if unknown."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        return int(psutil.virtual_memory().available)
    try:
        for line in _MEMINFO.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def check_fits(
    owner: str, capacity: int, needed: Mapping[str, int], available: int | None = None
) -> None:
    """Raise :class:`BufferMemoryError` if ``needed`` (bytes per part) exceeds what is available.

    ``owner`` names the buffer in the message, e.g. ``"RingBuffer(capacity=1000000)"``.
    """
    available = available_memory_bytes() if available is None else available
    if available is None:
        return
    total = sum(needed.values())
    if total <= available:
        return
    parts = ", ".join(f"{name} {format_bytes(size)}" for name, size in needed.items())
    raise BufferMemoryError(
        f"{owner} needs {format_bytes(total)} ({parts}) but only {format_bytes(available)} "
        f"is available; lower capacity to at most about {capacity * available // total} "
        "or pass check_memory=False to allocate anyway"
    )


def format_bytes(size: float) -> str:
    """Human-readable size with binary units."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(size) < 1024:
            return f"{size:.1f} {unit}" if unit != "B" else f"{int(size)} B"
        size /= 1024
    return f"{size:.1f} TiB"
