"""Per source, a hand-computed run where the paper's and the code's readings differ: ours gives
the code's by default and the paper's on request; and every bad reading or window is named."""

from __future__ import annotations

import math

import numpy as np
import pytest

from envsuite.metrics import Readings, Rounds, gem, libero, stability, summarize


def one_task(steps: list[int], trained: list[int], curve: list[float]) -> Rounds:
    return Rounds(np.array(steps), np.array(trained), np.array(curve)[:, None], ("a",))


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


READING = r"must be one of \('code', 'paper'\), got "
UNIT = r"window_unit must be one of \('evaluations', 'steps'\), got "
ROUNDS = one_task([0, 10], [-1, 0], [0.2, 0.7])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: gem.backward_transfer(THREE_TASKS, "papr"), "^reading " + READING + "'papr'"),
        (lambda: gem.forward_transfer(THREE_TASKS, "Code"), "^reading " + READING + "'Code'"),
        (lambda: Readings(gem=None), "^gem " + READING + "None"),
        (lambda: Readings(window=0), r"^window must be a positive integer \(evaluations\), got 0"),
        (lambda: Readings(window_unit="rounds"), "^" + UNIT + "'rounds'"),
        (
            lambda: stability.windowed_forgetting(ROUNDS, 0),
            r"^window must be a positive integer \(evaluations\), got 0",
        ),
        (
            lambda: stability.windowed_forgetting(ROUNDS, 2.5),
            r"^window must be a positive integer .*, got 2.5",
        ),
        (
            lambda: stability.windowed_forgetting(ROUNDS, True),
            r"^window must be a positive integer .*, got True",
        ),
        (
            lambda: stability.windowed_forgetting(ROUNDS, -3, "steps"),
            r"^window must be a positive integer \(steps\), got -3",
        ),
        (lambda: stability.windowed_forgetting(ROUNDS, 3, "step"), "^" + UNIT + "'step'"),
    ],
)
def test_mistakes_name_the_argument_and_the_allowed_values(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
