"""Calling CosDoc: one SOAP operation over mutual TLS, its Status, and the streamed export.

Requests are built by zeep from the shipped WSDL and sent by the shared
:class:`~digidialog.adapters.soap.SoapEndpoint` (timeouts, size limits,
hardened parsing, retries). What is CosDoc's own:

- *mutual TLS*: the session presents the client certificate and trusts only
  the configured CA. ``trust_env`` is off, because requests otherwise lets a
  ``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE`` variable replace the session's
  CA, which would quietly trust every public CA instead of CosDoc's;
- *Status*: 3 (temporarily unavailable) is raised inside the retry loop as
  :class:`VendorUnavailable`, so it is retried like a busy server; 1 is
  :class:`InvalidRequest`; 2 is the "not found" error that fits the command,
  chosen by the caller; 0 carries the answer document. ``Feiltekst`` is kept
  on the error as ``feiltekst`` and never put in its message, since a vendor's
  free text may name the patient;
- *SOAP faults* mean CosDoc could not read our envelope: a final
  :class:`InvalidRequest` carrying the faultcode;
- *EKSPORT_AVTALER* is read as a stream (:mod:`digidialog_cosdoc.stream` and
  :mod:`digidialog_cosdoc.export`), retried only until its first record, never after.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path

import requests
import urllib3
import zeep
from lxml import etree

from digidialog.adapters.soap import (
    CallPolicy,
    SoapEndpoint,
    SoapFault,
    SoapVersion,
    load_client,
    new_session,
    read_limited,
    vendor_errors,
    with_retries,
)
from digidialog.adapters.tls import check_tls_files
from digidialog.domain import Appointment
from digidialog.errors import (
    DigidialogError,
    InvalidRequest,
    MalformedReply,
    VendorRejected,
    VendorTimeout,
    VendorUnavailable,
)
from digidialog_cosdoc.documents import decode_base64, read
from digidialog_cosdoc.export import read_appointments
from digidialog_cosdoc.stream import EnvelopeStream, ExportLimits, Prefix
from digidialog_cosdoc.wire import (
    OPERATION,
    SERVICE_PATH,
    SOAP_ACTION,
    WSDL,
    Kommando,
    Status,
    i,
    schema,
)

_CHUNK = 64 * 1024


@cache
def _zeep_client() -> zeep.Client:
    # Loading and compiling the WSDL costs tens of milliseconds: once per process.
    return load_client(schema(WSDL))


def _pieces(response: requests.Response) -> Iterator[bytes]:
    """The reply body as it arrives: ``read1`` returns what one read brings, so the
    export's deadline is checked however slowly the bytes trickle in (``iter_content``
    would wait for a whole 64 KiB). urllib3's errors are translated here, since
    requests no longer stands in between."""
    read1 = getattr(response.raw, "read1", None)
    if read1 is None:
        yield from response.iter_content(_CHUNK)
        return
    while True:
        try:
            chunk = read1(_CHUNK, decode_content=True)
        except urllib3.exceptions.ReadTimeoutError:
            raise VendorTimeout("CosDoc stopped sending the export") from None
        except urllib3.exceptions.DecodeError:
            raise MalformedReply("the export could not be decoded") from None
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise VendorUnavailable(
                f"the connection broke during the export: {type(error).__name__}") from None
        if not chunk:
            return
        yield chunk


def map_fault(fault: SoapFault) -> DigidialogError:
    """A SOAP fault from CosDoc: it could not read our envelope, and retrying will not help."""
    return InvalidRequest(f"CosDoc could not read the request envelope (HTTP {fault.http_status})",
                          code=f"soap:{fault.code or 'Fault'}")


def status_error(kommando: str, status: int, feiltekst: str | None,
                 not_found: type[VendorRejected]) -> DigidialogError:
    """The error for an ``UtforSvar`` Status other than 0."""
    error: DigidialogError
    if status == Status.UNAVAILABLE:
        error = VendorUnavailable(f"CosDoc is temporarily unavailable (Status 3 to {kommando})")
    elif status == Status.INVALID_REQUEST:
        error = InvalidRequest(f"CosDoc found the {kommando} request invalid", code="1")
    elif status == Status.NOT_FOUND:
        error = not_found(f"CosDoc does not know what {kommando} asked for", code="2")
    else:
        error = MalformedReply(f"CosDoc answered {kommando} with an unknown Status")
    return _with_feiltekst(error, feiltekst)


def _with_feiltekst(error: DigidialogError, feiltekst: str | None) -> DigidialogError:
    # Kept on the error for whoever handles it, out of its message and so out of logs.
    error.feiltekst = feiltekst  # type: ignore[attr-defined]
    return error


def _status_of(text: str | None) -> int:
    value = (text or "").strip()
    if value not in ("0", "1", "2", "3"):
        raise MalformedReply("UtforSvar has no Status 0-3")
    return int(value)


def answer_document(kommando: Kommando, answer: etree._Element,
                    not_found: type[VendorRejected] = VendorRejected) -> etree._Element:
    """The root of the document in an ``UtforSvar``, or the error its Status stands for."""
    status = _status_of(answer.findtext(i("Status")))
    if status != Status.OK:
        raise status_error(kommando, status, answer.findtext(i("Feiltekst")), not_found)
    dokument = answer.find(i("Dokument"))
    if dokument is None:
        raise MalformedReply(f"CosDoc answered {kommando} with Status 0 and no Dokument")
    return read(decode_base64(dokument.text), kommando)


class CosDocEndpoint(SoapEndpoint):
    """The shared endpoint, with CosDoc's "try later" (Status 3) raised where retries see it."""

    def interpret(self, response: requests.Response, body: bytes) -> etree._Element:
        """The ``UtforSvar``; Status 3 raises :class:`VendorUnavailable` (retriable)."""
        answer = super().interpret(response, body)
        if answer.tag != i("UtforSvar"):
            raise MalformedReply(f"reply body is {etree.QName(answer).localname}, not UtforSvar")
        if _status_of(answer.findtext(i("Status"))) == Status.UNAVAILABLE:
            raise status_error("Utfor", Status.UNAVAILABLE, answer.findtext(i("Feiltekst")),
                               VendorRejected)
        return answer


def mutual_tls_session(client_cert: Path, client_key: Path, ca: Path) -> requests.Session:
    """A session presenting ``client_cert`` and trusting only ``ca`` for the server.

    The files are checked now (:class:`~digidialog.adapters.tls.TlsFileError`
    names a wrong one), since requests reads them only at the first call.
    """
    check_tls_files(client_cert=client_cert, client_key=client_key, ca=ca)
    session = new_session()
    session.cert = (str(client_cert), str(client_key))
    session.verify = str(ca)
    return session


class CosDocClient:
    """``Utfor`` with a command and a document, answered by a document or an error."""

    def __init__(self, base_url: str, session: requests.Session, *,
                 policy: CallPolicy | None = None, limits: ExportLimits | None = None) -> None:
        self.endpoint = CosDocEndpoint(
            _zeep_client(), base_url.rstrip("/") + SERVICE_PATH, session,
            version=SoapVersion.V11, action=lambda _operation: SOAP_ACTION,
            fault_mapper=map_fault, policy=policy,
        )
        self.limits = limits or ExportLimits()

    def close(self) -> None:
        """Close the session's connections."""
        self.endpoint.session.close()

    def utfor(self, kommando: Kommando, document: bytes, *,
              not_found: type[VendorRejected] = VendorRejected) -> etree._Element:
        """Run ``kommando``; the root of the answer document (named after the command)."""
        answer = self.endpoint.call(OPERATION, Kommando=str(kommando), Dokument=document)
        return answer_document(kommando, answer, not_found)

    def export(self, document: bytes, service_names: Mapping[str, str]
               ) -> Iterator[tuple[int, Appointment]]:
        """EKSPORT_AVTALER as a stream of ``(PasientNr, Appointment)``, memory flat."""
        payload = self.endpoint.build(OPERATION, Kommando=str(Kommando.EKSPORT_AVTALER),
                                      Dokument=document)
        response, stream = with_retries(lambda: self._open_export(payload), self.endpoint.policy)
        return self._records(response, stream, service_names)

    def _open_export(self, payload: bytes) -> tuple[requests.Response, EnvelopeStream]:
        endpoint = self.endpoint
        with vendor_errors():
            response = endpoint.session.post(
                endpoint.address, data=payload, headers=endpoint.headers(OPERATION),
                timeout=endpoint.policy.timeout, stream=True,
            )
        try:
            with vendor_errors():
                media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
                if response.status_code != 200 or media != SoapVersion.V11.content_type:
                    body = read_limited(response, endpoint.policy.max_reply_bytes)
                    endpoint.interpret(response, body)
                    raise MalformedReply("CosDoc's export reply is not a SOAP answer")
                stream = EnvelopeStream(_pieces(response), self.limits)
                found = stream.seek_document()
                if isinstance(found, bytes):
                    self._small_answer(endpoint.interpret(response, found))
                else:
                    self._check_prefix(found)
            return response, stream
        except BaseException:
            response.close()
            raise

    @staticmethod
    def _small_answer(answer: etree._Element) -> None:
        status = _status_of(answer.findtext(i("Status")))
        if status != Status.OK:
            raise status_error(Kommando.EKSPORT_AVTALER, status,
                               answer.findtext(i("Feiltekst")), VendorRejected)
        raise MalformedReply("CosDoc answered EKSPORT_AVTALER with Status 0 and no Dokument")

    @staticmethod
    def _check_prefix(prefix: Prefix) -> None:
        status = _status_of(prefix.status)
        if status != Status.OK:
            raise status_error(Kommando.EKSPORT_AVTALER, status, prefix.feiltekst, VendorRejected)

    @staticmethod
    def _records(response: requests.Response, stream: EnvelopeStream,
                 service_names: Mapping[str, str]) -> Iterator[tuple[int, Appointment]]:
        try:
            with vendor_errors():
                yield from read_appointments(stream.document_bytes(), service_names)
        finally:
            response.close()
