"""The NotifyEvent endpoint that digidialog hosts and Profil calls.

Profil pushes each event (ids only) to this endpoint with HTTP Basic
credentials configured on its side, and resends it until it gets HTTP 200
with ``NotifyEventResponse/Accepted = true``. So the endpoint:

- answers HTTP 401 to a request without the right credentials;
- reads at most ``max_bytes`` of the body and parses it with digidialog's
  hardened parser, checks the SOAP 1.2 envelope and validates ``NotifyEvent``
  against the Profil XSD; anything else is an ``env:Sender``/``p:Invalid``
  fault (HTTP 400), which Profil will not be helped by resending;
- stores the event durably (:class:`EventStore`, committed) and only then
  answers ``Accepted = true``; a repeated EventId is stored once and answered
  the same way, so a crash between storing and answering loses nothing;
- answers ``env:Receiver``/``p:Busy`` with HTTP 503 and ``Retry-After`` when
  the store cannot take the event, so Profil tries again later.

:class:`NotifyEndpoint` is a plain WSGI application; :class:`PushServer` runs it
in a background thread with werkzeug for the daemon and the tests.
"""

from __future__ import annotations

import hmac
import sqlite3
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from lxml import etree
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

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
        response = self.respond(Request(environ))
        return response(environ, start_response)

    def respond(self, request: Request) -> Response:
        """The answer to one HTTP request."""
        if request.path != self.path:
            return Response("not found", status=404, content_type="text/plain")
        if request.method != "POST":
            return Response("POST only", status=405, headers={"Allow": "POST"},
                            content_type="text/plain")
        if not self._authorised(request):
            return Response("authentication required", status=401, content_type="text/plain",
                            headers={"WWW-Authenticate": 'Basic realm="digidialog"'})
        if request.mimetype != "application/soap+xml":
            return _fault(Subcode.INVALID, "expected a SOAP 1.2 message (application/soap+xml)")
        wanted = action(NOTIFY_OPERATION)
        given = request.mimetype_params.get("action")
        if given is not None and given != wanted:
            return _fault(Subcode.INVALID, f"this endpoint serves only {wanted}")
        declared = request.content_length
        if declared is not None and declared > self.max_bytes:
            return _fault(Subcode.INVALID, "the message is too large for a NotifyEvent")
        body = request.stream.read(self.max_bytes + 1)
        if len(body) > self.max_bytes:
            return _fault(Subcode.INVALID, "the message is too large for a NotifyEvent")
        return self.accept(body)

    def accept(self, body: bytes) -> Response:
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

    def answer(self) -> Response:
        """``NotifyEventResponse/Accepted = true``, sent only once the event is stored."""
        envelope = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"env": SOAP_NS})
        reply = etree.SubElement(etree.SubElement(envelope, f"{{{SOAP_NS}}}Body"),
                                 tag("NotifyEventResponse"), nsmap={"p": NAMESPACE})
        etree.SubElement(reply, tag("Accepted")).text = "true"
        return Response(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"),
                        status=200, content_type=CONTENT_TYPE)

    def _authorised(self, request: Request) -> bool:
        auth = request.authorization
        if auth is None or auth.type != "basic":
            return False
        # Both compared in full, in constant time, so timing tells nothing about either.
        user_ok = hmac.compare_digest((auth.username or "").encode(), self._username)
        password_ok = hmac.compare_digest((auth.password or "").encode(), self._password)
        return user_ok and password_ok


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


def _fault(subcode: Subcode, reason: str) -> Response:
    # The reasons name rules and element paths, never content, so they may be logged.
    log.warning("push_refused", subcode=subcode.value, why=reason)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if subcode is Subcode.BUSY else {}
    return Response(fault_envelope(fault_code_of(subcode), subcode, reason),
                    status=http_status_of(subcode), content_type=CONTENT_TYPE, headers=headers)


class _QuietHandler(WSGIRequestHandler):
    """werkzeug's handler without its plain-text access log: the endpoint logs in JSON."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Nothing: each stored event is logged by the endpoint itself."""


class PushServer:
    """Serves a :class:`NotifyEndpoint` over HTTP in a background thread."""

    def __init__(self, endpoint: NotifyEndpoint, host: str = "127.0.0.1", port: int = 0) -> None:
        self.endpoint = endpoint
        self._server: BaseWSGIServer = make_server(host, port, endpoint, threaded=True,
                                                   request_handler=_QuietHandler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The address Profil must be configured to push to."""
        return f"http://{self._server.host}:{self._server.port}{self.endpoint.path}"

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
