"""HCAM: hierarchical chunk attention memory (Lampinen et al. 2021), with LSTM and windowed
transformer cores beside it, in a recurrent actor-critic trained with PPO."""
