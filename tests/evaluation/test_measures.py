"""An agent's own measures at each evaluation round (a world model's loss on each task's
held-out data): recorded in results.jsonl beside the episodes, kept apart when loaded, cut with
the rounds a resumed run evaluates again, and plotted by the report."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import toy_sequence
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import envsuite
from envsuite.evaluation import ContinualEvaluator, RunDirectoryError, load_run
from envsuite.report.build import write_report
from envsuite.report.collect import collect


def always_zero(observations, state, episode_starts) -> tuple[np.ndarray, None]:
    return np.zeros(len(observations), dtype=np.int64), None


class Measured:
    """Measures that grow with every call, for the tasks seen so far."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> dict[int, dict[str, float]]:
        self.calls += 1
        return {task: {"loss": 10.0 * task + self.calls} for task in range(min(self.calls, 2))}


@pytest.fixture
def toy(write_spec) -> envsuite.Sequence:
    return envsuite.make_sequence(str(write_spec(toy_sequence(steps_per_task=30))))


def _play(evaluator: ContinualEvaluator, toy, steps: int, measures) -> None:
    env = toy.make_env()
    env.reset(seed=0)
    for _ in range(steps):
        *_, terminated, truncated, info = env.step(0)
        evaluator.after_step(always_zero, info, measures)
        if terminated or truncated:
            env.reset()


def test_measures_are_recorded_beside_the_episodes_and_loaded_apart(toy, tmp_path) -> None:
    measures = Measured()
    evaluator = ContinualEvaluator(toy, tmp_path, eval_every=30, episodes=2, seed=3)
    evaluator.before_training(always_zero, measures)
    _play(evaluator, toy, 60, measures)
    evaluator.close()
    lines = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    measured = [line for line in lines if "measure" in line]
    # Rounds at 0, 30 and 60: one task measured at the first, both after.
    assert [(line["eval_step"], line["evaluated_task"], line["value"]) for line in measured] == [
        (0, 0, 1.0),
        (30, 0, 2.0),
        (30, 1, 12.0),
        (60, 0, 3.0),
        (60, 1, 13.0),
    ]
    assert all(line["trained_task"] in (-1, 0, 1) and line["seed"] == 3 for line in measured)
    run = load_run(tmp_path)
    assert list(run.measures) == measured
    assert len(run.table.eval_step) == 3 * 2 * 2  # the episodes alone
    events = EventAccumulator(str(tmp_path)).Reload()
    assert [event.value for event in events.Scalars("eval/wide/loss")] == [12.0, 13.0]


def test_a_resumed_run_drops_the_measures_of_the_rounds_it_evaluates_again(toy, tmp_path) -> None:
    evaluator = ContinualEvaluator(toy, tmp_path, eval_every=30, episodes=1, tensorboard=False)
    evaluator.before_training(always_zero, Measured())
    _play(evaluator, toy, 60, Measured())
    evaluator.close()
    resumed = ContinualEvaluator(
        toy, tmp_path, eval_every=30, episodes=1, tensorboard=False, resume_after_step=30
    )
    resumed.close()
    lines = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert max(line["eval_step"] for line in lines) == 30
    assert any("measure" in line for line in lines)
    # The evaluator's own reading of what was recorded (its block ends) skips the measures.
    assert len(resumed.block_end_rows) == 1


def test_a_repeated_or_broken_measure_line_is_an_error(toy, tmp_path) -> None:
    evaluator = ContinualEvaluator(toy, tmp_path, eval_every=60, episodes=1, tensorboard=False)
    evaluator.before_training(always_zero, lambda: {0: {"loss": 1.0}})
    _play(evaluator, toy, 60, lambda: {0: {"loss": 1.0}})
    evaluator.close()
    results = tmp_path / "results.jsonl"
    lines = results.read_text().splitlines()
    measure_line = next(line for line in lines if "measure" in line)
    results.write_text("\n".join([*lines, measure_line]) + "\n")
    with pytest.raises(RunDirectoryError, match="repeats the measure of line"):
        load_run(tmp_path)
    broken = json.loads(measure_line) | {"value": float("nan")}
    results.write_text("\n".join([*lines, json.dumps(broken)]) + "\n")
    with pytest.raises(RunDirectoryError, match="non-finite value"):
        load_run(tmp_path)
    del broken["value"]
    results.write_text("\n".join([*lines, json.dumps(broken)]) + "\n")
    with pytest.raises(RunDirectoryError, match="lacks fields of"):
        load_run(tmp_path)


def test_the_report_plots_each_measure_and_lists_it_per_run(toy, tmp_path) -> None:
    run_dir = tmp_path / "run"
    measures = Measured()
    evaluator = ContinualEvaluator(toy, run_dir, eval_every=30, episodes=1, tensorboard=False)
    evaluator.before_training(always_zero, measures)
    _play(evaluator, toy, 60, measures)
    evaluator.close()
    paths = write_report(collect([run_dir]), tmp_path / "report")
    assert paths["measure_loss.png"].stat().st_size > 0
    assert "The agent&#x27;s own measure: loss per task" in paths["report.html"].read_text()
    metrics = json.loads(paths["metrics.json"].read_text())
    assert [record["value"] for record in metrics["runs"][0]["measures"]] == [
        1.0,
        2.0,
        12.0,
        3.0,
        13.0,
    ]


def test_a_non_finite_measure_is_left_out_with_a_warning_and_a_bad_name_refused(
    toy, tmp_path
) -> None:
    evaluator = ContinualEvaluator(toy, tmp_path, eval_every=60, episodes=1, tensorboard=False)
    with pytest.warns(UserWarning, match="measure loss of task 1 at step 0 is nan: not recorded"):
        evaluator.before_training(always_zero, lambda: {0: {"loss": 1.0}, 1: {"loss": np.nan}})
    for name in ("return", "eval/loss"):
        with pytest.raises(ValueError, match="is not a measure name"):
            evaluator.evaluate(always_zero, 10, 0, lambda name=name: {0: {name: 1.0}})
    evaluator.close()
    lines = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert [line["evaluated_task"] for line in lines if "measure" in line] == [0]


def test_an_image_measure_goes_to_tensorboard_alone(toy, tmp_path) -> None:
    image = np.zeros((5, 8, 3), dtype=np.uint8)
    image[2] = 255
    evaluator = ContinualEvaluator(toy, tmp_path, eval_every=60, episodes=1)
    evaluator.before_training(always_zero, lambda: {1: {"attention": image, "loss": 2.0}})
    with pytest.raises(ValueError, match=r"\(height, width, 3\) uint8"):
        evaluator.evaluate(always_zero, 10, 0, lambda: {0: {"attention": np.zeros((5, 8))}})
    evaluator.close()
    lines = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert [line["measure"] for line in lines if "measure" in line] == ["loss"]
    events = EventAccumulator(str(tmp_path), size_guidance={"images": 0}).Reload()
    (event,) = events.Images("eval/wide/attention")
    assert (event.step, event.width, event.height) == (0, 8, 5)


def test_single_task_reference_curves_read_the_episodes_alone(toy, tmp_path) -> None:
    from agents.training.runs import write_references

    measures = Measured()
    evaluator = ContinualEvaluator(toy, tmp_path, eval_every=30, episodes=1, tensorboard=False)
    evaluator.before_training(always_zero, measures)
    _play(evaluator, toy, 60, measures)
    evaluator.close()
    curves = json.loads(write_references(tmp_path, toy).read_text())
    assert set(curves) == {"narrow", "wide"}
    # Performance is the success rate (every counter episode succeeds), never a measure's value.
    assert all(value == 1.0 for curve in curves.values() for value in curve["performance"])
