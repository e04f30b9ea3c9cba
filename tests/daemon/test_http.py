"""The daemon's HTTP server, through real requests to the port it bound."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

from digidialog.daemon.config import HttpConfig
from digidialog.daemon.health import Health
from digidialog.daemon.http import HttpServer
from digidialog.daemon.metrics import Metrics
from digidialog.errors import StoreUnavailable
from digidialog_profil.mock import ProfilMock
from digidialog_profil.push import NotifyEndpoint
from digidialog_profil.store import EventStore

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

CITIZEN = "15076500565"


@pytest.fixture
def health() -> Health:
    """Health whose loops run."""
    health = Health()
    health.set_liveness(lambda: True)
    return health


@pytest.fixture
def server(health: Health) -> Iterator[HttpServer]:
    """A started server on a free port."""
    with HttpServer("127.0.0.1", 0, health=health, metrics=Metrics()) as running:
        yield running


def get(server: HttpServer, path: str, **headers: str) -> requests.Response:
    """GET ``path`` from the server."""
    return requests.get(server.url + path, headers=headers, timeout=5)


def echo(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """A WSGI application that answers with what it was given."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = {
        "script_name": environ["SCRIPT_NAME"], "path_info": environ["PATH_INFO"],
        "query": environ.get("QUERY_STRING", ""), "method": environ["REQUEST_METHOD"],
        "body": environ["wsgi.input"].read(length).decode(),
    }
    start_response("201 Created", [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]


def test_port_zero_binds_a_free_port_and_reports_it(health: Health) -> None:
    """The bound address is the real one, from the [http] listen setting."""
    config = HttpConfig(listen="127.0.0.1:0")
    with HttpServer.from_config(config, health=health, metrics=Metrics()) as server:
        host, port = server.address
        assert host == "127.0.0.1"
        assert port > 0
        assert server.url == f"http://127.0.0.1:{port}"
        assert get(server, "/healthz").status_code == 200


def test_healthz_follows_the_loops(server: HttpServer, health: Health) -> None:
    """200 while the loops run, 503 once they do not."""
    assert (get(server, "/healthz").status_code, get(server, "/healthz").text) == (200, "ok\n")
    health.set_liveness(lambda: False)
    assert get(server, "/healthz").status_code == 503


def test_readyz_is_200_only_while_every_check_passes(server: HttpServer, health: Health) -> None:
    """A failing check gives 503 with its reason, as text or JSON."""
    health.add_check("store", lambda: None)
    reply = get(server, "/readyz")
    assert (reply.status_code, reply.text) == (200, "loops: ok\nstore: ok\n")

    def broker() -> None:
        raise StoreUnavailable("connection refused by 127.0.0.1:5672")

    health.add_check("broker", broker)
    reply = get(server, "/readyz")
    assert reply.status_code == 503
    assert reply.text == ("loops: ok\nstore: ok\n"
                          "broker: failing: connection refused by 127.0.0.1:5672\n")
    reply = get(server, "/readyz", Accept="application/json")
    assert reply.status_code == 503
    assert reply.json() == {"ready": False, "checks": {
        "loops": "ok", "store": "ok", "broker": "connection refused by 127.0.0.1:5672"}}

    health.remove_check("broker")
    health.set_liveness(lambda: False)
    reply = get(server, "/readyz")
    assert (reply.status_code, reply.text) == (
        503, "loops: failing: the loops are not running\nstore: ok\n")


def test_metrics_serves_the_daemons_registry_refreshed(server: HttpServer) -> None:
    """Prometheus text from the daemon's own registry, refreshed for each scrape."""
    scrapes: list[int] = []

    def refresh(metrics: Metrics) -> None:
        scrapes.append(1)
        metrics.set_overdue("1000001", len(scrapes))

    server.metrics.add_refresher(refresh)
    server.metrics.message_received("1000001", "APPREC")
    reply = get(server, "/metrics")
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("text/plain")
    assert 'digidialog_overdue_messages{municipality="1000001"} 1.0' in reply.text
    assert 'digidialog_messages_received_total{kind="APPREC",municipality="1000001"} 1.0' in (
        reply.text)
    assert 'digidialog_overdue_messages{municipality="1000001"} 2.0' in get(
        server, "/metrics").text


def test_unknown_paths_and_methods(server: HttpServer) -> None:
    """404 elsewhere, 405 for anything but GET on the daemon's own paths."""
    assert get(server, "/").status_code == 404
    assert get(server, "/epj/1000001/anything").status_code == 404
    reply = requests.post(server.url + "/healthz", data=b"x", timeout=5)
    assert reply.status_code == 405
    assert reply.headers["Allow"] == "GET, HEAD"


def test_a_mounted_application_sees_its_prefix_in_script_name(server: HttpServer) -> None:
    """``/epj/<her_id>`` moves from PATH_INFO to SCRIPT_NAME; the rest reaches the app."""
    assert server.mount("1000001", echo) == "/epj/1000001/"
    reply = requests.post(server.url + "/epj/1000001/ProfilNotify/x?a=1&b=2", data=b"payload",
                          timeout=5)
    assert reply.status_code == 201
    assert reply.json() == {"script_name": "/epj/1000001", "path_info": "/ProfilNotify/x",
                            "query": "a=1&b=2", "method": "POST", "body": "payload"}
    assert get(server, "/epj/1000001").json()["path_info"] == ""
    assert get(server, "/epj/1000001/").json()["path_info"] == "/"
    assert get(server, "/epj/10000011/").status_code == 404
    server.unmount("1000001")
    assert get(server, "/epj/1000001/").status_code == 404
    with pytest.raises(ValueError, match="not a HER-id"):
        server.mount("../x", echo)


def test_a_failing_application_gets_500_and_the_server_goes_on(server: HttpServer) -> None:
    """An exception in a mounted app answers 500; the next request is served."""

    def broken(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        raise RuntimeError("boom")

    server.mount("1000001", broken)
    assert get(server, "/epj/1000001/x").status_code == 500
    assert get(server, "/healthz").status_code == 200


def test_profils_notify_endpoint_works_mounted(server: HttpServer, tmp_path: Path) -> None:
    """The real Profil mock pushes through the mount into the real NotifyEvent endpoint."""
    store = EventStore(tmp_path / "events.sqlite3")
    try:
        user, secret = "profil", "push-test-credential"
        path = server.mount("1000011", NotifyEndpoint(store, user, secret))
        mock = ProfilMock(seed_citizens=1)
        mock.push_to(server.url + path + "ProfilNotify", user, secret, attempts=1)
        mock.notify("VisitDone", CITIZEN, visit_id=500_001)
        assert mock.undelivered == []
        assert store.count() == 1
        assert requests.post(server.url + path + "ProfilNotify", data=b"<x/>",
                             auth=(user, "wrong"), timeout=5).status_code == 401
    finally:
        store.close()


def test_the_daemon_does_not_import_werkzeug() -> None:
    """The daemon's modules, and serving a request, stand on the standard library's wsgiref."""
    code = (
        "import sys, urllib.request\n"
        "import digidialog.daemon.config, digidialog.daemon.runner\n"
        "from digidialog.daemon.http import HttpServer, Health, Metrics\n"
        "with HttpServer('127.0.0.1', 0, health=Health(), metrics=Metrics()) as server:\n"
        "    urllib.request.urlopen(server.url + '/metrics', timeout=5).read()\n"
        "print('werkzeug' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.splitlines()[-1] == "False"
