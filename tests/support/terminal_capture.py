"""What a Pilot-driven app writes to the terminal, and the check that none of
it is a control sequence someone else chose.

Headless Textual renders nothing; a driver that says it is not headless (the
headless driver otherwise: no real terminal) receives every frame through the
public `Driver.write`, exactly the bytes a terminal would get.
"""

from __future__ import annotations

import re

from textual.driver import Driver
from textual.drivers.headless_driver import HeadlessDriver

from heartbeat_tui.untrusted import UNSAFE

#: Textual's own output: CSI sequences (cursor moves, colours, synchronized
#: output) and the OSC 22 that sets the mouse pointer's shape.
_CSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
_OWN_OSC = re.compile(r"\x1b\]22;[a-z-]*\x07")
#: Sequences the tests inject that Textual never writes: if one is in the
#: output, untrusted text reached the terminal raw.
INJECTED_SEQUENCES = ("\x1b[6n", "\x1b[2J", "\x1b[?1000h", "\x1bP", "\x1b_")


def recording_driver(sink: list[str]) -> type[Driver]:
    class RecordingDriver(HeadlessDriver):
        @property
        def is_headless(self) -> bool:
            return False

        def write(self, data: str) -> None:
            sink.append(data)

    return RecordingDriver


def unsafe_in_terminal_output(data: str) -> list[str]:
    """Everything in `data` that must not be there: any OSC but Textual's own
    pointer shape, an injected sequence, and (once Textual's CSI sequences are
    removed) any control, bidi or lone-surrogate code point but a newline."""

    found = [seq for seq in INJECTED_SEQUENCES if seq in data]
    rest = _CSI.sub("", _OWN_OSC.sub("", data))
    if "\x1b]" in rest:
        found.append("OSC")
    found += sorted({repr(ch) for ch in rest if ord(ch) in UNSAFE and ch != "\n"})
    return found
