"""Hardened XML parsing: the one place where digidialog turns bytes into a tree.

Hostile input is normal at a system boundary, so parsing here:

- refuses any document type declaration before parsing, so no entity (internal
  or external, billion laughs or XXE) and no DTD is ever read or expanded;
- never touches the network or the file system (``no_network``, no DTD load);
- refuses documents above a size limit before reading them;
- keeps libxml2's own depth (256) and text-node (10 MB) limits, with one
  exception: a base64 attachment may legally be larger than the text limit,
  so a document refused for that reason alone is parsed again in libxml2's
  huge mode and accepted only if every oversized text node is an attachment
  and the depth stays within the normal limit;
- accepts UTF-8 (and the ASCII-compatible ISO-8859-1 that older KITH messages
  declare) and lets libxml2 refuse bytes that contradict the declaration.

Error messages name the line and the problem, never the document's content.
"""

from __future__ import annotations

import re

from lxml import etree

from digidialog.errors import NotWellFormed

MAX_DOCUMENT_BYTES = 40 * 1024 * 1024
"""The largest message accepted: the biggest AMQP message size Helsenorge documents."""

MAX_DEPTH = 256
TEXT_NODE_LIMIT = 10_000_000

_LARGE_TEXT_ALLOWED = frozenset({"{http://www.kith.no/xmlstds/base64container}Base64Container"})
_ALLOWED_ENCODINGS = frozenset({"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin1"})
_DECLARED_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_HUGE_TEXT = ("Text node too long", "huge text node", "xmlSAX2Characters")


def _parser(*, huge: bool) -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=huge,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


_NORMAL = _parser(huge=False)
_HUGE = _parser(huge=True)


def _check_prolog(data: bytes) -> None:
    """Refuse BOMs of wide encodings, unexpected encodings and any DOCTYPE."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00")):
        raise NotWellFormed("only UTF-8 documents are accepted (found a UTF-16/32 byte order mark)")
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    declared = _DECLARED_ENCODING.match(body)
    if declared and declared.group(1).decode("ascii").lower() not in _ALLOWED_ENCODINGS:
        raise NotWellFormed(
            f"encoding {declared.group(1).decode('ascii')!r} is not accepted; use UTF-8"
        )
    position = 0
    length = len(body)
    # Walk the prolog: XML declaration, processing instructions, comments, whitespace.
    while position < length:
        char = body[position : position + 1]
        if char.isspace():
            position += 1
        elif body.startswith(b"<?", position):
            end = body.find(b"?>", position)
            position = length if end < 0 else end + 2
        elif body.startswith(b"<!--", position):
            end = body.find(b"-->", position)
            position = length if end < 0 else end + 3
        elif body.startswith(b"<!", position):
            raise NotWellFormed("document type declarations (DTD, entities) are not accepted")
        else:
            return


def _line_of(error: etree.XMLSyntaxError) -> str:
    line = error.lineno if error.lineno is not None else "?"
    return f"line {line}"


def parse(data: bytes, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> etree._Element:
    """Parse untrusted bytes into an element tree, or raise :class:`NotWellFormed`."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("parse() takes bytes")
    data = bytes(data)
    if len(data) > max_bytes:
        raise NotWellFormed(f"document is {len(data)} bytes; the limit is {max_bytes}")
    if not data.strip():
        raise NotWellFormed("document is empty")
    _check_prolog(data)
    try:
        root = etree.fromstring(data, _NORMAL)
    except etree.XMLSyntaxError as error:
        if not any(marker in str(error) for marker in _HUGE_TEXT):
            raise NotWellFormed(_describe(error), location=_line_of(error)) from None
        root = _parse_with_large_attachment(data)
    if root.getroottree().docinfo.doctype:
        raise NotWellFormed("document type declarations (DTD, entities) are not accepted")
    return root


def _parse_with_large_attachment(data: bytes) -> etree._Element:
    try:
        root = etree.fromstring(data, _HUGE)
    except etree.XMLSyntaxError as error:
        raise NotWellFormed(_describe(error), location=_line_of(error)) from None
    for element in root.iter():
        text = element.text
        if text is not None and len(text) > TEXT_NODE_LIMIT and element.tag not in _LARGE_TEXT_ALLOWED:
            raise NotWellFormed(
                f"text of {etree.QName(element).localname} is longer than {TEXT_NODE_LIMIT} characters",
                location=f"line {element.sourceline}",
            )
    if _depth(root) > MAX_DEPTH:
        raise NotWellFormed(f"elements are nested deeper than {MAX_DEPTH} levels")
    return root


def _depth(root: etree._Element) -> int:
    deepest = 0
    for element in root.iter():
        depth = 1
        parent = element.getparent()
        while parent is not None:
            depth += 1
            parent = parent.getparent()
        deepest = max(deepest, depth)
    return deepest


def _describe(error: etree.XMLSyntaxError) -> str:
    # libxml2 appends "(<string>, line N)"; the line is reported separately.
    message = re.sub(r"\s*\(<string>, line \d+\)$", "", str(error.msg or error))
    message = re.sub(r", line \d+, column \d+$", "", message)
    return f"not well-formed XML: {message}"
