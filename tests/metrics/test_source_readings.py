"""Per source, a hand-computed run where the paper's and the code's readings differ: ours gives
the code's by default and the paper's on request; and every bad reading or window is named."""

from __future__ import annotations

import numpy as np
import pytest

from envsuite.metrics import Rounds, libero


def one_task(steps: list[int], trained: list[int], curve: list[float]) -> Rounds:
    return Rounds(np.array(steps), np.array(trained), np.array(curve)[:, None], ("a",))


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
