"""EKSPORT_AVTALER read as a stream: memory stays flat however large the export.

The nightly export can hold hundreds of thousands of appointments, base64
inside one SOAP element. Reading it whole would need the reply, its text,
the decoded document and two trees at once. Instead
:class:`~digidialog_cosdoc.stream.EnvelopeStream` hands over the decoded
document chunk by chunk, and here a hardened lxml pull parser reports each
finished ``Avtale``; it is mapped to the domain, then cleared and detached,
so the tree never holds more than one record.

Hostile content is refused with :class:`MalformedReply`: a DTD, a root other
than ``EKSPORT_AVTALER``, anything but ``Avtale`` under it, one record above
1 MiB (libxml2's own depth and text limits stay on as well).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping

from lxml import etree

from digidialog.domain import Appointment
from digidialog.errors import MalformedReply
from digidialog.log import get_logger
from digidialog_cosdoc.appointments import AVTALE, UnusableRecord, read_avtale
from digidialog_cosdoc.stream import pull_parser, refuse_doctype
from digidialog_cosdoc.wire import Kommando, d

RECORD_LIMIT = 1024 * 1024
_SKIPPED_LOGGED = 20
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_:]")
_ROOT = d(Kommando.EKSPORT_AVTALER)
_PROLOG_LIMIT = 64 * 1024
_log = get_logger(__name__)


def read_appointments(
    document: Iterable[bytes], service_names: Mapping[str, str]
) -> Iterator[tuple[int, Appointment]]:
    """``(PasientNr, Appointment)`` for each ``Avtale`` of a streamed EKSPORT_AVTALER document.

    A record the domain cannot take is skipped and logged (its Nr and the field);
    everything hostile or broken ends the stream with :class:`MalformedReply`.
    """
    reader = _DocumentReader(service_names)
    try:
        for chunk in reader.checked(document):
            yield from reader.feed(chunk)
        reader.close()
    except etree.XMLSyntaxError as error:
        raise MalformedReply(f"the export document is broken: {error.msg}") from None
    if reader.skipped:
        _log.warning("cosdoc.export.records_skipped", skipped=reader.skipped)


class _DocumentReader:
    """The document side: a pull parser for Avtale, cleared as it goes."""

    def __init__(self, service_names: Mapping[str, str]) -> None:
        self._names = service_names
        self._parser = pull_parser(events=("end",), tag=AVTALE)
        self._root: etree._Element | None = None
        self._pending = 0
        self.skipped = 0

    @staticmethod
    def checked(document: Iterable[bytes]) -> Iterator[bytes]:
        """The chunks, once the prolog up to the first element has been checked for a DTD."""
        prolog = b""
        chunks = iter(document)
        for chunk in chunks:
            prolog += chunk
            if _FIRST_ELEMENT.search(prolog) is not None:
                break
            if len(prolog) > _PROLOG_LIMIT:
                # Comments for ever before the root could hide a DTD from the check.
                raise MalformedReply(f"the export document has no element in its first "
                                     f"{_PROLOG_LIMIT} bytes")
        refuse_doctype(prolog, "the export document")
        yield prolog
        yield from chunks

    def feed(self, chunk: bytes) -> Iterator[tuple[int, Appointment]]:
        """Parse one chunk; map and clear every Avtale it completed."""
        self._parser.feed(chunk)
        self._pending += len(chunk)
        for _, element in self._parser.read_events():
            if not isinstance(element, etree._Element):
                continue
            self._pending = 0
            root = self._check_parent(element)
            try:
                yield read_avtale(element, self._names)
            except UnusableRecord as error:
                self.skipped += 1
                if self.skipped <= _SKIPPED_LOGGED:
                    _log.warning("cosdoc.export.record_skipped", reason=str(error))
            _detach_before(element, root)
        if self._pending > RECORD_LIMIT:
            raise MalformedReply(f"an export record is larger than {RECORD_LIMIT} bytes")

    def _check_parent(self, element: etree._Element) -> etree._Element:
        parent = element.getparent()
        if self._root is None and parent is not None and parent.tag == _ROOT and (
                parent.getparent() is None):
            self._root = parent
        if parent is None or parent is not self._root:
            raise MalformedReply("an Avtale of the export is not under EKSPORT_AVTALER")
        return parent

    def close(self) -> None:
        """End of the document: it must be EKSPORT_AVTALER holding nothing but Avtale."""
        closed = self._parser.close()
        if getattr(closed.getroottree().docinfo, "doctype", ""):
            raise MalformedReply("the export document has a document type declaration")
        if closed.tag != _ROOT:
            raise MalformedReply(f"the export's root is {etree.QName(closed).localname!r}")
        if any(child.tag != AVTALE for child in closed):
            raise MalformedReply("the export holds something else than Avtale")


def _detach_before(element: etree._Element, root: etree._Element) -> None:
    # The record is mapped: empty it, and drop the one before it (the parser may
    # still link the next sibling to this one). Anything else there is not an Avtale.
    element.clear()
    previous = element.getprevious()
    if previous is not None:
        if previous.tag != AVTALE or previous.getprevious() is not None:
            raise MalformedReply("the export holds something else than Avtale")
        del root[0]
