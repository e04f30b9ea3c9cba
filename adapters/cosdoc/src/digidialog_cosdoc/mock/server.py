"""A stateful CosDoc that follows the contract exactly: HTTPS with mutual TLS, one operation.

``CosDocMock`` answers ``POST {base}/Integrasjon`` as vendors.md describes:

- only over TLS with a client certificate signed by its CA (:meth:`start_tls`
  makes a fresh CA, server and client certificate; a client without one, or
  with another CA's, fails the handshake);
- a request that is not a SOAP 1.1 ``Utfor`` envelope (wrong SOAPAction or
  content type, broken XML, an envelope not valid against the WSDL's schema)
  is answered with a ``soap:Fault`` (soap:Client, HTTP 500);
- everything else is an ``UtforSvar`` on HTTP 200: an unknown Kommando, a
  Dokument that is not base64 or not XML, a root not named after the command,
  or a document invalid against the request schema is Status 1 with a Feiltekst
  naming where (never the value); not found is Status 2; the answer is Status 0
  with a Latin-1 document;
- EKSPORT_AVTALER is streamed: generated as it is sent, so an export of
  hundreds of thousands of records (:attr:`synthetic_export`) costs no memory.

Fault injection (Busy, vendor statuses, hostile replies) comes from
:class:`~digidialog.testing.mockbase.MockEpj`. With :attr:`recording` on,
every request and reply is kept in :attr:`exchanges` for tests to inspect.
"""

from __future__ import annotations

import base64
import re
import shutil
import tempfile
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from lxml import etree
from werkzeug.wrappers import Request, Response

from digidialog.errors import DigidialogError
from digidialog.testing.mockbase import Fault, MockEpj
from digidialog.xml import safe
from digidialog.xml.tree import root_element
from digidialog_cosdoc.documents import envelope_schema, problems, request_schema
from digidialog_cosdoc.mock import certs
from digidialog_cosdoc.mock.answers import HANDLERS, Answer, invalid
from digidialog_cosdoc.mock.export import export_envelope, synthetic_records
from digidialog_cosdoc.mock.state import CosDocStore
from digidialog_cosdoc.wire import (
    INTEGRASJON_NS,
    SERVICE_PATH,
    SOAP_ACTION,
    Kommando,
    Status,
    d,
    i,
)

_SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
_CONTENT_TYPE = "text/xml; charset=utf-8"
_KOMMANDO = re.compile(rb"<(?:[\w.\-]+:)?Kommando>\s*([A-Z_]{1,40})\s*<")


@dataclass(frozen=True)
class Exchange:
    """One request and its reply, as bytes on the wire (``reply`` is None when streamed)."""

    kommando: str
    request: bytes
    reply: bytes | None
    headers: dict[str, str]
    status: int


Scripted = Answer | bytes | Iterable[bytes]
"""A scripted reply: an answer to wrap in UtforSvar, or raw reply bytes (or chunks)."""


class CosDocMock(MockEpj):
    """The fake CosDoc: its store, its wire format, its certificates."""

    vendor = "cosdoc"
    service_path = SERVICE_PATH

    def __init__(self, seed_citizens: int = 20, *, first_day: date | None = None) -> None:
        super().__init__()
        self.store = CosDocStore()
        if seed_citizens:
            self.store.seed(seed_citizens, first_day=first_day)
        self.synthetic_export: int | None = None
        """When set, EKSPORT_AVTALER streams this many generated records, whatever the date."""
        self.recording = False
        self.exchanges: list[Exchange] = []
        self.certificates: certs.CertificateFiles | None = None
        self._own_directory: Path | None = None
        self._scripted: dict[str, deque[Scripted]] = {}

    # ------------------------------------------------------------ serving

    def start_tls(self, host: str = "127.0.0.1", port: int = 0,
                  directory: Path | None = None) -> certs.CertificateFiles:
        """Serve HTTPS requiring client certificates; return the certificate files.

        Certificates are made fresh, for ``host``, ``localhost`` and 127.0.0.1,
        in ``directory`` (or a temporary one removed by :meth:`stop`).
        """
        if directory is None:
            directory = self._own_directory = Path(tempfile.mkdtemp(prefix="cosdoc-mock-"))
        self.certificates = certs.write_set(directory,
                                            hosts=sorted({host, "localhost", "127.0.0.1"}))
        self.start(host, port, ssl_context=certs.server_context(self.certificates))
        return self.certificates

    def stop(self) -> None:
        """Stop serving and remove certificates made in a temporary directory."""
        super().stop()
        if self._own_directory is not None:
            shutil.rmtree(self._own_directory, ignore_errors=True)
            self._own_directory = None

    def script(self, kommando: str, reply: Scripted) -> None:
        """Answer the next valid ``kommando`` request with ``reply`` instead of the store.

        For tests of what the adapter does with odd or hostile answers: the request is
        still checked as usual; raw bytes (or chunks, streamed) are sent as they are.
        """
        with self._lock:
            self._scripted.setdefault(kommando, deque()).append(reply)

    # ------------------------------------------------------------ MockEpj

    def operation_of(self, request: Request) -> str:
        """The Kommando inside the envelope (so faults can target one command)."""
        found = _KOMMANDO.search(request.get_data()[:4096])
        return found.group(1).decode("ascii") if found else "Utfor"

    def content_type(self) -> str:
        """SOAP 1.1: text/xml."""
        return _CONTENT_TYPE

    def busy_response(self, fault: Fault) -> Response:
        """Status 3: temporarily unavailable (CosDoc has no Retry-After)."""
        return self._utfor_svar(Answer(Status.UNAVAILABLE, "CosDoc er midlertidig utilgjengelig"))

    def fault_response(self, code: str, message: str) -> Response:
        """Status ``code`` ("1", "2", "3") as an answer, or a soap:Fault for "SOAP"."""
        if code == "SOAP":
            return soap_fault(message)
        return self._utfor_svar(Answer(Status(int(code)), message))

    def handle(self, request: Request, operation: str) -> Response:
        """Read one Utfor and answer it."""
        body = request.get_data()
        action = request.headers.get("SOAPAction", "").strip().strip('"')
        media = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if request.method != "POST" or action != SOAP_ACTION or media != "text/xml":
            return self._record(operation, request, soap_fault("expected a SOAP 1.1 Utfor POST"))
        try:
            envelope = safe.parse(body)
        except DigidialogError:
            return self._record(operation, request, soap_fault("the envelope is not well-formed"))
        utfor = envelope.find(f"{{{_SOAP}}}Body/{i('Utfor')}")
        if not envelope_schema().validate(envelope) or utfor is None:
            return self._record(operation, request, soap_fault("the envelope is not an Utfor"))
        kommando = (utfor.findtext(i("Kommando")) or "").strip()
        if kommando not in Kommando.__members__:
            return self._reply(kommando, request, invalid("ukjent kommando"))
        root = self._request_document(utfor.findtext(i("Dokument")) or "", Kommando(kommando))
        if isinstance(root, Answer):
            return self._reply(kommando, request, root)
        scripted = self._scripted.get(kommando)
        if scripted:
            return self._scripted_reply(kommando, request, scripted.popleft())
        if kommando == Kommando.EKSPORT_AVTALER:
            return self._export(request, date.fromisoformat(root.findtext(d("Dato")) or ""))
        with self.store.lock:
            answer = HANDLERS[Kommando(kommando)](self.store, root)
        return self._reply(kommando, request, answer)

    # ------------------------------------------------------------ pieces

    @staticmethod
    def _request_document(text: str, kommando: Kommando) -> etree._Element | Answer:
        try:
            data = base64.b64decode("".join(text.split()), validate=True)
            root = safe.parse(data)
        except (ValueError, DigidialogError):
            return invalid("Dokument er ikke base64 av et XML-dokument")
        if root.tag != d(kommando):
            return invalid(f"Dokument skal ha rotelementet {kommando}")
        found = problems(root, request_schema())
        return invalid("Dokument er ugyldig: " + "; ".join(found[:3])) if found else root

    def _scripted_reply(self, kommando: str, request: Request, reply: Scripted) -> Response:
        if isinstance(reply, Answer):
            return self._reply(kommando, request, reply)
        streamed = not isinstance(reply, bytes)
        response = Response(reply, content_type=_CONTENT_TYPE)
        return self._record(kommando, request, response, streamed=streamed)

    def _export(self, request: Request, day: date) -> Response:
        with self.store.lock:
            patients = sorted(self.store.pasienter)
            if self.synthetic_export is not None:
                records = synthetic_records(self.synthetic_export, day, patients or [1])
            else:
                active = {nr for nr, p in self.store.pasienter.items() if p.digital}
                records = iter(sorted((a for a in self.store.avtaler.values()
                                       if a.dato == day and a.pasient_nr in active),
                                      key=lambda a: (a.fra_kl, a.nr)))
        response = Response(export_envelope(records), content_type=_CONTENT_TYPE)
        return self._record(Kommando.EKSPORT_AVTALER, request, response, streamed=True)

    def _reply(self, kommando: str, request: Request, answer: Answer) -> Response:
        return self._record(kommando, request, self._utfor_svar(answer))

    def _record(self, kommando: str, request: Request, response: Response, *,
                streamed: bool = False) -> Response:
        # A streamed reply is not read here: that would generate it whole in memory.
        if self.recording:
            self.exchanges.append(Exchange(
                kommando=kommando, request=request.get_data(),
                reply=None if streamed else response.get_data(),
                headers=dict(request.headers.items()), status=response.status_code,
            ))
        return response

    @staticmethod
    def _utfor_svar(answer: Answer) -> Response:
        return Response(utfor_svar(answer), content_type=_CONTENT_TYPE)


def utfor_svar(answer: Answer) -> bytes:
    """An ``UtforSvar`` envelope: Status, Feiltekst if any, Dokument if any."""
    envelope = root_element(f"{{{_SOAP}}}Envelope", INTEGRASJON_NS, soap=_SOAP)
    body = etree.SubElement(envelope, f"{{{_SOAP}}}Body")
    svar = etree.SubElement(body, i("UtforSvar"))
    etree.SubElement(svar, i("Status")).text = str(int(answer.status))
    if answer.feiltekst is not None:
        etree.SubElement(svar, i("Feiltekst")).text = answer.feiltekst
    if answer.document is not None:
        etree.SubElement(svar, i("Dokument")).text = base64.b64encode(answer.document).decode()
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def soap_fault(reason: str) -> Response:
    """A SOAP 1.1 Client fault on HTTP 500: CosDoc could not read the envelope."""
    envelope = etree.Element(f"{{{_SOAP}}}Envelope", nsmap={"soap": _SOAP})
    fault = etree.SubElement(etree.SubElement(envelope, f"{{{_SOAP}}}Body"), f"{{{_SOAP}}}Fault")
    etree.SubElement(fault, "faultcode").text = "soap:Client"
    etree.SubElement(fault, "faultstring").text = reason
    return Response(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"),
                    status=500, content_type=_CONTENT_TYPE)
