"""Errors a user can act on. The CLI prints these without a traceback and exits 2, made safe for a
terminal first (`terminal_safe`: an extract's values may hold escape sequences)."""

from __future__ import annotations

import re

__all__ = ["UserError", "terminal_safe"]

#: control characters but newline and tab (ESC, BEL, NUL, DEL, C1 codes), and Unicode's
#: direction overrides: shown escaped, never sent to a terminal as they are
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class UserError(Exception):
    """Input the user must fix: an invalid extract, a bad parameter, a missing file."""


def terminal_safe(text: str) -> str:
    """`text` with control characters shown as escapes (`\\x1b`, `\\x07`, `\\x00`, `\\u202e`)."""
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode(), str(text))


class NotEstimable(Exception):
    """An analysis the data cannot support: too few events, no comparison group, every count 0.

    Not a fault of the input, so not a UserError: a small collaborative's extract is valid and
    still too small for some analyses. `reason` says why in words a reader of the report follows
    ("3 PICU stays after go-live; at least 10 are needed"); a notebook records it through
    `run.estimate` (`outcomes.notebook`) and the report shows "not estimable: <reason>".
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = str(reason)
