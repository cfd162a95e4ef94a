"""DreamerV3 (Hafner et al. 2023) in PyTorch: the world-model agent WMAR builds on.

``envsuite-train agent=dreamerv3 size=S sequence=MinigamesCross``; the algorithm, its losses and
where it departs from the paper's code: ``docs/dreamer.md``. The config is importable without
torch (:mod:`agents.dreamer.config`); the agent is :class:`agents.dreamer.agent.DreamerAgent`.
"""
