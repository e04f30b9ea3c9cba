"""The NotifyEvent endpoint that digidialog hosts and Profil calls.

Profil pushes each event (ids only) to this endpoint with HTTP Basic
credentials configured on its side, and resends it until it gets HTTP 200
with ``NotifyEventResponse/Accepted = true``. So the endpoint:

- answers HTTP 401 to a request without the right credentials;
- reads at most ``max_bytes`` of the body (a declared length is required: HTTP
  411 otherwise) and parses it with digidialog's hardened parser, checks the
  SOAP 1.2 envelope and validates ``NotifyEvent`` against the Profil XSD;
  anything else is an ``env:Sender``/``p:Invalid`` fault (HTTP 400), which
  Profil will not be helped by resending;
- stores the event durably (:class:`EventStore`, committed) and only then
  answers ``Accepted = true``; a repeated EventId is stored once and answered
  the same way, so a crash between storing and answering loses nothing;
- answers ``env:Receiver``/``p:Busy`` with HTTP 503 and ``Retry-After`` when
  the store cannot take the event, so Profil tries again later; anything
  unforeseen is logged and answered HTTP 500, which Profil also resends.

:class:`NotifyEndpoint` is a plain WSGI application (the daemon mounts it
beside its other HTTP endpoints); :class:`PushServer` runs it on its own, in a
background thread, with the standard library's ``wsgiref``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import Message
from http import HTTPStatus
from socketserver import ThreadingMixIn
from typing import IO, TYPE_CHECKING
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from lxml import etree

from digidialog.errors import DigidialogError
from digidialog.log import get_logger
from digidialog.xml import safe
from digidialog_profil.faults import Subcode, fault_code_of, fault_envelope, http_status_of
from digidialog_profil.mapping import pushed_event
from digidialog_profil.store import EventStore
from digidialog_profil.wire import (
    CONTENT_TYPE,
    NAMESPACE,
    NOTIFY_OPERATION,
    SOAP_NS,
    action,
    schema_errors,
    tag,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

log = get_logger("profil.push")

DEFAULT_PATH = "/ProfilNotify"
MAX_EVENT_BYTES = 64 * 1024
"""A NotifyEvent is a few hundred bytes; anything much larger is not one."""

RETRY_AFTER_SECONDS = 5
_DRAIN_LIMIT = 1024 * 1024
"""An oversized body up to this size is read and dropped before the answer, so the
client is not cut off mid-upload and sees the fault; anything larger is not read."""


@dataclass(frozen=True)
class Reply:
    """One HTTP answer: status, body and headers."""

    status: int
    body: bytes
    content_type: str = "text/plain"
    headers: dict[str, str] = field(default_factory=dict)

    def wsgi_headers(self) -> list[tuple[str, str]]:
        """Content-Type, Content-Length and the rest, as WSGI wants them."""
        return [("Content-Type", self.content_type), ("Content-Length", str(len(self.body))),
                *self.headers.items()]


class NotifyEndpoint:
    """The WSGI application answering Profil's NotifyEvent calls."""

    def __init__(self, store: EventStore, username: str, password: str, *,
                 path: str = DEFAULT_PATH, max_bytes: int = MAX_EVENT_BYTES) -> None:
        if not username or not password:
            raise ValueError("the push endpoint needs the credentials Profil is configured with")
        self.store = store
        self.path = path
        self.max_bytes = max_bytes
        self._username = username.encode()
        self._password = password.encode()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse
                 ) -> Iterable[bytes]:
        """WSGI entry point."""
        try:
            reply = self.respond(environ)
        except Exception:
            # Nothing was answered, so Profil resends: the event is not lost.
            log.exception("push_failed")
            reply = Reply(500, b"internal error")
        status = HTTPStatus(reply.status)
        start_response(f"{status.value} {status.phrase}", reply.wsgi_headers())
        return [reply.body]

    def respond(self, environ: WSGIEnvironment) -> Reply:
        """The answer to one HTTP request."""
        if environ.get("PATH_INFO", "") != self.path:
            return Reply(404, b"not found")
        if environ.get("REQUEST_METHOD") != "POST":
            return Reply(405, b"POST only", headers={"Allow": "POST"})
        if not self._authorised(environ.get("HTTP_AUTHORIZATION", "")):
            return Reply(401, b"authentication required",
                         headers={"WWW-Authenticate": 'Basic realm="digidialog"'})
        media_type, given_action = _content_type(environ.get("CONTENT_TYPE", ""))
        if media_type != "application/soap+xml":
            return _fault(Subcode.INVALID, "expected a SOAP 1.2 message (application/soap+xml)")
        wanted = action(NOTIFY_OPERATION)
        if given_action is not None and given_action != wanted:
            return _fault(Subcode.INVALID, f"this endpoint serves only {wanted}")
        stream: IO[bytes] = environ["wsgi.input"]
        declared = _declared_length(environ.get("CONTENT_LENGTH", ""))
        if declared is None:
            return Reply(411, b"a Content-Length is required")
        if declared > self.max_bytes:
            _discard(stream, declared)
            return _fault(Subcode.INVALID, "the message is too large for a NotifyEvent")
        return self.accept(stream.read(declared))

    def accept(self, body: bytes) -> Reply:
        """Check one NotifyEvent envelope, store the event, and answer."""
        try:
            envelope = safe.parse(body, max_bytes=self.max_bytes)
        except DigidialogError as error:
            return _fault(Subcode.INVALID, f"not a usable XML message: {error}")
        element = _notify_element(envelope)
        if element is None:
            return _fault(Subcode.INVALID, "expected a SOAP 1.2 Envelope holding NotifyEvent")
        problems = schema_errors(element)
        if problems:
            return _fault(Subcode.INVALID, "NotifyEvent does not follow the schema: "
                          + "; ".join(problems[:3]))
        try:
            event = pushed_event(element)
        except ValueError as error:
            return _fault(Subcode.INVALID, str(error))
        try:
            new = self.store.add(event)
        except (DigidialogError, sqlite3.Error):
            log.exception("push_not_stored", event_id=event.event_id)
            return _fault(Subcode.BUSY, "the event could not be stored; send it again later")
        log.info("push_stored" if new else "push_repeated", event_id=event.event_id,
                 event_type=event.event_type.value)
        return self.answer()

    def answer(self) -> Reply:
        """``NotifyEventResponse/Accepted = true``, sent only once the event is stored."""
        envelope = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"env": SOAP_NS})
        reply = etree.SubElement(etree.SubElement(envelope, f"{{{SOAP_NS}}}Body"),
                                 tag("NotifyEventResponse"), nsmap={"p": NAMESPACE})
        etree.SubElement(reply, tag("Accepted")).text = "true"
        return Reply(200, etree.tostring(envelope, xml_declaration=True, encoding="utf-8"),
                     CONTENT_TYPE)

    def _authorised(self, header: str) -> bool:
        credentials = _basic_credentials(header)
        if credentials is None:
            return False
        username, password = credentials
        # Both compared in full, in constant time, so timing tells nothing about either.
        user_ok = hmac.compare_digest(username.encode(), self._username)
        password_ok = hmac.compare_digest(password.encode(), self._password)
        return user_ok and password_ok


def _basic_credentials(header: str) -> tuple[str, str] | None:
    """Username and password of an HTTP Basic ``Authorization`` header, or None."""
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, colon, password = decoded.partition(":")
    return (username, password) if colon else None


def _content_type(header: str) -> tuple[str, str | None]:
    """The media type (lower case) and the ``action`` parameter of a Content-Type."""
    parsed = Message()
    parsed["Content-Type"] = header
    given = parsed.get_param("action", header="Content-Type")
    media_type = parsed.get_content_type() if header.strip() else ""
    return media_type, given if isinstance(given, str) else None


def _declared_length(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isascii() and value.isdigit() else None


def _discard(stream: IO[bytes], declared: int) -> None:
    remaining = declared if declared <= _DRAIN_LIMIT else 0
    while remaining > 0:
        chunk = stream.read(min(remaining, 65536))
        if not chunk:
            break
        remaining -= len(chunk)


def _notify_element(envelope: etree._Element) -> etree._Element | None:
    if envelope.tag != f"{{{SOAP_NS}}}Envelope":
        return None
    body = envelope.find(f"{{{SOAP_NS}}}Body")
    if body is None:
        return None
    content = [child for child in body if isinstance(child.tag, str)]
    if len(content) != 1 or content[0].tag != tag(NOTIFY_OPERATION):
        return None
    return content[0]


def _fault(subcode: Subcode, reason: str) -> Reply:
    # The reasons name rules and element paths, never content, so they may be logged.
    log.warning("push_refused", subcode=subcode.value, why=reason)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if subcode is Subcode.BUSY else {}
    return Reply(http_status_of(subcode), fault_envelope(fault_code_of(subcode), subcode, reason),
                 CONTENT_TYPE, headers)


class _ThreadedServer(ThreadingMixIn, WSGIServer):
    """wsgiref's server, one thread per request (Profil may resend while we store)."""

    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    """wsgiref's handler without its plain-text access log: the endpoint logs in JSON."""

    def log_message(self, format: str, *args: object) -> None:
        """Nothing: each stored event is logged by the endpoint itself."""


class PushServer:
    """Serves a :class:`NotifyEndpoint` over HTTP in a background thread."""

    def __init__(self, endpoint: NotifyEndpoint, host: str = "127.0.0.1", port: int = 0) -> None:
        self.endpoint = endpoint
        self._server = make_server(host, port, endpoint, server_class=_ThreadedServer,
                                   handler_class=_QuietHandler)
        self._host = host
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The address Profil must be configured to push to."""
        return f"http://{self._host}:{self._server.server_port}{self.endpoint.path}"

    def start(self) -> PushServer:
        """Start serving; returns itself."""
        # A short poll interval so that stop() returns promptly.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="profil-push", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
