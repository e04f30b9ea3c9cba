"""Hardened XML parsing: the one place where digidialog turns bytes into a tree.

Hostile input is normal at a system boundary, so parsing here:

- refuses any document type declaration before parsing, so no entity (internal
  or external, billion laughs or XXE) and no DTD is ever read or expanded;
- never touches the network or the file system (``no_network``, no DTD load);
- refuses documents above a size limit before reading them, and, when the
  caller knows its documents (Helsenorge messages), above a number of tags
  (parsing and reading cost grows with the tags, not the bytes);
- keeps libxml2's own depth (256) and text-node (10 MB) limits, with one
  exception: a base64 attachment may legally be larger than the text limit,
  so a document refused for that reason alone is parsed again in libxml2's
  huge mode and accepted only if every oversized text node is the content of
  a ``Base64Container`` in a MsgHead ``Content`` and the depth stays within
  the normal limit (both checked by XPath, so the check costs no more than
  the parse);
- accepts UTF-8 (and the ASCII-compatible ISO-8859-1 that older KITH messages
  declare), refuses anything that does not start as ASCII-compatible markup
  (UTF-16/32 without a byte order mark, EBCDIC, binary), and lets libxml2
  refuse bytes that contradict the declaration.

Error messages name the line and the problem, never the document's content.
"""

from __future__ import annotations

import re

from lxml import etree

from digidialog.errors import NotWellFormed

MAX_DOCUMENT_BYTES = 40 * 1024 * 1024
"""The largest message accepted: the biggest AMQP message size Helsenorge documents."""

MAX_MARKUP = 500_000
"""The most ``<`` (about as many tags) in a Helsenorge message: some 7000 appointments."""

MAX_DEPTH = 256
_DEEPER_THAN_LIMIT = f"elements are nested deeper than {MAX_DEPTH} levels"
TEXT_NODE_LIMIT = 10_000_000
"""libxml2's limit on one text node, in UTF-8 bytes, outside huge mode."""

_ATTACHMENT_TEXT = (
    "parent::b64:Base64Container[parent::mh:Content/parent::mh:RefDoc/parent::mh:Document"
    "/parent::mh:MsgHead[not(parent::*)]]"
)
# Candidates by characters (a character is at most four UTF-8 bytes); the byte length decides.
_LONG_TEXT_OUTSIDE_ATTACHMENTS = etree.XPath(
    f"//text()[string-length() > {TEXT_NODE_LIMIT // 4}][not({_ATTACHMENT_TEXT})]",
    namespaces={
        "b64": "http://www.kith.no/xmlstds/base64container",
        "mh": "http://www.kith.no/xmlstds/msghead/2006-05-24",
    },
)
_TOO_DEEP = etree.XPath("boolean(/" + "/".join(["*"] * (MAX_DEPTH + 1)) + ")")
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
    """Refuse BOMs of wide encodings, unexpected encodings, any DOCTYPE and non-markup."""
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
        elif body.startswith(b"<", position) and body[position + 1 : position + 2] not in (
            b"",
            b"\x00",
        ):
            return  # the root element
        else:
            # libxml2 would guess UTF-16/32 or EBCDIC from these bytes, past the checks above.
            raise NotWellFormed(
                "not XML in UTF-8: the document does not begin with '<' "
                "(UTF-16/32 without a byte order mark, EBCDIC and binary data are refused)"
            )


def _line_of(error: etree.XMLSyntaxError) -> str:
    line = error.lineno if error.lineno is not None else "?"
    return f"line {line}"


def parse(
    data: bytes, *, max_bytes: int = MAX_DOCUMENT_BYTES, max_markup: int | None = None
) -> etree._Element:
    """Parse untrusted bytes into an element tree, or raise :class:`NotWellFormed`.

    ``max_markup`` caps the number of ``<`` before parsing (:data:`MAX_MARKUP`
    for Helsenorge messages); ``None`` leaves only the byte limit.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("parse() takes bytes")
    data = bytes(data)
    if len(data) > max_bytes:
        raise NotWellFormed(f"document is {len(data)} bytes; the limit is {max_bytes}")
    if not data.strip():
        raise NotWellFormed("document is empty")
    _check_prolog(data)
    # Counting is skipped where it cannot matter: every tag takes at least one byte.
    if max_markup is not None and len(data) > max_markup and (
        markup := data.count(b"<")
    ) > max_markup:
        raise NotWellFormed(f"document has {markup} tags; the limit is {max_markup}")
    try:
        root = etree.fromstring(data, _NORMAL)
    except etree.XMLSyntaxError as error:
        if not any(marker in str(error) for marker in _HUGE_TEXT):
            raise NotWellFormed(_describe(error), location=_line_of(error)) from None
        root = _parse_with_large_attachment(data)
    if getattr(root.getroottree().docinfo, "doctype", ""):
        raise NotWellFormed("document type declarations (DTD, entities) are not accepted")
    return root


def _parse_with_large_attachment(data: bytes) -> etree._Element:
    try:
        root = etree.fromstring(data, _HUGE)
    except etree.XMLSyntaxError as error:
        raise NotWellFormed(_describe(error), location=_line_of(error)) from None
    found = _LONG_TEXT_OUTSIDE_ATTACHMENTS(root)
    for text in found if isinstance(found, list) else ():
        if not isinstance(text, etree._ElementUnicodeResult):
            continue
        if len(text.encode("utf-8")) > TEXT_NODE_LIMIT:
            owner = text.getparent()
            if owner is not None and text.is_tail:
                owner = owner.getparent()  # a tail is text of the element around its owner
            raise NotWellFormed(
                f"text in {'?' if owner is None else etree.QName(owner).localname} is longer "
                f"than {TEXT_NODE_LIMIT} bytes; only the Base64Container of an attachment may be",
                location=None if owner is None else f"line {owner.sourceline}",
            )
    if _TOO_DEEP(root):
        raise NotWellFormed(_DEEPER_THAN_LIMIT)
    return root


def _describe(error: etree.XMLSyntaxError) -> str:
    # libxml2 appends "(<string>, line N)"; the line is reported separately.
    message = re.sub(r"\s*\(<string>, line \d+\)$", "", str(error.msg or error))
    message = re.sub(r", line \d+, column \d+$", "", message).strip()
    if message.startswith("Excessive depth in document"):
        return _DEEPER_THAN_LIMIT  # libxml2 suggests XML_PARSE_HUGE, which we never offer
    return f"not well-formed XML: {message}"
