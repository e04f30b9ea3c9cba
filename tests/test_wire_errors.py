"""What an operator reads when an EPJ cannot be reached or answers with an error page.

Each case is produced for real (a closed port, an unresolvable name, a server
answering 404 or too slowly), and the message must name the address and the
reason in plain words, never the libraries' ``HTTPConnectionPool(...)`` text.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
import requests
import urllib3.exceptions
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner
from werkzeug import Request, Response

from digidialog.adapters import soap
from digidialog.adapters.soap import CallPolicy, SoapEndpoint, SoapFault, SoapVersion
from digidialog.adapters.wire_errors import cause, public_url, where
from digidialog.cli.main import app
from digidialog.errors import (
    DigidialogError,
    MalformedReply,
    VendorRejected,
    VendorTimeout,
    VendorUnavailable,
)


def _closed_port() -> int:
    """A port nothing listens on: bound once to be given a free one, then released."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    """A real HTTP server on a free port."""
    started = HTTPServer(host="127.0.0.1", port=0)
    started.start()
    yield started
    started.clear()
    started.stop()


def _endpoint(address: str, timeout: float = 5.0) -> SoapEndpoint:
    def mapper(fault: SoapFault) -> DigidialogError:
        return VendorRejected(fault.reason, code=fault.code)

    return SoapEndpoint(client=None, address=address,  # type: ignore[arg-type]
                        session=soap.new_session(), version=SoapVersion.V11,
                        action=lambda op: op, fault_mapper=mapper,
                        policy=CallPolicy(timeout=timeout, attempts=1))


def test_a_closed_port_reads_connection_refused() -> None:
    """The example of the issue: address and reason, nothing of urllib3's wording."""
    port = _closed_port()
    with pytest.raises(VendorUnavailable) as raised, soap.vendor_errors():
        soap.new_session().post(f"http://127.0.0.1:{port}/x", data=b"", timeout=5)
    assert str(raised.value) == f"could not connect to 127.0.0.1:{port} (connection refused)"


def test_an_unknown_host_name_is_said_so() -> None:
    """A name that cannot resolve (``.invalid`` never does) is named with the port used."""
    with pytest.raises(VendorUnavailable) as raised, soap.vendor_errors():
        soap.new_session().post("https://epj.kommune.invalid/x", data=b"", timeout=5)
    assert str(raised.value) == "could not connect to epj.kommune.invalid:443 (host name not found)"


def test_a_404_names_the_status_and_the_url(server: HTTPServer) -> None:
    """An error page (a wrong base URL) says the HTTP status and the URL, not its content
    type; a 200 with the wrong content type still says the type."""
    server.expect_request("/wrong/InnbyggerDialog").respond_with_data(
        "<html>Not here</html>", status=404, content_type="text/html")
    url = server.url_for("/wrong/InnbyggerDialog")
    with pytest.raises(MalformedReply) as raised:
        _endpoint(url)._send("HentTjenester", b"<x/>")
    assert str(raised.value) == f"the EPJ answered HTTP 404 NOT FOUND from {url}, not a SOAP reply"
    server.expect_request("/page").respond_with_data("<html/>", content_type="text/html")
    page = server.url_for("/page")
    with pytest.raises(MalformedReply) as wrong_type:
        _endpoint(page)._send("HentTjenester", b"<x/>")
    assert str(wrong_type.value) == (
        f"reply has content type 'text/html', expected text/xml (HTTP 200 OK from {page})")


def test_a_slow_answer_names_the_address(server: HTTPServer) -> None:
    """A reply that does not come within the timeout is a timeout at that address."""

    def slow(_request: Request) -> Response:
        time.sleep(1.0)
        return Response("late", content_type="text/xml")

    server.expect_request("/slow").respond_with_handler(slow)
    with pytest.raises(VendorTimeout) as raised:
        _endpoint(server.url_for("/slow"), timeout=0.2)._send("HentTjenester", b"<x/>")
    assert str(raised.value) == f"no answer from 127.0.0.1:{server.port} in time (timed out)"


def test_the_command_line_shows_the_plain_words() -> None:
    """``digidialog epj`` against a closed port: one line, the address and the reason."""
    port = _closed_port()
    result = CliRunner().invoke(app, ["epj", "services", "--vendor", "gerica", "--url",
                                      f"http://127.0.0.1:{port}", "--username", "u",
                                      "--password", "p", "--timeout", "2"])
    assert result.exit_code == 1
    assert result.stderr == f"error: could not connect to 127.0.0.1:{port} (connection refused)\n"


def test_address_and_reason_without_a_request() -> None:
    """Errors raised without a request (or built by hand) still read sensibly."""
    bare = requests.exceptions.ConnectionError("refused")
    assert (where(bare), cause(bare)) == ("the EPJ", "refused")
    wrapped = requests.exceptions.ConnectionError(OSError(113, "No route to host"))
    assert cause(wrapped) == "no route to host"
    pool = urllib3.exceptions.ProtocolError(
        "HTTPConnectionPool(host='epj', port=80): Connection aborted.")
    assert cause(pool) == "Connection aborted."


def test_credentials_in_a_url_are_not_repeated() -> None:
    """A base URL carrying user and password is shown without them."""
    assert public_url("https://digidialog:secret@epj.example:8443/x") == (
        "https://epj.example:8443/x")
    assert public_url("http://127.0.0.1:9/x") == "http://127.0.0.1:9/x"
