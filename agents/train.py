"""``envsuite-train``: train an agent through a sequence, evaluating every task as it goes.

Hydra command line over the structured config of :mod:`agents.training.config` and ``configs/``
(``agent=``, ``algorithm=``, ``method=``, ``mode=``, ``sequence=``, ``seed=``, ``device=``, ...);
``envsuite-train resume=RUN_DIR`` continues an interrupted run from its last checkpoint.
"""

from __future__ import annotations

import os
import sys
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

from envsuite.data import data_path

if TYPE_CHECKING:
    from omegaconf import DictConfig

# What training imports beyond the environments: the `train` extra of pyproject.toml. Hydra and
# omegaconf are imported only in the functions below, so that without the extra this module
# still loads and main() can say what to install.
TRAINING_MODULES = ("hydra", "torch", "stable_baselines3", "tensorboard")
INSTALL_HINT = 'pip install "envsuite[train]"'


def _run_dir_for(resume: str | None, default: str) -> str:
    """hydra.run.dir: a resumed run writes into the directory it resumes."""
    return str(resume) if resume else default


def _train(config: DictConfig) -> None:
    """The hydra task: one training run (or one job of a sweep)."""
    from hydra.core.hydra_config import HydraConfig

    # Imported here: torch, SB3 and the metrics take seconds to load, and a mistyped override
    # should be reported at once.
    from agents.training.command import run

    hydra_config = HydraConfig.get()
    overrides = [str(override) for override in hydra_config.overrides.task]
    run(config, _job_directory(hydra_config), overrides, _cpus_per_job(hydra_config))


def _cpus_per_job(hydra_config: DictConfig) -> int:
    """The cores one job may use: all of them for a lone run or a sweep of one job at a time,
    this machine's share per parallel joblib job, a Ray task's reserved CPUs."""
    from hydra.types import RunMode

    from agents.training.settings import available_cores

    cores = available_cores()
    if hydra_config.mode != RunMode.MULTIRUN:
        return cores
    launcher = hydra_config.launcher
    target = str(launcher.get("_target_", ""))
    if "joblib" in target.lower():
        import joblib

        return max(1, cores // joblib.effective_n_jobs(launcher.get("n_jobs", -1)))
    if "ray" in target.lower():
        return int(launcher.ray.remote.get("num_cpus") or 1)
    return cores


def _job_directory(hydra_config: DictConfig) -> Path:
    """The job's output directory, with the job moved into the directory it was launched from.

    Workers of a Ray cluster started elsewhere (``ray start --head``) run in the cluster's working
    directory, where hydra has already made a relative sweep directory; relative paths on the
    command line (``sequence=``, ``resume=``, ``hydra.sweep.dir=``) mean the launch directory's.
    """
    from hydra.types import RunMode

    output_dir = Path(hydra_config.runtime.output_dir)
    launch_dir = Path(hydra_config.runtime.cwd)
    worker_dir = Path.cwd()
    if worker_dir == launch_dir:
        return output_dir
    os.chdir(launch_dir)
    if hydra_config.mode != RunMode.MULTIRUN or Path(hydra_config.sweep.dir).is_absolute():
        return output_dir
    # Remove the empty directories hydra made in the worker's directory.
    stray = output_dir
    while stray != worker_dir and stray.is_dir() and not any(stray.iterdir()):
        stray.rmdir()
        stray = stray.parent
    job_dir = launch_dir / hydra_config.sweep.dir / str(hydra_config.sweep.subdir)
    job_dir.mkdir(parents=True, exist_ok=True)
    return job_dir


def main() -> None:
    """The ``envsuite-train`` console script; exits 2 when the training extra is not installed."""
    missing = [name for name in TRAINING_MODULES if find_spec(name) is None]
    if missing:
        # One line instead of a traceback from deep inside an import: it says what to install.
        print(
            f"envsuite-train needs the training extra ({', '.join(missing)} not installed): "
            f"{INSTALL_HINT}",
            file=sys.stderr,
        )
        raise SystemExit(2)
    import hydra
    from omegaconf import OmegaConf

    from agents.training.config import job_label, register_configs

    register_configs()
    OmegaConf.register_new_resolver("envsuite_run_dir", _run_dir_for, replace=True)
    OmegaConf.register_new_resolver("envsuite_job_label", job_label, replace=True)
    hydra_main = hydra.main(
        version_base="1.3", config_path=str(data_path("configs")), config_name="config"
    )
    hydra_main(_train)()


if __name__ == "__main__":
    main()
