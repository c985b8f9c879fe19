"""Text that came from outside (a file name, a cut sheet, a signed manifest, a person's display name),
made safe to show: control characters are shown escaped, never obeyed by a terminal.

A terminal obeys escape sequences (``ESC [2J`` clears the screen, others retitle the window or
rewrite what was printed before) and bidirectional overrides (U+202E) reorder what it shows, so a
name carrying them could make a line say something else. :func:`printable` shows them as ``\\x1b``
and ``\\u202e``; everything else, Japanese included, is left as written.
"""

from __future__ import annotations

import re

__all__ = ["UNPRINTABLE", "printable"]

# C0 and C1 control characters (line breaks and tabs included), DEL, bidirectional overrides/isolates
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: object) -> str:
    """``text`` with every control character shown as its escape (``\\x1b``, ``\\n``, ``\\u202e``)."""
    return UNPRINTABLE.sub(lambda m: m[0].encode("unicode_escape").decode("ascii"), str(text))
