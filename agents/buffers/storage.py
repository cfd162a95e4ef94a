"""Preallocated storage: one array per named field, written and read by rows; input checks.

Every buffer kind keeps its items here; the kinds differ only in which rows items go to and
which rows a sample reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from agents.buffers import kernels
from agents.buffers.fields import FieldSpec
from agents.buffers.memory import allocate_zeros

# Fields of a sampled batch start on cache-line boundaries of their shared allocation.
_ALIGNMENT = 64


def byte_rows(array: np.ndarray) -> np.ndarray:
    """``array`` seen as C-contiguous ``(rows, bytes per row)`` uint8 (copied only if strided)."""
    return np.ascontiguousarray(array).reshape(array.shape[0], -1).view(np.uint8)


def can_store(array: np.ndarray, target: np.dtype) -> bool:
    """Whether ``array`` may be stored in a field of dtype ``target`` without losing values.

    Floating-point fields take any real numbers (float64 rewards become float32); integer fields
    take integers that fit (int64 pixel values in 0..255 fit uint8); bool fields take bools. A
    float image or a wrapped-around pixel is a bug worth an error.
    """
    source = array.dtype
    casting = "same_kind" if target.kind == "f" else "safe"
    if source == target or np.can_cast(source, target, casting):
        return True
    if target.kind in "iu" and source.kind in "iu":
        limits = np.iinfo(target)
        return array.size == 0 or (limits.min <= array.min() and array.max() <= limits.max)
    return False


def check_field(name: str, value: Any, spec: FieldSpec, count: int | None) -> np.ndarray:
    """``value`` as an array of ``count`` items of ``spec``, or an error naming ``name``.

    ``count`` is the batch size the other fields set; None lets this field set it.
    """
    if type(value) is np.ndarray and value.dtype == spec.dtype:
        shape = value.shape
        if (
            len(shape) == spec.ndim + 1
            and shape[1:] == spec.shape
            and (count is None or shape[0] == count)  # count 0 is a size to match too
        ):
            return value  # the common case, checked in a fraction of the general path's time
    try:
        array = np.asarray(value)
    except ValueError as error:  # ragged lists: numpy's message does not say which field
        raise ValueError(f"{name}: cannot be made an array: {error}") from error
    if array.dtype != spec.dtype:
        if not can_store(array, spec.dtype):
            raise TypeError(
                f"{name}: dtype {array.dtype} cannot be stored in a field of dtype {spec.dtype} "
                "without losing values (floats do not go into integer fields, integers must fit "
                "the field's range, flags must be bool); convert it first"
            )
        array = array.astype(spec.dtype)
    leading = array.shape[:1] if count is None else (count,)
    if array.ndim == 0 or array.shape != (*leading, *spec.shape):
        batch_axis = "n" if count is None else str(count)
        raise ValueError(
            f"{name}: expected shape {_shape_text([batch_axis, *map(str, spec.shape)])} (a batch "
            f"along the first axis, then the field's shape {spec.shape}), got {array.shape}"
        )
    return array


def _shape_text(axes: list[str]) -> str:
    return f"({', '.join(axes)}{',' if len(axes) == 1 else ''})"


def check_field_names(given: Iterable[str], expected: Iterable[str], what: str) -> None:
    """A ValueError listing the missing and unexpected field names, if there are any."""
    given, expected = list(given), list(expected)
    missing = [name for name in expected if name not in given]
    unexpected = [name for name in given if name not in expected]
    if missing or unexpected:
        raise ValueError(
            f"{what}: the batch must hold the fields {expected}; "
            f"missing {missing}, unexpected {unexpected}"
        )


class BatchChecker:
    """Checks batches of ``fields`` given as values in field order (see :func:`check_field`).

    Arrays of exactly the right dtype and shape, the usual case on every step of a training
    loop, pass with one comparison each against shapes cached per batch size.
    """

    def __init__(self, fields: Mapping[str, FieldSpec]) -> None:
        self.fields = dict(fields)
        self._names = list(self.fields)
        self._dtypes = [spec.dtype for spec in self.fields.values()]
        self._shapes_by_count: dict[int, list[tuple[int, ...]]] = {}

    def check(self, values: Sequence[Any]) -> tuple[int, dict[str, np.ndarray]]:
        """The batch size and the checked arrays by name; TypeError or ValueError naming the
        field otherwise."""
        first = values[0]
        if type(first) is np.ndarray and first.ndim:
            count = first.shape[0]
            shapes = self._shapes_by_count.get(count)
            if shapes is None:
                shapes = [(count, *spec.shape) for spec in self.fields.values()]
                if len(self._shapes_by_count) < 64:  # batch sizes are few; bound it anyway
                    self._shapes_by_count[count] = shapes
            for value, dtype, shape in zip(values, self._dtypes, shapes, strict=True):
                if type(value) is not np.ndarray or value.dtype != dtype or value.shape != shape:
                    break
            else:
                return count, dict(zip(self._names, values, strict=True))
        count_so_far: int | None = None
        checked = {}
        for (name, spec), value in zip(self.fields.items(), values, strict=True):
            checked[name] = array = check_field(name, value, spec, count_so_far)
            count_so_far = array.shape[0]
        return (count_so_far or 0), checked


class Storage:
    """Arrays ``(rows, *field.shape)`` for every field, allocated once (zero-filled)."""

    def __init__(self, fields: Mapping[str, FieldSpec], rows: int) -> None:
        self.fields = dict(fields)
        self.rows = rows
        self.arrays = {
            name: allocate_zeros((rows, *spec.shape), spec.dtype)
            for name, spec in self.fields.items()
        }
        self._make_byte_views()

    def _make_byte_views(self) -> None:
        self._byte_views = {name: byte_rows(array) for name, array in self.arrays.items()}
        self._all_views = tuple(self._byte_views.values())
        self._item_layout = [
            (name, spec.dtype, (-1, *spec.shape), spec.item_bytes)
            for name, spec in self.fields.items()
        ]
        self._read_layouts: dict[int, tuple[np.ndarray, list[int], int]] = {}

    def __getstate__(self) -> dict[str, Any]:
        # The byte views alias the arrays; pickling them would store copies and break the alias.
        return {"fields": self.fields, "rows": self.rows, "arrays": self.arrays}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._make_byte_views()

    @property
    def nbytes(self) -> int:
        """Bytes the arrays take."""
        return sum(array.nbytes for array in self.arrays.values())

    def write_rows(self, rows: np.ndarray, batch: Mapping[str, np.ndarray]) -> None:
        """``field[rows[i]] = batch[field][i]`` in order for the (checked) fields in ``batch``;
        negative rows are skipped, and of repeated rows the last write wins."""
        for name, values in batch.items():
            kernels.scatter_rows(self._byte_views[name], byte_rows(values), rows)

    def write_ring(self, start: int, batch: Mapping[str, np.ndarray], count: int) -> None:
        """Write ``count`` items to rows ``start, start + 1, ...`` wrapping around the end.

        Plain slice assignments: contiguous rows copy at memcpy speed without per-field kernel
        calls. Of a batch longer than the storage only the last ``rows`` items remain, as if
        written one by one.
        """
        if start + count <= self.rows:
            for name, values in batch.items():
                self.arrays[name][start : start + count] = values
            return
        skipped = max(0, count - self.rows)
        start, count = (start + skipped) % self.rows, count - skipped
        first = min(count, self.rows - start)
        for name, values in batch.items():
            array = self.arrays[name]
            array[start : start + first] = values[skipped : skipped + first]
            if first < count:
                array[: count - first] = values[skipped + first :]

    def read(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Fresh arrays ``field[rows]`` for every field.

        They are views into one new allocation filled by one kernel call: several separate
        multi-megabyte allocations per sample make glibc map and fault in fresh pages every
        time, which costs more than the copy itself.
        """
        count = rows.shape[0]
        layout = self._read_layouts.get(count)
        if layout is None:
            padded = [-(-count * item // _ALIGNMENT) * _ALIGNMENT for *_, item in self._item_layout]
            offsets = np.cumsum([0, *padded[:-1]]).astype(np.int64)
            layout = self._read_layouts[count] = (offsets, offsets.tolist(), int(sum(padded)))
        offsets, offset_list, total = layout
        block = np.empty(total, dtype=np.uint8)
        kernels.gather_fields(self._all_views, rows, block, offsets)
        return {
            name: block[offset : offset + count * item_bytes].view(dtype).reshape(shape)
            for (name, dtype, shape, item_bytes), offset in zip(
                self._item_layout, offset_list, strict=True
            )
        }
