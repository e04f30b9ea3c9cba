"""Writing XML as text: writers build strings, parsed once to validate.

Building a tree element by element through lxml costs about a microsecond per
element from Python; libxml2 builds the same tree from text more than ten
times faster. So the Helsenorge writers produce text with these helpers, and
:func:`digidialog.helsenorge.codec.encode` parses it once to validate it
against the schemas before handing the same bytes out.

Every value passes through :func:`esc` (or :func:`esc_attr`), which escapes
markup and refuses characters XML 1.0 cannot carry.
"""

from __future__ import annotations

import re

from digidialog.errors import SchemaViolation

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def check_characters(text: str) -> None:
    """Refuse a document holding characters XML 1.0 cannot carry.

    Checked once over the whole written document rather than per value: one
    scan in C instead of thousands of small ones.
    """
    if _ILLEGAL.search(text):
        raise SchemaViolation(
            "text contains a character XML cannot carry (a control character)", location="text"
        )


def esc(value: str) -> str:
    """``value`` as element text: ``&``, ``<`` and ``>`` escaped, ``\\r`` kept as a reference."""
    if "&" in value or "<" in value or ">" in value or "\r" in value:
        return (
            value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", "&#13;")
        )
    return value


def esc_attr(value: str) -> str:
    """``value`` as a double-quoted attribute value."""
    # Tabs and line ends as character references: a parser would turn them into spaces.
    return (
        esc(value).replace('"', "&quot;").replace("\t", "&#9;").replace("\n", "&#10;")
    )


def leaf(tag: str, value: str) -> str:
    """``<tag>value</tag>`` with the value escaped."""
    return f"<{tag}>{esc(value)}</{tag}>"

