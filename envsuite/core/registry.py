"""Register every sequence YAML under ``tasks/`` as a gymnasium id and look sequences up by name."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import gymnasium as gym

from envsuite.core.errors import SpecError
from envsuite.core.spec import SequenceSpec, load_sequence_spec
from envsuite.data import data_path

NAMESPACE = "envsuite"
# ContinualEnv raises ResetNeeded itself, so gymnasium's order enforcing would only cost a layer;
# the passive env checker stays, on the sequence env (the task envs inside go without it).
SEQUENCE_MAKE_OPTIONS = {
    "entry_point": "envsuite.core.continual_env:ContinualEnv",
    "vector_entry_point": "envsuite.core.continual_vector_env:ContinualVectorEnv",
    "order_enforce": False,
}
_VERSIONED = re.compile(r"^(?P<name>.+)-v(?P<version>\d+)$")
# A task's one line for catalogues (`envsuite list`), by id: gymnasium's EnvSpec has no field
# for it, so each family's registration fills this in beside gym.register.
TASK_DESCRIPTIONS: dict[str, str] = {}


def register_sequences(root: Path | None = None) -> list[str]:
    """Register ``<root>/<family>/**/*.yaml`` (default: the shipped ``tasks/``); return the ids."""
    root = data_path("tasks") if root is None else root
    ids = []
    for path in sorted(root.rglob("*.yaml")):
        relative = path.relative_to(root)
        if len(relative.parts) < 2:
            raise SpecError(
                str(path), "<file>", "sequence files live in tasks/<family>/, not tasks/"
            )
        spec = load_sequence_spec(path, family=relative.parts[0])
        family_prefix = spec.family[:1].upper() + spec.family[1:]
        # Case-insensitive, so that a benchmark keeps its published name (tasks/cw/ holds CW10).
        if not spec.name.lower().startswith(spec.family.lower()):
            raise SpecError(
                spec.source,
                "name",
                f"must start with the family name {family_prefix!r}, got {spec.name!r}",
            )
        register_sequence(spec)
        ids.append(spec.id)
    return ids


def register_sequence(spec: SequenceSpec) -> None:
    """Register one sequence as ``envsuite/<name>-v<version>`` (again from the same file: no-op)."""
    if spec.id in gym.registry:
        existing = gym.registry[spec.id].kwargs.get("spec")
        if isinstance(existing, SequenceSpec) and _same_file(existing.source, spec.source):
            return
        owner = existing.source if isinstance(existing, SequenceSpec) else "another package"
        raise SpecError(spec.source, "name", f"id {spec.id} is already registered by {owner}")
    gym.register(spec.id, kwargs={"spec": spec}, **SEQUENCE_MAKE_OPTIONS)


def _same_file(first: str, second: str) -> bool:
    return Path(first).resolve() == Path(second).resolve()


def registered_ids(family: str | None = None) -> list[str]:
    """Every ``envsuite/`` id (tasks and sequences), optionally of one family, sorted."""
    ids = sorted(env_id for env_id in gym.registry if env_id.startswith(f"{NAMESPACE}/"))
    if family is None:
        return ids
    return [env_id for env_id in ids if family_of(env_id) == family]


def sequence_ids() -> list[str]:
    """The ids of every registered sequence, sorted."""
    return [env_id for env_id in registered_ids() if _registered_spec(env_id) is not None]


def family_of(env_id: str) -> str:
    """A sequence's folder under ``tasks/``, or a task's package under ``envsuite/``."""
    spec = _registered_spec(env_id)
    if spec is not None:
        return spec.family
    entry_point = gym.spec(env_id).entry_point
    module = entry_point if isinstance(entry_point, str) else entry_point.__module__
    parts = module.split(":")[0].split(".")
    return parts[1] if len(parts) > 1 and parts[0] == NAMESPACE else "external"


def describe(env_id: str) -> str:
    """One line on a registered id: a sequence's ``description``, a task's registered line."""
    spec = _registered_spec(env_id)
    return spec.description if spec is not None else TASK_DESCRIPTIONS.get(env_id, "")


def find_sequence_spec(name_or_id: str) -> SequenceSpec:
    """Find a sequence by id, by id without namespace, by name (latest version) or by YAML path."""
    if name_or_id.endswith((".yaml", ".yml")):
        return load_sequence_spec(name_or_id)
    bare = name_or_id.removeprefix(f"{NAMESPACE}/")
    matches = {
        _VERSIONED.match(env_id.removeprefix(f"{NAMESPACE}/")): env_id for env_id in sequence_ids()
    }
    if _VERSIONED.match(bare):
        env_id = f"{NAMESPACE}/{bare}"
        spec = _registered_spec(env_id)
        if spec is not None:
            return spec
    else:
        versions = {
            int(match["version"]): env_id
            for match, env_id in matches.items()
            if match is not None and match["name"] == bare
        }
        if versions:
            spec = _registered_spec(versions[max(versions)])
            assert spec is not None
            return spec
    # A task id is no typo of a sequence: close matches would mislead (Breakout-v0 -> CW20).
    task_id = next(
        (
            env_id
            for env_id in (name_or_id, f"{NAMESPACE}/{bare}")
            if env_id in gym.registry and _registered_spec(env_id) is None
        ),
        None,
    )
    if task_id is not None:
        raise SpecError(
            "make_sequence",
            "name_or_id",
            f"{task_id!r} is a task, not a sequence; give a sequence id, name or YAML path "
            f"(`envsuite list` lists both kinds; `gymnasium.make({task_id!r})` makes the task)",
        )
    known = sequence_ids()
    close = difflib.get_close_matches(name_or_id, known, n=3, cutoff=0.4)
    raise SpecError(
        "make_sequence",
        "name_or_id",
        f"unknown sequence {name_or_id!r}; "
        + (f"did you mean {close}? " if close else "")
        + "see `envsuite list`",
    )


def _registered_spec(env_id: str) -> SequenceSpec | None:
    env_spec = gym.registry.get(env_id)
    spec = env_spec.kwargs.get("spec") if env_spec is not None else None
    return spec if isinstance(spec, SequenceSpec) else None
