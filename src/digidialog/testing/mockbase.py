"""Shared machinery of the mock vendor endpoints: serving and faults on demand (the mock extra).

A vendor mock is a stateful fake that follows the vendor's wire contract. Each
one implements :meth:`MockEpj.handle` (a werkzeug request in, a response out);
this module serves it with pytest-httpserver (plain HTTP or TLS with client
certificates) and injects faults in front of it on demand:

- ``LATENCY``: answer after a delay (to exercise timeouts);
- ``HTTP_500``: a bare HTTP 500 with an HTML body;
- ``BUSY``: the vendor's own "try later" (its fault and, where it has one, a
  ``Retry-After`` header);
- ``VENDOR_FAULT``: one of the vendor's final faults, by code;
- ``MALFORMED_XML``, ``TRUNCATED``, ``WRONG_CONTENT_TYPE``, ``XXE``,
  ``BILLION_LAUGHS``, ``HUGE_BODY``: broken or hostile replies;
- ``DROP_CONNECTION``: close the socket without answering.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response


class FaultKind(StrEnum):
    """What the mock does instead of answering normally."""

    LATENCY = "latency"
    HTTP_500 = "http_500"
    BUSY = "busy"
    VENDOR_FAULT = "vendor_fault"
    MALFORMED_XML = "malformed_xml"
    TRUNCATED = "truncated"
    WRONG_CONTENT_TYPE = "wrong_content_type"
    XXE = "xxe"
    BILLION_LAUGHS = "billion_laughs"
    HUGE_BODY = "huge_body"
    DROP_CONNECTION = "drop_connection"


@dataclass
class Fault:
    """One injected fault, for the next ``times`` requests (of ``operation``, if given)."""

    kind: FaultKind
    times: int = 1
    operation: str | None = None
    delay: float = 0.0
    code: str | None = None
    retry_after: int | None = None


HUGE_BODY_BYTES = 100 * 1024 * 1024


class _QuickStopServer(HTTPServer):
    """pytest-httpserver polling for shutdown every 50 ms instead of 500 ms.

    Tests start and stop a mock per test; the default poll made every stop
    cost half a second.
    """

    def thread_target(self) -> None:
        """Serve until stopped, checking for the stop request often."""
        if self.server is not None:
            self.server.serve_forever(poll_interval=0.05)


class MockEpj:
    """Base of the vendor mocks: serving, credentials, fault injection.

    Subclasses implement :meth:`handle`, :meth:`operation_of` and the three
    vendor-specific renderings :meth:`busy_response`, :meth:`fault_response`
    and :meth:`content_type`.
    """

    vendor = "base"
    service_path = "/"

    def __init__(
        self, username: str = "digidialog", password: str = "digidialog"  # noqa: S107 - mock default
    ) -> None:
        self.username = username
        self.password = password
        self._faults: deque[Fault] = deque()
        self._lock = threading.RLock()
        self.server: HTTPServer | None = None
        self.requests_seen: list[str] = []

    # ------------------------------------------------------------ serving

    def start(self, host: str = "127.0.0.1", port: int = 0, ssl_context: Any = None) -> str:
        """Serve on ``host:port`` (0: any free port); return the base URL (``{base}``)."""
        self.server = _QuickStopServer(host=host, port=port, ssl_context=ssl_context)
        self.server.expect_request(self.service_path).respond_with_handler(self._dispatch)
        self.server.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving."""
        if self.server is not None and self.server.is_running():
            self.server.clear()
            self.server.stop()

    @property
    def base_url(self) -> str:
        """``{base}`` of the vendor contract: scheme, host and port, no service path."""
        if self.server is None:
            raise RuntimeError("the mock is not running")
        scheme = "https" if self.server.ssl_context is not None else "http"
        return f"{scheme}://{self.server.host}:{self.server.port}"

    @property
    def service_url(self) -> str:
        """The full endpoint address."""
        return self.base_url + self.service_path

    # ------------------------------------------------------------ faults

    def inject(self, fault: Fault) -> None:
        """Queue a fault; faults are used in the order they were injected."""
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        """Forget every queued fault."""
        with self._lock:
            self._faults.clear()

    def _take_fault(self, operation: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.operation in (None, operation):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _dispatch(self, request: Request) -> Response:
        operation = self.operation_of(request)
        self.requests_seen.append(operation)
        fault = self._take_fault(operation)
        if fault is not None:
            if fault.kind is FaultKind.LATENCY:
                time.sleep(fault.delay)
            else:
                return self.fault_reply(fault, request)
        with self._lock:
            return self.handle(request, operation)

    def fault_reply(self, fault: Fault, request: Request) -> Response:
        """The broken or hostile reply a fault asks for."""
        kind = fault.kind
        xml_type = self.content_type()
        if kind is FaultKind.HTTP_500:
            return Response("<html><body>Internal Server Error</body></html>", status=500,
                            content_type="text/html")
        if kind is FaultKind.BUSY:
            return self.busy_response(fault)
        if kind is FaultKind.VENDOR_FAULT:
            return self.fault_response(fault.code or "", "injected fault")
        if kind is FaultKind.MALFORMED_XML:
            return Response("<Envelope><Body><unclosed></Body>", content_type=xml_type)
        if kind is FaultKind.TRUNCATED:
            return Response('<?xml version="1.0"?><soap:Envelope xmlns:soap="urn:x"><soap:Bo',
                            content_type=xml_type)
        if kind is FaultKind.WRONG_CONTENT_TYPE:
            return Response("<html><body>login</body></html>", content_type="text/html")
        if kind is FaultKind.XXE:
            return Response('<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM '
                            '"file:///etc/passwd">]><e>&x;</e>', content_type=xml_type)
        if kind is FaultKind.BILLION_LAUGHS:
            entities = '<!ENTITY l0 "lol">' + "".join(
                f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)
            )
            return Response(f'<?xml version="1.0"?><!DOCTYPE e [{entities}]><e>&l9;</e>',
                            content_type=xml_type)
        if kind is FaultKind.HUGE_BODY:
            chunk = b"<a>" + b"x" * 65536 + b"</a>"
            count = HUGE_BODY_BYTES // len(chunk) + 1
            return Response((chunk for _ in range(count)), content_type=xml_type)
        if kind is FaultKind.DROP_CONNECTION:
            _drop(request)
            return Response("", status=500)
        raise ValueError(f"unhandled fault {kind}")

    # ------------------------------------------------------------ vendor-specific

    def operation_of(self, request: Request) -> str:
        """The operation a request calls (from SOAPAction, action= or the body)."""
        raise NotImplementedError

    def handle(self, request: Request, operation: str) -> Response:
        """Answer one request as the vendor would."""
        raise NotImplementedError

    def content_type(self) -> str:
        """The vendor's reply media type."""
        raise NotImplementedError

    def busy_response(self, fault: Fault) -> Response:
        """The vendor's "temporarily unavailable" answer."""
        raise NotImplementedError

    def fault_response(self, code: str, message: str) -> Response:
        """One of the vendor's final faults."""
        raise NotImplementedError


def _drop(request: Request) -> None:
    """Close the client's connection without an answer."""
    raw = request.environ.get("werkzeug.socket")
    if isinstance(raw, socket.socket):
        try:
            raw.shutdown(socket.SHUT_RDWR)
        finally:
            raw.close()
