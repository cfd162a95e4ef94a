"""``envsuite-train``: train an SB3 baseline through a sequence, evaluating every task as it goes.

Hydra command line over ``configs/`` (``agent=``, ``sequence=``, ``seed=``, ``device=``, ...);
``envsuite-train resume=RUN_DIR`` continues an interrupted run from its last checkpoint.
"""

from __future__ import annotations

import os
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from envsuite.data import data_path


def _run_dir_for(resume: str | None, default: str) -> str:
    """hydra.run.dir: a resumed run writes into the directory it resumes."""
    return str(resume) if resume else default


OmegaConf.register_new_resolver("envsuite_run_dir", _run_dir_for, replace=True)


@hydra.main(version_base="1.3", config_path=str(data_path("configs")), config_name="config")
def _hydra_main(config: DictConfig) -> None:
    # Imported here: torch, SB3 and the metrics take seconds to load, and a mistyped override
    # should be reported at once.
    from agents.training.command import run

    hydra_config = HydraConfig.get()
    overrides = [str(override) for override in hydra_config.overrides.task]
    run(config, _job_directory(hydra_config), overrides)


def _job_directory(hydra_config: DictConfig) -> Path:
    """The job's output directory, with the job moved into the directory it was launched from.

    Workers of a Ray cluster started elsewhere (``ray start --head``) run in the cluster's working
    directory, where hydra has already made a relative sweep directory; relative paths on the
    command line (``sequence=``, ``resume=``, ``hydra.sweep.dir=``) mean the launch directory's.
    """
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
    """The ``envsuite-train`` console script."""
    _hydra_main()


if __name__ == "__main__":
    main()
