"""WMAR ("Augmenting Replay in World Models for Continual Reinforcement Learning", Cerenaut;
ARROW in its 2026 revision): DreamerV3 (``agents.dreamer``) whose replay is a short-term FIFO and
a long-term store keeping a uniform sample of every sequence seen, each update's minibatch drawn
from one of them at random. ``docs/wmar.md`` has the method and the experiments.

Departures from the released code (Cerenaut/WMAR), each a choice of this port:

1. The world model and actor-critic are our DreamerV3 (2023), not the paper's variant of it:
   LayerNorm GRU, two-hot reward head, the slow critic, imagination from every replayed state
   interleaved with the world model's updates (the paper's code alternates phases of 1,000 world
   model and 800 actor-critic updates from 128 four-step contexts).
2. A sequence both stores hold is stored once, as uint8 (the released code keeps two float32
   copies on the GPU: 12 GiB per store at its sizes).
3. Sequences overlap by ``sequence_length - 1`` steps so that a window may start anywhere in an
   env's stream; the capacities count distinct steps.
4. The recent store holds the sequences being written too (sampleable as soon as a window is
   complete); the long-term store is offered each sequence once it is full.
5. Until the long-term store holds a minibatch's worth of windows, minibatches come from the
   recent store.
6. ``mixing=per_sample`` (each window from the long-term store with the same chance) and other
   ``long_term_share`` values are options; the paper's code is ``per_update`` at 0.5.
"""
