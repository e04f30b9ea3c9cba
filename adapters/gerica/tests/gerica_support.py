"""Helpers shared by the Gerica tests: a served mock, adapters, raw SOAP requests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import requests
from lxml import etree
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from digidialog.adapters.soap import CallPolicy
from digidialog.domain import Appointment, AppointmentStatus
from digidialog.domain.timezone import OSLO
from digidialog_gerica import GericaAdapter
from digidialog_gerica.mock import GericaMock
from digidialog_gerica.wire import NAMESPACE, PLAIN_TEXT_TYPE, WSSE, message_schema

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
ONE_TRY = CallPolicy(timeout=2.0, attempts=1)
CITIZEN = "13116900216"
OTHER_CITIZEN = "15076500565"


@contextmanager
def served_mock(**options: Any) -> Iterator[GericaMock]:
    """A GericaMock (no seeded citizens unless asked) on a free port, with one citizen."""
    mock = GericaMock(seed_citizens=options.pop("seed_citizens", 0), **options)
    mock.add_citizen(CITIZEN, "Áilu Ŋuolla", ["HSP", "PB"])
    mock.start(port=0)
    try:
        yield mock
    finally:
        mock.stop()


def adapter_for(mock: GericaMock, **options: Any) -> GericaAdapter:
    """An adapter with the mock's credentials (one try unless a policy is given)."""
    options.setdefault("policy", ONE_TRY)
    return GericaAdapter(mock.base_url, mock.username, mock.password, **options)


def visit(uid: str, start: datetime, minutes: int = 30, *,
          status: AppointmentStatus = AppointmentStatus.ASSIGNED, service: str = "HSP",
          **fields: Any) -> Appointment:
    """A domain appointment to seed the mock with."""
    if status in (AppointmentStatus.ASSIGNED, AppointmentStatus.COMPLETED):
        fields.setdefault("employees", ("Kari Sykepleier",))
    return Appointment(uid=uid, status=status, start=start,
                       end=start + timedelta(minutes=minutes), service_id=service,
                       description="Tilsyn", **fields)


def oslo(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An Oslo wall-clock instant (never in the DST gap or fold in these tests)."""
    return datetime(year, month, day, hour, minute, tzinfo=OSLO)


def envelope(body: str, *, username: str | None = "digidialog",
             password: str | None = "digidialog",  # noqa: S107 - the mock's default
             password_type: str = PLAIN_TEXT_TYPE,
             soap_ns: str = SOAP11) -> bytes:
    """A SOAP envelope around ``body`` (Gerica's namespace bound to g:), with WS-Security."""
    header = ""
    if username is not None:
        secret = "" if password is None else (
            f'<wsse:Password Type="{password_type}">{password}</wsse:Password>')
        header = (f'<soap:Header><wsse:Security xmlns:wsse="{WSSE}"><wsse:UsernameToken>'
                  f"<wsse:Username>{username}</wsse:Username>{secret}"
                  "</wsse:UsernameToken></wsse:Security></soap:Header>")
    return (f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{soap_ns}" '
            f'xmlns:g="{NAMESPACE}">{header}<soap:Body>{body}</soap:Body></soap:Envelope>'
            ).encode()


def post(mock: GericaMock, operation: str, data: bytes, *, action: str | None = None,
         content_type: str = "text/xml; charset=utf-8") -> requests.Response:
    """POST raw bytes to the mock's endpoint, with the SOAPAction of ``operation``."""
    headers = {"Content-Type": content_type,
               "SOAPAction": f'"{action or f"{NAMESPACE}/{operation}"}"'}
    return requests.post(mock.service_url, data=data, headers=headers, timeout=5)


def body_of(data: bytes) -> etree._Element:
    """The first element of a SOAP 1.1 Body (for checking what was sent or answered)."""
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    assert root.tag == f"{{{SOAP11}}}Envelope"
    body = root.find(f"{{{SOAP11}}}Body")
    assert body is not None and len(body) == 1
    return body[0]


def schema_errors(element: etree._Element) -> list[str]:
    """What the project's Gerica XSD finds wrong with an element (empty: valid)."""
    schema = message_schema()
    return [] if schema.validate(element) else str(schema.error_log).splitlines()


@contextmanager
def replying(handler: Callable[[Request], Response]) -> Iterator[str]:
    """A bare HTTP server answering every request with ``handler``; yields its base URL."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request("/InnbyggerDialog").respond_with_handler(handler)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.clear()
        server.stop()
