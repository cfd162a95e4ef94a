"""``envsuite-train``: train an SB3 baseline through a sequence, evaluating every task as it goes.

Hydra command line over ``configs/`` (``agent=``, ``sequence=``, ``seed=``, ``device=``, ...);
``envsuite-train resume=RUN_DIR`` continues an interrupted run from its last checkpoint.
"""

from __future__ import annotations

from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
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
    run(config, Path(hydra_config.runtime.output_dir), overrides)


def main() -> None:
    """The ``envsuite-train`` console script."""
    _hydra_main()


if __name__ == "__main__":
    main()
