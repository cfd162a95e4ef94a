"""The envsuite command: list, show, rollout, and clear errors."""

from __future__ import annotations

import sys

import matplotlib.pyplot as plt
import numpy as np
import pytest

from envsuite.cli import main


def test_list_prints_every_sequence(capsys) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "envsuite/ClassicPendulumGravity-v0" in out
    assert "envsuite/ClassicCartPoleAcrobot-v0" in out
    assert main(["list", "--family", "classic"]) == 0
    assert main(["list", "--family", "nope"]) == 1
    families = "['atari', 'classic', 'cw', 'manipulation', 'minigames', 'navigation']"
    assert f"families: {families}" in capsys.readouterr().out


@pytest.mark.parametrize("columns", ["80", "200"])
def test_list_wraps_every_description_in_full(capsys, monkeypatch, columns: str) -> None:
    from envsuite.core.registry import describe, registered_ids

    monkeypatch.setenv("COLUMNS", columns)
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= int(columns)
    words = " ".join(out.replace("│", " ").split())
    for env_id in registered_ids():
        assert describe(env_id), f"{env_id} has no description"
        assert f" {env_id} " in f" {words} "  # whole: ids are copied into code
        assert " ".join(describe(env_id).split()) in words, env_id


def test_show_prints_spec_spaces_and_schedule(capsys) -> None:
    assert main(["show", "ClassicCartPoleAcrobot", "--blocks", "3"]) == 0
    out = capsys.readouterr().out
    assert "cycles(cycles=2)" in out
    assert "Discrete(3)" in out
    assert "1 more" in out  # four blocks, three previewed


def test_rollout_prints_a_per_task_table(capsys) -> None:
    assert main(["rollout", "ClassicCartPoleAcrobot", "--steps-per-task", "600"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[1]: line.split()[3:] for line in out.splitlines() if "│" in line}
    assert rows["cartpole"][0] == "600"
    assert rows["acrobot"][0] == "600"
    assert int(rows["cartpole"][2]) > 5
    # Random Acrobot episodes run 500 steps: its first 300-step block ends mid-episode and that
    # fragment is counted apart, not as an episode (the last block ends the run, not a switch).
    assert rows["acrobot"][2] == "0"
    assert rows["acrobot"][-2] == "1"


def test_rollout_rejects_a_negative_seed() -> None:
    with pytest.raises(SystemExit):
        main(["rollout", "ClassicCartPoleAcrobot", "--seed", "-1"])


@pytest.mark.parametrize("arguments", [["show", "Nope"], ["rollout", "Nope"]])
def test_unknown_ids_exit_2_with_a_clear_message(capsys, arguments: list[str]) -> None:
    assert main(arguments) == 2
    assert "unknown sequence 'Nope'" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["envsuite/Catch-v0", "Catch-v0", "CartPole-v1"])
def test_show_on_a_task_id_says_it_is_a_task(capsys, name: str) -> None:
    assert main(["show", name]) == 2
    out = capsys.readouterr().out
    assert "is a task, not a sequence; give a sequence id, name or YAML path" in out
    assert "envsuite list" in out
    assert "did you mean" not in out


def test_show_on_a_file_outside_tasks_names_no_family(capsys, write_spec) -> None:
    path = write_spec(
        {
            "name": "ToyFile",
            "version": 0,
            "steps_per_task": 5,
            "tasks": [{"id": "CartPole-v1"}],
        },
        family="yamls",
    )
    assert main(["show", str(path)]) == 0
    # Joined: rich may wrap the long temporary path across lines.
    out = " ".join(capsys.readouterr().out.split())
    assert "family=none (a file outside tasks/<family>/)" in out
    assert "family=yamls" not in out


def test_show_reports_a_task_that_cannot_be_made(capsys, write_spec) -> None:
    path = write_spec(
        {
            "name": "ToyBad",
            "version": 0,
            "steps_per_task": 5,
            "tasks": [{"id": "Pendulum-v1", "kwargs": {"gravity": 3.0}}],
        }
    )
    assert main(["show", str(path)]) == 2
    assert "tasks[0].kwargs: making Pendulum-v1" in capsys.readouterr().out


def test_bad_override_exits_2(capsys) -> None:
    assert main(["rollout", "ClassicCartPoleAcrobot", "--steps-per-task", "0"]) == 2
    assert "steps_per_task" in capsys.readouterr().out


def test_frame_saves_the_render_of_any_id_with_keyword_arguments(capsys, tmp_path) -> None:
    out = tmp_path / "catch.png"
    arguments = ["frame", "envsuite/Catch-v0", "--out", str(out), "--steps", "3"]
    assert main([*arguments, "--kwarg", "theme=neon", "--kwarg", "fruit_speed=0.9"]) == 0
    image = plt.imread(out)
    assert image.shape[:2] == (256, 256)
    neon_yellow = np.array([1.0, 1.0, 0.0])  # the neon theme's paddle
    assert np.all(image[..., :3] == neon_yellow, axis=-1).any()
    assert main([*arguments, "--kwarg", "theme"]) == 2
    assert "--kwarg: expected KEY=VALUE" in capsys.readouterr().out
    assert main([*arguments, "--kwarg", "theme=sepia"]) == 2
    assert "theme: unknown theme 'sepia'" in capsys.readouterr().out


def test_frame_says_when_it_creates_the_output_folder(capsys, tmp_path) -> None:
    out = tmp_path / "new" / "deeper" / "catch.png"
    assert main(["frame", "envsuite/Catch-v0", "--out", str(out), "--steps", "0"]) == 0
    assert f"created folder {out.parent}" in capsys.readouterr().out
    assert out.is_file()
    assert main(["frame", "envsuite/Catch-v0", "--out", str(out), "--steps", "0"]) == 0
    assert "created folder" not in capsys.readouterr().out  # it exists now


def test_frame_without_pygame_names_what_to_install(capsys, tmp_path, monkeypatch) -> None:
    # An import of a module set to None in sys.modules fails, as a missing pygame does.
    monkeypatch.setitem(sys.modules, "pygame", None)
    out = tmp_path / "cartpole.png"
    assert main(["frame", "envsuite/ClassicCartPoleAcrobot-v0", "--out", str(out)]) == 2
    printed = capsys.readouterr().out
    assert 'pip install "gymnasium[classic-control]"' in printed
    assert "Traceback" not in printed
    assert not out.exists()


@pytest.mark.parametrize("command", ["list", "show", "rollout", "frame", "report"])
def test_every_command_says_what_it_does_with_examples(command: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    help_text = capsys.readouterr().out
    examples = help_text.split("Examples:\n", 1)[1].splitlines()
    assert sum(line.startswith(f"  envsuite {command}") for line in examples) == 2
    # Arguments that had no help text before.
    expected = {
        "rollout": ["seeds the env and the random actions", "with --run-dir: evaluate every"],
        "report": ["run directories (results.jsonl", "what the metrics measure"],
        "frame": ["seeds the env and the random actions"],
    }
    for phrase in expected.get(command, []):
        assert phrase in " ".join(help_text.split()), (command, phrase)


def test_the_top_level_help_names_every_command_and_no_rst(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    help_text = capsys.readouterr().out
    for command in ("list", "show", "rollout", "frame", "report", "envsuite-train"):
        assert command in help_text
    assert "``" not in help_text
