"""The NotifyEvent endpoint as a plain WSGI application, called the way any WSGI server calls it."""

from __future__ import annotations

import base64
import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest

from digidialog_profil.mock import wire as mock_wire
from digidialog_profil.push import NotifyEndpoint
from digidialog_profil.store import EventStore
from digidialog_profil.wire import CONTENT_TYPE, action

USER, PASSWORD = "profil-push", "push-secret"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


@pytest.fixture
def endpoint(tmp_path: Path) -> Iterator[NotifyEndpoint]:
    """An endpoint on its own store, not served: the tests call it directly."""
    store = EventStore(tmp_path / "events.sqlite3")
    try:
        yield NotifyEndpoint(store, USER, PASSWORD)
    finally:
        store.close()


def call(endpoint: NotifyEndpoint, body: bytes, **environ: Any) -> tuple[str, dict[str, str],
                                                                            bytes]:
    """One request through the WSGI interface: status line, headers, body."""
    request: dict[str, Any] = {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/ProfilNotify",
        "CONTENT_TYPE": f'{CONTENT_TYPE}; action="{action("NotifyEvent")}"',
        "CONTENT_LENGTH": str(len(body)), "HTTP_AUTHORIZATION": BASIC,
        "wsgi.input": io.BytesIO(body),
    }
    request.update(environ)
    setup_testing_defaults(request)
    answered: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], *_: object) -> Any:
        answered.append((status, headers))

    reply = b"".join(endpoint(request, start_response))
    ((status, headers),) = answered
    return status, dict(headers), reply


def event() -> bytes:
    """A valid VisitDone NotifyEvent."""
    return mock_wire.notify_event(str(uuid.uuid4()), "VisitDone",
                                  datetime(2026, 6, 1, 8, tzinfo=UTC), "15076500565", 500_001,
                                  None, None)


def test_any_wsgi_server_can_host_it(endpoint: NotifyEndpoint) -> None:
    """A valid event through the bare WSGI interface is stored and answered Accepted."""
    status, headers, body = call(endpoint, event())
    assert status == "200 OK"
    assert headers["Content-Type"].startswith("application/soap+xml")
    assert headers["Content-Length"] == str(len(body))
    assert mock_wire.accepted(body)
    assert endpoint.store.count() == 1


def test_a_body_without_a_declared_length_is_refused(endpoint: NotifyEndpoint) -> None:
    """Without Content-Length the body's end is unknown: 411, nothing read or stored."""
    status, _, _ = call(endpoint, event(), CONTENT_LENGTH="")
    assert status.startswith("411")
    assert endpoint.store.count() == 0


@pytest.mark.parametrize("header", [
    "Basic not-base64!", "Basic " + base64.b64encode(b"no-colon").decode(),
    "Bearer " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode(),
    "Basic " + base64.b64encode(b"\xff\xfe:x").decode(), "",
])
def test_garbled_credentials_are_refused(endpoint: NotifyEndpoint, header: str) -> None:
    """Anything but HTTP Basic with the configured pair is a 401 asking for Basic."""
    status, headers, _ = call(endpoint, event(), HTTP_AUTHORIZATION=header)
    assert status.startswith("401")
    assert headers["WWW-Authenticate"].startswith("Basic")
    assert endpoint.store.count() == 0


def test_an_unforeseen_failure_is_a_500_profil_resends(endpoint: NotifyEndpoint,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug inside the endpoint never escapes to the server: HTTP 500, so Profil resends."""
    def broken(self: EventStore, _event: object) -> bool:
        raise RuntimeError("a bug")

    monkeypatch.setattr(EventStore, "add", broken)
    status, _, body = call(endpoint, event())
    assert status.startswith("500")
    assert body == b"internal error"
    assert endpoint.store.count() == 0
