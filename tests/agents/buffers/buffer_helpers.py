"""Shared helpers of the buffer tests: labelled transitions and chi-squared critical values."""

from __future__ import annotations

import numpy as np

from agents.buffers import FieldSpec

# Every transition carries its serial number in its observation, so a test can tell exactly
# which transitions a buffer holds.
SERIAL_OBSERVATION = FieldSpec((2,), np.int64)
SMALL_ACTION = FieldSpec((1,), np.float32)
# 0.999 quantiles of the chi-squared distribution, used when scipy is not installed.
CHI_SQUARED_999 = {
    1: 10.828,
    2: 13.816,
    3: 16.266,
    4: 18.467,
    5: 20.515,
    6: 22.458,
    7: 24.322,
    8: 26.124,
    9: 27.877,
    10: 29.588,
    11: 31.264,
    15: 37.697,
    19: 43.820,
}


def serial_transitions(start: int, count: int, label: int = 0) -> dict[str, np.ndarray]:
    """Transitions ``start .. start + count - 1``: observation ``[serial, label]``."""
    serial = np.arange(start, start + count, dtype=np.int64)
    observation = np.stack([serial, np.full(count, label, dtype=np.int64)], axis=1)
    return {
        "observation": observation,
        "action": serial[:, None].astype(np.float32),
        "reward": serial.astype(np.float32),
        "next_observation": observation + np.array([1, 0]),
        "terminated": serial % 7 == 6,
        "truncated": serial % 11 == 10,
    }


def fill_batched_and_one_by_one(batched, single, batch_sizes) -> None:
    """Add the same serial transitions to ``batched`` in batches of ``batch_sizes`` and to
    ``single`` one at a time; then assert that both store the same arrays."""
    start = 0
    for batch_size in batch_sizes:
        batched.add(**serial_transitions(start, batch_size))
        start += batch_size
    for serial in range(start):
        single.add(**serial_transitions(serial, 1))
    for name, array in batched.storage.arrays.items():
        np.testing.assert_array_equal(array, single.storage.arrays[name], err_msg=name)


def chi_squared_critical(degrees_of_freedom: int) -> float:
    """The 0.999 quantile of chi-squared: a correct sampler exceeds it once in 1000 runs."""
    try:
        from scipy.stats import chi2
    except ImportError:
        return CHI_SQUARED_999[degrees_of_freedom]
    return float(chi2.ppf(0.999, degrees_of_freedom))


def chi_squared(observed: np.ndarray, expected: np.ndarray) -> float:
    """Pearson's statistic."""
    return float(((observed - expected) ** 2 / expected).sum())
