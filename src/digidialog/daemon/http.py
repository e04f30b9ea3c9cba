"""The daemon's HTTP server: health, readiness, metrics, and the vendors' push callbacks.

``daemon.md`` fixes the paths:

- ``GET /healthz``: 200 while the loops run, else 503;
- ``GET /readyz``: 200 only while every readiness check passes, else 503 with
  the failing reasons (plain text, or JSON when the client accepts it);
- ``GET /metrics``: the daemon's own Prometheus registry;
- ``/epj/<municipality her_id>/...``: a WSGI application mounted per
  municipality (Profil's NotifyEvent endpoint). The mount moves the prefix
  from ``PATH_INFO`` to ``SCRIPT_NAME``, so ``/epj/1000011/ProfilNotify``
  reaches the application as ``PATH_INFO = /ProfilNotify``.

It is the standard library's ``wsgiref`` with one thread per request; the
vendor applications authenticate their callers themselves (vendors.md).
"""

from __future__ import annotations

import json
import socket
import socketserver
import sys
import threading
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from digidialog.daemon.health import Health
from digidialog.daemon.metrics import Metrics
from digidialog.log import get_logger

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from digidialog.daemon.config_models import HttpConfig

log = get_logger("daemon.http")

EPJ_PREFIX = "/epj/"
REQUEST_TIMEOUT_SECONDS = 30.0
"""A client that sends nothing for this long is dropped, so slow callers cannot hold threads."""

_TEXT = "text/plain; charset=utf-8"
_JSON = "application/json"


class HttpServer:
    """``/healthz``, ``/readyz``, ``/metrics`` and ``/epj/<her_id>/`` on one address."""

    def __init__(self, host: str, port: int, *, health: Health, metrics: Metrics) -> None:
        self.health = health
        self.metrics = metrics
        self._requested = (host, port)
        self._mounts: dict[str, WSGIApplication] = {}
        self._lock = threading.Lock()
        self._server: _ThreadingWsgiServer | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def from_config(cls, config: HttpConfig, *, health: Health, metrics: Metrics) -> HttpServer:
        """A server for ``[http] listen``."""
        host, port = config.address
        return cls(host, port, health=health, metrics=metrics)

    # ---------------------------------------------------------------- life

    def start(self) -> HttpServer:
        """Bind (port 0: any free port) and serve in a background thread."""
        server = _ThreadingWsgiServer(self._requested, _QuietHandler)
        server.set_app(self)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="http",
                                        kwargs={"poll_interval": 0.2}, daemon=True)
        self._thread.start()
        log.info("http_listening", url=self.url)
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> HttpServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    @property
    def address(self) -> tuple[str, int]:
        """The bound ``(host, port)``; the actual port when 0 was asked for."""
        if self._server is None:
            raise RuntimeError("the HTTP server is not started")
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        """``http://host:port`` of the bound address."""
        host, port = self.address
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    # -------------------------------------------------------------- mounts

    def mount(self, her_id: str, app: WSGIApplication) -> str:
        """Serve ``app`` under ``/epj/<her_id>/``; returns that path. Replaces an earlier mount."""
        if not her_id.isascii() or not her_id.isdigit():
            raise ValueError(f"not a HER-id: {her_id!r}")
        with self._lock:
            self._mounts[her_id] = app
        return f"{EPJ_PREFIX}{her_id}/"

    def unmount(self, her_id: str) -> None:
        """Stop serving the application under ``/epj/<her_id>/``."""
        with self._lock:
            self._mounts.pop(her_id, None)

    # ---------------------------------------------------------------- WSGI

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse
                 ) -> Iterable[bytes]:
        """The WSGI application of the whole server."""
        path = environ.get("PATH_INFO") or "/"
        try:
            if path.startswith(EPJ_PREFIX):
                return self._vendor(environ, start_response, path)
            if environ.get("REQUEST_METHOD") not in {"GET", "HEAD"}:
                return _answer(start_response, "405 Method Not Allowed", b"GET only\n",
                               [("Allow", "GET, HEAD")])
            if path == "/healthz":
                return self._healthz(start_response)
            if path == "/readyz":
                return self._readyz(environ, start_response)
            if path == "/metrics":
                body, content_type = self.metrics.render(environ.get("HTTP_ACCEPT", ""))
                return _answer(start_response, "200 OK", body, content_type=content_type)
            return _answer(start_response, "404 Not Found", b"not found\n")
        except Exception:
            log.exception("http_request_failed", path=path)
            # exc_info lets the answer replace headers a failing application already gave.
            return _answer(start_response, "500 Internal Server Error", b"internal error\n",
                           exc_info=sys.exc_info())

    def _healthz(self, start_response: StartResponse) -> Iterable[bytes]:
        if self.health.live():
            return _answer(start_response, "200 OK", b"ok\n")
        return _answer(start_response, "503 Service Unavailable", b"the loops are not running\n")

    def _readyz(self, environ: WSGIEnvironment, start_response: StartResponse
                ) -> Iterable[bytes]:
        results = self.health.readiness()
        ready = all(r.passed for r in results)
        status = "200 OK" if ready else "503 Service Unavailable"
        if _JSON in environ.get("HTTP_ACCEPT", ""):
            document = {"ready": ready, "checks": {r.name: r.reason or "ok" for r in results}}
            return _answer(start_response, status, json.dumps(document).encode(),
                           content_type=_JSON)
        lines = [f"{r.name}: {'ok' if r.passed else 'failing: ' + str(r.reason)}"
                 for r in results]
        return _answer(start_response, status, ("\n".join(lines) + "\n").encode())

    def _vendor(self, environ: WSGIEnvironment, start_response: StartResponse, path: str
                ) -> Iterable[bytes]:
        her_id, slash, rest = path[len(EPJ_PREFIX):].partition("/")
        with self._lock:
            app = self._mounts.get(her_id)
        if app is None:
            return _answer(start_response, "404 Not Found", b"no push endpoint here\n")
        inner = dict(environ)
        inner["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + EPJ_PREFIX + her_id
        inner["PATH_INFO"] = slash + rest
        inner["wsgi.multithread"] = True
        return _guarded(app(inner, start_response), her_id)


def _answer(start_response: StartResponse, status: str, body: bytes,
            headers: list[tuple[str, str]] | None = None, *, content_type: str = _TEXT,
            exc_info: OptExcInfo | None = None) -> list[bytes]:
    start_response(status, [("Content-Type", content_type),
                            ("Content-Length", str(len(body))), *(headers or [])], exc_info)
    return [body]


def _guarded(body: Iterable[bytes], her_id: str) -> Iterator[bytes]:
    """The mounted application's body, its failures logged rather than printed by wsgiref."""
    try:
        yield from body
    except Exception:
        log.exception("push_endpoint_failed", her_id=her_id)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()


class _ThreadingWsgiServer(socketserver.ThreadingMixIn, WSGIServer):
    """wsgiref's server, one thread per request, IPv4 or IPv6 by the host given."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[WSGIRequestHandler]) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, handler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS look-up of the host (slow, and unused)."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)
        self.setup_environ()


class _QuietHandler(WSGIRequestHandler):
    """wsgiref's handler with a socket timeout and no plain-text access log."""

    timeout = REQUEST_TIMEOUT_SECONDS

    def log_message(self, format: str, *args: Any) -> None:
        """Nothing: the daemon logs JSON, and probes would flood an access log."""
