"""The built wheel works on its own: installed in a fresh venv, used from another directory."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]

# Runs inside the fresh venv, from a directory that holds no checkout.
USE_THE_INSTALLED_WHEEL = """
import sys
import gymnasium as gym
import envsuite
from envsuite.data import DATA_FOLDERS, data_root

assert envsuite.__file__.startswith(sys.prefix), envsuite.__file__
assert data_root().is_relative_to(sys.prefix), data_root()
for folder in DATA_FOLDERS:
    assert (data_root() / folder).is_dir(), folder
ids = envsuite.sequence_ids()
assert ids, "no sequence registered"
for env_id in ids:
    env = gym.make(env_id)
    env.reset(seed=0)
    env.step(env.action_space.sample())
    env.close()
print("wheel ok:", " ".join(ids))
"""


@pytest.mark.slow
def test_wheel_installs_and_registers_every_sequence(tmp_path: Path) -> None:
    wheel_dir = tmp_path / "dist"
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

    environment = tmp_path / "venv"
    venv.create(environment, with_pip=False)
    python = environment / "bin" / "python"
    # The runtime dependencies come from this venv (a .pth line adds its site-packages after the
    # fresh one's); envsuite itself only from the wheel: that line does not run the editable
    # install's own .pth hook.
    fresh_site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    (fresh_site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "-q",
            str(wheel),
        ],
        check=True,
    )

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run(
        [str(python), "-c", USE_THE_INSTALLED_WHEEL],
        cwd=elsewhere,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "envsuite/ClassicPendulumGravity-v0" in result.stdout
