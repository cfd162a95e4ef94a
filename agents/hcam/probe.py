"""The recall probe: the memory cores' recall apart from RL, by supervision on episodes of our
Ballet and ObjectRecall tasks.

An example is an episode's observations up to the question (full view of the room): Ballet's
watch and delay phases then the first step of the act phase, whose instruction names a dance;
ObjectRecall's show and delay phases then the first recall step. The label is the answer: the
home cell (of eight) of the dancer that danced it, or the object's cell. A model (the agent's
encoder, a core, a linear classifier) reads the whole episode and answers at its last step;
cross-entropy there is the loss. Episodes are drawn fresh for every batch, so there is nothing
to overfit; accuracy is measured on episodes of other seeds.

``python -m agents.hcam.probe --task ballet --dancers 8 --delay 48 --seeds 0 1 2`` trains every
core (``--cores``) at its comparable size (:data:`agents.hcam.config.COMPARABLE_CORES`) and
writes the results as JSON (``--out``); ``--test-delay 48`` adds the length test (trained at
``--delay``, tested at the longer one).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn import functional as F  # noqa: N812

from agents.common.observations import ObservationLayout
from agents.hcam.config import COMPARABLE_CORES, CoreKind, CoreSpec
from agents.hcam.networks import ObservationEncoder
from envsuite.metrics.aggregate import aggregate_runs
from envsuite.navigation import ballet, object_recall
from envsuite.navigation.engine import SIZE, TURN_LEFT
from envsuite.navigation.vector import NavigationVectorEnv

# The phase (one-hot index of the "phase" observation) in which both tasks ask their question.
QUESTION_PHASE = 2
# Run k trains on the episodes seeded from k * SEEDS_PER_RUN on; evaluation episodes are seeded
# from EVALUATION_SEED on, apart from every run's.
SEEDS_PER_RUN = 10**7
EVALUATION_SEED = 10**9


@dataclass(frozen=True)
class RecallTask:
    """Which task the episodes come from, with its parameters."""

    task: str
    """``"Ballet"`` or ``"ObjectRecall"``."""
    params: dict[str, int] = field(default_factory=dict)
    """Task parameters (``{"dancers": 8, "delay": 48}``)."""

    def make_env(self, batch: int) -> NavigationVectorEnv:
        """A vector env of ``batch`` episodes at a time, with the room in full view."""
        if self.task not in ("Ballet", "ObjectRecall"):
            raise ValueError(
                f"task: the probe knows 'Ballet' and 'ObjectRecall', got {self.task!r}"
            )
        return NavigationVectorEnv(self.task, num_envs=batch, view="full", **self.params)

    def classes(self, env: NavigationVectorEnv) -> int:
        """The number of possible answers."""
        if self.task == "Ballet":
            return len(ballet.HOME_OFFSETS)
        size = int(env.task.params[SIZE])
        return size * size

    def answers(self, env: NavigationVectorEnv) -> np.ndarray:
        """Each env's answer, read from its state at the question."""
        states = env.states
        rows = np.arange(len(states))
        if self.task == "Ballet":
            target = states[:, ballet.TARGET]
            centre = int(env.task.params[SIZE]) // 2
            offsets = np.stack(
                [
                    states[rows, ballet.HOME_ROWS + target] - centre,
                    states[rows, ballet.HOME_COLUMNS + target] - centre,
                ],
                -1,
            )
            matches = (offsets[:, None, :] == ballet.HOME_OFFSETS[None]).all(-1)
            return matches.argmax(-1)
        size = int(env.task.params[SIZE])
        return states[:, object_recall.TARGET_ROW] * size + states[:, object_recall.TARGET_COLUMN]


def recall_episodes(
    task: RecallTask, env: NavigationVectorEnv, seed: int
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """One batch: observation parts ``[T, B, ...]`` up to the question, and the answers."""
    observation, _ = env.reset(seed=seed)
    steps = [observation]
    turn = np.full(env.num_envs, TURN_LEFT)  # looking around: no task lets it change anything
    while observation["phase"][0, QUESTION_PHASE] == 0:
        observation, *_ = env.step(turn)
        steps.append(observation)
    if not observation["phase"][:, QUESTION_PHASE].all():
        raise RuntimeError("the episodes of a batch reached the question at different steps")
    parts = {key: np.stack([step[key] for step in steps]) for key in observation}
    return parts, task.answers(env)


class RecallModel(nn.Module):
    """The agent's encoder and a core, with a linear classifier on the last step's output."""

    def __init__(self, layout: ObservationLayout, spec: CoreSpec, classes: int) -> None:
        super().__init__()
        self.layout = layout
        self.encoder = ObservationEncoder(layout, spec.width)
        self.core = spec.build()
        self.classifier = nn.Linear(spec.width, classes)

    def forward(self, parts: dict[str, np.ndarray]) -> Tensor:
        """``[B, classes]`` logits of the answer, from ``[T, B, ...]`` episodes."""
        device = self.classifier.weight.device
        inputs = self.encoder(self.layout.to_tensors(parts, device))
        start = torch.zeros(inputs.shape[:2], dtype=torch.bool, device=device)
        start[0] = True
        core = self.core(inputs, start, self.core.initial_state(inputs.shape[1], inputs.device))
        return self.classifier(core.outputs[-1])


@dataclass
class ProbeRun:
    """One core trained on one task with one seed."""

    core: str
    seed: int
    parameters: int
    core_parameters: int
    updates: list[int] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    seconds: float = 0.0
    """The run's wall-clock time, evaluations included."""
    seconds_per_update: float = 0.0
    """One update's time: the batch's episodes, forward, backward and Adam step."""
    test_accuracy: float | None = None
    """The length test's accuracy (``--test-delay``), if run."""


def accuracy(model: RecallModel, task: RecallTask, env: NavigationVectorEnv, batches: int) -> float:
    """The share of right answers on ``batches`` evaluation batches."""
    right = total = 0
    with torch.no_grad():
        for batch in range(batches):
            parts, answers = recall_episodes(task, env, EVALUATION_SEED + batch * env.num_envs)
            predicted = model(parts).argmax(-1).cpu().numpy()
            right += int((predicted == answers).sum())
            total += len(answers)
    return right / total


def train_probe(
    spec: CoreSpec,
    task: RecallTask,
    seed: int,
    updates: int,
    batch: int = 32,
    learning_rate: float = 5e-4,
    evaluate_every: int = 250,
    evaluation_batches: int = 8,
    test_task: RecallTask | None = None,
    device: str = "cpu",
    report: Callable[[str], None] | None = None,
) -> ProbeRun:
    """Train a fresh model of ``spec`` on ``task`` for ``updates`` Adam steps on ``device``;
    its accuracy every ``evaluate_every`` updates and at the end (each also given to
    ``report`` as a line), and on ``test_task`` at the end."""
    torch.manual_seed(seed)
    env = task.make_env(batch)
    layout = ObservationLayout.of_space(env.single_observation_space)
    model = RecallModel(layout, spec, task.classes(env)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    run = ProbeRun(
        spec.kind.value,
        seed,
        sum(parameter.numel() for parameter in model.parameters()),
        sum(parameter.numel() for parameter in model.core.parameters()),
    )
    evaluation_env = task.make_env(batch)
    started = time.perf_counter()
    evaluating = 0.0
    for update in range(1, updates + 1):
        parts, answers = recall_episodes(task, env, seed * SEEDS_PER_RUN + update * batch)
        loss = F.cross_entropy(model(parts), torch.as_tensor(answers, device=device))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if update % evaluate_every == 0 or update == updates:
            evaluation_started = time.perf_counter()
            run.updates.append(update)
            run.accuracy.append(accuracy(model, task, evaluation_env, evaluation_batches))
            evaluating += time.perf_counter() - evaluation_started
            if report is not None:
                report(f"{run.core} seed {seed} update {update}: accuracy {run.accuracy[-1]:.3f}")
    run.seconds = time.perf_counter() - started
    run.seconds_per_update = (run.seconds - evaluating) / updates
    if test_task is not None:
        run.test_accuracy = accuracy(
            model, test_task, test_task.make_env(batch), evaluation_batches
        )
    return run


def summary(runs: list[dict[str, Any]]) -> list[str]:
    """A line per core: its final accuracy (and the length test's) as the mean over its runs
    with a bootstrap 95% CI, then each seed's value."""
    lines = []
    cores = dict.fromkeys(run["core"] for run in runs)
    for core in cores:
        mine = sorted((run for run in runs if run["core"] == core), key=lambda run: run["seed"])
        columns = [("accuracy", [run["accuracy"][-1] for run in mine])]
        if all(run["test_accuracy"] is not None for run in mine):
            columns.append(("length test", [run["test_accuracy"] for run in mine]))
        parts = []
        for name, values in columns:
            mean = aggregate_runs(np.array(values)[:, None], aggregates=("mean",))["mean"]
            seeds = ", ".join(f"{value:.2f}" for value in values)
            parts.append(f"{name} {mean.value:.2f} [{mean.low:.2f}, {mean.high:.2f}] ({seeds})")
        seeds = ",".join(str(run["seed"]) for run in mine)
        lines.append(f"{core:12s} seeds {seeds}: " + "; ".join(parts))
    return lines


def saved_runs(paths: list[Path]) -> list[dict[str, Any]]:
    """The runs of ``--out`` files of one experiment (the same task, parameters and length
    test), each core and seed once; else a clear error."""
    runs: list[dict[str, Any]] = []
    setting = None
    for path in paths:
        results = json.loads(path.read_text())
        this = {key: results.get(key) for key in ("task", "params", "test_delay", "updates")}
        if setting is not None and this != setting:
            raise ValueError(
                f"summarise: {path} is another experiment ({this}) than the first file's "
                f"({setting}); summarise each apart"
            )
        setting = this
        for run in results["runs"]:
            if any((run["core"], run["seed"]) == (seen["core"], seen["seed"]) for seen in runs):
                raise ValueError(
                    f"summarise: {run['core']} seed {run['seed']} is in more than one file"
                )
            runs.append(run)
    return runs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", choices=["ballet", "object_recall"], default="ballet")
    parser.add_argument("--dancers", type=int, default=2, help="Ballet: dancers")
    parser.add_argument("--delay", type=int, default=16, help="steps of delay")
    parser.add_argument("--test-delay", type=int, help="the length test's delay")
    parser.add_argument(
        "--cores",
        nargs="+",
        choices=[kind.value for kind in CoreKind],
        default=[kind.value for kind in CoreKind],
        help="cores to train",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=5e-4)
    parser.add_argument("--evaluate-every", type=int, default=250)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--device", default="cpu", help="torch device (cpu, cuda)")
    parser.add_argument("--out", type=Path, help="the results as JSON")
    parser.add_argument(
        "--summarise",
        type=Path,
        nargs="+",
        help="print the summary of earlier --out files (runs split over processes) and exit",
    )
    args = parser.parse_args(argv)
    if args.summarise:
        print("\n".join(summary(saved_runs(args.summarise))))
        return
    torch.set_num_threads(args.threads)
    name = "Ballet" if args.task == "ballet" else "ObjectRecall"
    params = {"delay": args.delay} | ({"dancers": args.dancers} if name == "Ballet" else {})
    task = RecallTask(name, params)
    test_task = (
        None
        if args.test_delay is None
        else replace(task, params=params | {"delay": args.test_delay})
    )
    results: dict[str, Any] = {
        "task": name,
        "params": params,
        "test_delay": args.test_delay,
        "updates": args.updates,
        "batch": args.batch,
        "runs": [],
    }
    for core in args.cores:
        spec = COMPARABLE_CORES[CoreKind(core)]
        for seed in args.seeds:
            run = train_probe(
                spec,
                task,
                seed,
                args.updates,
                batch=args.batch,
                learning_rate=args.learning_rate,
                evaluate_every=args.evaluate_every,
                test_task=test_task,
                device=args.device,
                report=lambda line: print(f"  {line}", flush=True),
            )
            results["runs"].append(vars(run))
            test = (
                ""
                if run.test_accuracy is None
                else f", delay {args.test_delay}: {run.test_accuracy:.3f}"
            )
            print(
                f"{core:12s} seed {seed}: accuracy {run.accuracy[-1]:.3f}{test} "
                f"({run.core_parameters} core parameters, {run.seconds:.0f} s, "
                f"{run.seconds_per_update:.2f} s per update)",
                flush=True,
            )
            if args.out is not None:
                args.out.parent.mkdir(parents=True, exist_ok=True)
                args.out.write_text(json.dumps(results, indent=1))
    print("\n".join(summary(results["runs"])))


if __name__ == "__main__":
    main()
