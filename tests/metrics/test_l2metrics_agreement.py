"""Our L2M metrics against l2metrics, the DARPA L2M reference implementation, on the same runs.

Each :class:`Rounds` is written as l2logger logs: every round is an evaluation ("test") block
that evaluates every task, and the steps before a round are one "train" block of the task
trained in them. l2metrics' MetricsReport then scores the logs with normalization, smoothing
and outlier clamping off, and its lifetime values must equal ours: performance maintenance
("mrlep"), forward and backward transfer (ratio and contrast). Per task pair and per task values
are compared too, so a disagreement names the pair or task it comes from.
"""

from __future__ import annotations

import math
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from envsuite.metrics import Rounds, l2m
from envsuite.metrics.rounds import mean_or_nan

l2metrics_report = pytest.importorskip("l2metrics.report")
l2logger = pytest.importorskip("l2logger.l2logger")

# l2metrics takes 0.1-0.5 s a report: about 4 s in all.
pytestmark = pytest.mark.slow

PERF_MEASURE = "reward"
# A round's performance of a task is the mean of its evaluation episodes: each is written as
# these offsets around it (l2metrics' terminal performance of a test regime averages all of its
# points: get_terminal_perf sets term_window_ratio = 1 for test blocks). Powers of two, so a
# performance of 0 stays exactly 0 (ratios skip a zero "before").
EVALUATION_OFFSETS = (-0.25, 0.0, 0.25)
# Training episodes' values enter none of the compared metrics (only "mrtlp" maintenance would).
TRAINING_VALUES = (0.3, 0.1)

TRANSFERS = [
    (f"{direction}_transfer_{method}", direction, method)
    for direction in ("forward", "backward")
    for method in l2m.TRANSFER_METHODS
]
MAINTENANCE = "perf_maintenance_mrlep"
LIFETIME_METRICS = [MAINTENANCE, *(name for name, _, _ in TRANSFERS)]


@pytest.fixture(scope="module", autouse=True)
def l2metrics_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep l2metrics off ~/l2data, and let l2metrics 3.1 run on NumPy 2.

    l2metrics reads single-task-expert data from ``$L2DATA/taskinfo`` (an empty folder here: no
    STE metrics) and still spells NaN ``np.NaN``, which NumPy 2 removed.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("L2DATA", str(tmp_path_factory.mktemp("l2data")))
        patch.setattr(np, "NaN", np.nan, raising=False)
        yield


def log_names(rounds: Rounds) -> list[str]:
    """l2logger task names (l2metrics lowercases names and expects ``<task>_<variant>``)."""
    return [f"task{index}_v0" for index in range(rounds.num_tasks)]


def write_logs(rounds: Rounds, directory: Path) -> Path:
    """Write ``rounds`` as an l2logger scenario under ``directory``; return the scenario folder."""
    names = log_names(rounds)
    logger = l2logger.DataLogger(
        str(directory),
        "envsuite",
        {"metrics_columns": [PERF_MEASURE]},
        {"scenario_type": "custom", "complexity": "1-low", "difficulty": "1-easy"},
    )
    block_num = 0
    exp_num = 0

    def record(block_type: str, task: int, value: float) -> None:
        nonlocal exp_num
        logger.log_record(
            {
                "block_num": block_num,
                "exp_num": exp_num,
                "block_type": block_type,
                "worker_id": "worker-0",
                "task_name": names[task],
                "task_params": {},
                "exp_status": "complete",
                PERF_MEASURE: value,
            }
        )
        exp_num += 1

    for round_index, trained in enumerate(rounds.trained_task):
        if trained >= 0:
            for value in TRAINING_VALUES:
                record("train", int(trained), value)
            block_num += 1
        for task in range(rounds.num_tasks):
            for offset in EVALUATION_OFFSETS:
                record("test", task, float(rounds.performance[round_index, task]) + offset)
        block_num += 1
    logger.close()
    return Path(logger.scenario_dir)


def l2metrics_values(rounds: Rounds) -> dict[str, object]:
    """l2metrics' lifetime values, per-pair transfers and per-task maintenance of ``rounds``."""
    with tempfile.TemporaryDirectory() as directory, warnings.catch_warnings():
        # l2metrics' own pandas deprecations and means of empty slices (tasks never trained).
        warnings.simplefilter("ignore")
        report = l2metrics_report.MetricsReport(
            log_dir=write_logs(rounds, Path(directory)),
            perf_measure=PERF_MEASURE,
            variant_mode="aware",
            aggregation_method="mean",
            maintenance_method="mrlep",
            transfer_method="both",
            normalization_method="none",
            smoothing_method="none",
            do_smooth_eval_data=False,
            clamp_outliers=False,
        )
        report.calculate()
    lifetime = report.lifetime_metrics_df
    values: dict[str, object] = {
        name: _float(lifetime[name].iloc[0]) if len(lifetime) else math.nan
        for name in LIFETIME_METRICS
    }
    index = {name: position for position, name in enumerate(log_names(rounds))}
    for name, _, _ in TRANSFERS:
        # {source: {target: [the value of each interval, in order]}}; a pair's value is the first.
        values[f"{name} pairs"] = {
            (index[source], index[target]): float(pair_values[0])
            for source, targets in getattr(report, name).items()
            for target, pair_values in targets.items()
        }
    per_task = report.task_metrics_df.get(MAINTENANCE)
    values[f"{MAINTENANCE} per task"] = [
        math.nan if per_task is None else _float(per_task[name]) for name in log_names(rounds)
    ]
    return values


def our_values(rounds: Rounds) -> dict[str, object]:
    maintenance = l2m.performance_maintenance(rounds)
    values: dict[str, object] = {
        MAINTENANCE: mean_or_nan(maintenance),
        f"{MAINTENANCE} per task": maintenance.tolist(),
    }
    for name, direction, method in TRANSFERS:
        pairs = l2m.transfer(rounds, direction, method)
        values[name] = l2m.mean_transfer(pairs)
        values[f"{name} pairs"] = pairs
    return values


def _float(value: object) -> float:
    return math.nan if value is None else float(value)  # type: ignore[arg-type]


def assert_agree(rounds: Rounds) -> None:
    theirs = l2metrics_values(rounds)
    ours = our_values(rounds)
    for name in LIFETIME_METRICS:
        assert ours[name] == pytest.approx(theirs[name], nan_ok=True), name
    for name, _, _ in TRANSFERS:
        pairs = f"{name} pairs"
        assert ours[pairs] == pytest.approx(theirs[pairs]), pairs
    per_task = f"{MAINTENANCE} per task"
    assert ours[per_task] == pytest.approx(theirs[per_task], nan_ok=True), per_task


def make_rounds(trained: list[int], performance: list[list[float]]) -> Rounds:
    performance_array = np.array(performance, dtype=float)
    return Rounds(
        steps=np.arange(len(trained)) * 100,
        trained_task=np.array(trained),
        performance=performance_array,
        task_names=tuple(f"t{task}" for task in range(performance_array.shape[1])),
    )


# The hand-computed run of test_metrics.py (``HAND``): two tasks trained in order, evaluated
# before training and twice per block; its zeros exercise the skipped ratios.
HAND = make_rounds([-1, 0, 0, 1, 1], [[0, 0], [0.5, 0.1], [1, 0.2], [0.6, 0.6], [0.8, 1]])

CASES = {
    "hand": HAND,
    # Three tasks in order, 2-3 rounds per block; forgetting, and positive and negative transfer.
    "sequential": make_rounds(
        [-1, 0, 0, 0, 1, 1, 2, 2, 2],
        [
            [0.10, 0.20, 0.30],
            [0.40, 0.25, 0.25],
            [0.70, 0.30, 0.20],
            [0.90, 0.35, 0.30],
            [0.60, 0.60, 0.40],
            [0.50, 0.90, 0.45],
            [0.45, 0.70, 0.60],
            [0.55, 0.65, 0.80],
            [0.50, 0.60, 0.95],
        ],
    ),
    # Tasks trained twice (0, 1, 0, 1): maintenance restarts from the latest training, and
    # the second visits add backward transfer in both directions.
    "cycles": make_rounds(
        [-1, 0, 0, 1, 1, 0, 0, 1, 1],
        [
            [0.20, 0.10],
            [0.50, 0.15],
            [0.80, 0.20],
            [0.50, 0.50],
            [0.40, 0.80],
            [0.70, 0.60],
            [0.90, 0.55],
            [0.70, 0.85],
            [0.65, 0.95],
        ],
    ),
    # Training before the first evaluation, a task never trained, and zeros: a ratio with a
    # zero "before" and a contrast of 0 -> 0 have no value, so the pair takes a later interval.
    "zeros_untrained_no_initial_evaluation": make_rounds(
        [0, 0, 1, 1, 0],
        [
            [0.5, 0.0, 0.0],
            [0.7, 0.0, 0.2],
            [0.6, 0.4, 0.0],
            [0.3, 0.8, 0.1],
            [0.9, 0.6, 0.3],
        ],
    ),
}


@pytest.mark.parametrize("rounds", CASES.values(), ids=CASES.keys())
def test_agrees_with_l2metrics(rounds: Rounds) -> None:
    assert_agree(rounds)


def test_hand_values_from_l2metrics() -> None:
    """l2metrics itself gives the values worked out by hand in test_metrics.py."""
    theirs = l2metrics_values(HAND)
    assert theirs[MAINTENANCE] == pytest.approx(((0.6 - 1) + (0.8 - 1)) / 2)
    assert theirs["forward_transfer_ratio"] == pytest.approx(0.2 / 0.1)
    assert theirs["forward_transfer_contrast"] == pytest.approx((0.1 - 0) / (0.1 + 0))
    assert theirs["backward_transfer_ratio"] == pytest.approx(0.6 / 1)
    assert theirs["backward_transfer_contrast"] == pytest.approx((0.6 - 1) / (0.6 + 1))


@st.composite
def runs(draw: st.DrawFn) -> Rounds:
    """Small runs: 2-4 tasks, 2-5 training blocks of 1-3 rounds in any order (tasks may recur or
    never train), with or without an evaluation before training; performance in [0, 1], zeros
    included."""
    num_tasks = draw(st.integers(2, 4))
    blocks = draw(
        st.lists(
            st.tuples(st.integers(0, num_tasks - 1), st.integers(1, 3)), min_size=2, max_size=5
        )
    )
    trained = [-1] if draw(st.booleans()) else []
    for task, length in blocks:
        trained.extend([task] * length)
    value = st.one_of(st.just(0.0), st.floats(0.05, 1.0))
    performance = draw(
        st.lists(
            st.lists(value, min_size=num_tasks, max_size=num_tasks),
            min_size=len(trained),
            max_size=len(trained),
        )
    )
    return make_rounds(trained, performance)


@settings(max_examples=10, deadline=None)
@given(runs())
def test_agrees_with_l2metrics_on_random_runs(rounds: Rounds) -> None:
    assert_agree(rounds)
