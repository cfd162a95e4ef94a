# Every target sets itself up: the first run creates .venv and installs the project into it.
# torch comes first and pinned (TORCH ?= ...): an unpinned torch would pull gigabytes of CUDA.
PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin
# What the demo needs (the train extra), then what the tests and benchmarks add to it.
DEMO_INSTALLED := $(VENV)/.installed-demo
INSTALLED := $(VENV)/.installed
PYTEST_WORKERS ?= 2

.PHONY: demo test bench lint

$(DEMO_INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet --editable ".[train]"
	touch $@

$(INSTALLED): $(DEMO_INSTALLED)
	$(BIN)/python -m pip install --quiet --editable ".[atari,dev,bench,metaworld,ray,train]"
	touch $@

# Trains PPO through CartPole and Acrobot (5 min 10 s on 2 cores, after a 2 min 35 s install with
# pip's cache warm; measured 2026-12-07) and prints the metric table, the run directory and the
# tensorboard command.
demo: $(DEMO_INSTALLED)
	$(BIN)/envsuite-train experiment=demo

test: lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --maxschedchunk 1

bench: $(INSTALLED)
	$(BIN)/python benchmarks/core.py
	$(BIN)/python benchmarks/buffers.py
	$(BIN)/python benchmarks/minigames.py
	$(BIN)/python benchmarks/navigation.py
	$(BIN)/python benchmarks/training_loop.py
	$(BIN)/python benchmarks/sweep_threads.py
	$(BIN)/python benchmarks/dreamer.py
	$(BIN)/python benchmarks/memory.py
	$(BIN)/python benchmarks/planner.py

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
