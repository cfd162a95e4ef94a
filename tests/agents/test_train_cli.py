"""``envsuite-train`` through its real command line, in subprocesses: kill -9 then resume, bad
input leaving the run directory untouched, and multirun sweeps with joblib and on a local Ray
cluster."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from train_helpers import (
    cartpoles,
    example_agent_overrides,
    readme_agent_module,
    run_overrides,
    write_sequence,
)

from agents.training.checkpoints import (
    BLOCKS_FOLDER,
    checkpoints_newest_first,
    latest_checkpoint,
    load_checkpoint,
)
from envsuite.evaluation import load_run

STEPS_PER_TASK = 600
# A sweep job of 200 steps evaluated every 100, writing only what the tests read.
SWEEP_JOB = [
    "device=cpu",
    "eval.every=100",
    "eval.episodes=1",
    "logging.progress_bar=false",
    "logging.tensorboard=false",
    "report.enabled=false",
]
TINY_DREAMER = [
    "size=XS",
    "agent.batch_size=4",
    "agent.sequence_length=8",
    "agent.replay_capacity=4096",
    "agent.prefill=64",
    "agent.train_ratio=8",
    "agent.horizon=5",
    "agent.log_every=10",
]
TINY_PPO = [
    "+agent.hyperparameters.n_steps=64",
    "+agent.hyperparameters.batch_size=32",
    "+agent.hyperparameters.n_epochs=1",
]


def _sequence_file(folder: Path, steps_per_task: int) -> Path:
    return write_sequence(
        folder / "sequences" / "cartpoles.yaml", cartpoles("CliTestCartPoles", steps_per_task)
    )


def _command(*overrides: str) -> list[str]:
    return [sys.executable, "-m", "agents.train", *overrides]


def _environment() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "200"}


def _run(arguments: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run a command to its end (five minutes at most), capturing its output."""
    return subprocess.run(
        arguments, cwd=cwd, env=_environment(), capture_output=True, text=True, timeout=300
    )


def _snapshot(directory: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``directory`` with its size and modification time."""
    return {
        str(path.relative_to(directory)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(directory.rglob("*"))
    }


@pytest.mark.slow
@pytest.mark.parametrize("agent", ["ppo", "readme", "dreamerv3"])
def test_kill_during_run_then_resume_finishes_where_it_would_have(
    agent: str, tmp_path: Path
) -> None:
    sequence = _sequence_file(tmp_path, STEPS_PER_TASK)
    run_dir = tmp_path / "run"
    every = ["checkpoint.every=100", "logging.every=50", f"hydra.run.dir={run_dir}"]
    if agent == "ppo":
        overrides = run_overrides("ppo", sequence, STEPS_PER_TASK, *every, *TINY_PPO)
        loss_tag = "agent/train/loss"  # SB3's, through the agent's update()
    elif agent == "dreamerv3":  # its replay goes into every full checkpoint
        overrides = [
            "agent=dreamerv3",
            *TINY_DREAMER,
            f"sequence={sequence}",
            "device=cpu",
            "threads=1",
            f"eval.every={STEPS_PER_TASK}",
            "eval.episodes=1",
            "logging.progress_bar=false",
            *every,
        ]
        loss_tag = "agent/world_model/loss"
    else:  # the README's example agent, from the launch directory
        readme_agent_module(tmp_path)
        overrides = example_agent_overrides(sequence, f"eval.every={STEPS_PER_TASK}", *every)
        loss_tag = "agent/loss"
    process = subprocess.Popen(
        _command(*overrides),
        cwd=tmp_path,
        env=_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while latest_checkpoint(run_dir) is None and process.poll() is None:
        assert time.monotonic() < deadline, "no checkpoint within two minutes"
        time.sleep(0.02)
    # While the run lives, a second process may not train into its directory.
    os.kill(process.pid, signal.SIGSTOP)
    for second_start in ([f"resume={run_dir}"], overrides):  # a resume, and a new run there
        second = _run(_command(*second_start), tmp_path)
        assert second.returncode == 2, second.stdout + second.stderr
        assert f"process {process.pid} is training into it" in second.stderr
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, f"the run ended before the kill: {process.stderr}"
    checkpoint = load_checkpoint(latest_checkpoint(run_dir))
    last_before_kill = checkpoint["global_step"]
    if agent == "dreamerv3":  # the resume continues with the replay the agent had collected
        assert checkpoint["agent"]["env_steps"] == last_before_kill
        assert checkpoint["agent"]["replay"]["counters"]["steps_added"] >= last_before_kill
    total_steps = 2 * STEPS_PER_TASK
    assert 0 < last_before_kill < total_steps

    # The killed run's lock died with it.
    resumed = _run(_command(f"resume={run_dir}", "logging.progress_bar=false"), tmp_path)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    # No lost progress beyond the last checkpoint: the run continues from exactly there.
    assert f"from global step {last_before_kill}" in resumed.stdout
    final = latest_checkpoint(run_dir)
    assert load_checkpoint(final)["global_step"] == total_steps
    # The newest checkpoint.keep=2 full checkpoints stay, and a snapshot without replay of each
    # block end.
    assert [path.name for path in checkpoints_newest_first(run_dir)] == [
        f"step_{total_steps:09d}.pt",
        f"step_{total_steps - 100:09d}.pt",
    ]
    assert sorted(path.name for path in (run_dir / BLOCKS_FOLDER).iterdir()) == [
        f"step_{STEPS_PER_TASK:09d}.pt",
        f"step_{total_steps:09d}.pt",
    ]
    # Complete and without a round recorded twice (load_run rejects both).
    run = load_run(run_dir)
    assert int(run.table.eval_step.max()) == total_steps
    steps = [
        json.loads(line)["global_step"]
        for line in (run_dir / "metrics.jsonl").read_text().splitlines()
    ]
    assert steps == sorted(set(steps)), "metrics.jsonl repeats steps after the resume"
    assert steps[-1] == total_steps
    assert (run_dir / "report" / "metrics.json").is_file()
    # Tensorboard shows each round once, the resumed ones included: the resumed run's purge of
    # the killed run's later events hides none of its own.
    events = EventAccumulator(str(run_dir))
    events.Reload()
    rounds = [event.step for event in events.Scalars("eval/average")]
    assert rounds == [0, STEPS_PER_TASK, total_steps]
    logged = [event.step for event in events.Scalars("train/steps_per_second")]
    assert logged == sorted(set(logged))
    assert logged[-1] == total_steps
    # The agent's losses go through the same writer, whose purge hides what the killed run
    # logged past its checkpoint: each step once.
    losses = [event.step for event in events.Scalars(loss_tag)]
    assert losses == sorted(set(losses))
    assert losses[-1] > last_before_kill

    # Resuming with an override that changes the run's config: a clear error, nothing touched.
    before = _snapshot(run_dir)
    changed = _run(_command(f"resume={run_dir}", "seed=7"), tmp_path)
    assert changed.returncode == 2
    assert "made by another config" in changed.stderr
    assert "seed: 0 in the run's config, now 7" in changed.stderr
    assert _snapshot(run_dir) == before


@pytest.mark.slow
def test_through_a_pipe_progress_comes_as_plain_lines(tmp_path: Path) -> None:
    sequence = _sequence_file(tmp_path, 100)
    overrides = run_overrides("ppo", sequence, 100, *TINY_PPO, "report.enabled=false")
    overrides.remove("logging.progress_bar=false")
    completed = _run(_command(*overrides, f"hydra.run.dir={tmp_path / 'run'}"), tmp_path)
    assert completed.returncode == 0, completed.stderr
    lines = [line for line in completed.stdout.splitlines() if line.startswith("step ")]
    assert lines[0].startswith("step 0/200 (0%)"), completed.stdout
    assert lines[-1].startswith("step 200/200 (100%)"), completed.stdout


def test_help_says_what_the_command_does_without_loading_torch(tmp_path: Path) -> None:
    # Help and config composition come before training: they must not wait seconds for torch
    # and SB3 (the help took 8 s when the packages imported them eagerly).
    probe = (
        "import sys\n"
        "from agents.train import main\n"
        "sys.argv = ['envsuite-train', '--help']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('LOADED', sorted(m for m in ('torch', 'stable_baselines3') if m in sys.modules))\n"
    )
    completed = _run([sys.executable, "-c", probe], tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("envsuite-train: train an agent"), completed.stdout
    assert "LOADED []" in completed.stdout


def test_bad_input_is_a_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    not_a_run = tmp_path / "not_a_run"
    not_a_run.mkdir()
    (not_a_run / "notes.txt").write_text("mine\n")
    before = _snapshot(not_a_run)
    cases = {
        "unknown agent": (["agent=ppo_typo"], "Could not find 'agent/ppo_typo'"),
        "unknown algorithm": (["algorithm=sax"], "Could not find 'algorithm/sax'"),
        "misspelled group added with +": (["+agnet=ppo"], "agnet: not a key of the config"),
        "misspelled key added with +": (["+eval.evry=100"], "eval.evry: not a key of the config"),
        "option of another method": (
            ["method=l2", "agent.method_options.capacity=10"],
            "unknown option(s) ['capacity'] for method 'l2'",
        ),
        "unknown sequence": (["sequence=ClassicCartPoleAcrobt"], "unknown sequence"),
        "typo'd override": (["eval.evry=5"], "eval.evry"),
        "bad device": (["device=tpu"], "Invalid value 'tpu', expected one of [auto, cpu, cuda]"),
        "resume of a directory that does not exist": (
            ["resume=outputs/no/such/run"],  # under its launch directory
            "is not an envsuite-train run directory",
        ),
        "resume of a directory that is no run": (
            [f"resume={not_a_run}"],
            "is not an envsuite-train run directory",
        ),
        "value SB3 asserts against": (
            ["+agent.hyperparameters.n_steps=-1"],
            "`n_steps * n_envs` must be greater than 1",
        ),
        "missing references file": (
            ["report.references=missing.json"],
            "report.references: missing.json is not a file",
        ),
        "replay run without its buffer in checkpoints": (
            ["algorithm=dqn", "method=replay", "checkpoint.replay_buffer=false"],
            "checkpoint.replay_buffer: must be true for dqn_replay",
        ),
        "no envs": (["agent.num_envs=0"], "agent.num_envs: must be a positive integer"),
        "several envs for single-task references": (
            ["mode=single_task", "agent.num_envs=2"],
            "agent.num_envs: single-task references train on one env",
        ),
        "blocks shorter than one vector step": (
            ["agent.num_envs=64", "sequence_overrides.steps_per_task=20"],
            "agent.num_envs: every block must last at least one vector step",
        ),
        "schedule override of a multi-task run": (
            ["mode=multitask", "sequence_overrides.schedule=sequential"],
            "sequence_overrides.schedule: a multitask run makes its own schedule",
        ),
    }
    outputs = tmp_path / "outputs"
    launch_dirs = [tmp_path / f"launch{number}" for number in range(len(cases))]
    for launch_dir in launch_dirs:
        launch_dir.mkdir()
    processes = {
        # The default run directory (outputs/DATE/TIME) for some, to see it and its parents go;
        # each from its own directory, as runs started in the same second share that name.
        name: subprocess.Popen(
            _command(*overrides, *([f"hydra.run.dir={outputs / str(number)}"] * (number % 2))),
            cwd=launch_dirs[number],
            env={**_environment(), "HYDRA_FULL_ERROR": "0"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for number, (name, (overrides, _)) in enumerate(cases.items())
    }
    for name, process in processes.items():
        output, _ = process.communicate(timeout=120)
        assert process.returncode != 0, f"{name}: accepted\n{output}"
        assert cases[name][1] in output, f"{name}: unclear error\n{output}"
        assert "Traceback" not in output, f"{name}: a traceback instead of an error\n{output}"
    # The explicit run directories are gone (their parent, which hydra made, may stay).
    left = sorted(outputs.rglob("*")) if outputs.exists() else []
    assert left == [], f"a failed run left {left}"
    left = [path for launch_dir in launch_dirs for path in launch_dir.rglob("*")]
    assert left == [], f"a failed run left {left} in its launch directory"
    assert _snapshot(not_a_run) == before


@pytest.mark.slow
def test_multirun_sweeps_seeds_and_agents_with_joblib(tmp_path: Path) -> None:
    sequence = _sequence_file(tmp_path, 100)
    sweep_dir = tmp_path / "sweep"
    result = _run(
        _command(
            "-m",
            "seed=0,1",
            "method=finetune,l2",
            f"sequence={sequence}",
            *SWEEP_JOB,
            "hydra.launcher.n_jobs=2",
            f"hydra.sweep.dir={sweep_dir}",
            *TINY_PPO,
        ),
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Joblib" in result.stdout + result.stderr, "the joblib launcher did not run the sweep"
    # Jobs are numbered in the order of the sweep's product, grouped by agent config.
    jobs = sorted(sweep_dir.glob("*/*"))
    assert [str(job.relative_to(sweep_dir)) for job in jobs] == [
        "ppo_finetune/0",
        "ppo_finetune/2",
        "ppo_l2/1",
        "ppo_l2/3",
    ]
    configs = {
        (config["seed"], config["agent"]["method"])
        for config in (yaml.safe_load((job / "config.yaml").read_text()) for job in jobs)
    }
    assert configs == {(0, "finetune"), (1, "finetune"), (0, "l2"), (1, "l2")}
    for job in jobs:
        assert int(load_run(job).table.eval_step.max()) == 200
    # What the README says to do next: report an agent's seeds together.
    ppo_jobs = [str(job) for job in sorted((sweep_dir / "ppo_finetune").iterdir())]
    report = _run([str(Path(sys.executable).with_name("envsuite")), "report", *ppo_jobs], tmp_path)
    assert report.returncode == 0, report.stdout + report.stderr
    assert "2 run(s)" in report.stdout


@pytest.fixture
def ray_cluster(tmp_path: Path):
    """A one-machine Ray cluster started by ``ray start --head`` in its own directory; yields its
    address. ``--block`` ties the cluster's processes to the one this fixture stops."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cluster_dir = tmp_path / "cluster"
    cluster_dir.mkdir()
    ray = Path(sys.executable).with_name("ray")
    head = subprocess.Popen(
        [
            str(ray),
            "start",
            "--head",
            "--block",
            f"--port={port}",
            "--num-cpus=2",
            "--include-dashboard=false",
            "--disable-usage-stats",
        ],
        cwd=cluster_dir,
        env=_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        started = []
        for line in head.stdout:  # until it says it is up (or exits, ending the output)
            started.append(line)
            if "will now block forever" in line:
                break
        assert head.poll() is None, "ray start failed:\n" + "".join(started)
        yield f"127.0.0.1:{port}", cluster_dir
    finally:
        # Ray's graceful stop takes half a minute; what is left after a few seconds is killed.
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.communicate()


@pytest.mark.slow
def test_multirun_sweeps_seeds_on_a_local_ray_cluster(
    tmp_path: Path, ray_cluster: tuple[str, Path]
) -> None:
    address, cluster_dir = ray_cluster
    launch_dir = tmp_path / "launch"
    _sequence_file(launch_dir, 100)
    # Relative paths: the cluster's workers run in cluster_dir, yet they mean launch_dir's.
    result = _run(
        _command(
            "-m",
            "launcher=ray",
            f"hydra.launcher.ray.init.address={address}",
            "seed=0,1",
            "sequence=sequences/cartpoles.yaml",
            *SWEEP_JOB,
            "hydra.sweep.dir=sweep",
            *TINY_PPO,
        ),
        launch_dir,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Ray Launcher is launching 2 jobs" in result.stdout + result.stderr
    jobs = sorted((launch_dir / "sweep").glob("ppo_finetune/*"))
    seeds = {yaml.safe_load((job / "config.yaml").read_text())["seed"] for job in jobs}
    assert seeds == {0, 1}
    for job in jobs:
        assert int(load_run(job).table.eval_step.max()) == 200
    assert not (cluster_dir / "sweep").exists(), "a job wrote into the cluster's directory"
