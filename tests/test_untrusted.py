"""Untrusted text outside the TUI (issue 11): the mapping itself, the table
and CSV exports, the CLI's error line and the log file. JSON keeps exact values."""

from __future__ import annotations

import csv
import io
import json
import logging
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from heartbeat_tui.errors import error_line
from heartbeat_tui.export import to_csv, to_json, to_table
from heartbeat_tui.logs import VisibleFormatter
from heartbeat_tui.untrusted import UNSAFE, is_safe, visible, visible_lines
from tests.support.untrusted import FIELDS, PIECES, poisoned, untrusted

surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, categories=["Cs"])
with_surrogates = st.lists(untrusted | surrogates, min_size=1, max_size=4).map("".join)
anything = st.text(max_size=40) | with_surrogates
texts = st.fixed_dictionaries({name: with_surrogates for name in FIELDS})


def unsafe_left(text: str, *, newlines: bool = False) -> list[str]:
    return [repr(ch) for ch in text if ord(ch) in UNSAFE and not (newlines and ch == "\n")]


@given(anything)
def test_visible_leaves_no_unsafe_code_point_and_only_changes_unsafe_text(text: str) -> None:
    shown = visible(text)
    assert unsafe_left(shown) == []
    assert (shown == text) == is_safe(text)
    assert unsafe_left(visible_lines(text), newlines=True) == []
    assert visible_lines(text).count("\n") == text.count("\n")


def test_the_escapes_are_readable() -> None:
    assert visible("a\x1b]52;c;QQ==\x07b") == "a\\x1b]52;c;QQ==\\x07b"
    assert visible("\u202egnp.exe\t\n\x9b\x7f\ud800") == "\\u202egnp.exe\\x09\\x0a\\x9b\\x7f\\ud800"
    assert visible_lines("one\ntwo\x1b") == "one\ntwo\\x1b"
    assert visible("payments-api [link='x] ü 日本") == "payments-api [link='x] ü 日本"


@settings(max_examples=25, deadline=None)
@given(texts)
def test_table_and_csv_exports_write_no_control_character(t: dict[str, str]) -> None:
    snapshot = poisoned(t, failing=True)
    table = to_table(snapshot)
    assert unsafe_left(table, newlines=True) == []
    # One line per account, error, cluster and service: no value starts a line of its own.
    expected = sum(
        1 + bool(a.error) + sum(1 + len(c.services) for r in a.regions for c in r.clusters) for a in snapshot.accounts
    )
    assert len(table.splitlines()) == expected
    text = to_csv(snapshot)
    assert unsafe_left(text, newlines=True) == []
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(text.splitlines()) == len(rows) + 1  # no value spans lines
    first = next(r for r in rows if r["account_id"] == snapshot.accounts[0].id)
    assert first["account_alias"] == visible(t["alias"])
    assert first["account_error"] == visible(t["error"])
    # JSON keeps the exact values (it escapes control characters itself; like
    # any JSON, it reads two adjacent surrogates back as the one character they pair to).
    data = json.loads(to_json(snapshot))
    assert data["accounts"][0]["alias"] == paired(t["alias"]) and data["accounts"][0]["error"] == paired(t["error"])


def paired(text: str) -> str:
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass")


def test_the_cli_error_line_is_one_line_with_visible_escapes(capsys) -> None:
    error_line("account 1234: \x1b]0;pwned\x07 denied\nforged line \u202e")
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "heartbeat: account 1234: \\x1b]0;pwned\\x07 denied\\x0aforged line \\u202e\n"


def test_log_lines_hold_no_control_character_and_cannot_be_forged() -> None:
    formatter = VisibleFormatter("%(levelname)s %(message)s")
    record = logging.LogRecord("t", logging.ERROR, __file__, 1, "account %s: %s", ("a\x1b[2J", "x\nINFO forged"), None)
    assert formatter.format(record) == "ERROR account a\\x1b[2J: x\\x0aINFO forged"
    try:
        raise RuntimeError("".join(PIECES))
    except RuntimeError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    lines = formatter.format(record)
    assert lines.startswith("ERROR failed\nTraceback") and unsafe_left(lines, newlines=True) == []
