"""Validation against the project's Helsenorge schema set (``schemas/helsenorge``).

The schema set is compiled once per process, on first use, from the installed
files only. Validation errors are reported with the element and line, and with
any value from the document replaced, since values may be national ids or
message text.
"""

from __future__ import annotations

import re
from functools import cache

from lxml import etree

from digidialog.errors import SchemaViolation
from digidialog.resources import schema_path

ENTRY_SCHEMA = "digidialog-helsenorge.xsd"
_QUOTED_VALUE = re.compile(r"(?<!Element )(?<!attribute )(?<!type )'[^']*'")
_NAMESPACE = re.compile(r"\{[^}]*\}")


@cache
def helsenorge_schema() -> etree.XMLSchema:
    """The compiled schema set for MsgHead, its payloads and AppRec."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    document = etree.parse(str(schema_path("helsenorge", ENTRY_SCHEMA)), parser)
    return etree.XMLSchema(document)


def sanitise(message: str) -> str:
    """A libxml2 schema message without the document's values or namespace URIs."""
    return _NAMESPACE.sub("", _QUOTED_VALUE.sub("'…'", message))


def validate(root: etree._Element) -> None:
    """Raise :class:`SchemaViolation` unless ``root`` is valid under the schema set."""
    schema = helsenorge_schema()
    if schema.validate(root):
        return
    error = next(iter(schema.error_log))
    raise SchemaViolation(sanitise(error.message), location=f"line {error.line}")
