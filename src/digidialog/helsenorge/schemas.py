"""Validation against the project's Helsenorge schema set (``schemas/helsenorge``).

The schema set is compiled once per process, on first use, from the installed
files only. Validation errors are reported with the element and line, and with
any value from the document replaced, since values may be national ids or
message text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any, cast

from lxml import etree

from digidialog.errors import SchemaViolation
from digidialog.resources import schema_path

ENTRY_SCHEMA = "digidialog-helsenorge.xsd"
# libxml2 names the element (and attribute), then says what is wrong. Names hold no quote; a
# namespace URI may, so it is matched up to its brace.
_SUBJECT = re.compile(
    r"(?:Element '(?:\{[^}]*\})?(?P<element>[^'{}]*)'"
    r"(?:, attribute '(?:\{[^}]*\})?(?P<attribute>[^'{}]*)')?: )?(?P<problem>.*)",
    re.DOTALL,
)
# Where the document's value starts: first in the problem, or after "The value" (facets, fixed
# values, QNames). The value may hold quotes itself, so it ends at the LAST "' is ", "' has ", ...
# of the problem: whatever follows it comes from the schema (types, patterns, allowed values).
_VALUE_START = re.compile(r"(?:\[facet '[^']*'\] )?(?:The (?:actual |QName )?value )?'")
_VALUE_END = re.compile(r"' (?:is|has|must|does|of) ")
_NAMESPACE = re.compile(r"\{[^{}]*\}(?=[A-Za-z_])")


@cache
def helsenorge_schema() -> etree.XMLSchema:
    """The compiled schema set for MsgHead, its payloads and AppRec."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    document = etree.parse(str(schema_path("helsenorge", ENTRY_SCHEMA)), parser)
    return etree.XMLSchema(document)


def sanitise(message: str) -> str:
    """A libxml2 schema message without the document's values or namespace URIs."""
    parts = _SUBJECT.match(message)
    assert parts is not None  # noqa: S101 - every part of the pattern is optional
    subject = ""
    if parts["element"] is not None:
        subject = f"Element '{parts['element']}'"
        if parts["attribute"] is not None:
            subject += f", attribute '{parts['attribute']}'"
        subject += ": "
    problem = parts["problem"]
    start = _VALUE_START.match(problem)
    if start is not None:
        ends = list(_VALUE_END.finditer(problem, start.end()))
        rest = problem[ends[-1].start() + 1 :] if ends else " is not valid."
        problem = f"{problem[: start.end()]}…'{rest}"
    return subject + _NAMESPACE.sub("", problem)


def validate(root: etree._Element) -> None:
    """Raise :class:`SchemaViolation` unless ``root`` is valid under the schema set."""
    schema = helsenorge_schema()
    if schema.validate(root):
        return
    error = next(iter(cast("Iterable[Any]", schema.error_log)))
    raise SchemaViolation(sanitise(error.message), location=f"line {error.line}")
