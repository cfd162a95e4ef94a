"""The recall probe: its episodes end at the question with the right answer, and a run trains,
evaluates, tests on the longer delay and writes its results."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agents.hcam.config import CoreKind, CoreSpec
from agents.hcam.probe import QUESTION_PHASE, RecallTask, main, recall_episodes, train_probe
from envsuite.navigation import ballet
from envsuite.navigation.view import CHANNEL_NAMES


def test_ballet_episodes_end_at_the_instruction_and_answer_with_the_dancers_home():
    task = RecallTask("Ballet", {"dancers": 4, "delay": 3})
    env = task.make_env(6)
    parts, answers = recall_episodes(task, env, seed=7)
    # The first observation, then 4 dances of 16 steps and 3 still ones each.
    assert parts["image"].shape[:2] == (1 + 4 * (16 + 3), 6)
    assert parts["phase"][-1, :, QUESTION_PHASE].all()
    assert not parts["phase"][:-1, :, QUESTION_PHASE].any()
    assert parts["instruction"][-1].sum(-1).tolist() == [1] * 6
    assert parts["instruction"][:-1].sum() == 0
    centre = 11 // 2
    for env_index, answer in enumerate(answers):
        row, column = ballet.oracle_target(env.states[env_index], env.task.params)
        assert tuple(ballet.HOME_OFFSETS[answer]) == (row - centre, column - centre)
    assert task.classes(env) == 8


def test_object_recall_answers_with_the_cell_the_object_was_shown_on():
    task = RecallTask("ObjectRecall", {"delay": 5})
    env = task.make_env(5)
    parts, answers = recall_episodes(task, env, seed=3)
    size = 9
    assert task.classes(env) == size * size
    object_channel = CHANNEL_NAMES.index("object")
    shown = parts["image"][0, :, :, :, object_channel].reshape(5, -1)  # full view: the maze
    assert shown.argmax(-1).tolist() == answers.tolist()
    assert parts["phase"][-1, :, QUESTION_PHASE].all()


def test_an_unknown_task_is_refused():
    with pytest.raises(ValueError, match="task: the probe knows 'Ballet' and 'ObjectRecall'"):
        RecallTask("MazeGoal").make_env(2)


def test_a_tiny_run_trains_evaluates_and_tests_the_longer_delay():
    task = RecallTask("Ballet", {"dancers": 2, "delay": 0})
    longer = RecallTask("Ballet", {"dancers": 2, "delay": 4})
    spec = CoreSpec(CoreKind.hcam, 16, heads=2, window=4, chunk_size=4, memory_chunks=16)
    run = train_probe(
        spec,
        task,
        seed=1,
        updates=3,
        batch=4,
        evaluate_every=2,
        evaluation_batches=1,
        test_task=longer,
    )
    assert run.updates == [2, 3]
    assert all(0 <= accuracy <= 1 for accuracy in run.accuracy)
    assert run.test_accuracy is not None
    assert 0 <= run.test_accuracy <= 1
    assert run.core_parameters < run.parameters
    assert 0 < 3 * run.seconds_per_update < run.seconds  # evaluations left out


def test_the_command_writes_every_run_and_summarises_them(tmp_path: Path, capsys):
    out = tmp_path / "probe.json"
    main(
        [
            "--dancers",
            "2",
            "--delay",
            "0",
            "--cores",
            "lstm",
            "window",
            "--seeds",
            "0",
            "--updates",
            "1",
            "--batch",
            "2",
            "--evaluate-every",
            "1",
            "--out",
            str(out),
        ]
    )
    results = json.loads(out.read_text())
    assert [(run["core"], run["seed"]) for run in results["runs"]] == [("lstm", 0), ("window", 0)]
    assert results["params"] == {"delay": 0, "dancers": 2}
    assert np.isfinite(results["runs"][0]["accuracy"][0])
    printed = capsys.readouterr().out.splitlines()
    assert printed[-2].startswith("lstm         seeds 0: accuracy")
    assert printed[-1].startswith("window       seeds 0: accuracy")
    assert "length test" not in printed[-1]


def test_the_summary_gives_the_mean_over_seeds_and_each_seed(tmp_path: Path, capsys):
    def run(core: str, seed: int, accuracy: float, test: float) -> dict:
        return {"core": core, "seed": seed, "accuracy": [0.5, accuracy], "test_accuracy": test}

    setting = {"task": "Ballet", "params": {"delay": 16, "dancers": 2}, "test_delay": 48}
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(
        json.dumps(setting | {"runs": [run("hcam", 1, 0.8, 0.7), run("lstm", 0, 0.5, 0.4)]})
    )
    second.write_text(json.dumps(setting | {"runs": [run("hcam", 0, 0.9, 0.6)]}))
    main(["--summarise", str(first), str(second)])
    hcam, lstm = capsys.readouterr().out.splitlines()
    assert hcam.startswith("hcam         seeds 0,1: accuracy 0.85 [")
    assert hcam.endswith("(0.90, 0.80); length test 0.65 [0.60, 0.70] (0.60, 0.70)")
    assert lstm == (
        "lstm         seeds 0: accuracy 0.50 [0.50, 0.50] (0.50); "
        "length test 0.40 [0.40, 0.40] (0.40)"
    )


def test_the_summary_refuses_runs_of_other_experiments_or_twice_the_same(tmp_path: Path):
    run = {"core": "hcam", "seed": 0, "accuracy": [0.5], "test_accuracy": None}
    files = []
    for name, delay in (("a", 16), ("b", 16), ("c", 48)):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"task": "Ballet", "params": {"delay": delay}, "runs": [run]}))
        files.append(str(path))
    with pytest.raises(ValueError, match="summarise: hcam seed 0 is in more than one file"):
        main(["--summarise", files[0], files[1]])
    with pytest.raises(ValueError, match=r"c\.json is another experiment"):
        main(["--summarise", files[0], files[2]])
