"""The one exception a user's mistake in a sequence spec raises, naming where and which field."""

from __future__ import annotations


class SpecError(ValueError):
    """A sequence spec (YAML file or keyword overrides) is invalid.

    Attributes:
        source: where the spec came from: a YAML path, or a description such as
            ``"make_sequence keyword arguments"``.
        field: the offending field, written as a path such as ``tasks[2].id`` or ``schedule.alpha``.
        problem: what is wrong and what is allowed.
    """

    def __init__(self, source: str, field: str, problem: str) -> None:
        self.source = source
        self.field = field
        self.problem = problem
        super().__init__(f"{source}: {field}: {problem}")


def check_choice(field: str, value: str, allowed: list[str] | tuple[str, ...]) -> str:
    """``value`` if it is one of ``allowed``, else a ValueError naming the field and the choices."""
    if value not in allowed:
        raise ValueError(f"{field}: unknown {field} {value!r}; allowed: {list(allowed)}")
    return value
