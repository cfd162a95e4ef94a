"""A Stable-Baselines3 callback running a :class:`ContinualEvaluator` during ``learn``."""

from __future__ import annotations

from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from envsuite.evaluation.evaluator import ContinualEvaluator


class ContinualEvalCallback(BaseCallback):
    """Evaluates the model on every task before training, every N steps and at block ends.

    The clock is the first training env's sequence (its ``info["global_step"]``), so with
    several training envs the evaluation steps are that env's. The callback may serve several
    ``learn`` calls (one per task, say): only the first evaluates before training, and the
    evaluator stays open; close it (or use it as a context manager) when training is over.
    """

    def __init__(
        self, evaluator: ContinualEvaluator, deterministic: bool = True, verbose: int = 0
    ) -> None:
        super().__init__(verbose)
        self.evaluator = evaluator
        self.deterministic = deterministic

    def policy(
        self, observations: Any, state: Any, episode_starts: np.ndarray
    ) -> tuple[np.ndarray, Any]:
        """``model.predict`` with the evaluator's state (recurrent SB3-contrib models carry
        theirs)."""
        return self.model.predict(
            observations, state, episode_starts, deterministic=self.deterministic
        )

    def _on_training_start(self) -> None:
        if self.evaluator.last_step is None:
            self.evaluator.before_training(self.policy)

    def _on_step(self) -> bool:
        summary = self.evaluator.after_step(self.policy, self.locals["infos"][0])
        if summary is not None and self.verbose:
            print(f"evaluation at step {self.evaluator.last_step}: {summary}")
        return True
