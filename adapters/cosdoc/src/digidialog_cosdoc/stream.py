"""The byte-level half of the streamed export: from HTTP chunks to the Dokument's bytes.

A small state machine over the reply's bytes, so the export never has to be
held whole (see :mod:`digidialog_cosdoc.export` for the document half):

1. *envelope prefix* (at most 64 KiB): bytes up to the start tag of
   ``UtforSvar/Dokument``. They are checked (no DTD) and fed to a hardened
   lxml pull parser, which proves they are the right envelope and yields
   Status and Feiltekst; a reply without a Dokument (a fault, a status other
   than 0) is handed back whole, to be read like any small reply;
2. *base64 text*: every byte up to the next ``<`` is base64, decoded in
   chunks (a remainder of up to three characters carried over); an ``&`` (a
   reference inside base64) or padding in the middle is refused;
3. *envelope tail* (at most 64 KiB): the closing tags, fed to the first parser,
   which must then close cleanly.

Bytes in all above :attr:`ExportLimits.max_bytes` are a :class:`MalformedReply`;
a reply slower in all than :attr:`ExportLimits.max_seconds` is a
:class:`VendorTimeout` (the HTTP read timeout still bounds every single read).
"""

from __future__ import annotations

import binascii
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from lxml import etree

from digidialog.errors import MalformedReply, VendorTimeout
from digidialog_cosdoc.wire import SOAP_ENVELOPE_NS, i

PREFIX_LIMIT = 64 * 1024
TAIL_LIMIT = 64 * 1024
_DOKUMENT_START = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?Dokument(?:\s[^<>]*)?/?>")
_WHITESPACE = b" \t\r\n"
_ENVELOPE = f"{{{SOAP_ENVELOPE_NS}}}Envelope"
_BODY = f"{{{SOAP_ENVELOPE_NS}}}Body"


@dataclass(frozen=True)
class ExportLimits:
    """Bounds on one export: bytes on the wire, and seconds from first to last byte."""

    max_bytes: int = 4 * 1024**3
    max_seconds: float = 3600.0


@dataclass(frozen=True)
class Prefix:
    """What stood in the envelope before the Dokument: the answer's status and text."""

    status: str
    feiltekst: str | None


def pull_parser(**options: object) -> etree.XMLPullParser:
    """An lxml pull parser with entities, DTDs and the network off, and libxml2's limits on."""
    return etree.XMLPullParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=True, remove_pis=True, collect_ids=False,
        **options,  # type: ignore[arg-type]
    )


def refuse_doctype(prolog: bytes, what: str) -> None:
    """Refuse a DTD (and so any entity) before the first element of ``prolog``."""
    position = 0
    while True:
        start = prolog.find(b"<", position)
        if start < 0 or prolog[start + 1 : start + 2] not in (b"?", b"!"):
            return
        if prolog.startswith(b"<!--", start):
            end = prolog.find(b"-->", start)
            position = len(prolog) if end < 0 else end + 3
        elif prolog[start + 1 : start + 2] == b"!":
            raise MalformedReply(f"{what} has a document type declaration (DTD, entities)")
        else:
            end = prolog.find(b"?>", start)
            position = len(prolog) if end < 0 else end + 2


class EnvelopeStream:
    """The reply's bytes, phase by phase: envelope prefix, Dokument's base64, envelope tail."""

    def __init__(self, chunks: Iterable[bytes], limits: ExportLimits | None = None) -> None:
        self._chunks = iter(chunks)
        self._limits = limits or ExportLimits()
        self._deadline = time.monotonic() + self._limits.max_seconds
        self._read = 0
        self._rest = b""
        self._outer = pull_parser(events=("start", "end"))
        self._empty = False

    def _next_chunk(self) -> bytes | None:
        for chunk in self._chunks:
            if not chunk:
                continue
            self._read += len(chunk)
            if self._read > self._limits.max_bytes:
                raise MalformedReply(
                    f"the export is larger than the limit of {self._limits.max_bytes} bytes")
            if time.monotonic() > self._deadline:
                raise VendorTimeout(
                    f"the export took longer than {self._limits.max_seconds:g} seconds")
            return chunk
        return None

    def seek_document(self) -> Prefix | bytes:
        """Read up to the Dokument's text; the whole reply instead if it has no Dokument."""
        buffer = bytearray()
        searched = 0
        while True:
            found = _DOKUMENT_START.search(buffer, max(0, searched - 512))
            if found is not None:
                break
            searched = len(buffer)
            if len(buffer) > PREFIX_LIMIT:
                raise MalformedReply(f"no Dokument in the first {PREFIX_LIMIT} bytes of the export")
            chunk = self._next_chunk()
            if chunk is None:
                return bytes(buffer)
            buffer += chunk
        prefix = bytes(buffer[: found.end()])
        self._rest = bytes(buffer[found.end() :])
        self._empty = prefix.endswith(b"/>")
        refuse_doctype(prefix, "the export envelope")
        return self._check_prefix(prefix)

    def _check_prefix(self, prefix: bytes) -> Prefix:
        try:
            self._outer.feed(prefix)
            events = list(self._outer.read_events())
        except etree.XMLSyntaxError as error:
            raise MalformedReply(f"the export envelope is broken: {error.msg}") from None
        texts: dict[str, str | None] = {}
        opened: etree._Element | None = None
        for event, element in events:
            if not isinstance(element, etree._Element):
                continue
            if event == "end":
                texts[element.tag] = element.text
            else:
                opened = element
        if opened is None or opened.tag != i("Dokument") or [
            a.tag for a in opened.iterancestors()] != [i("UtforSvar"), _BODY, _ENVELOPE]:
            raise MalformedReply("the export's Dokument is not Envelope/Body/UtforSvar/Dokument")
        status = texts.get(i("Status"))
        if status is None:
            raise MalformedReply("the export has no Status before its Dokument")
        return Prefix(status=status.strip(), feiltekst=texts.get(i("Feiltekst")))

    def document_bytes(self) -> Iterator[bytes]:
        """The decoded document, chunk by chunk; the envelope's tail is checked at the end."""
        decoder = Base64Chunks()
        pending = self._rest
        while not self._empty:
            end = pending.find(b"<")
            text = pending if end < 0 else pending[:end]
            if b"&" in text:
                raise MalformedReply("the export's base64 holds a character reference")
            decoded = decoder.feed(text)
            if decoded:
                yield decoded
            if end >= 0:
                pending = pending[end:]
                break
            chunk = self._next_chunk()
            if chunk is None:
                raise MalformedReply("the export ends inside its Dokument")
            pending = chunk
        decoder.finish()
        self._finish_envelope(pending)

    def _finish_envelope(self, tail: bytes) -> None:
        if tail.startswith(b"<![CDATA["):
            raise MalformedReply("the export's Dokument is CDATA, not plain base64 text")
        collected = bytearray(tail)
        while (chunk := self._next_chunk()) is not None:
            collected += chunk
            if len(collected) > TAIL_LIMIT:
                raise MalformedReply("the export goes on after its Dokument")
        try:
            self._outer.feed(bytes(collected))
            self._outer.close()
        except etree.XMLSyntaxError as error:
            raise MalformedReply(f"the export envelope is broken: {error.msg}") from None


class Base64Chunks:
    """base64 decoded piece by piece: whitespace skipped, a remainder carried, padding last."""

    def __init__(self) -> None:
        self._carry = b""
        self._padded = False

    def feed(self, text: bytes) -> bytes:
        """The bytes decodable from ``text`` and what was carried; the rest is kept."""
        data = self._carry + text.translate(None, _WHITESPACE)
        usable = len(data) - len(data) % 4
        self._carry = data[usable:]
        if not usable:
            return b""
        if self._padded:
            raise MalformedReply("the export's base64 goes on after its padding")
        try:
            decoded = binascii.a2b_base64(data[:usable], strict_mode=True)
        except binascii.Error:
            raise MalformedReply("the export's Dokument is not valid base64") from None
        self._padded = data[usable - 1 : usable] == b"="
        return decoded

    def finish(self) -> None:
        """Refuse base64 that stopped in the middle of a group."""
        if self._carry:
            raise MalformedReply("the export's base64 is truncated")


