"""Memory a buffer will take, computed from its field specs before anything is allocated.

A buffer that would not fit in the memory available raises :class:`BufferMemoryError` up front,
instead of failing (or swapping) once the arrays are touched deep into a training run.

The system's reading of available memory is not enough: ``np.zeros`` maps pages without
committing them, so a buffer takes its memory only as it fills, and several buffers built in a
row (a ``MixedReplay``'s members) would each be checked against memory the others will take.
Buffers therefore allocate through :func:`allocate_zeros`, and the check subtracts the bytes
of those live arrays that are not yet in RAM (:func:`promised_bytes`); what is, the system's
reading already excludes.
"""

from __future__ import annotations

import ctypes
import itertools
import mmap
import sys
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from agents.buffers.fields import FieldSpec

_MEMINFO = Path("/proc/meminfo")


def _load_mincore() -> Callable[[int, int, int], int] | None:
    """libc's ``mincore(address, length, flags)``, which marks a mapping's pages held in RAM;
    None where there is none to call."""
    if not sys.platform.startswith(("linux", "darwin")):
        return None
    try:
        function = ctypes.CDLL(None).mincore
    except (OSError, AttributeError):
        return None
    function.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p)
    function.restype = ctypes.c_int
    return function


_MINCORE = _load_mincore()
# Arrays of live buffers, by serial number; an entry goes when its array is collected.
_allocated: weakref.WeakValueDictionary[int, np.ndarray] = weakref.WeakValueDictionary()
_serial_numbers = itertools.count()


class BufferMemoryError(MemoryError):
    """A buffer's preallocated arrays would not fit in the available memory."""


def storage_bytes(fields: Mapping[str, FieldSpec], items: int) -> dict[str, int]:
    """Bytes each field takes for ``items`` items."""
    return {name: items * spec.item_bytes for name, spec in fields.items()}


def allocate_zeros(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """``np.zeros(shape, dtype)``, counted by :func:`promised_bytes` until it is collected."""
    array = np.zeros(shape, dtype=dtype)
    _allocated[next(_serial_numbers)] = array
    return array


def resident_bytes(array: np.ndarray) -> int:
    """Bytes of ``array`` in pages held in RAM, which the system already counts as used.

    0 where mincore is missing or fails: the whole array then counts as promised. Pages read but
    never written (as when a partly filled buffer is saved) map the shared zero page and count
    as resident though they take no memory: the check misses that part of such a buffer.
    """
    if _MINCORE is None or array.nbytes == 0:
        return 0
    start = array.ctypes.data
    first_page = start - start % mmap.PAGESIZE  # mincore takes page-aligned addresses
    length = start + array.nbytes - first_page
    flags = np.zeros(-(-length // mmap.PAGESIZE), dtype=np.uint8)
    if _MINCORE(first_page, length, flags.ctypes.data) != 0:
        return 0
    resident_pages = int(np.count_nonzero(flags & 1))  # bit 0: the page is in RAM
    return min(array.nbytes, resident_pages * mmap.PAGESIZE)


def promised_bytes() -> int:
    """Bytes the arrays of live buffers take but have not yet written: memory the system still
    reports as available, which those buffers will take as they fill."""
    return sum(array.nbytes - resident_bytes(array) for array in list(_allocated.values()))


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
    ``available`` defaults to the system's reading less :func:`promised_bytes`.
    """
    promised = 0
    if available is None:
        reported = available_memory_bytes()
        if reported is None:
            return
        promised = promised_bytes()
        available = max(0, reported - promised)
    total = sum(needed.values())
    if total <= available:
        return
    parts = ", ".join(f"{name} {format_bytes(size)}" for name, size in needed.items())
    promised_note = (
        f" ({format_bytes(promised)} more is allocated to buffers not yet filled)"
        if promised
        else ""
    )
    raise BufferMemoryError(
        f"{owner} needs {format_bytes(total)} ({parts}) but only {format_bytes(available)} "
        f"is available{promised_note}; lower capacity to at most about "
        f"{capacity * available // total} or pass check_memory=False to allocate anyway"
    )


def format_bytes(size: float) -> str:
    """Human-readable size with binary units."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(size) < 1024:
            return f"{size:.1f} {unit}" if unit != "B" else f"{int(size)} B"
        size /= 1024
    return f"{size:.1f} TiB"
