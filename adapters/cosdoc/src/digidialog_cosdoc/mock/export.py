"""The export as CosDoc sends it: a SOAP envelope generated piece by piece, never whole.

:func:`export_envelope` turns any iterable of :class:`Avtale` into the bytes
of an ``UtforSvar`` whose Dokument is the base64 of an ``EKSPORT_AVTALER``
document, yielding chunks of about 64 KiB: the envelope's start, the base64
of the document as it is written (three bytes of document are four of
base64, so whole groups are emitted and the rest carried), and the
envelope's end. Hundreds of thousands of records stream through in a few
megabytes.

Records are written here by a small serialiser rather than lxml, for speed;
it writes what :func:`~digidialog_cosdoc.documents.build` writes (Latin-1,
``&#NNN;`` for everything outside it, ``&#13;`` for a carriage return), and a
test holds the two to the same bytes.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator
from datetime import date

from digidialog_cosdoc.mock.answers import avtale_fields
from digidialog_cosdoc.mock.state import Avtale
from digidialog_cosdoc.wire import DOCUMENT_ENCODING, DOKUMENT_NS, INTEGRASJON_NS, Kommando

_SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
ENVELOPE_START = (
    f'<?xml version="1.0" encoding="utf-8"?>\n<soap:Envelope xmlns:soap="{_SOAP}"><soap:Body>'
    f'<UtforSvar xmlns="{INTEGRASJON_NS}"><Status>0</Status><Dokument>'
).encode()
ENVELOPE_END = b"</Dokument></UtforSvar></soap:Body></soap:Envelope>"
DOCUMENT_START = (
    f"<?xml version='1.0' encoding='{DOCUMENT_ENCODING}'?>\n"
    f'<{Kommando.EKSPORT_AVTALER} xmlns="{DOKUMENT_NS}">'
).encode("ascii")
DOCUMENT_END = f"</{Kommando.EKSPORT_AVTALER}>".encode("ascii")
_GROUP = 3 * 16 * 1024
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})


def avtale_xml(avtale: Avtale) -> bytes:
    """One ``Avtale`` element in Latin-1, character references for the rest."""
    parts = ["<Avtale>"]
    for name, value in avtale_fields(avtale):
        if value is None:
            continue
        text = str(value).translate(_ESCAPES)
        parts.append(f"<{name}>{text}</{name}>")
    parts.append("</Avtale>")
    return "".join(parts).encode(DOCUMENT_ENCODING, "xmlcharrefreplace")


def document_chunks(records: Iterable[Avtale]) -> Iterator[bytes]:
    """The EKSPORT_AVTALER document in pieces, one record at a time."""
    yield DOCUMENT_START
    for record in records:
        yield avtale_xml(record)
    yield DOCUMENT_END


def base64_chunks(document: Iterable[bytes], *, line_length: int | None = None) -> Iterator[bytes]:
    """base64 of a byte stream, in whole groups of about 64 KiB; optionally in lines."""
    pending = bytearray()
    for piece in document:
        pending += piece
        if len(pending) >= _GROUP:
            usable = len(pending) - len(pending) % 3
            yield _lines(base64.b64encode(bytes(pending[:usable])), line_length)
            del pending[:usable]
    if pending:
        yield _lines(base64.b64encode(bytes(pending)), line_length)


def _lines(encoded: bytes, line_length: int | None) -> bytes:
    # MIME-style line breaks are legal in xs:base64Binary; the reader must skip them.
    if not line_length:
        return encoded
    return b"".join(encoded[i : i + line_length] + b"\r\n"
                    for i in range(0, len(encoded), line_length))


def export_envelope(records: Iterable[Avtale], *, line_length: int | None = None
                    ) -> Iterator[bytes]:
    """The whole EKSPORT_AVTALER reply, envelope and all, chunk by chunk."""
    yield ENVELOPE_START
    yield from base64_chunks(document_chunks(records), line_length=line_length)
    yield ENVELOPE_END


_TEXTS = ("Morgenstell og medisiner", "Sårstell, høyre legg", "Praktisk bistand: rengjøring",
          "Besøk hos Áilu Ŋuolla 👵🏽", "Tilsyn kveld")
_EMPLOYEES = ("Ola Pleier", "Kari Sykepleier", "Ánte Ŋuolla")


def synthetic_records(count: int, day: date, patients: list[int]) -> Iterator[Avtale]:
    """``count`` plausible appointments on ``day``, spread over ``patients``, generated lazily."""
    statuses = ("T", "T", "P", "U", "A")
    for n in range(count):
        status = statuses[n % len(statuses)]
        minute = (n * 7) % (17 * 60 + 30) + 6 * 60
        start = f"{minute // 60:02d}:{minute % 60:02d}"
        end_minute = minute + 30
        yield Avtale(
            nr=10_000_001 + n, pasient_nr=patients[n % len(patients)],
            tjeneste_id=101 if n % 3 else 102, status=status, dato=day,
            fra_kl=start, til_kl=f"{end_minute // 60:02d}:{end_minute % 60:02d}",
            gjentas=status == "P", ansatt=_EMPLOYEES[n % 3] if status in ("T", "U") else None,
            tekst=_TEXTS[n % len(_TEXTS)], utfort_kl=f"{start}:30" if status == "U" else None,
            avlyst_av="T" if status == "A" else None,
        )
