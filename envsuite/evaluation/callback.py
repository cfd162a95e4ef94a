"""A Stable-Baselines3 callback running a :class:`ContinualEvaluator` during ``learn``."""

from __future__ import annotations

from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from envsuite.evaluation.evaluator import ContinualEvaluator


class ContinualEvalCallback(BaseCallback):
    """Evaluates the model on every task before training, every N steps and at block ends.

    The clock is the training envs' sequence (``info["global_step"]``). Several training envs
    must share it, as a sequence's vector env does (``envsuite.sb3.sequence_vec_env``, or
    :class:`envsuite.sb3.GymnasiumVecEnv` over ``gym.make_vec(sequence_id, N,
    autoreset_mode="SameStep")``): SB3's ``make_vec_env`` or ``DummyVecEnv`` over copies of the
    sequence env gives each copy its own clock, which would run the schedule ``N`` times over
    and evaluate a fraction of the rounds; the callback refuses such envs at their second step.
    The callback may serve several ``learn`` calls (one per task, say): only the first evaluates
    before training, and the evaluator stays open; close it (or use it as a context manager)
    when training is over.
    """

    def __init__(
        self, evaluator: ContinualEvaluator, deterministic: bool = True, verbose: int = 0
    ) -> None:
        super().__init__(verbose)
        self.evaluator = evaluator
        self.deterministic = deterministic
        self.previous_clock: int | None = None

    def policy(
        self, observations: Any, state: Any, episode_starts: np.ndarray
    ) -> tuple[np.ndarray, Any]:
        """``model.predict`` with the evaluator's state (recurrent SB3-contrib models carry
        theirs)."""
        return self.model.predict(
            observations, state, episode_starts, deterministic=self.deterministic
        )

    def _on_training_start(self) -> None:
        self.previous_clock = None
        if self.evaluator.last_step is None:
            self.evaluator.before_training(self.policy)

    def _on_step(self) -> bool:
        infos = self.locals["infos"]
        self._check_one_clock([int(info["global_step"]) for info in infos])
        summary = self.evaluator.after_step(self.policy, infos[0])
        if summary is not None and self.verbose:
            print(f"evaluation at step {self.evaluator.last_step}: {summary}")
        return True

    def _check_one_clock(self, clocks: list[int]) -> None:
        """Every env reports one global step, which a step of N envs advances by N."""
        previous, self.previous_clock = self.previous_clock, clocks[0]
        advance = None if previous is None else clocks[0] - previous
        if len(set(clocks)) == 1 and advance in (None, len(clocks)):
            return
        raise ValueError(
            f"ContinualEvalCallback: the {len(clocks)} training envs do not play one clock "
            f"(global steps {sorted(set(clocks))}, advanced by {advance} in a step of "
            f"{len(clocks)} envs): each copy of a sequence env plays the whole schedule on its "
            "own, so the evaluator would miss rounds. Train on the sequence's vector env: "
            "envsuite.sb3.sequence_vec_env(sequence, num_envs)"
        )
