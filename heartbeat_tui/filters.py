"""The `/` filter language of the dashboard's service tables.

Engine-level and pure (no Textual): the TUI compiles what the operator types
with `parse_filter` and keeps the rows for which `Filter.matches` is true.

Grammar, terms separated by spaces and ANDed:

* `word`             case-insensitive substring of the service, cluster, account
                     (alias or id) or region
* `field:value`      text fields: case-insensitive substring; `field:=value` exact
* `field:>N` ...     numeric fields: `>`, `>=`, `<`, `<=`, `=`, `!=` (a bare number is `=`,
                     compared with the whole percent or count shown)
* `-term`            negation of any term
* `"two words"`      quotes keep spaces inside one term

Fields (aliases in brackets): name, status (matches the service status *or*
the rollout state, so `status:FAILED` finds failed rollouts), rollout, account
[acct], region, cluster, launch, cpu, mem [memory], running, desired, pending.

A row is any object with the attributes named in `FIELDS` plus `haystack`
(the lower-cased text plain words search). Errors raise `FilterError` with a
one-line message meant for the operator.
"""

from __future__ import annotations

import operator
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["text", "number"]


class FilterError(ValueError):
    """The filter cannot be understood; `str()` is one line for the operator."""


@dataclass(frozen=True)
class FieldSpec:
    name: str
    attrs: tuple[str, ...]
    kind: Kind


FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        FieldSpec("name", ("name",), "text"),
        FieldSpec("status", ("status", "rollout"), "text"),
        FieldSpec("rollout", ("rollout",), "text"),
        FieldSpec("account", ("account", "account_id"), "text"),
        FieldSpec("region", ("region",), "text"),
        FieldSpec("cluster", ("cluster",), "text"),
        FieldSpec("launch", ("launch_type",), "text"),
        FieldSpec("cpu", ("cpu",), "number"),
        FieldSpec("mem", ("mem",), "number"),
        FieldSpec("running", ("running",), "number"),
        FieldSpec("desired", ("desired",), "number"),
        FieldSpec("pending", ("pending",), "number"),
    )
}
ALIASES = {"memory": "mem", "acct": "account", "service": "name", "state": "rollout", "launch_type": "launch"}

_COMPARISONS: tuple[tuple[str, Callable[[Any, Any], bool]], ...] = (
    # Longest first so `>=` is not read as `>` followed by `=5`.
    (">=", operator.ge),
    ("<=", operator.le),
    ("!=", operator.ne),
    (">", operator.gt),
    ("<", operator.lt),
    ("=", operator.eq),
)


@dataclass(frozen=True)
class Term:
    """One condition. `source` is what the operator typed, for messages."""

    source: str
    negate: bool
    test: Callable[[Any], bool]

    def matches(self, row: Any) -> bool:
        return self.test(row) != self.negate


@dataclass(frozen=True)
class Filter:
    text: str
    terms: tuple[Term, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.terms

    def matches(self, row: Any) -> bool:
        return all(term.matches(row) for term in self.terms)

    def __call__(self, row: Any) -> bool:
        return self.matches(row)


EMPTY_FILTER = Filter("")


def field_names() -> str:
    return ", ".join(FIELDS)


def parse_filter(text: str) -> Filter:
    """Compile what the operator typed; raises `FilterError` with a one-line reason."""

    stripped = text.strip()
    if not stripped:
        return EMPTY_FILTER
    try:
        words = shlex.split(stripped)
    except ValueError as exc:  # an unclosed quote
        raise FilterError(f"cannot read the filter: {exc}") from None
    return Filter(stripped, tuple(_term(word) for word in words if word))


def _term(word: str) -> Term:
    negate = False
    body = word
    if body.startswith("-") and len(body) > 1:
        negate, body = True, body[1:]
    if ":" in body:
        name, _, value = body.partition(":")
        key = ALIASES.get(name.lower(), name.lower())
        spec = FIELDS.get(key)
        if spec is None:
            raise FilterError(f"unknown field {name!r} in {word!r}; fields: {field_names()}")
        if value == "":
            raise FilterError(f"{word!r}: a value is needed after '{name}:'")
        test = _number_test(spec, value, word) if spec.kind == "number" else _text_test(spec, value)
        return Term(word, negate, test)
    needle = body.lower()
    return Term(word, negate, lambda row: needle in row.haystack)


def _text_test(spec: FieldSpec, value: str) -> Callable[[Any], bool]:
    attrs = spec.attrs
    if value.startswith("=") and len(value) > 1:
        exact = value[1:].lower()

        def test_exact(row: Any) -> bool:
            for attr in attrs:
                found = getattr(row, attr)
                if found is not None and str(found).lower() == exact:
                    return True
            return False

        return test_exact
    needle = value.lower()

    def test_substring(row: Any) -> bool:
        for attr in attrs:
            found = getattr(row, attr)
            if found is not None and needle in str(found).lower():
                return True
        return False

    return test_substring


def _number_test(spec: FieldSpec, value: str, word: str) -> Callable[[Any], bool]:
    symbol, compare, number_text = "=", operator.eq, value
    for candidate, function in _COMPARISONS:
        if value.startswith(candidate):
            symbol, compare, number_text = candidate, function, value[len(candidate) :]
            break
    number_text = number_text.strip().rstrip("%")
    try:
        number = float(number_text)
    except ValueError:
        raise FilterError(f"{word!r}: {spec.name} needs a number, such as {spec.name}:>80 or {spec.name}:<=5") from None
    attr = spec.attrs[0]
    rounds = symbol in ("=", "!=")

    def test(row: Any) -> bool:
        found = getattr(row, attr)
        if found is None:
            return False
        return bool(compare(round(found) if rounds else found, number))

    return test


__all__ = ["EMPTY_FILTER", "FIELDS", "Filter", "FilterError", "Term", "field_names", "parse_filter"]
