"""The training loop of every agent: one agent (:class:`agents.common.Agent`) through a vector env
of a sequence, with continual evaluation, monitoring and checkpoints.

Each step: the agent acts, the envs step (ended episodes reset in the same step), the agent
observes the transition and updates; at a block end it hears of the task switch; then the
evaluator, the monitor and the checkpoints see the step. The clock is the sequence's
(``info["global_step"]``): one clock over a sequence's vector env, which a step of N envs
advances by N, so that periods are reached or passed rather than landed on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from agents.common.protocol import Agent, AgentState, MeasuringAgent, Transition
from agents.training.checkpoints import Checkpointer
from agents.training.monitor import TrainingMonitor
from envsuite.core.vector_infos import final_observations, step_infos
from envsuite.evaluation import ContinualEvaluator


def make_vector_env(make_env: Callable[[], gym.Env], num_envs: int = 1) -> gym.vector.VectorEnv:
    """A vector env for the loop of ``num_envs`` copies of ``make_env``'s env, an ended episode
    reset in the same step (its final observation and info in ``final_obs`` and
    ``final_info``): for envs on a clock of their own, like ``SingleTaskClock``.

    Copies of a sequence env would each play the whole schedule on their own clock: for a
    sequence use ``sequence.make_vector_env(num_envs, autoreset_mode="SameStep")``, one clock.
    """
    return gym.vector.SyncVectorEnv(
        [make_env] * num_envs, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP
    )


def train_agent(
    agent: Agent,
    env: gym.vector.VectorEnv,
    start_step: int,
    stop_step: int,
    *,
    evaluator: ContinualEvaluator | None = None,
    monitor: TrainingMonitor | None = None,
    checkpointer: Checkpointer | None = None,
    seed: int | None = None,
    reset_options: dict[str, Any] | None = None,
) -> int:
    """Train ``agent`` on ``env`` from global step ``start_step`` until ``stop_step``; returns
    the global step reached.

    Args:
        agent: the agent; its ``close`` is the caller's to call.
        env: a sequence's vector env with same-step autoreset
            (``sequence.make_vector_env(N, autoreset_mode="SameStep")``), or one from
            :func:`make_vector_env` over any env whose infos carry ``global_step`` and
            ``task_switched`` (like ``SingleTaskClock``).
        start_step: the global step the env starts at (a resumed run's checkpoint step).
        stop_step: the global step where training stops.
        evaluator: evaluates before training (unless it already has: a resumed run, a
            single-task run's later agents) and whenever :meth:`ContinualEvaluator.after_step`
            says.
        monitor: progress bar, ``metrics.jsonl`` and tensorboard scalars.
        checkpointer: saves the agent's state.
        seed: seeds the envs' first reset.
        reset_options: options of the first reset (``{"global_step": start_step}`` makes a
            sequence env jump to a resumed run's place in the schedule).
    """

    def evaluation_policy(
        observation: Any, state: AgentState, episode_start: np.ndarray
    ) -> tuple[np.ndarray, AgentState]:
        return agent.act(observation, state, episode_start, deterministic=True)

    measures = agent.evaluation_measures if isinstance(agent, MeasuringAgent) else None
    if evaluator is not None and evaluator.last_step is None:
        evaluator.before_training(evaluation_policy, measures)
    observation, _ = env.reset(seed=seed, options=reset_options)
    state: AgentState = None
    episode_start = np.ones(env.num_envs, dtype=bool)
    episode_return = np.zeros(env.num_envs)
    global_step = start_step
    while global_step < stop_step:
        action, state = agent.act(observation, state, episode_start, deterministic=False)
        following, reward, terminated, truncated, vector_infos = env.step(action)
        ended = terminated | truncated
        infos = step_infos(vector_infos, ended)
        agent.observe(
            Transition(
                observation=observation,
                action=action,
                reward=reward,
                next_observation=final_observations(following, vector_infos, ended),
                following_observation=following,
                terminated=terminated,
                truncated=truncated,
                infos=infos,
            )
        )
        scalars = agent.update()

        clock = infos[0]
        previous_step, global_step = global_step, int(clock["global_step"])
        block_end = bool(clock["task_switched"])
        # At a block end the agent anchors first, the evaluator takes its round, and only
        # then the checkpoint captures both.
        if block_end:
            agent.on_task_switch(clock)
        episode_return += reward
        finished = [float(value) for value in episode_return[ended]]
        episode_return[ended] = 0.0
        if monitor is not None:
            if scalars:
                monitor.log_agent(scalars, global_step)
            monitor.after_step(global_step, str(clock["task_name"]), finished, block_end)
        if evaluator is not None:
            evaluator.after_step(evaluation_policy, clock, measures)
        if checkpointer is not None:
            checkpointer.after_step(
                agent, previous_step, global_step, block_end, last=global_step >= stop_step
            )
        observation, episode_start = following, ended
    return global_step
