"""Gymnasium vector infos (arrays, one row per env, with ``_key`` masks) and batches: one env's
row, masks narrowed, rows merged, and the per-env results of a same-step-autoreset step.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Same-step autoreset's keys: what an env's ended episode observed and reported last.
FINAL_KEYS = ("final_obs", "final_info")


def row(batch: Any, index: int) -> Any:
    """Env ``index``'s entry of a batch: an array's row, or a dict of them."""
    if isinstance(batch, dict):
        return {key: row(value, index) for key, value in batch.items()}
    return batch[index]


def unbatch(infos: dict[str, Any], index: int) -> dict[str, Any]:
    """Env ``index``'s info: the entries its ``_key`` masks hold, numpy scalars as Python ones
    (same-step autoreset's ``final_obs`` and ``final_info`` left out)."""
    info = {}
    for key, value in infos.items():
        if key.startswith("_") or key in FINAL_KEYS:
            continue
        mask = infos.get(f"_{key}")
        if mask is not None and not mask[index]:
            continue
        if isinstance(value, dict):
            info[key] = unbatch(value, index)
        else:
            entry = value[index]
            info[key] = entry.item() if isinstance(entry, np.generic) else entry
    return info


def step_infos(infos: dict[str, Any], ended: np.ndarray) -> tuple[dict[str, Any], ...]:
    """Each env's info of a same-step-autoreset step: an env whose episode ended has the step's
    in ``final_info`` (its reset's is dropped)."""
    return tuple(
        unbatch(infos["final_info"] if done else infos, index) for index, done in enumerate(ended)
    )


def final_observations(following: Any, infos: dict[str, Any], ended: np.ndarray) -> Any:
    """The observations a same-step-autoreset step led to: ``following`` with an ended
    episode's final observation in its row, instead of the next episode's first."""
    if not ended.any():
        return following
    final = infos["final_obs"]
    if isinstance(following, dict):
        observations = {key: value.copy() for key, value in following.items()}
        for index in np.flatnonzero(ended):
            for key in observations:
                observations[key][index] = final[index][key]
        return observations
    observations = following.copy()
    for index in np.flatnonzero(ended):
        observations[index] = final[index]
    return observations


def masked(infos: dict[str, Any], rows: np.ndarray) -> dict[str, Any]:
    """``infos`` with every mask narrowed to ``rows``."""
    narrowed = {}
    for key, value in infos.items():
        if key.startswith("_"):
            narrowed[key] = value & rows
        else:
            narrowed[key] = masked(value, rows) if isinstance(value, dict) else value
    return narrowed


def merge_rows(base: dict[str, Any], update: dict[str, Any], rows: np.ndarray) -> dict[str, Any]:
    """Vector infos with ``update``'s entries in ``rows`` and ``base``'s elsewhere."""
    merged = {}
    for key in {key for key in (*base, *update) if not key.startswith("_")}:
        base_mask = base.get(f"_{key}", np.zeros(len(rows), dtype=np.bool_)) & ~rows
        update_mask = update.get(f"_{key}", np.zeros(len(rows), dtype=np.bool_)) & rows
        if key not in update:
            merged[key] = base[key]
        elif isinstance(update[key], dict):
            merged[key] = merge_rows(base.get(key, {}), update[key], rows)
        else:
            value = update[key]
            if key in base:
                array = np.array(base[key], dtype=np.result_type(base[key], value))
            elif value.dtype == object:
                array = np.full(value.shape, None, dtype=object)
            else:
                array = np.zeros_like(value)
            array[update_mask] = value[update_mask]
            merged[key] = array
        merged[f"_{key}"] = base_mask | update_mask
    return merged
