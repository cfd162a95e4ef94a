"""The built wheel's base install (no extras), in a fresh venv used from another directory: it
plays the environments and reports runs without torch; envsuite-train names the extra it needs.
"""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from email.parser import Parser
from importlib.metadata import Distribution, distribution
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPOSITORY = Path(__file__).resolve().parents[1]

# Runs inside the venv of the base install, from a directory that holds no checkout.
USE_THE_INSTALLED_WHEEL = """
import sys
import gymnasium as gym
import envsuite
from envsuite.core.registry import family_of
from envsuite.data import DATA_FOLDERS, data_root

try:
    import torch
except ModuleNotFoundError:
    pass
else:
    raise AssertionError(f"torch is importable from {torch.__file__}: not the base install")
assert envsuite.__file__.startswith(sys.prefix), envsuite.__file__
assert data_root().is_relative_to(sys.prefix), data_root()
for folder in DATA_FOLDERS:
    assert (data_root() / folder).is_dir(), folder
ids = envsuite.sequence_ids()
assert ids, "no sequence registered"
# Continual World plays on Meta-World and the Atari games on ale-py, extras of their own: their
# ids are listed and say so.
extras = {"cw": "metaworld", "atari": "atari"}
extra_ids = [env_id for env_id in ids if family_of(env_id) in extras]
assert {family_of(env_id) for env_id in extra_ids} == set(extras), ids
for env_id in extra_ids:
    try:
        gym.make(env_id)
    except ModuleNotFoundError as error:
        assert f'pip install "envsuite[{extras[family_of(env_id)]}]"' in str(error), error
    else:
        raise AssertionError(f"{env_id} made without its extra")
# Every other sequence, and one task of each of our families.
tasks = ["envsuite/Catch-v0", "envsuite/MazeGoal-v0", "envsuite/Reach-v0"]
for env_id in [env_id for env_id in ids if env_id not in extra_ids] + tasks:
    env = gym.make(env_id)
    env.reset(seed=0)
    env.step(env.action_space.sample())
    env.close()
print("wheel ok:", " ".join(ids))
"""


def _build_wheel(wheel_dir: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheel_dir),
            str(REPOSITORY),
        ],
        check=True,
    )
    (wheel,) = wheel_dir.glob("envsuite-*.whl")
    return wheel


def _fresh_venv(environment: Path) -> tuple[Path, Path]:
    """A venv without pip (this venv's pip installs into it): its python and site-packages."""
    venv.create(environment, with_pip=False)
    python = environment / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return python, Path(site)


def _pip(python: Path, *arguments: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), *arguments], check=True)


def _base_distributions(wheel: Path) -> list[Distribution]:
    """What ``pip install envsuite`` installs besides envsuite, taken from this venv.

    The closure of the wheel's requirements without extras, each as this venv has it (the
    same interpreter, so the same markers): a fresh venv gets it without a download.
    """
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = (name for name in archive.namelist() if name.endswith(".dist-info/METADATA"))
        requires = Parser().parsestr(archive.read(metadata).decode()).get_all("Requires-Dist")
    pending = [(Requirement(text), "") for text in requires]
    seen: set[tuple[str, str]] = set()
    found: dict[str, Distribution] = {}
    while pending:
        requirement, extra = pending.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        found[name] = distribution(name)
        for wanted in ("", *requirement.extras):
            if (name, wanted) not in seen:
                seen.add((name, wanted))
                pending += [(Requirement(text), wanted) for text in found[name].requires or []]
    return list(found.values())


def _link_into(site: Path, installed: Distribution) -> None:
    """Make ``installed`` part of ``site`` file by file, as its own install recorded them.

    File by file, not folder by folder: a namespace folder (``mpl_toolkits``, ``google``) may
    also hold files of distributions that the base install does not have.
    """
    assert installed.files is not None, f"{installed.metadata['Name']} has no RECORD"
    source_site = Path(str(installed.locate_file("")))
    for record in installed.files:
        if record.parts[0] == "..":  # console scripts and data outside site-packages
            continue
        target = site / record
        if target.is_symlink():  # two distributions may record the same file
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(source_site / record)


def _run(python_or_script: Path, *arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python_or_script), *arguments], cwd=cwd, capture_output=True, text=True
    )


# One test, so one venv (pytest-xdist may give separate tests separate workers): compiling the
# numba families in a fresh install takes a minute on 2 cores.
@pytest.mark.slow
def test_wheel_installs_alone_and_runs_without_the_training_extra(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path / "dist")
    python, fresh_site = _fresh_venv(tmp_path / "venv")
    for installed in _base_distributions(wheel):
        _link_into(fresh_site, installed)
    _pip(python, "install", "--no-deps", "-q", str(wheel))
    # pip agrees that the base requirements are met: nothing the base install needs is missing.
    _pip(python, "check")
    scripts = python.parent

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = _run(python, "-c", USE_THE_INSTALLED_WHEEL, cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert "envsuite/ClassicPendulumGravity-v0" in result.stdout

    listed = _run(scripts / "envsuite", "list", cwd=elsewhere)
    assert listed.returncode == 0, listed.stderr
    assert "envsuite/Catch-v0" in listed.stdout

    run_dir = tmp_path / "run"
    rollout = _run(
        scripts / "envsuite",
        "rollout",
        "ClassicCartPoleAcrobot",
        "--steps-per-task=300",
        f"--run-dir={run_dir}",
        "--eval-every=300",
        "--eval-episodes=2",
        cwd=elsewhere,
    )
    assert rollout.returncode == 0, rollout.stderr
    assert 'pip install "envsuite[train]"' in rollout.stdout
    report = _run(scripts / "envsuite", "report", str(run_dir), cwd=elsewhere)
    assert report.returncode == 0, report.stderr
    assert (run_dir / "report" / "report.html").is_file()

    train = _run(scripts / "envsuite-train", "seed=1", cwd=elsewhere)
    assert train.returncode == 2, train.stdout + train.stderr
    assert "Traceback" not in train.stderr, train.stderr
    assert 'pip install "envsuite[train]"' in train.stderr
    assert "torch" in train.stderr
