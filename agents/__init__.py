"""Learning code for envsuite: replay buffers, baselines and the seed agents (PyTorch).

Import the parts you need, e.g. ``from agents.buffers import RingBuffer``.
"""
