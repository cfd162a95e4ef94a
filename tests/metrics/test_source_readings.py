"""Per source, a hand-computed run where the paper's and the code's readings differ: ours gives
the code's by default and the paper's on request; and every bad reading or window is named."""

from __future__ import annotations

import math

import numpy as np
import pytest

from envsuite.metrics import Readings, Rounds, continual_world, gem, libero, stability, summarize
from envsuite.metrics.summary import per_block


def one_task(steps: list[int], trained: list[int], curve: list[float]) -> Rounds:
    return Rounds(np.array(steps), np.array(trained), np.array(curve)[:, None], ("a",))


# Continual World ---------------------------------------------------------------------------


def test_continual_world_forward_transfer_averages_evaluations_in_the_code() -> None:
    # The issue's curve 0, .5, 1 (start round, then two rounds) against a flat-0 reference.
    rounds = one_task([0, 50, 100], [-1, 0, 0], [0, 0.5, 1])
    flat = {0: (np.array([50, 100]), np.zeros(2))}
    # tables.py: the mean of the evaluations logged while the task trains, (.5 + 1) / 2.
    np.testing.assert_allclose(continual_world.forward_transfer(rounds, flat), [0.75])
    # The paper's integral: trapezoids (0 + .5) / 2 and (.5 + 1) / 2 over two halves.
    np.testing.assert_allclose(continual_world.forward_transfer(rounds, flat, "paper"), [0.5])


def test_continual_world_reference_reading() -> None:
    # Two sequential tasks; task a's reference reaches 1 at once, task b's climbs to .5.
    rounds = Rounds(
        np.array([0, 50, 100, 150, 200]),
        np.array([-1, 0, 0, 1, 1]),
        np.array([[0, 0], [0.5, 0.1], [1, 0.2], [0.6, 0.6], [0.8, 1]]),
        ("a", "b"),
    )
    references = {
        0: (np.array([0, 50, 100]), np.array([0, 1.0, 1.0])),
        1: (np.array([0, 100, 200]), np.array([0, 0.5, 0.9])),
    }
    # Code: a's reference evaluations in (0, 100] are 1 and 1: AUC^ref = 1, undefined. b's are
    # .5 alone (step 0 is before training, step 200 past the block): (.8 - .5) / .5.
    np.testing.assert_allclose(
        continual_world.forward_transfer(rounds, references), [np.nan, 0.6], equal_nan=True
    )
    # Paper: a's trapezoids .5 against .75; b's .6 against .25 (0 -> .5 over 100 steps).
    np.testing.assert_allclose(
        continual_world.forward_transfer(rounds, references, "paper"),
        [(0.5 - 0.75) / 0.25, (0.6 - 0.25) / 0.75],
    )


def test_continual_world_ends_are_the_last_five_evaluations_in_the_code() -> None:
    # Seven rounds of one task after an evaluation before training (which CW never logs).
    rounds = one_task(list(range(0, 80, 10)), [-1] + [0] * 7, [0.9, 0, 0.1, 0.2, 0.3, 0.4, 0.5, 1])
    np.testing.assert_allclose(continual_world.final_performance(rounds), [0.48])
    np.testing.assert_allclose(continual_world.final_performance(rounds, "paper"), [1.0])
    # Fewer than 5 rounds after training: the mean of those there, never the one before.
    short = one_task([0, 10, 20], [-1, 0, 0], [0.9, 0.2, 0.4])
    np.testing.assert_allclose(continual_world.final_performance(short), [0.3])
    assert continual_world.average_performance(short, "paper") == pytest.approx(0.4)


def test_continual_world_gives_one_forgetting_per_occurrence() -> None:
    # a, b, a, b (a cycles schedule, as CW20 plays CW10 twice): one F and FT per block.
    rounds = Rounds(
        np.array([0, 10, 20, 30, 40]),
        np.array([-1, 0, 1, 0, 1]),
        np.array([[0, 0], [0.8, 0.1], [0.3, 0.9], [1.0, 0.5], [0.6, 0.7]]),
        ("a", "b"),
    )
    # Paper reading: each block's end minus the task's end of run (a: .6, b: .7).
    np.testing.assert_allclose(
        continual_world.forgetting(rounds, "paper"), [0.8 - 0.6, 0.9 - 0.7, 1.0 - 0.6, 0]
    )
    # Code reading: the run's last 5 rounds after training are all four.
    final = [(0.8 + 0.3 + 1.0 + 0.6) / 4, (0.1 + 0.9 + 0.5 + 0.7) / 4]
    np.testing.assert_allclose(
        continual_world.forgetting(rounds),
        [0.8 - final[0], 0.9 - final[1], 1.0 - final[0], 0.7 - final[1]],
    )
    reference = (np.array([10]), np.array([0.5]))
    table = per_block(rounds, {0: reference}, Readings(continual_world="paper"))
    assert table["task"] == ["a", "b", "a", "b"]
    # Task a's blocks against its reference; b has none. Paper: trapezoid of 0 -> .8 = .4.
    np.testing.assert_allclose(
        table["forward_transfer"], [(0.4 - 0.5) / 0.5, np.nan, (0.65 - 0.5) / 0.5, np.nan]
    )


# GEM ------------------------------------------------------------------------------------


THREE_TASKS = Rounds(
    np.array([0, 10, 20, 30]),
    np.array([-1, 0, 1, 2]),
    np.array([[0.1, 0.2, 0.0], [0.9, 0.4, 0.1], [0.5, 0.8, 0.3], [0.4, 0.6, 0.7]]),
    ("a", "b", "c"),
)


def test_gem_averages_over_all_tasks_in_the_code_and_one_fewer_in_the_paper() -> None:
    backward = (0.4 - 0.9) + (0.6 - 0.8)  # the last task adds 0
    forward = (0.4 - 0.2) + (0.3 - 0.0)  # the first task adds 0
    assert gem.backward_transfer(THREE_TASKS) == pytest.approx(backward / 3)
    assert gem.backward_transfer(THREE_TASKS, "paper") == pytest.approx(backward / 2)
    assert gem.forward_transfer(THREE_TASKS) == pytest.approx(forward / 3)
    assert gem.forward_transfer(THREE_TASKS, "paper") == pytest.approx(forward / 2)
    summary = summarize(THREE_TASKS, readings=Readings(gem="paper"))
    assert summary["backward_transfer"] == pytest.approx(backward / 2)


def test_gem_with_one_task_is_zero_in_the_code_and_undefined_in_the_paper() -> None:
    rounds = one_task([0, 10], [-1, 0], [0.2, 0.7])
    assert gem.backward_transfer(rounds) == 0
    assert gem.forward_transfer(rounds) == 0
    assert math.isnan(gem.backward_transfer(rounds, "paper"))
    assert math.isnan(gem.forward_transfer(rounds, "paper"))


# LIBERO ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("curve", "expected"),
    [
        ([0, 0.6, 0.2], (0 + 0.6 + 0.6) / 3),  # the issue's: 0.40, not the raw 0.27
        # Held from the earliest of two equal bests: 0 .6 .6 .6, not 0 .6 .2 .6.
        ([0, 0.6, 0.2, 0.6], (0 + 0.6 * 3) / 4),
        ([0.5, 0.4, 0.3], 0.5),
    ],
)
def test_libero_fwt_holds_the_curve_at_its_best(curve: list[float], expected: float) -> None:
    rounds = one_task(list(range(0, 10 * len(curve), 10)), [-1] + [0] * (len(curve) - 1), curve)
    np.testing.assert_allclose(libero.forward_transfer(rounds), [expected])


def test_libero_nbt_averages_over_all_tasks_the_last_counting_zero() -> None:
    # LIBERO's compute_metric: NBT_k over the later tasks, the last task's empty sum 0, then
    # the sum over k divided by all K = 3 tasks (not by the 2 that have a later task).
    # a: best .9 while learned (rounds 0-1), then .5 and .4 at the ends of b and c;
    # b: best .8 (rounds 1-2), then .6 at the end of c; c: no later task.
    nbt_a = 0.9 - (0.5 + 0.4) / 2
    nbt_b = 0.8 - 0.6
    np.testing.assert_allclose(libero.negative_backward_transfer(THREE_TASKS), [nbt_a, nbt_b, 0])
    assert summarize(THREE_TASKS)["libero_nbt"] == pytest.approx((nbt_a + nbt_b + 0) / 3)
    # A task never trained has no value and is left out of the mean.
    rounds = Rounds(
        np.array([0, 10]), np.array([-1, 0]), np.array([[0.1, 0.2], [0.5, 0.3]]), ("a", "b")
    )
    np.testing.assert_allclose(libero.negative_backward_transfer(rounds), [0, np.nan])


# Stability gap --------------------------------------------------------------------------


def issue_example() -> Rounds:
    return Rounds(
        np.array([0, 10, 20]),
        np.array([-1, 0, 1]),
        np.array([[0, 0], [0.9, 0], [0.5, 0.8]]),
        ("a", "b"),
    )


@pytest.mark.parametrize(
    ("window", "unit"), [(10, "evaluations"), (2, "evaluations"), (10, "steps")]
)
def test_windowed_forgetting_counts_the_last_task(window: int, unit: str) -> None:
    # a drops .9 -> .5; b, trained last, has one evaluation and counts 0 (not left out: 0.4).
    rounds = issue_example()
    np.testing.assert_allclose(
        stability.windowed_forgetting_per_task(rounds, window, unit), [0.4, 0]
    )
    assert stability.windowed_forgetting(rounds, window, unit) == pytest.approx(0.2)


def test_windowed_forgetting_tracks_a_task_from_its_first_training() -> None:
    # The only trained task drops during its own block, which ends at the last round (was NaN).
    rounds = one_task([0, 10, 20], [-1, 0, 0], [0.5, 0.9, 0.6])
    assert stability.windowed_forgetting(rounds) == pytest.approx(0.3)
    # The first task counts the evaluation before any training; a later task does not count
    # the round before its block (b's .7 at step 10 is a's block end).
    rounds = Rounds(
        np.array([0, 10, 20]),
        np.array([-1, 0, 1]),
        np.array([[0.8, 0.9], [0.5, 0.7], [0.5, 0.2]]),
        ("a", "b"),
    )
    np.testing.assert_allclose(stability.windowed_forgetting_per_task(rounds), [0.3, 0])
    # Without a round before training, a single evaluation is an empty window: 0, not NaN.
    assert stability.windowed_forgetting(one_task([10], [0], [0.4])) == 0


def test_windowed_forgetting_windows_in_evaluations_and_in_steps() -> None:
    # Evaluations at uneven steps (a block end between regular rounds).
    rounds = one_task([0, 10, 15, 20, 30], [-1, 0, 0, 0, 0], [1.0, 0.9, 0.8, 0.7, 0.0])
    # Three evaluations hold pairs at most two apart: .8 -> 0 (steps 15, 30).
    assert stability.windowed_forgetting(rounds, 3) == pytest.approx(0.8)
    # Within 15 steps, 15 -> 30 is a pair too; within 14 steps the largest drop is 20 -> 30.
    assert stability.windowed_forgetting(rounds, 15, "steps") == pytest.approx(0.8)
    assert stability.windowed_forgetting(rounds, 14, "steps") == pytest.approx(0.7)
    # A window of one evaluation holds no pair.
    assert stability.windowed_forgetting(rounds, 1) == 0


# Mistakes --------------------------------------------------------------------------------


ALLOWED = r"; allowed: \['code', 'paper'\]$"
UNIT = r"^window_unit: unknown window_unit {}; allowed: \['evaluations', 'steps'\]$"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: gem.backward_transfer(THREE_TASKS, "papr"),
            "^reading: unknown reading 'papr'" + ALLOWED,
        ),
        (
            lambda: gem.forward_transfer(THREE_TASKS, "Code"),
            "^reading: unknown reading 'Code'" + ALLOWED,
        ),
        (lambda: continual_world.forgetting(THREE_TASKS, "both"), "^reading: .*" + ALLOWED),
        (lambda: continual_world.forward_transfer(THREE_TASKS, {}, "x"), "^reading: .*" + ALLOWED),
        (lambda: continual_world.average_performance(THREE_TASKS, ""), "^reading: .*" + ALLOWED),
        (
            lambda: Readings(continual_world="papers"),
            "^continual_world: unknown continual_world 'papers'" + ALLOWED,
        ),
        (lambda: Readings(gem=None), "^gem: unknown gem None" + ALLOWED),
        (lambda: Readings(window=0), r"^window must be a positive integer \(evaluations\), got 0"),
        (lambda: Readings(window=2.5), r"^window must be a positive integer .*, got 2.5"),
        (lambda: Readings(window=True), r"^window must be a positive integer .*, got True"),
        (lambda: Readings(window_unit="rounds"), UNIT.format("'rounds'")),
        (
            lambda: stability.windowed_forgetting(THREE_TASKS, -3, "steps"),
            r"^window must be a positive integer \(steps\), got -3",
        ),
        (lambda: stability.windowed_forgetting(THREE_TASKS, 3, "step"), UNIT.format("'step'")),
    ],
)
def test_mistakes_name_the_argument_and_the_allowed_values(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
