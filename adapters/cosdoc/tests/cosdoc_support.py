"""Helpers shared by the CosDoc tests: a running mock, adapters for it, a raw client."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import requests
from lxml import etree

from digidialog.adapters.soap import CallPolicy
from digidialog_cosdoc.adapter import CosDocAdapter
from digidialog_cosdoc.client import mutual_tls_session
from digidialog_cosdoc.mock import certs
from digidialog_cosdoc.mock.server import CosDocMock
from digidialog_cosdoc.stream import ExportLimits
from digidialog_cosdoc.wire import SOAP_ACTION, SOAP_ENVELOPE_NS, i

ONE_TRY = CallPolicy(timeout=3.0, attempts=1)
FAST_RETRY = CallPolicy(timeout=3.0, attempts=3, backoff_initial=0.02, backoff_max=0.1)
FIRST_DAY = date(2026, 3, 2)
"""The seed's first day: a Monday, so the planned weekday series has visits on it."""


@dataclass
class Running:
    """A started mock, its certificates, and a way to make adapters for it."""

    mock: CosDocMock
    files: certs.CertificateFiles

    def adapter(self, policy: CallPolicy | None = FAST_RETRY,
                limits: ExportLimits | None = None) -> CosDocAdapter:
        """An adapter with the mock's client certificate."""
        return CosDocAdapter(self.mock.base_url, client_cert=self.files.client_cert,
                             client_key=self.files.client_key, ca=self.files.ca,
                             policy=policy, limits=limits)

    def count(self, kommando: str) -> int:
        """How many requests of ``kommando`` the mock has received."""
        return self.mock.requests_seen.count(kommando)

    def session(self) -> requests.Session:
        """A raw mutual-TLS session, for requests the adapter would never send."""
        return mutual_tls_session(self.files.client_cert, self.files.client_key, self.files.ca)

    def post(self, envelope: bytes, *, action: str = SOAP_ACTION,
             content_type: str = "text/xml; charset=utf-8") -> requests.Response:
        """POST raw bytes to the mock's endpoint."""
        with self.session() as session:
            return session.post(self.mock.service_url, data=envelope, timeout=5,
                                headers={"SOAPAction": f'"{action}"',
                                         "Content-Type": content_type})


@contextmanager
def running(seed_citizens: int = 3) -> Iterator[Running]:
    """A CosDoc mock over mutual TLS, seeded from :data:`FIRST_DAY`, stopped afterwards."""
    mock = CosDocMock(seed_citizens=seed_citizens, first_day=FIRST_DAY)
    files = mock.start_tls()
    try:
        yield Running(mock, files)
    finally:
        mock.stop()


def utfor(kommando: str, document: bytes) -> bytes:
    """A hand-made Utfor envelope."""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{SOAP_ENVELOPE_NS}">'
        f'<s:Body><c:Utfor xmlns:c="urn:cosdoc:integrasjon:1"><c:Kommando>{kommando}'
        f"</c:Kommando><c:Dokument>{base64.b64encode(document).decode()}</c:Dokument>"
        "</c:Utfor></s:Body></s:Envelope>"
    ).encode()


def svar_parts(reply: bytes) -> tuple[str, str | None, bytes | None]:
    """Status, Feiltekst and the decoded Dokument of an UtforSvar reply."""
    envelope = etree.fromstring(reply)
    svar = envelope.find(f"{{{SOAP_ENVELOPE_NS}}}Body/{i('UtforSvar')}")
    assert svar is not None, "not an UtforSvar"
    dokument = svar.findtext(i("Dokument"))
    return (svar.findtext(i("Status")) or "", svar.findtext(i("Feiltekst")),
            None if dokument is None else base64.b64decode(dokument))
