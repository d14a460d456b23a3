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
