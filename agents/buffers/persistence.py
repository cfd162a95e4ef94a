"""Save and load buffers in one file whose every byte is covered by a SHA-256 checksum.

Layout: magic, format version, header length, JSON header, its digest, the arrays, their digest.
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from agents.buffers.base import BUFFER_KINDS, Buffer

MAGIC = b"ESBUFFER"
FORMAT_VERSION = 1
_PREAMBLE = struct.Struct("<8sIQ")  # magic, version, header length
_DIGEST_BYTES = hashlib.sha256().digest_size
# Headers are small (config and counters); a larger length field means a damaged file.
_MAX_HEADER_BYTES = 1 << 24


class BufferFileError(ValueError):
    """A buffer file is damaged, truncated, of an unknown format or of another buffer kind."""


def save_buffer(buffer: Buffer, path: str | Path) -> None:
    """Write ``buffer.state_dict()`` to ``path`` (see the module docstring for the layout)."""
    state = buffer.state_dict()
    arrays = {name: tensor.numpy() for name, tensor in state["arrays"].items()}
    header = {
        "kind": state["kind"],
        "config": json.loads(state["config"]),
        "state": json.loads(state["state"]),
        "arrays": [
            {"name": name, "dtype": array.dtype.str, "shape": list(array.shape)}
            for name, array in arrays.items()
        ],
    }
    header_bytes = json.dumps(header, sort_keys=True).encode()
    preamble = _PREAMBLE.pack(MAGIC, FORMAT_VERSION, len(header_bytes))
    data_digest = hashlib.sha256()
    with open(path, "wb") as file:
        file.write(preamble)
        file.write(header_bytes)
        file.write(hashlib.sha256(preamble + header_bytes).digest())
        for array in arrays.values():
            view = _byte_view(array)
            data_digest.update(view)
            file.write(view)
        file.write(data_digest.digest())


def load_buffer(path: str | Path, expected: type[Buffer] | None = None) -> Buffer:
    """Read a buffer written by :func:`save_buffer`.

    The header's digest is checked before the header is trusted; the counters are restored
    and the arrays then read straight into a freshly built buffer (the rows its counters say
    hold data) while being hashed, so a flipped or missing byte anywhere raises
    :class:`BufferFileError` and no damaged buffer is returned.

    Raises:
        BufferFileError: the file is truncated or corrupted, not a buffer file, or holds a
            buffer that is not an ``expected``.
        BufferMemoryError: the buffer it holds would not fit in memory.
    """
    path = Path(path)
    with open(path, "rb") as file:
        header = _read_header(file, path)
        buffer = _build_buffer(header, path, expected)
        try:
            buffer.restore_state(header["state"])
        except (KeyError, TypeError, ValueError) as error:
            raise BufferFileError(f"{path}: the saved state is incomplete: {error!r}") from None
        arrays = {name: tensor.numpy() for name, tensor in buffer.state_dict()["arrays"].items()}
        _check_array_table(header["arrays"], arrays, path)
        data_digest = hashlib.sha256()
        for name, array in arrays.items():
            view = _byte_view(array)
            if file.readinto(view) != len(view):
                raise BufferFileError(f"{path}: truncated: array {name!r} is incomplete")
            data_digest.update(view)
        stored_digest = file.read(_DIGEST_BYTES)
        if len(stored_digest) != _DIGEST_BYTES:
            raise BufferFileError(f"{path}: truncated: the data checksum is missing")
        if stored_digest != data_digest.digest():
            raise BufferFileError(f"{path}: corrupted: the data does not match its checksum")
        if file.read(1):
            raise BufferFileError(f"{path}: corrupted: unexpected bytes after the data")
    return buffer


def _read_header(file: BinaryIO, path: Path) -> dict[str, Any]:
    preamble = file.read(_PREAMBLE.size)
    if len(preamble) < _PREAMBLE.size:
        raise BufferFileError(f"{path}: truncated: too short to be a buffer file")
    magic, version, header_length = _PREAMBLE.unpack(preamble)
    if magic != MAGIC:
        raise BufferFileError(f"{path}: not a buffer file (it does not start with {MAGIC!r})")
    if version != FORMAT_VERSION:
        raise BufferFileError(
            f"{path}: format version {version} is not supported (this code reads "
            f"{FORMAT_VERSION}); it may be corrupted"
        )
    if header_length > _MAX_HEADER_BYTES:
        raise BufferFileError(f"{path}: corrupted: implausible header length {header_length}")
    header_bytes = file.read(header_length)
    stored_digest = file.read(_DIGEST_BYTES)
    if len(header_bytes) != header_length or len(stored_digest) != _DIGEST_BYTES:
        raise BufferFileError(f"{path}: truncated inside the header")
    if hashlib.sha256(preamble + header_bytes).digest() != stored_digest:
        raise BufferFileError(f"{path}: corrupted: the header does not match its checksum")
    try:
        header = json.loads(header_bytes)
        _ = header["kind"], header["config"], header["state"], header["arrays"]
    except (ValueError, KeyError, TypeError) as error:
        raise BufferFileError(f"{path}: the header is malformed: {error!r}") from None
    return header


def _build_buffer(header: dict[str, Any], path: Path, expected: type[Buffer] | None) -> Buffer:
    kind = header["kind"]
    if kind not in BUFFER_KINDS:
        raise BufferFileError(
            f"{path}: unknown buffer kind {kind!r}; known kinds are {sorted(BUFFER_KINDS)}"
        )
    buffer_class = BUFFER_KINDS[kind]
    if expected is not None and not issubclass(buffer_class, expected):
        raise BufferFileError(
            f"{path}: holds a {buffer_class.__name__}, not a {expected.__name__}; "
            f"load it with {buffer_class.__name__}.load or agents.buffers.load_buffer"
        )
    try:
        return buffer_class.from_config(header["config"])
    except (KeyError, TypeError, ValueError) as error:
        raise BufferFileError(f"{path}: the saved configuration is invalid: {error}") from None


def _check_array_table(
    table: list[dict[str, Any]], arrays: dict[str, np.ndarray], path: Path
) -> None:
    expected = [
        {"name": name, "dtype": array.dtype.str, "shape": list(array.shape)}
        for name, array in arrays.items()
    ]
    if table != expected:
        raise BufferFileError(
            f"{path}: its arrays {[(entry.get('name'), entry.get('shape')) for entry in table]} "
            f"do not match the buffer it describes"
        )


def _byte_view(array: np.ndarray) -> memoryview:
    if not array.flags.c_contiguous:
        raise ValueError("persistent arrays must be C-contiguous")
    return memoryview(array.reshape(-1).view(np.uint8))
