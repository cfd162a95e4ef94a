"""What ``sample`` returns: named arrays (numpy, or torch tensors on a device) plus bookkeeping.

Images stay uint8 all the way to the device; ``dtypes`` converts chosen fields after the
transfer (a quarter of the bytes cross the bus), never by default.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch


@dataclass(frozen=True, eq=False)  # arrays have no single truth value to compare by
class Batch(Mapping[str, Any]):
    """A sampled minibatch: ``batch["observation"]`` etc., numpy arrays or torch tensors.

    Attributes:
        data: the fields, each with the batch on its first axis (sequences: ``(batch, length,
            ...)``).
        indices: the row of each item in its buffer.
    """

    data: dict[str, Any]
    indices: np.ndarray

    def __getitem__(self, name: str) -> Any:
        return self.data[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    @property
    def size(self) -> int:
        """Number of items in the batch."""
        return int(self.indices.shape[0])


def check_sample_options(
    device: str | torch.device | None,
    pin_memory: bool,
    dtypes: Mapping[str, torch.dtype] | None,
) -> torch.device | None:
    """The device of :meth:`Buffer.sample`'s arguments, or a clear error if they do not fit."""
    checked = check_device(device, pin_memory)
    if dtypes and checked is None:
        raise ValueError("dtypes converts torch tensors: pass a device too")
    return checked


def check_device(device: str | torch.device | None, pin_memory: bool) -> torch.device | None:
    """The torch device to put samples on (None: numpy), or a clear error if it is unusable."""
    key = (device, pin_memory)
    try:
        return _CHECKED_DEVICES[key]  # sample() asks this every time: answer from memory
    except (KeyError, TypeError):  # TypeError: an unhashable device, rejected below
        pass
    checked = _check_device(device, pin_memory)
    _CHECKED_DEVICES[key] = checked
    return checked


_CHECKED_DEVICES: dict[tuple[Any, bool], torch.device | None] = {}


def _check_device(device: str | torch.device | None, pin_memory: bool) -> torch.device | None:
    if device is None:
        if pin_memory:
            raise ValueError("pin_memory=True needs a device (e.g. device='cuda') to transfer to")
        return None
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as error:
        reason = str(error).splitlines()[0]
        raise ValueError(f"device {device!r} is not a torch device: {reason}") from None
    cuda_available = torch.cuda.is_available()
    if device.type == "cuda" and not cuda_available:
        raise ValueError(f"device {str(device)!r} needs CUDA, which this machine does not have")
    if pin_memory and not cuda_available:
        raise ValueError("pin_memory=True needs CUDA, which this machine does not have")
    return device


def to_device(
    arrays: Mapping[str, np.ndarray],
    device: torch.device,
    pin_memory: bool = False,
    dtypes: Mapping[str, torch.dtype] | None = None,
) -> dict[str, torch.Tensor]:
    """Torch tensors of ``arrays`` on ``device``, converting the fields named in ``dtypes`` there.

    The arrays are fresh (``Storage.read`` allocates them), so on the CPU the tensors share
    their memory instead of copying it.
    """
    dtypes = dtypes or {}
    unknown = [name for name in dtypes if name not in arrays]
    if unknown:
        raise ValueError(f"dtypes: unknown fields {unknown}; fields are {list(arrays)}")
    tensors = {}
    on_cpu = device.type == "cpu" and not pin_memory
    for name, array in arrays.items():
        tensor = torch.from_numpy(array)
        if not on_cpu:
            if pin_memory:
                tensor = tensor.pin_memory()
            tensor = tensor.to(device, non_blocking=pin_memory)
        if name in dtypes:
            tensor = tensor.to(dtypes[name])
        tensors[name] = tensor
    return tensors
