"""The `/` filter language of the dashboard's service tables.

Engine-level and pure (no Textual): the TUI compiles what the operator types
with `parse_filter` and keeps the rows for which `Filter.matches` is true.

Grammar, terms separated by spaces and ANDed:

* `word`             case-insensitive substring of the service, cluster, account
                     (alias or id) or region; with `*`, `?` or `[...]` a shell glob
                     of any of them whole (as the CLI's `--service` takes)
* `field:value`      text fields: case-insensitive substring; `field:=value` exact;
                     a glob (`name:api-*`) matches the whole value
* `a|b`              alternatives, in a word or a value (`status:FAILED|DRAINING`,
                     `cpu:>90|<5`)
* `field:>N` ...     numeric fields: `>`, `>=`, `<`, `<=`, `=`, `!=` (a bare number is `=`,
                     compared with the whole percent or count shown)
* `problem:yes|no`   the services with a problem (`heartbeat_tui.severity`), or without
* `-term`            negation of any term
* `"two words"`      quotes keep spaces inside one term

Fields (aliases in brackets): name, status (matches the service status *or*
the rollout state, so `status:FAILED` finds failed rollouts), rollout, account
[acct], region, cluster, launch, cpu, mem [memory], running, desired, pending,
problem.

`cpu>80` (no colon) is an error that says how to write it (`cpu:>80`).

A row is any object with the attributes named in `FIELDS` plus `haystack`
(the lower-cased text plain words search). Errors raise `FilterError` with a
one-line message meant for the operator.
"""

from __future__ import annotations

import fnmatch
import operator
import re
import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["text", "number", "flag"]


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
        FieldSpec("problem", ("problem",), "flag"),
    )
}
ALIASES = {
    "memory": "mem",
    "acct": "account",
    "service": "name",
    "state": "rollout",
    "launch_type": "launch",
    "problems": "problem",
}
_YES = ("yes", "y", "true", "1")
_NO = ("no", "n", "false", "0")
_GLOB = re.compile(r"[*?\[]")
# `cpu>80`: a field and a comparison without the colon between them.
_MISSING_COLON = re.compile(r"^([A-Za-z_]+)(>=|<=|!=|>|<|=)(.*)$")

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
    if ":" not in body:
        missing = _MISSING_COLON.match(body)
        if missing and ALIASES.get(missing.group(1).lower(), missing.group(1).lower()) in FIELDS:
            name, symbol, value = missing.groups()
            fixed = f"{'-' if negate else ''}{name}:{symbol}{value}"
            raise FilterError(f"{word!r}: a field needs a colon before the comparison: {fixed}")
    if ":" in body:
        name, _, value = body.partition(":")
        key = ALIASES.get(name.lower(), name.lower())
        spec = FIELDS.get(key)
        if spec is None:
            raise FilterError(f"unknown field {name!r} in {word!r}; fields: {field_names()}")
        if value == "":
            raise FilterError(f"{word!r}: a value is needed after '{name}:'")
        if spec.kind == "flag":
            test = _flag_test(spec, value, word)
        elif spec.kind == "number":
            test = _any(_number_test(spec, part, word) for part in _alternatives(value, word))
        else:
            test = _text_test(spec, value, word)
        return Term(word, negate, test)
    return Term(word, negate, _word_test(body, word))


def _alternatives(value: str, word: str) -> list[str]:
    parts = value.split("|")
    if any(part == "" for part in parts):
        raise FilterError(f"{word!r}: an empty alternative (write a|b)")
    return parts


def _any(tests: Iterable[Callable[[Any], bool]]) -> Callable[[Any], bool]:
    listed = tuple(tests)
    if len(listed) == 1:
        return listed[0]
    return lambda row: any(test(row) for test in listed)


def _word_test(body: str, word: str) -> Callable[[Any], bool]:
    """A plain word: a substring of the haystack, or a glob of one of its words whole."""

    return _any(_one_word_test(part.lower()) for part in _alternatives(body, word))


def _one_word_test(needle: str) -> Callable[[Any], bool]:
    if _GLOB.search(needle):
        return lambda row: any(fnmatch.fnmatchcase(w, needle) for w in row.haystack.split())
    return lambda row: needle in row.haystack


def _flag_test(spec: FieldSpec, value: str, word: str) -> Callable[[Any], bool]:
    answer = value.lower()
    if answer not in _YES + _NO:
        raise FilterError(f"{word!r}: {spec.name} is yes or no, such as {spec.name}:yes")
    wanted = answer in _YES
    attr = spec.attrs[0]
    return lambda row: bool(getattr(row, attr)) == wanted


def _text_test(spec: FieldSpec, value: str, word: str) -> Callable[[Any], bool]:
    """Each alternative exact (`=`), a glob of the whole value, or a substring."""

    attrs = spec.attrs
    exact = value.startswith("=") and len(value) > 1
    parts = [part.lower() for part in _alternatives(value[1:] if exact else value, word)]
    globs = [part for part in parts if _GLOB.search(part)]
    plain = [part for part in parts if not _GLOB.search(part)]

    def matches(found: str) -> bool:
        if exact and found in plain:
            return True
        if not exact and any(part in found for part in plain):
            return True
        return any(fnmatch.fnmatchcase(found, pattern) for pattern in globs)

    def test(row: Any) -> bool:
        for attr in attrs:
            found = getattr(row, attr)
            if found is not None and matches(str(found).lower()):
                return True
        return False

    return test


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
