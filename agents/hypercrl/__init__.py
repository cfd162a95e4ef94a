"""HyperCRL: continual model-based RL with a task-conditioned hypernetwork generating the
dynamics model's weights (Huang et al. 2021), planned through with CEM."""
