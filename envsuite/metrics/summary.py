"""Every scalar metric of one run, by name: what reports print and ``metrics.json`` stores."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from envsuite.metrics import continual_world, gem, l2m, libero, stability
from envsuite.metrics.continual_world import ReferenceCurve
from envsuite.metrics.readings import DEFAULT_READINGS, Readings
from envsuite.metrics.rounds import BEFORE_TRAINING, Rounds, mean_or_nan

# name -> (higher is better, one-line meaning); the report prints them in this order.
METRICS: dict[str, tuple[bool, str]] = {
    "average_performance": (True, "Continual World P(T): mean over tasks at the end"),
    "forgetting": (False, "Continual World: end of a block minus end of run, mean over blocks"),
    "forward_transfer": (True, "Continual World: AUC against single-task references, per block"),
    "backward_transfer": (True, "GEM BWT: end of run minus end of task"),
    "forward_transfer_gem": (True, "GEM FWT: before a task's training minus before any"),
    "libero_fwt": (True, "LIBERO FWT: mean while a task is learned, held at its best"),
    "libero_nbt": (False, "LIBERO NBT: best while learned minus after later tasks"),
    "libero_auc": (True, "LIBERO AUC"),
    "performance_maintenance": (True, "L2M: later evaluations minus the one after training"),
    "forward_transfer_ratio": (True, "L2M: after / before training another task (1: none)"),
    "forward_transfer_contrast": (True, "L2M: (after - before) / (after + before) (0: none)"),
    "backward_transfer_ratio": (True, "L2M: as forward, for tasks trained earlier"),
    "backward_transfer_contrast": (True, "L2M: as forward, for tasks trained earlier"),
    "relative_performance": (True, "L2M: area under the curve over a single-task expert's"),
    "sample_efficiency": (True, "L2M: saturation and speed relative to the expert"),
    "min_accuracy": (True, "stability gap: lowest performance after training, mean"),
    "worst_case_accuracy": (True, "stability gap: WC-ACC"),
    "windowed_forgetting": (False, "stability gap: largest drop within a window, mean"),
}

# The metrics that read single-task reference curves: NaN without them.
REFERENCE_METRICS = ("forward_transfer", "relative_performance", "sample_efficiency")


def summarize(
    rounds: Rounds,
    references: Mapping[int, ReferenceCurve] | None = None,
    readings: Readings = DEFAULT_READINGS,
    block_metrics: bool = True,
) -> dict[str, float]:
    """Every metric in ``METRICS`` for one run; NaN where it is undefined for this run.

    ``references`` (single-task learning curves) enable Continual World's forward transfer and
    L2M's relative performance and sample efficiency. ``readings`` picks the reading of every
    source whose paper and code disagree, and the windowed-forgetting window (defaults: the
    sources' code). ``block_metrics=False`` (a run not evaluated at its block ends, whose
    rounds' blocks are not the schedule's) leaves only ``average_performance``.
    """
    average = continual_world.average_performance(rounds, readings.continual_world)
    if not block_metrics:
        return {name: float("nan") for name in METRICS} | {"average_performance": average}
    if not rounds.blocks():
        raise ValueError("no training block: every round was evaluated before training")
    values = {
        "average_performance": average,
        "forgetting": mean_or_nan(continual_world.forgetting(rounds, readings.continual_world)),
        "backward_transfer": gem.backward_transfer(rounds, readings.gem),
        "forward_transfer_gem": (
            gem.forward_transfer(rounds, readings.gem)
            if rounds.trained_task[0] == BEFORE_TRAINING
            else float("nan")
        ),
        "libero_fwt": mean_or_nan(libero.forward_transfer(rounds)),
        "libero_nbt": mean_or_nan(libero.negative_backward_transfer(rounds)),
        "libero_auc": mean_or_nan(libero.area_under_curve(rounds)),
        "performance_maintenance": mean_or_nan(l2m.performance_maintenance(rounds)),
        "min_accuracy": stability.min_accuracy(rounds),
        "worst_case_accuracy": stability.worst_case_accuracy(rounds),
        "windowed_forgetting": stability.windowed_forgetting(
            rounds, readings.window, readings.window_unit
        ),
    }
    for direction in ("forward", "backward"):
        for method in l2m.TRANSFER_METHODS:
            values[f"{direction}_transfer_{method}"] = l2m.mean_transfer(
                l2m.transfer(rounds, direction, method)
            )
    if references:
        values["forward_transfer"] = mean_or_nan(
            continual_world.forward_transfer(rounds, references, readings.continual_world)
        )
        values["relative_performance"] = mean_or_nan(l2m.relative_performance(rounds, references))
        values["sample_efficiency"] = mean_or_nan(l2m.sample_efficiency(rounds, references))
    else:
        for name in REFERENCE_METRICS:
            values[name] = float("nan")
    return {name: float(values[name]) for name in METRICS}


def _floats(values: np.ndarray) -> list[float]:
    return [float(value) for value in np.asarray(values)]


def per_task(
    rounds: Rounds, readings: Readings = DEFAULT_READINGS, block_metrics: bool = True
) -> dict[str, list[float]]:
    """Per-task metrics (NaN where undefined), for tables and ``metrics.json``; only the final
    performance without ``block_metrics`` (see :func:`summarize`)."""
    final = continual_world.final_performance(rounds, readings.continual_world)
    if not block_metrics:
        return {"final_performance": _floats(final)}
    arrays = {
        "final_performance": final,
        "libero_fwt": libero.forward_transfer(rounds),
        "libero_nbt": libero.negative_backward_transfer(rounds),
        "performance_maintenance": l2m.performance_maintenance(rounds),
        "min_accuracy": stability.min_accuracy_per_task(rounds),
        "windowed_forgetting": stability.windowed_forgetting_per_task(
            rounds, readings.window, readings.window_unit
        ),
    }
    return {name: _floats(array) for name, array in arrays.items()}


def per_block(
    rounds: Rounds,
    references: Mapping[int, ReferenceCurve] | None = None,
    readings: Readings = DEFAULT_READINGS,
) -> dict[str, list]:
    """Continual World's per-block metrics, one entry per training block in order (a task
    trained in several blocks, like CW20's, has one per block): ``task`` (its name),
    ``forgetting`` and ``forward_transfer`` (NaN without a reference for the task)."""
    blocks = rounds.blocks()
    transfer = (
        continual_world.forward_transfer(rounds, references, readings.continual_world)
        if references
        else np.full(len(blocks), np.nan)
    )
    return {
        "task": [rounds.task_names[block.task] for block in blocks],
        "forgetting": _floats(continual_world.forgetting(rounds, readings.continual_world)),
        "forward_transfer": _floats(transfer),
    }
