"""Aggregate scores over runs (seeds) with rliable: mean and IQM with bootstrap 95% CIs.

Agarwal et al., "Deep Reinforcement Learning at the Edge of the Statistical Precipice",
NeurIPS 2021.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# rliable's aggregate functions by name. rliable (with arch, which it imports) takes seconds to
# load, so it is imported when runs are aggregated: not by every import of the evaluator (and so
# not by `envsuite-train --help`).
AGGREGATES = {"mean": "aggregate_mean", "iqm": "aggregate_iqm"}


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its 95% confidence interval."""

    value: float
    low: float
    high: float


def aggregate_runs(
    scores: np.ndarray,
    aggregates: tuple[str, ...] = ("mean", "iqm"),
    repetitions: int = 2000,
    seed: int = 0,
) -> dict[str, Estimate]:
    """Aggregates (``mean``, ``iqm``) of a ``(runs, tasks)`` array, with bootstrap 95% CIs.

    The bootstrap resamples runs within each task (rliable's stratified bootstrap). With a
    single run the interval collapses to the point (there is nothing to resample).
    """
    unknown = set(aggregates) - AGGREGATES.keys()
    if unknown:
        raise ValueError(f"aggregates must be among {sorted(AGGREGATES)}, got {sorted(unknown)}")
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 2 or scores.size == 0:
        raise ValueError(f"scores must have shape (runs, tasks), got {scores.shape}")
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores must be finite: drop or fill tasks without a value first")
    from rliable import library, metrics

    estimates = {}
    for name in aggregates:
        function = getattr(metrics, AGGREGATES[name])
        point = float(function(scores))
        if scores.shape[0] == 1:
            estimates[name] = Estimate(point, point, point)
            continue
        # rliable resamples with numpy's global generator (its random_state argument does not
        # reach the resampling): seed it for reproducible intervals, then restore the caller's.
        saved = np.random.get_state()
        np.random.seed(seed)
        try:
            _, intervals = library.get_interval_estimates(
                {"run": scores}, function, reps=repetitions
            )
        finally:
            np.random.set_state(saved)
        low, high = np.ravel(intervals["run"])
        estimates[name] = Estimate(point, float(low), float(high))
    return estimates
