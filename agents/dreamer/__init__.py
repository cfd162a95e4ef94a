"""DreamerV3 (Hafner et al. 2023) in PyTorch: the world-model agent WMAR builds on.

``envsuite-train agent=dreamerv3 size=S sequence=MinigamesCross``; the algorithm, its losses and
where it departs from the paper's code: ``docs/dreamer.md``. The config is importable without
torch (:mod:`agents.dreamer.config`); the agent is :class:`agents.dreamer.agent.DreamerAgent`.

Departures from danijar/dreamerv3 at its 2023 configs (each argued in ``docs/dreamer.md``):

1. The vector encoder and decoder follow the size preset (the 2023 configs leave them at
   5 x 1024 by a regex quirk); parameter counts equal sheeprl's and the paper's table.
2. Evaluation is deterministic: the actor's mode, and the filter's most probable latents.
3. A uniformly random policy fills ``prefill`` steps before the first update; updates then
   follow ``train_ratio`` from that first one.
4. float32 by default, ``precision=bfloat16`` autocast on CUDA (2023: float16, loss scaling).
5. Categorical samples by inverse CDF: the same distribution, one number per categorical.
6. Symbolic grids (small uint8 or bool arrays) go through the MLP, not the CNN.
7. Binary observation parts are decoded as Bernoulli logits, not by symlog MSE.
"""
