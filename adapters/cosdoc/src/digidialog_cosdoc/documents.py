"""CosDoc documents: ISO-8859-1 XML in ``urn:cosdoc:dokument:1``, built and read safely.

The documents travel base64-encoded inside ``Utfor`` and ``UtforSvar``. They
are Latin-1, yet citizens write Sámi letters (ŋ, đ, ŧ) and emoji: lxml
serialises every character that Latin-1 cannot hold as an XML character
reference (``&#331;``), which any XML reader turns back into the character,
so nothing is lost and nothing becomes ``?``. A carriage return is written as
``&#13;`` for the same reason (a parser would otherwise fold it into a line
feed).

Reading goes through :func:`digidialog.xml.safe.parse` (no DTD, no
entities, no network, size and depth limits). A document whose root is not
the command it answers is refused.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Union, cast

from lxml import etree

from digidialog.errors import DigidialogError, InvalidRequest, MalformedReply
from digidialog.xml import safe
from digidialog.xml.tree import root_element
from digidialog_cosdoc.wire import (
    ANSWER_XSD,
    DOCUMENT_ENCODING,
    DOKUMENT_NS,
    ENVELOPE_XSD,
    INTEGRASJON_NS,
    REQUEST_XSD,
    SOAP_ENVELOPE_NS,
    SOAP_ENVELOPE_XSD,
    Kommando,
    d,
    schema,
)

Value = Union[str, int, "Sequence[Field]", None]
Field = tuple[str, Value]
"""One child: its name and its text, its own children, or ``None`` to leave it out."""

_WHITESPACE = b" \t\r\n"


def build(kommando: Kommando | str, fields: Sequence[Field]) -> bytes:
    """The document for ``kommando`` with ``fields`` as children, in order, as Latin-1 bytes.

    Raises :class:`InvalidRequest` (naming the field, not its content) when a
    text holds a character XML 1.0 cannot carry at all (most control characters).
    """
    root = root_element(d(str(kommando)), DOKUMENT_NS)
    _append(root, fields)
    # Bytes for every encoding but "unicode"; the stubs know only a few by name.
    return cast(bytes, etree.tostring(root, encoding=DOCUMENT_ENCODING, xml_declaration=True))


def _append(parent: etree._Element, fields: Sequence[Field]) -> None:
    for name, value in fields:
        if value is None:
            continue
        element = etree.SubElement(parent, d(name))
        if isinstance(value, str | int):
            try:
                element.text = str(value)
            except ValueError:
                raise InvalidRequest(
                    f"{name}: the text holds a character that XML cannot carry"
                ) from None
        else:
            _append(element, value)


def read(data: bytes, kommando: Kommando | str) -> etree._Element:
    """The root of a document answering ``kommando``, parsed with every hardening on."""
    try:
        root = safe.parse(data)
    except DigidialogError as error:
        raise MalformedReply(f"the {kommando} document is not usable XML: {error}") from None
    if root.tag != d(str(kommando)):
        raise MalformedReply(
            f"the {kommando} answer has the root {etree.QName(root).localname!r} "
            f"in {etree.QName(root).namespace or 'no namespace'}"
        )
    return root


def decode_base64(text: str | None, *, what: str = "Dokument") -> bytes:
    """The bytes of an ``xs:base64Binary`` text; whitespace (line breaks) is allowed."""
    # bytes.translate drops the whitespace in C: a regex costs ten times as much on
    # a 200 KB answer. Anything but the base64 alphabet is then refused.
    raw = (text or "").encode("ascii", errors="replace").translate(None, _WHITESPACE)
    try:
        return binascii.a2b_base64(raw, strict_mode=True)
    except (binascii.Error, ValueError):
        raise MalformedReply(f"{what} is not valid base64") from None


# ------------------------------------------------------------ schemas


@cache
def _schema(name: str) -> etree.XMLSchema:
    # Schemas are our own files; they are parsed with the network off all the same.
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.parse(str(schema(name)), parser))


@cache
def envelope_schema() -> etree.XMLSchema:
    """SOAP 1.1 envelopes, with Utfor and UtforSvar in the Body checked against their schema."""
    # The envelope schema takes the Body's content laxly: an element it has a
    # declaration for is validated. Importing both puts Utfor and UtforSvar in reach.
    text = (
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        f'<xs:import namespace="{SOAP_ENVELOPE_NS}" '
        f'schemaLocation="{schema(SOAP_ENVELOPE_XSD).as_uri()}"/>'
        f'<xs:import namespace="{INTEGRASJON_NS}" '
        f'schemaLocation="{schema(ENVELOPE_XSD).as_uri()}"/>'
        "</xs:schema>"
    )
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.fromstring(text, parser))


def request_schema() -> etree.XMLSchema:
    """The schema of the request documents (one root per command)."""
    return _schema(REQUEST_XSD)


def answer_schema() -> etree.XMLSchema:
    """The schema of the answer documents (one root per command)."""
    return _schema(ANSWER_XSD)


def problems(root: etree._Element, xsd: etree.XMLSchema) -> list[str]:
    """Where ``root`` breaks ``xsd``: line and element path, never the offending value."""
    if xsd.validate(root):
        return []
    return [f"line {entry.line}: {entry.path or '?'} ({_type_of(entry.message)})"
            for entry in cast(Iterable[etree._LogEntry], xsd.error_log)]


def _type_of(message: str) -> str:
    # libxml2 quotes the offending value in its messages; keep only what kind of
    # problem it was, since values can be national ids or names.
    return re.sub(r"'[^']*'", "'…'", message)[:200]
