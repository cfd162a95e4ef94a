"""DreamerV3 as an agent of the training loop: act with the world model's filter and the actor,
store every step in sequence replay, and update world model, actor and critic at
``train_ratio``.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from agents.buffers import FieldSpec, SequenceBuffer
from agents.common.observations import ObservationLayout
from agents.common.protocol import AgentContext, AgentState, Transition
from agents.dreamer.behavior import ActionCoding, ActorCritic, BehaviorSettings, parameter_count
from agents.dreamer.config import SIZES, DreamerConfig, Precision
from agents.dreamer.networks import MLP, ImageDecoder, ImageEncoder, NormLayer
from agents.dreamer.rssm import Latent, NormGRUCell
from agents.dreamer.world_model import Head, WorldModel, video_of

# What the replay stores with every step besides the transition, for its diagnostics.
REPLAY_TAGS = {"task": FieldSpec((), np.int16), "step": FieldSpec((), np.int64)}
# Windows of each task's held-out steps the world model's loss is measured on, drawn once.
HELD_OUT_WINDOWS = 32
# Seeds the held-out stores (with the run's seed and the task) apart from the replay's.
HELD_OUT_STREAM = 2
# The open-loop video: windows side by side, and the steps filtered before imagining.
VIDEO_WINDOWS = 4
VIDEO_CONTEXT = 5


class DreamerAgent:
    """DreamerV3 (2023) on the agent protocol; see ``docs/dreamer.md``.

    The recurrent state of :meth:`act` is the filtered latent state and the last action of
    every env. Training windows start a fresh filter (their first step counts as an episode
    start), so that no window inherits a state from an unrelated one.
    """

    def __init__(self, config: DreamerConfig, context: AgentContext) -> None:
        self.config = config
        self.device = torch.device(context.device)
        self.layout = ObservationLayout.of_space(context.observation_space)
        self.coding = ActionCoding(context.action_space)
        self.random_actions = np.random.default_rng(context.seed)
        torch.manual_seed(context.seed)
        size = SIZES[config.size]
        self.world_model = WorldModel(
            self.layout, self.coding.size, size, config.free_nats, config.unimix
        ).to(self.device)
        settings = BehaviorSettings(
            horizon=config.horizon,
            discount=config.discount,
            return_lambda=config.return_lambda,
            entropy=config.entropy,
            unimix=config.unimix,
        )
        self.behavior = ActorCritic(
            self.world_model.rssm.feature_size, self.coding, size, settings
        ).to(self.device)
        self.model_optimizer = torch.optim.Adam(
            self.world_model.parameters(), lr=config.model_lr, eps=config.model_eps
        )
        self.actor_optimizer = torch.optim.Adam(
            self.behavior.actor.parameters(), lr=config.actor_lr, eps=config.behavior_eps
        )
        self.critic_optimizer = torch.optim.Adam(
            self.behavior.critic.parameters(), lr=config.critic_lr, eps=config.behavior_eps
        )
        self.replay = self._make_replay(context)
        self.context = context
        # Each task's held-out steps; whether the last step went to them.
        self.held_out: dict[int, SequenceBuffer] = {}
        self.holding_out = False
        minimum = context.num_envs * config.sequence_length
        if 0 < config.held_out_steps < minimum:
            raise ValueError(
                f"agent.held_out_steps: must be 0 or at least num_envs x sequence_length = "
                f"{minimum} (a window per env), got {config.held_out_steps}"
            )
        self.env_steps = 0
        # Env steps that went to the replay (not to a task's held-out steps): the prefill and
        # the train ratio count these.
        self.replay_steps = 0
        # The sequence's clock and its tasks by index, as the env's infos give them: the
        # replay's diagnostics read them.
        self.global_step = 0
        self.task_names: dict[int, str] = {}
        self.sampled_age = RunningMean()
        self.updates = 0
        self.first_update_step: int | None = None
        self.updates_per_step = config.train_ratio / (config.batch_size * config.sequence_length)
        self.autocast = self.device.type == "cuda" and config.precision == Precision.bfloat16
        if config.compile:
            compile_blocks(self.world_model)
            compile_blocks(self.behavior)
        print(
            f"{config.label()}: world model "
            f"{parameter_count(self.world_model):,} parameters, actor "
            f"{parameter_count(self.behavior.actor):,}, critic "
            f"{parameter_count(self.behavior.critic):,}"
        )

    def _make_replay(self, context: AgentContext) -> SequenceBuffer:
        """The replay: a FIFO of ``replay_capacity`` steps, and a long-term store of
        :meth:`_long_term_capacity` steps; every step is stored with its task index and global
        step, for the replay's diagnostics."""
        try:
            return SequenceBuffer(
                self.config.replay_capacity,
                context.observation_space,
                context.action_space,
                num_envs=context.num_envs,
                sequence_length=self.config.sequence_length,
                chunk_length=self.config.chunk_length,
                long_term_capacity=self._long_term_capacity(),
                extra_fields=REPLAY_TAGS,
                device=self.device,
                seed=context.seed,
            )
        except ValueError as error:
            # The buffer's messages begin with its argument's name.
            message = str(error)
            field = next(
                (
                    name
                    for name in ("long_term_capacity", "chunk_length")
                    if message.startswith(name)
                ),
                "replay_capacity",
            )
            raise ValueError(f"agent.{field}: {message}") from error

    def _long_term_capacity(self) -> int:
        """Steps of the replay's long-term store: none for DreamerV3."""
        return 0

    def _sample_batch(self) -> dict[str, Any]:
        """The windows of the next update."""
        return self.replay.sample(self.config.batch_size)

    def _replay_metrics(self) -> dict[str, float]:
        """How old the sampled windows were since the last log (in global steps, from their
        last step), and each task's share of the steps each store holds."""
        metrics = {"replay/sampled_age": self.sampled_age.mean()}
        for store in self.replay.stores:
            tasks = self.replay.stored("task", store).long()
            counts = torch.bincount(tasks, minlength=max(self.task_names, default=0) + 1)
            shares = (counts / max(len(tasks), 1)).tolist()
            for task, share in enumerate(shares):
                name = self.task_names.get(task, str(task))
                metrics[f"replay/{store}/share/{name}"] = share
        return metrics

    def _precision(self) -> contextlib.AbstractContextManager:
        if self.autocast:
            return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    @torch.no_grad()
    def act(
        self, observation: Any, state: AgentState, episode_start: np.ndarray, deterministic: bool
    ) -> tuple[np.ndarray, AgentState]:
        count = len(episode_start)
        if state is None:
            latent = self.world_model.rssm.initial(count)
            previous_action = torch.zeros(count, self.coding.size, device=self.device)
        else:
            latent, previous_action = state
        is_first = torch.as_tensor(np.asarray(episode_start), device=self.device)
        with self._precision():
            embed = self.world_model.embed(self.layout.to_tensors(observation, self.device))
            latent, _, _ = self.world_model.rssm.observe_step(
                latent, previous_action, embed, is_first, sample=not deterministic
            )
            outputs = self.behavior.actor(latent.features())
            if deterministic:
                action = self.behavior.actor.mode(outputs)
            elif self.replay_steps < self.config.prefill:
                # DreamerV3 fills its replay with a uniformly random policy.
                sampled = self.coding.random(count, self.random_actions)
                action = self.coding.from_env(sampled, self.device)
            else:
                action = self.behavior.actor.sample(outputs)
        action = action.float()
        return self.coding.to_env(action), (latent, action)

    def observe(self, transition: Transition) -> None:
        # Envs outside a sequence (no clock in their infos) count as task 0 at the agent's step.
        infos = transition.infos
        tasks = [int(info.get("task_index", 0)) for info in infos]
        for task, info in zip(tasks, infos, strict=True):
            self.task_names.setdefault(task, str(info.get("task_name", task)))
        self.env_steps += len(transition.reward)
        self.global_step = int(infos[0].get("global_step", self.env_steps))
        store = self._store_for(tasks[0])
        if store is self.replay:
            self.replay_steps += len(transition.reward)
        store.add(
            transition.observation,
            transition.action,
            transition.reward,
            transition.next_observation,
            transition.terminated,
            transition.truncated,
            task=np.array(tasks),
            step=np.full(len(transition.reward), self.global_step),
        )

    def _store_for(self, task: int) -> SequenceBuffer:
        """The replay, or ``task``'s held-out steps while they number fewer than
        ``held_out_steps`` (the envs of a sequence share one clock, so one task)."""
        steps = self.config.held_out_steps
        if steps and task not in self.held_out:
            self.held_out[task] = self._held_out_buffer(task)
        holding_out = bool(steps) and self.held_out[task].steps_added < steps
        if self.holding_out and not holding_out:
            # The held-out steps end mid-episode: the replay's stream starts afresh after them.
            self.replay.end_episodes()
        self.holding_out = holding_out
        return self.held_out[task] if holding_out else self.replay

    def _held_out_buffer(self, task: int) -> SequenceBuffer:
        """A FIFO that keeps every one of ``held_out_steps`` steps (the first of each episode
        counts as one), with room for the chunks the envs are writing."""
        chunk_length = self.replay.chunk_length
        seed = np.random.SeedSequence([self.context.seed, HELD_OUT_STREAM, task])
        return SequenceBuffer(
            self.config.held_out_steps + (self.context.num_envs + 2) * chunk_length,
            self.context.observation_space,
            self.context.action_space,
            num_envs=self.context.num_envs,
            sequence_length=self.config.sequence_length,
            chunk_length=chunk_length,
            extra_fields=REPLAY_TAGS,
            device=self.device,
            seed=int(seed.generate_state(1)[0]),
        )

    @torch.no_grad()
    def evaluation_measures(self) -> dict[int, dict[str, float]]:
        """Per task whose held-out steps are complete, the world model's loss on the fixed
        windows of them: reconstruction plus reward, each summed over a step's parts and
        averaged over the steps (the KL and continue terms left out), with the posterior
        sampled from a fixed seed."""
        measures = {}
        cuda = [self.device] if self.device.type == "cuda" else []
        for task, held_out in self.held_out.items():
            if held_out.steps_added < self.config.held_out_steps:
                continue
            # The same windows every round, and the posterior samples from a generator of
            # their own: the same model gives the same loss, and training's random streams
            # do not move.
            batch = held_out.sample(HELD_OUT_WINDOWS, rng=np.random.default_rng(task))
            is_first = batch["is_first"].clone()
            is_first[:, 0] = True
            with torch.random.fork_rng(devices=cuda), self._precision():
                torch.manual_seed(task)
                _, _, metrics = self.world_model.loss(
                    self.layout.parts(batch["observation"]),
                    self.coding.encode(batch["action"]),
                    batch["reward"],
                    is_first,
                    batch["terminated"],
                )
            terms = ("image", "vector", "reward")
            loss = sum(
                float(metrics[f"world_model/{name}_loss"])
                for name in terms
                if f"world_model/{name}_loss" in metrics
            )
            measures[task] = {"world_model_loss": loss}
        return measures

    def update(self) -> dict[str, float | np.ndarray]:
        # Updates wait for the prefill and for a batch's worth of windows in the replay.
        if self.replay_steps < self.config.prefill or len(self.replay) < self.config.batch_size:
            return {}
        # One update as soon as the replay is filled, then train_ratio's share of every env
        # step after it (not of the steps spent waiting, which would come as one burst).
        if self.first_update_step is None:
            self.first_update_step = self.replay_steps
        due = int((self.replay_steps - self.first_update_step) * self.updates_per_step) + 1
        report: dict[str, float | np.ndarray] = {}
        while self.updates < due:
            batch = self._sample_batch()
            self.sampled_age.add(self.global_step - batch["step"][:, -1].double().mean())
            metrics = self.train_on_batch(batch)
            self.updates += 1
            # Reading the scalars waits for the GPU: only every log_every updates.
            if (self.updates - 1) % self.config.log_every == 0:
                report.update({name: float(value) for name, value in metrics.items()})
                report.update(self._replay_metrics())
                report["updates"] = float(self.updates)
            video_every = self.config.video_every
            if video_every and self.updates % video_every == 0 and self.layout.image_keys:
                report["world_model/open_loop"] = self._open_loop_video(batch)
        return report

    def _open_loop_video(self, batch: dict[str, Any]) -> np.ndarray:
        """The world model's open-loop predictions of the first windows of ``batch`` against
        their true frames: 5 steps of context, then imagined from the actions alone."""
        windows = min(VIDEO_WINDOWS, self.config.batch_size)
        parts = {
            key: value[:windows] for key, value in self.layout.parts(batch["observation"]).items()
        }
        is_first = batch["is_first"][:windows].clone()
        is_first[:, 0] = True
        context = min(VIDEO_CONTEXT, self.config.sequence_length - 1)
        with self._precision():
            predicted, truth = self.world_model.open_loop(
                parts, self.coding.encode(batch["action"][:windows]), is_first, context
            )
        return video_of(predicted.float(), truth)

    def train_on_batch(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        """One update of the world model, then of the actor and the critic, on a batch of
        windows as :meth:`SequenceBuffer.sample` gives them; the scalars to log, as tensors."""
        parts = self.layout.parts(batch["observation"])
        actions = self.coding.encode(batch["action"])
        is_first = batch["is_first"].clone()
        is_first[:, 0] = True
        with self._precision():
            model_loss, posterior, metrics = self.world_model.loss(
                parts, actions, batch["reward"], is_first, batch["terminated"]
            )
        self._step(self.model_optimizer, model_loss, self.world_model, self.config.model_clip)
        start = Latent(posterior.deter.flatten(0, 1), posterior.stoch.flatten(0, 1)).detach()
        start_continues = 1.0 - batch["terminated"].flatten(0, 1).float()
        with self._precision():
            actor_loss, critic_loss, behavior_metrics = self.behavior.losses(
                self.world_model, start, start_continues
            )
        clip = self.config.behavior_clip
        self._step(self.actor_optimizer, actor_loss, self.behavior.actor, clip)
        self._step(self.critic_optimizer, critic_loss, self.behavior.critic, clip)
        self.behavior.update_slow_critic()
        return {**metrics, **behavior_metrics}

    @staticmethod
    def _step(
        optimizer: torch.optim.Optimizer, loss: Tensor, module: nn.Module, clip: float
    ) -> None:
        # Only into this module's parameters: a continuous actor's loss also reaches the world
        # model and the critic, whose optimisers must not see it (nor spend time on it).
        parameters = [parameter for parameter in module.parameters() if parameter.requires_grad]
        optimizer.zero_grad(set_to_none=True)
        loss.backward(inputs=parameters)
        nn.utils.clip_grad_norm_(parameters, clip)
        optimizer.step()

    def on_task_switch(self, info: dict[str, Any]) -> None:
        """DreamerV3 is task-agnostic: nothing changes at a block end."""

    def state_dict(self, include_replay: bool) -> dict[str, Any]:
        state: dict[str, Any] = {
            "world_model": self.world_model.state_dict(),
            "behavior": self.behavior.state_dict(),
            "model_optimizer": self.model_optimizer.state_dict(),
            "actor_optimizer": self.actor_optimizer.state_dict(),
            "critic_optimizer": self.critic_optimizer.state_dict(),
            "env_steps": self.env_steps,
            "replay_steps": self.replay_steps,
            "global_step": self.global_step,
            "task_names": dict(self.task_names),
            "updates": self.updates,
            "first_update_step": self.first_update_step,
            "random_actions": self.random_actions.bit_generator.state,
        }
        if include_replay:
            state["replay"] = self.replay.state_dict()
            state["held_out"] = {
                task: buffer.state_dict() for task, buffer in self.held_out.items()
            }
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.world_model.load_state_dict(state["world_model"])
        self.behavior.load_state_dict(state["behavior"])
        self.model_optimizer.load_state_dict(state["model_optimizer"])
        self.actor_optimizer.load_state_dict(state["actor_optimizer"])
        self.critic_optimizer.load_state_dict(state["critic_optimizer"])
        self.env_steps = int(state["env_steps"])
        self.replay_steps = int(state["replay_steps"])
        self.global_step = int(state["global_step"])
        self.task_names = {int(task): str(name) for task, name in state["task_names"].items()}
        self.updates = int(state["updates"])
        self.first_update_step = state["first_update_step"]
        self.random_actions.bit_generator.state = state["random_actions"]
        if "replay" in state:
            self.replay.load_state_dict(state["replay"])
        if "held_out" in state:
            self.held_out = {}
            for task, buffer_state in state["held_out"].items():
                self.held_out[int(task)] = self._held_out_buffer(int(task))
                self.held_out[int(task)].load_state_dict(buffer_state)
                self.held_out[int(task)].end_episodes()
            self.holding_out = False
        # A resumed run resets its envs: their next steps begin new episodes.
        self.replay.end_episodes()

    def close(self) -> None:
        """Nothing beyond memory to release."""


# The networks torch.compile fuses: the layers of one step. The update as a whole has Python
# loops over time and three optimisers; compiled whole, its losses' graphs would be fused into
# one that the first backward frees.
COMPILED_BLOCKS = (ImageEncoder, ImageDecoder, Head, MLP, NormLayer, NormGRUCell)


class RunningMean:
    """The mean of the values added since it was last read; values may be tensors on the
    training device, summed there (reading waits for the device only at :meth:`mean`)."""

    def __init__(self) -> None:
        self.total: Tensor | float = 0.0
        self.count = 0

    def add(self, value: Tensor | float) -> None:
        self.total = self.total + value
        self.count += 1

    def mean(self) -> float:
        """The mean since the last call (0 if nothing was added), and start again."""
        mean = float(self.total) / self.count if self.count else 0.0
        self.total, self.count = 0.0, 0
        return mean


def compile_blocks(module: nn.Module) -> None:
    """``torch.compile`` every outermost block of :data:`COMPILED_BLOCKS` under ``module``."""
    for child in module.children():
        if isinstance(child, COMPILED_BLOCKS):
            child.compile()
        else:
            compile_blocks(child)
